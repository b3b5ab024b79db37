"""Files written whole, and the check before any work that they can be.

`write_atomically` writes a temporary file beside its target (`.STEM.PID-N.tmp.EXT`), fsyncs it and renames it
over the target: a reader sees the old file or the new one, never half of one. The file's mode is 0666 less the
umask, as for any file `open` creates. Inside `writing_together(paths)` the renames wait until every file of the
block is written; then every target is checked (one that is not a regular file stops it all), each old file is
moved aside (`.STEM.PID-N.old.EXT`) and its new one moved in (between the two, for an instant, the target is
missing), and the old ones, with each of `paths` the block did not write, removed; if any rename fails, the new
files are taken out and the old ones put back. So the folder holds all the files of one run, never one run's
CSV beside another run's PNG. Temporary files are removed on every way out but a crash (SIGKILL, power loss); a
crash between two renames can also leave old files aside and only some new ones in place, a window no portable
means closes. No lock is taken: each file is always whole, but two runs into one folder that finish at the same
instant may leave files of both. Only the standard library's portable calls are used (os.replace, os.fsync on a
file), so this holds on Linux, macOS and Windows alike.
"""
import contextlib
import csv
import itertools
import os

from minipg.io.cli import saving


def check_output_dir(flag, folder, names):
    """Before any work: folder exists (created if needed) and the command's files, `names`, can be written into
    it as the write will write them: each temporary and aside name is created and removed, and no target is
    anything but a regular file. Otherwise one ValueError naming flag and path."""
    if not folder:
        raise ValueError(f"{flag}: expected a directory, got an empty path")
    if os.path.lexists(folder) and not os.path.exists(folder):
        raise ValueError(f"{flag}: {folder} is a symbolic link that leads nowhere (a loop, or a missing target)")
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
    """The files of the writing_together block under way: (temporary, target) pairs, in the order written, and
    whether a signal may stop their writing (not their renames)."""

    current = None
    interruptible = False


def write_atomically(path, write):
    """Call write(temporary) for a new file beside path, fsync it and rename it onto path, at once or when its
    writing_together block ends (see the module doc)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = None
    with contextlib.nullcontext() if _Group.interruptible else saving():
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
def writing_together(paths, interruptible=False):
    """The files of one run: each of `paths` is written inside the block, and at its end all of them are put in
    place or none is; one of `paths` the block did not write is removed, so no file of an older run stays.

    A signal arriving inside the block is held until its files are in place, unless `interruptible`: then it stops
    the writing at once (KeyboardInterrupt), and only the renames, an instant, are held: nothing appears.
    """
    if _Group.current is not None:
        raise ValueError("writing_together blocks do not nest")
    paths = {os.path.abspath(path) for path in paths}
    renames = _Group.current = []
    _Group.interruptible = interruptible
    try:
        with contextlib.nullcontext() if interruptible else saving():
            yield
            with saving():
                _replace_together(renames, sorted(paths - {target for _, target in renames}))
    finally:
        _Group.current, _Group.interruptible = None, False
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
