"""What every command-line entry point shares: argument types, one-line errors, outputs checked before any
work, files written whole, and interruptions (Ctrl-C, SIGTERM, a hang-up, output that cannot be printed) that
cost nothing saved.

Files. `write_atomically` writes a temporary file beside its target (`.STEM.PID-N.tmp.EXT`), fsyncs it and
renames it over the target: a reader sees the old file or the new one, never half of one. The file's mode is
0666 less the umask, as for any file `open` creates. Inside `writing_together(paths)` the renames wait until
every file of the block is written; then every target is checked (one that is not a regular file stops it all),
each old file is moved aside (`.STEM.PID-N.old.EXT`) and its new one moved in (between the two, for an
instant, the target is missing), and the old ones, with each of `paths` the block did not write, removed; if
any rename fails, the new files are taken out and the old ones put back. So the folder holds all the files of
one run, never one run's CSV beside another run's PNG. Temporary files are removed on every way out but a
crash (SIGKILL, power loss); a crash between two renames can also leave old files aside and only some new
ones in place, a window no portable means closes. No lock is taken: each file is always whole, but two runs
into one folder that finish at the same instant may leave files of both.

Signals. Under run_cli, SIGTERM and SIGHUP (where it exists) are handled like Ctrl-C: the first of them raises
KeyboardInterrupt, and the exit status is 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
Inside `saving()`, which every write above is, it is held until the block ends and raised then: a save is
never cut short. Later signals change nothing: the run is already stopping and saving what it learned.
"""
import argparse
import contextlib
import csv
import itertools
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


def check_output_dir(flag, folder, names):
    """Before any work: folder exists (created if needed) and the command's files, `names`, can be written into
    it as the write will write them: each temporary and aside name is created and removed, and no target is
    anything but a regular file. Otherwise one ValueError naming flag and path."""
    if not folder:
        raise ValueError(f"{flag}: expected a directory, got an empty path")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{flag}: {folder} exists and is not a directory")
    targets = [os.path.abspath(os.path.join(folder, name)) for name in names]
    try:
        os.makedirs(folder, exist_ok=True)
        for target in targets:
            for kind in ("tmp", "old"):
                os.remove(_create(_temporary_name(target, kind)))
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise ValueError(f"{flag}: cannot write into {folder}: {getattr(error, 'strerror', None) or error}") from None
    for target in targets:
        if os.path.lexists(target) and not os.path.isfile(target):
            raise ValueError(f"{flag}: {target} exists and is not a regular file")
    return folder


def check_output_file(flag, path):
    """Before any work: `path` names a file (not a directory) that check_output_dir can write in its folder."""
    if not path or path.endswith(os.sep) or os.path.isdir(path):
        raise ValueError(f"{flag}: expected a file name, got {path!r}")
    check_output_dir(flag, os.path.dirname(path) or os.curdir, [os.path.basename(path)])
    return path


def _temporary_name(path, kind):
    """A free name beside path: .STEM.PID-N.KIND.EXT with the first N no file has, so that the names
    check_output_dir tries are the names the write takes. The extension is the target's, for writers
    (Pillow) that choose the format by it."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    for number in itertools.count():
        candidate = os.path.join(folder, f".{stem}.{os.getpid()}-{number}.{kind}{extension}")
        if not os.path.lexists(candidate):
            return candidate


def _create(path):
    """Create path as an empty file, mode 0666 less the umask (as `open` gives), and return it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return path


def _fsync(path):
    with open(path, "r+b") as file:  # a descriptor that may write: Windows flushes through no other
        os.fsync(file.fileno())


class _Group:
    """The files of the writing_together block under way: (temporary, target) pairs, in the order written."""

    current = None


def write_atomically(path, write):
    """Call write(temporary) for a new file beside path, fsync it and rename it onto path, at once or when its
    writing_together block ends (see the module doc)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = None
    with saving():
        try:
            temporary = _create(_temporary_name(path, "tmp"))
            write(temporary)
            _fsync(temporary)
            if _Group.current is None:
                os.replace(temporary, path)
            else:
                _Group.current.append((temporary, path))
            temporary = None  # in place, or writing_together moves it in or removes it
        except OSError as error:
            raise OSError(f"cannot write {path}: {error.strerror or error}") from None
        finally:
            if temporary is not None and os.path.exists(temporary):
                os.remove(temporary)


def write_csv(path, header, rows):
    """A CSV file written whole: UTF-8, "\n" after every row on every system, each number as str() prints it."""
    def write(temporary):
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            csv.writer(file, lineterminator="\n").writerows([header, *rows])
    write_atomically(path, write)


@contextlib.contextmanager
def writing_together(paths):
    """The files of one run: each of `paths` is written inside the block, and at its end all of them are put in
    place or none is; one of `paths` the block did not write is removed, so no file of an older run stays."""
    if _Group.current is not None:
        raise ValueError("writing_together blocks do not nest")
    paths = {os.path.abspath(path) for path in paths}
    renames = _Group.current = []
    try:
        with saving():
            yield
            _replace_together(renames, sorted(paths - {target for _, target in renames}))
    finally:
        _Group.current = None
        for temporary, _ in renames:
            if os.path.exists(temporary):
                os.remove(temporary)


def _replace_together(renames, stale):
    """Move each (temporary, target) onto its target and remove the stale paths: all of it, or nothing.

    Every target is checked first; then, one target after another, the file in the way is moved aside
    (.STEM.PID-N.old.EXT) and the new one moved in; the old ones are removed at the end, or put back if any
    rename failed.
    """
    steps = renames + [(None, path) for path in stale]
    for _, target in steps:
        if os.path.lexists(target) and not os.path.isfile(target):
            raise OSError(f"cannot write {target}: it exists and is not a regular file")
    aside, moved_in = [], []
    try:
        for temporary, target in steps:
            if os.path.lexists(target):
                old = _temporary_name(target, "old")
                os.replace(target, old)
                aside.append((target, old))
            if temporary is not None:
                os.replace(temporary, target)
                moved_in.append(target)
    except OSError as error:
        for path in moved_in:
            os.remove(path)
        for path, old in aside:
            os.replace(old, path)
        raise OSError(f"cannot write {target}: {error.strerror or error}") from None
    for _, old in aside:
        os.remove(old)
