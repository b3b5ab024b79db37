"""What every command-line entry point shares: argument types, one-line errors, memory checked before any work,
progress lines, and interruptions (Ctrl-C, SIGTERM, a hang-up, output that cannot be printed) that cost nothing
saved. Files written whole are in minipg/io/files.py.

Signals. Under run_cli, SIGTERM and SIGHUP (where it exists) are handled like Ctrl-C: the first of them raises
KeyboardInterrupt, and the exit status is 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
Inside `saving()`, which every file write is, it is held until the block ends and raised then: a save is
never cut short. Later signals change nothing: the run is already stopping and saving what it learned.
"""
import argparse
import contextlib
import os
import signal
import sys

MAX_COUNT = 10**9  # a larger count overflows C integers (deque, numpy) or would run for years
MAX_BYTES = 2**30  # the most memory a command's counts may ask for (1 GiB); each command estimates its own
STOPPING_SIGNALS = tuple(number for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
                         if number is not None)  # Ctrl-C, kill, the terminal closed (no SIGHUP on Windows)


def integer_in(minimum, maximum=MAX_COUNT):
    """argparse type: an integer in [minimum, maximum]; its error names the bounds."""
    kind = {0: "non-negative integer", 1: "positive integer"}.get(minimum, f"integer >= {minimum}")

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {kind}, got {text!r}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"expected at most {maximum}, got {text}")
        return value

    return parse


positive_int = integer_in(1)
non_negative_int = integer_in(0)


def check_memory(flags, nbytes):
    """Before any work: refuse counts whose data would take more than MAX_BYTES, in one line naming the flags."""
    if nbytes > MAX_BYTES:
        raise ValueError(f"{flags}: would need about {nbytes / 2**30:.3g} GiB of memory, more than the "
                         f"{MAX_BYTES / 2**30:g} GiB a command may take")


def number(text):
    """argparse type: a real number; the interval it must lie in is the command's to check."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def widths(text):
    """argparse type: layer widths, '64,64' -> (64, 64), each an integer >= 1; 'none' or '' -> () (no layer)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected layer widths such as 64,64 (or none), got {text!r}")
    return values


class Progress:
    """Prints a line at most once every `seconds` of a run's clock, and always the last, so that a fast loop
    does not flood the terminal."""

    def __init__(self, seconds, header=None):
        self.seconds, self.last = seconds, -float("inf")
        if header:
            print(header, flush=True)

    def show(self, elapsed, line, last=False):
        if last or elapsed - self.last >= self.seconds:
            self.last = elapsed
            print(line, flush=True)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one ValueError line (no usage block), exit status 2 via run_cli."""

    def error(self, message):
        raise ValueError(message)


class _Signals:
    """STOPPING_SIGNALS bookkeeping: how deep in saving() we are, the signal that interrupted the run, and
    whether its KeyboardInterrupt is still held back."""

    depth = 0
    received = None
    pending = False


def _interrupt(number, frame):
    if _Signals.received is not None:
        return
    _Signals.received = number
    if _Signals.depth:
        _Signals.pending = True
    else:
        raise KeyboardInterrupt


@contextlib.contextmanager
def saving():
    """Hold STOPPING_SIGNALS until the block ends, then raise KeyboardInterrupt: a save is never cut short."""
    _Signals.depth += 1
    try:
        yield
    finally:
        _Signals.depth -= 1
    if _Signals.depth == 0 and _Signals.pending:
        _Signals.pending = False
        raise KeyboardInterrupt


def interrupt_status():
    """128 + the number of the signal that interrupted the run: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + (_Signals.received or signal.SIGINT)


class _Unfailing:
    """A text stream whose writes never raise: output that cannot be printed (a closed pipe, a vanished
    terminal, a stream closed or missing) is dropped, and the run goes on. A character the stream's
    encoding lacks prints as "?"."""

    def __init__(self, stream):
        self.stream = stream
        with contextlib.suppress(AttributeError, ValueError, OSError):  # None, closed, or not a TextIOWrapper
            stream.reconfigure(errors="replace")

    def write(self, text):
        self._try("write", text)
        return len(text)

    def flush(self):
        self._try("flush")

    def _try(self, operation, *args):
        try:
            getattr(self.stream, operation)(*args)
        except (AttributeError, OSError, ValueError):  # no stream (None); a closed one raises ValueError
            self.stream = _drained(self.stream)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _drained(stream):
    """stream with its descriptor pointed at os.devnull, so that what it still buffers, and Python's own flush
    at exit, succeed; or a new stream on os.devnull if it has no descriptor (None, closed, in memory)."""
    devnull = open(os.devnull, "w", encoding="utf-8")
    try:
        os.dup2(devnull.fileno(), stream.fileno())
    except (AttributeError, OSError, ValueError):
        return devnull
    devnull.close()
    return stream


def run_cli(main, argv=None):
    """Run main(argv) as a command, and return its exit status.

    A ValueError or OSError becomes one line on stderr and status 2; SIGTERM and SIGHUP are handled like
    Ctrl-C, and an interruption main does not handle itself becomes the line "interrupted" and status
    128 + the signal's number; output that cannot be printed is dropped. Called with argv (as tests do) it
    restores the signal handlers it found; as the command itself (argv None) it ignores STOPPING_SIGNALS from
    then on: the status is decided, and Python's own shutdown would otherwise restore their default actions,
    so a late signal could still kill the process after it has saved.
    """
    _Signals.depth, _Signals.received, _Signals.pending = 0, None, False
    previous = {number: signal.signal(number, _interrupt) for number in STOPPING_SIGNALS}
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Unfailing(sys.stdout), _Unfailing(sys.stderr)
    try:
        status = main(argv) or 0
    except (ValueError, OSError) as error:
        status = 2
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        status = interrupt_status()
        print("interrupted", file=sys.stderr)
    finally:
        _Signals.depth += 1  # from here on a signal is only recorded: the status is already decided
        sys.stdout.flush()
        sys.stdout, sys.stderr = streams
        for number, handler in previous.items():
            signal.signal(number, handler if argv is not None else signal.SIG_IGN)
    return status
