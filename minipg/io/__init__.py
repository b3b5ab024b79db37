"""Plumbing: flags, one-line errors, signals, files written whole, checkpoints, figures."""
