"""What every command-line entry point shares: argument types, one-line errors, files written whole."""
import argparse
import os
import sys
import tempfile


def _integer_at_least(text, minimum, description):
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a {description} integer, got {text!r}")
    return value


def positive_int(text):
    """argparse type: an integer >= 1."""
    return _integer_at_least(text, 1, "positive")


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return _integer_at_least(text, 0, "non-negative")


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ValueError line (no usage block), exit status 2 via run_cli."""

    def error(self, message):
        raise ValueError(message)


def run_cli(main, argv=None):
    """Run main(argv); a ValueError or missing file becomes one line on stderr and exit status 2."""
    try:
        return main(argv) or 0
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def write_atomically(path, write):
    """Call write(temporary_path), then rename it onto path: readers never see half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=os.path.splitext(path)[1])
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def writable_directory(text):
    """argparse type: a directory that exists or can be made: the path's nearest existing part is a writable directory."""
    existing = os.path.abspath(text)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {text!r}: {existing} is not a writable directory")
    return text
