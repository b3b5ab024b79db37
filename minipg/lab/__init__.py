"""The commands that study the algorithm: python -m minipg.lab.NAME."""
