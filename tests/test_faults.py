"""Issues 15 and 19, "nothing lost, nothing hangs": every bad input is one line naming it, before any work;
every interruption leaves whole files of one run and no temporary file; nothing loops forever, and nothing
the terminal, the locale or the disk does costs a saved file.

Signals go to real subprocesses at delays drawn from seeded generators, so a failure names its delay and
replays. A subprocess costs ~1.5 s (NumPy and Matplotlib load), so only signals, pipes, closed streams,
terminals and locales use one.
"""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import envs
from minipg import estimators
from minipg.io import cli, files
from minipg.baselines import LinearValueBaseline, ridge_fit
from minipg.critics import RegressionCritic
from minipg.lab.bench import main as bench_main
from minipg.io.checkpoint import load_checkpoint, save_checkpoint
from minipg.lab.corridor import main as corridor_main
from minipg.natural import natural_step
from minipg.optim import SGD, Adam
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.rollout import Path, sample_paths
from minipg.lab.show import main as show_main
from minipg.train import main as train_main
from minipg.lab.variance import main as variance_main
from tests.helpers import POSIX_SIGNALS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_FILES = {"corridor.csv", "corridor.npz", "corridor.png"}


def start(module, *args, **kwargs):
    """`python -m module args` as a user starts it, unbuffered so its progress lines arrive as printed."""
    environment = {**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=environment, text=True,
                            stdout=kwargs.pop("stdout", subprocess.PIPE), stderr=kwargs.pop("stderr", subprocess.PIPE),
                            **kwargs)


def one_line(text):
    """The single line of text, failing if there are more or a traceback."""
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


def assert_whole_files_of_one_run(folder, iterations=None):
    """folder holds corridor.csv and .npz, and .png exactly when an iteration finished: each file complete,
    the CSV and checkpoint of the same run, no temporary file."""
    names = set(os.listdir(folder))
    rows = (folder / "corridor.csv").read_text().splitlines()
    assert names == (RUN_FILES if len(rows) > 1 else RUN_FILES - {"corridor.png"}), names
    columns = len(rows[0].split(","))
    assert rows[0].startswith("iteration,") and all(len(row.split(",")) == columns for row in rows)
    assert iterations is None or len(rows) - 1 == iterations
    checkpoint = load_checkpoint(folder / "corridor.npz")
    assert checkpoint.env == "corridor" and np.isfinite(checkpoint.theta).all()
    if len(rows) > 1:
        png = (folder / "corridor.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")


# --- 1, 11, 19.5. Broken checkpoints: one ValueError line naming the file, in bounded time and memory -------


@pytest.fixture
def good_checkpoint(tmp_path):
    path = tmp_path / "good.npz"
    save_checkpoint(path, np.linspace(-1.0, 1.0, 10), "corridor", "softmax", {"iterations": 3})
    return path


def refused(path, fragment=""):
    """The one-line ValueError load_checkpoint raises for path, checked to name the file."""
    with pytest.raises(ValueError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert str(path) in message and "\n" not in message and fragment in message, message
    return message


def test_a_checkpoint_loads_back_what_was_saved(good_checkpoint):
    checkpoint = load_checkpoint(good_checkpoint)
    assert np.array_equal(checkpoint.theta, np.linspace(-1.0, 1.0, 10)) and checkpoint.theta.dtype == np.float64
    assert (checkpoint.env, checkpoint.policy, checkpoint.config) == ("corridor", "softmax", {"iterations": 3})


def test_a_checkpoint_truncated_at_any_length_is_refused(good_checkpoint, tmp_path):
    data = good_checkpoint.read_bytes()
    lengths = [0, 1, len(data) - 1, *np.random.default_rng(15).integers(2, len(data) - 1, size=20)]
    for length in lengths:
        (tmp_path / "cut.npz").write_bytes(data[:length])
        refused(tmp_path / "cut.npz", "the file is empty" if length == 0 else "")


def test_a_checkpoint_with_a_flipped_byte_is_refused_or_read_unchanged(good_checkpoint, tmp_path):
    """The arrays are covered by CRC-32s and the zip structure by its own checks; a flip elsewhere (a
    timestamp) changes nothing that is read. Either way no flip may load as other numbers."""
    data, refusals, good = good_checkpoint.read_bytes(), 0, load_checkpoint(good_checkpoint)
    for position in np.random.default_rng(16).integers(0, len(data), size=40):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "flipped.npz").write_bytes(bytes(damaged))
        try:
            checkpoint = load_checkpoint(tmp_path / "flipped.npz")
        except ValueError:
            refusals += 1
            refused(tmp_path / "flipped.npz")
        else:
            assert np.array_equal(checkpoint.theta, good.theta), position
            assert (checkpoint.env, checkpoint.policy, checkpoint.config) == (good.env, good.policy, good.config)
    assert refusals >= 20  # most bytes of the file are checked data


def text_writer(text):
    """write(temporary) for write_atomically: the file holds text."""
    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
    return write


def save_arrays(path, **arrays):
    np.savez(path, **arrays)
    return path


def save_members(path, **members):
    """An .npz as np.savez_compressed writes it, but a member given as bytes is stored as those bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, member in members.items():
            if not isinstance(member, bytes):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asanyarray(member))
                member = buffer.getvalue()
            archive.writestr(name + ".npy", member)
    return path


def npy_header(shape, descr="<f8"):
    """The header of an .npy file holding an array of this shape: what a reader learns before any data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


NAMES = {"env": "corridor", "policy": "softmax", "config": "{}"}
MKFIFO = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")


@pytest.mark.parametrize("make, fragment", [
    (lambda d: np.save(d / "theta.npy", np.zeros(10)) or os.replace(d / "theta.npy", d / "c.npz") or d / "c.npz",
     "single .npy array"),
    (lambda d: d, "not a regular file"),
    pytest.param(lambda d: os.mkfifo(d / "c.npz") or d / "c.npz", "not a regular file", marks=MKFIFO),
    (lambda d: (d / "c.npz").write_bytes(b"PK" + bytes(2**20)) and d / "c.npz", "more than"),
    (lambda d: (d / "c.npz").write_text("theta = 0") and d / "c.npz", "not an .npz"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros(10), env="corridor", policy="softmax"), "no 'config'"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros((2, 5)), env="corridor", policy="softmax", config="{}"),
     "shape (2, 5)"),
    (lambda d: save_arrays(d / "c.npz", theta=np.array([0.0, np.nan]), env="corridor", policy="softmax",
                           config="{}"), "NaN"),
    (lambda d: save_arrays(d / "c.npz", theta=np.array(["a", "b"]), env="corridor", policy="softmax", config="{}"),
     "vector of floats"),
    (lambda d: save_arrays(d / "c.npz", theta=np.arange(10), env="corridor", policy="softmax", config="{}"),
     "vector of floats, got int64"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros(10), env=["corridor"], policy="softmax", config="{}"),
     "env must be a string"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros(10), env="corridor", policy="softmax", config="{lr: 1"),
     "config is not JSON"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros(10), env="corridor", policy="softmax", config="[1]"),
     "JSON object"),
    (lambda d: save_arrays(d / "c.npz", theta=np.zeros(10), env="corridor", policy="softmax",
                           config="[" * 10**5 + "]" * 10**5), "config is not JSON"),
    (lambda d: save_members(d / "c.npz", theta=b"0.0, 0.0", **NAMES), "theta.npy is not an .npy array"),
    (lambda d: save_members(d / "c.npz", theta=np.array([np.longdouble("1e4000"), 0.0]), **NAMES), "NaN or inf"),
    (lambda d: save_members(d / "c.npz", theta=np.zeros(2**17 + 1), **NAMES), "more than"),
    (lambda d: save_members(d / "c.npz", theta=npy_header((2**29,)) + bytes(2**20), **NAMES), "more than"),
    (lambda d: save_members(d / "c.npz", theta=np.zeros(4), env=npy_header((), "<U300000"), policy="softmax",
                            config="{}"), "more than"),
], ids=["npy-renamed", "directory", "fifo", "file-too-large", "text", "missing-key", "theta-2d", "theta-nan",
        "theta-text", "theta-int", "env-array", "config-not-json", "config-a-list", "config-nested-deep",
        "member-not-npy",
        "theta-beyond-float64", "theta-too-large", "theta-declared-4-GiB", "env-declared-too-large"])
def test_a_checkpoint_that_is_not_one_says_what_is_wrong(tmp_path, deadline, make, fragment):
    refused(make(tmp_path), fragment)


def test_train_refuses_a_broken_checkpoint_in_one_line(good_checkpoint, tmp_path, capsys):
    (tmp_path / "cut.npz").write_bytes(good_checkpoint.read_bytes()[:-100])
    status = cli.run_cli(train_main, ["--env", "corridor", "--load", str(tmp_path / "cut.npz"), "--eval", "3"])
    assert status == 2 and str(tmp_path / "cut.npz") in one_line(capsys.readouterr().err)


@MKFIFO
@pytest.mark.parametrize("main, args", [(train_main, ["--env", "corridor", "--iterations", "1", "--load"]),
                                        (show_main, [])], ids=["train", "show"])
def test_a_named_pipe_given_as_a_checkpoint_is_refused_not_waited_on(tmp_path, capsys, deadline, main, args):
    os.mkfifo(tmp_path / "c.npz")
    assert cli.run_cli(main, [*args, str(tmp_path / "c.npz"), "--out", str(tmp_path / "out")]) == 2
    assert str(tmp_path / "c.npz") in one_line(capsys.readouterr().err) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("gamma", [None, [0.9], {"gamma": 0.9}, "0.9", True, 0.0, 1.5])
def test_show_refuses_a_saved_gamma_that_is_not_a_discount(tmp_path, capsys, gamma):
    save_checkpoint(tmp_path / "c.npz", np.zeros(4), "corridor", "softmax", {"gamma": gamma})
    assert cli.run_cli(show_main, [str(tmp_path / "c.npz"), "--out", str(tmp_path / "out")]) == 2
    error = one_line(capsys.readouterr().err)
    assert str(tmp_path / "c.npz") in error and "gamma" in error and not (tmp_path / "out").exists()


# --- 2, 3, 4, 12. Bad counts and flags: refused by name before any work -------------------------------------


@pytest.mark.parametrize("main, args, named", [
    (train_main, ["--estimator", "importance", "--reuse", str(10**20)], "--reuse"),
    (train_main, ["--seed", "-1"], "--seed"),
    (train_main, ["--episodes", str(10**30)], "--episodes"),
    (train_main, ["--eval", "-3"], "--eval"),
    (variance_main, ["--horizon", str(10**12)], "--horizon"),
    (variance_main, ["--horizon", "51"], "--horizon"),  # the gridworld truncates at 50: the oracle would disagree
    (variance_main, ["--batches", "1", "--episodes", "1"], "--batches times --episodes"),
    (variance_main, ["--seed", "-1"], "--seed"),
    (bench_main, ["--quick", "--set", "env=gridworld"], "--set env=gridworld"),
    (bench_main, ["--quick", "--set", "env=cartpole-continuous"], "--set env"),
    (bench_main, ["--quick", "--set", "seed=3"], "--set seed=3"),
    (bench_main, ["--quick", "--set", "out=elsewhere"], "--set out"),
    (bench_main, ["--quick", "--set", "load=x.npz"], "--set load"),
    (bench_main, ["--quick", "--set", "quiet=1"], "--set quiet"),
    (bench_main, ["--quick", "--set", "iterations=5"], "--set iterations"),  # its cap is --max-steps
    (bench_main, ["--quick", "--after-steps", "-1"], "--after-steps"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_a_bad_count_or_flag_is_named_before_any_work(tmp_path, capsys, main, args, named):
    out = tmp_path / "out"
    assert cli.run_cli(main, args + ["--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert named in one_line(captured.err) and captured.out == "" and not out.exists()


# --- 5, 19.4. An unusable --out, or one the command's own files do not fit: refused before any work ---------


def unusable_outputs(tmp_path):
    (tmp_path / "file").write_text("x")
    posix = ["/dev/null", "/proc/minipg", "/proc"] if os.name == "posix" else []  # a device, a system's folders
    return [str(tmp_path / "file"), str(tmp_path / "file" / "sub"), *posix, ""]


@pytest.mark.parametrize("main, extra", [(train_main, ["--env", "corridor"]),
                                         (bench_main, ["--quick", "--configs", "default"]),
                                         (variance_main, ["--batches", "2", "--episodes", "5", "--horizon", "5"])],
                         ids=["train", "bench", "variance"])
def test_an_unusable_out_directory_is_refused_before_any_work(tmp_path, capsys, main, extra):
    for out in unusable_outputs(tmp_path):
        assert cli.run_cli(main, extra + ["--out", out]) == 2, out
        captured = capsys.readouterr()
        assert captured.out == ""  # no progress header, no table header: nothing was started
        assert "--out" in one_line(captured.err) and (out in captured.err if out else "empty" in captured.err)


def test_an_out_that_is_a_symbolic_link_loop_is_named_as_one(tmp_path, capsys):
    try:
        os.symlink(tmp_path / "loop", tmp_path / "loop")
    except (OSError, NotImplementedError):
        pytest.skip("this system lets no unprivileged process make a symbolic link")
    assert cli.run_cli(train_main, ["--env", "corridor", "--out", str(tmp_path / "loop")]) == 2
    assert "is a symbolic link that leads nowhere (a loop, or a missing target)" in one_line(capsys.readouterr().err)


def test_an_out_directory_that_is_missing_is_created(tmp_path):
    assert files.check_output_dir("--out", str(tmp_path / "a" / "b"), ["a.csv"]) and (tmp_path / "a" / "b").is_dir()
    assert os.listdir(tmp_path / "a" / "b") == []  # the names it tried are gone


def test_a_folder_where_a_file_of_the_run_goes_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "corridor.csv").write_text("old run")
    (tmp_path / "corridor.npz").mkdir()
    assert cli.run_cli(train_main, ["--env", "corridor", "--iterations", "2", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "corridor.npz" in one_line(captured.err)
    assert sorted(os.listdir(tmp_path)) == ["corridor.csv", "corridor.npz"]
    assert (tmp_path / "corridor.csv").read_text() == "old run"


def limit(name, folder):
    """os.pathconf's limit `name` for folder, or skip where the system has none to tell (Windows)."""
    if not hasattr(os, "pathconf"):
        pytest.skip("no pathconf on this system")
    return os.pathconf(folder, name)


@pytest.mark.parametrize("main, args", [(train_main, ["--env", "corridor", "--iterations", "1"]),
                                        (show_main, ["{checkpoint}"])], ids=["train", "show"])
def test_an_out_path_too_long_for_the_commands_own_files_is_refused_before_any_work(tmp_path, capsys, main, args):
    """The old probe, .probe.PID-N.tmp, fits PATH_MAX; the commands' temporaries (.corridor.PID-N.tmp.csv,
    .corridor_policy.PID-N.tmp.png) do not: the check must try the names the write will need."""
    save_checkpoint(tmp_path / "c.npz", np.zeros(4), "corridor", "softmax", {"gamma": 1.0})
    length = limit("PC_PATH_MAX", tmp_path) - 1 - len(f"/.probe.{os.getpid()}-99999.tmp")
    out = str(tmp_path)
    while len(out) < length:
        out = os.path.join(out, "d" * min(200, length - len(out) - 1))
    assert cli.run_cli(main, [arg.format(checkpoint=tmp_path / "c.npz") for arg in args] + ["--out", out]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--out" in one_line(captured.err)
    assert [name for _, _, names in os.walk(tmp_path) for name in names] == ["c.npz"]


# --- 6, 10, 19.3. The writer: whole files, modes from the umask, one run's files replaced as a group --------


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.skipif(os.name != "posix", reason="no POSIX file modes on this system: a file is read-only or not")
def test_written_files_take_their_mode_from_the_umask(tmp_path, umask, capsys):
    umask(0o027)
    assert train_main(["--env", "corridor", "--iterations", "1", "--quiet", "--out", str(tmp_path)]) == 0
    assert {name: os.stat(tmp_path / name).st_mode & 0o777 for name in RUN_FILES} == dict.fromkeys(RUN_FILES, 0o640)
    umask(0o002)
    files.write_atomically(tmp_path / "x.txt", text_writer(""))
    assert os.stat(tmp_path / "x.txt").st_mode & 0o777 == 0o664


def test_a_failed_write_keeps_the_old_file_and_names_the_target(tmp_path):
    (tmp_path / "a.csv").write_text("old")

    def half_then_full_disk(temporary):
        with open(temporary, "w") as file:
            file.write("new, half")
        raise OSError(28, "No space left on device", temporary)

    with pytest.raises(OSError, match="cannot write .*a.csv: No space left on device"):
        files.write_atomically(tmp_path / "a.csv", half_then_full_disk)
    assert os.listdir(tmp_path) == ["a.csv"] and (tmp_path / "a.csv").read_text() == "old"


def test_files_written_together_appear_together_and_stale_ones_go(tmp_path):
    for name in ("a.csv", "a.png"):
        (tmp_path / name).write_text("old run")
    paths = [tmp_path / "a.csv", tmp_path / "a.npz", tmp_path / "a.png"]
    with files.writing_together(paths):
        files.write_atomically(paths[0], text_writer("new run"))
        assert (tmp_path / "a.csv").read_text() == "old run"  # the rename waits for the block's end
        files.write_atomically(paths[1], text_writer("new run"))
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.npz"]  # a.png, of the old run, is gone
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "a.npz").read_text() == "new run"


def test_a_failure_inside_writing_together_renames_nothing(tmp_path):
    (tmp_path / "a.csv").write_text("old run")
    paths = [tmp_path / "a.csv", tmp_path / "a.png"]
    with pytest.raises(RuntimeError, match="plot failed"):
        with files.writing_together(paths):
            files.write_atomically(paths[0], text_writer("new run"))
            raise RuntimeError("plot failed")
    assert os.listdir(tmp_path) == ["a.csv"] and (tmp_path / "a.csv").read_text() == "old run"


def test_a_target_that_is_not_a_file_stops_the_group_before_anything_moves(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("old run")
    (tmp_path / "a.png").mkdir()

    def main(argv):
        with files.writing_together([tmp_path / "a.csv", tmp_path / "a.png"]):
            files.write_atomically(tmp_path / "a.csv", text_writer("new run"))
            files.write_atomically(tmp_path / "a.png", text_writer("new run"))

    assert cli.run_cli(main, []) == 2
    assert "a.png" in one_line(capsys.readouterr().err)
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.png"] and (tmp_path / "a.csv").read_text() == "old run"


def test_a_failed_rename_puts_every_old_file_back(tmp_path, monkeypatch):
    """The second new file cannot be moved in (a busy file): the first is taken out again, the old ones go back,
    and a.png, which the block did not write, stays too."""
    paths = [tmp_path / "a.csv", tmp_path / "a.npz", tmp_path / "a.png"]
    for path in paths:
        path.write_text("old run")
    replace, moved_in = os.replace, []

    def second_move_in_fails(source, target):
        if ".tmp" in os.path.basename(source):
            moved_in.append(target)
            if len(moved_in) == 2:
                raise OSError(16, "Device or resource busy")
        replace(source, target)

    monkeypatch.setattr(os, "replace", second_move_in_fails)
    with pytest.raises(OSError, match="cannot write .*a.npz: Device or resource busy"):
        with files.writing_together(paths):
            files.write_atomically(paths[0], text_writer("new run"))
            files.write_atomically(paths[1], text_writer("new run"))
    assert len(moved_in) == 2 and sorted(os.listdir(tmp_path)) == ["a.csv", "a.npz", "a.png"]
    assert all(path.read_text() == "old run" for path in paths)


def test_a_run_ended_in_its_first_iteration_leaves_no_older_png_and_claims_none(tmp_path, capsys):
    (tmp_path / "corridor.png").write_bytes(b"an older run's plot")
    status = train_main(["--env", "corridor", "--optimizer", "sgd", "--lr", "1e308", "--quiet", "--out", str(tmp_path)])
    assert status == 1 and ".png" not in capsys.readouterr().out
    assert_whole_files_of_one_run(tmp_path, iterations=0)


# --- 7, 8, 19.1. Signals: SIGTERM and SIGHUP like Ctrl-C, saves never cut short, bench stops ----------------


@pytest.fixture
def sigterm_guard():
    """While run_cli runs, SIGTERM is its to handle; if it were not, this handler fails the test (instead of
    SIGTERM's default action ending pytest)."""
    def not_taken_over(number, frame):
        raise AssertionError("run_cli left SIGTERM to the handler it found")

    previous = signal.signal(signal.SIGTERM, not_taken_over)
    yield
    signal.signal(signal.SIGTERM, previous)


@POSIX_SIGNALS
def test_sigterm_is_handled_like_ctrl_c_with_its_own_status(sigterm_guard, capsys):
    def main(argv):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # not reached: the handler raises KeyboardInterrupt as soon as the signal arrives

    started = time.perf_counter()
    assert cli.run_cli(main, []) == 143 and time.perf_counter() - started < 4
    assert capsys.readouterr().err == "interrupted\n"


@POSIX_SIGNALS
def test_a_signal_during_a_save_is_held_until_every_file_is_written(sigterm_guard, tmp_path, capsys):
    def main(argv):
        with files.writing_together([tmp_path / "a.csv", tmp_path / "a.png"]):
            files.write_atomically(tmp_path / "a.csv", text_writer("run"))
            os.kill(os.getpid(), signal.SIGTERM)
            files.write_atomically(tmp_path / "a.png", text_writer("run"))
        print("not reached: the held signal is raised once the files are in place")

    assert cli.run_cli(main, []) == 143
    assert capsys.readouterr() == ("", "interrupted\n")
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.png"]


def interrupt_training(out, delays, signals):
    """Start a long corridor run, wait for its progress header, then send signals[k] after delays[k] seconds."""
    process = start("minipg.train", "--env", "corridor", "--iterations", "100000", "--out", str(out))
    assert "iter" in process.stdout.readline()  # the progress header: training has started
    for delay, number in zip(delays, signals):
        time.sleep(delay)
        process.send_signal(number)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


SIGHUP = getattr(signal, "SIGHUP", None)  # a hang-up: the terminal closed (not on Windows)


@POSIX_SIGNALS
@pytest.mark.parametrize("number, seed", [
    (signal.SIGINT, 0), (signal.SIGTERM, 0), (signal.SIGTERM, 1),
    pytest.param(SIGHUP, 0, marks=pytest.mark.skipif(SIGHUP is None, reason="no SIGHUP on this system")),
], ids=["SIGINT", "SIGTERM", "SIGTERM-later", "SIGHUP"])
def test_a_signal_mid_training_saves_what_was_learned_and_exits_128_plus_its_number(tmp_path, number, seed):
    (tmp_path / "corridor.png").write_bytes(b"an older run's plot")
    delay = np.random.default_rng([seed, number]).uniform(0.05, 1.0)  # ~0 to 6 iterations of 0.17 s
    status, stderr = interrupt_training(tmp_path, [delay], [number])
    assert status == 128 + number, (delay, stderr)
    assert "interrupted: stopped after saving" in one_line(stderr)
    assert_whole_files_of_one_run(tmp_path)


@POSIX_SIGNALS
@pytest.mark.parametrize("seed", [0, 1])
def test_a_second_signal_while_saving_waits_for_the_save(tmp_path, seed):
    """The second signal lands while the files are being written (a corridor save takes ~0.3 s)."""
    first, second = np.random.default_rng(seed).uniform([0.2, 0.0], [0.8, 0.4])
    status, stderr = interrupt_training(tmp_path, [first, second], [signal.SIGINT, signal.SIGTERM])
    assert status == 130 and "interrupted" in one_line(stderr), (first, second, stderr)  # the first signal's status
    assert_whole_files_of_one_run(tmp_path)


@POSIX_SIGNALS
def test_sigterm_at_any_moment_of_a_run_leaves_no_temporary_file(tmp_path):
    """Three runs at once, each signalled at its own moment from their common start: in Python's start-up, early and
    late in training (300 corridor iterations take seconds). Whatever it hits, the folder holds one whole run or
    nothing, and a run stopped in training has saved what it learned."""
    delays = (0.1, 0.5, 1.5)
    outs = [tmp_path / str(k) for k in range(len(delays))]
    began = time.perf_counter()
    processes = [start("minipg.train", "--env", "corridor", "--iterations", "300", "--quiet", "--out", str(out))
                 for out in outs]
    for delay, process in zip(delays, processes):
        time.sleep(max(0.0, began + delay - time.perf_counter()))
        process.send_signal(signal.SIGTERM)
    statuses = []
    for delay, out, process in zip(delays, outs, processes):
        process.communicate(timeout=60)
        statuses.append(process.returncode)
        # -15: killed while Python was still importing, before run_cli took SIGTERM over; 0: it had finished
        assert process.returncode in (0, 143, -signal.SIGTERM), (delay, process.returncode)
        if process.returncode == 0 or out.exists() and os.listdir(out):
            assert_whole_files_of_one_run(out)
    assert 143 in statuses, statuses  # the latest signal, at least, reached a run in training


# Two one-seed configurations on two workers whose times differ by seconds on any machine: natural's seed 0 solves at
# 5,416 steps (2.5 s with its evaluations here), mean-baseline's at 62,580 (7.9 s). A signal 0.5 s after the first
# seed's line reaches the second in training, never a bench that has already finished.
BENCH_ONE_FAST_ONE_SLOW = ("--quick", "--max-steps", "200000", "--seeds", "1", "--configs", "natural,mean-baseline",
                           "--jobs", "2")


@POSIX_SIGNALS
def test_ctrl_c_stops_bench_with_130_and_writes_nothing_unfinished(tmp_path):
    process = start("minipg.lab.bench", *BENCH_ONE_FAST_ONE_SLOW, "--out", str(tmp_path))
    assert process.stdout.readline().startswith("natural ")  # a seed is done, the other is training
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in one_line(stderr)
    assert "configuration" not in stdout and "wrote" not in stdout  # no table: some seeds never ran
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="no process groups on this system")
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_to_benchs_whole_process_group_ends_it_as_cleanly_as_ctrl_c(tmp_path, name):
    """The terminal sends Ctrl-C, and a hang-up when it closes, to every process of the group: the workers and
    multiprocessing's resource tracker too. The bench alone stops them all: its status is 128 + the signal's number,
    its one line "interrupted" (no worker's traceback, no tracker's warning) and nothing is written. One seed of
    each of two configurations on two workers: once the first is done, its worker waits for a task that never
    comes while the other trains, the moment at which a worker pool sharing one queue's lock could hang."""
    if not hasattr(signal, name):
        pytest.skip(f"no {name} on this system")
    process = start("minipg.lab.bench", *BENCH_ONE_FAST_ONE_SLOW, "--out", str(tmp_path), start_new_session=True)
    assert process.stdout.readline().startswith("natural ")  # a seed is done: its worker waits, the other trains
    time.sleep(0.5)
    os.killpg(process.pid, getattr(signal, name))
    stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stderr) == (128 + getattr(signal, name), "interrupted\n")
    assert "wrote" not in stdout and os.listdir(tmp_path) == []


# --- 9, 19.1. Output that cannot be printed (a closed pipe, stdout or stderr; a vanished terminal) ----------


def test_a_closed_stdout_pipe_never_costs_the_run(tmp_path):
    """As `python -m minipg.train | head -n 0`: the reader is gone before the first progress line."""
    process = start("minipg.train", "--env", "corridor", "--iterations", "3", "--out", str(tmp_path))
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and stderr == ""
    assert_whole_files_of_one_run(tmp_path, iterations=3)


def run_without(descriptor, module, *args):
    """`python -m module args` started with stdout (1) or stderr (2) closed, as `>&-` and `2>&-` start it."""
    launcher = f"import os, subprocess, sys; os.close({descriptor}); sys.exit(subprocess.call(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", launcher, sys.executable, "-m", module, *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=120)


def test_a_run_with_stdout_closed_saves_everything_and_exits_0(tmp_path):
    result = run_without(1, "minipg.train", "--env", "corridor", "--iterations", "3", "--out", str(tmp_path))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert_whole_files_of_one_run(tmp_path, iterations=3)


def test_a_bad_flag_with_stderr_closed_still_exits_2(tmp_path):
    result = run_without(2, "minipg.train", "--episodes", "0", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and result.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals on this system")
def test_a_terminal_that_vanishes_mid_run_costs_nothing(tmp_path):
    """The terminal's other end closes after the first line: every later line meets EIO, the run goes on."""
    terminal, child_end = os.openpty()
    process = start("minipg.train", "--env", "corridor", "--iterations", "20", "--out", str(tmp_path),
                    stdout=child_end, stderr=child_end)
    os.close(child_end)
    first = b""
    while b"\n" not in first:
        first += os.read(terminal, 1024)
    assert b"iter" in first
    os.close(terminal)  # about 3 s of training and two progress lines are left
    assert process.wait(timeout=60) == 0
    assert_whole_files_of_one_run(tmp_path, iterations=20)


# --- 13, 14, 15. Library guards: non-finite steps and misshapen paths refused by name -----------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "lr must be"), ({"lr": 0.0}, "lr must be"), ({"lr": np.nan}, "lr must be"),
    ({"lr": np.inf}, "lr must be"), ({"kl_radius": np.nan}, "kl radius"), ({"kl_radius": np.inf}, "kl radius"),
    ({"kl_radius": 0.0}, "kl radius"), ({"gradient": np.array([np.nan, 1.0])}, "NaN or inf"),
])
def test_natural_step_refuses_a_step_size_that_is_not_finite_and_positive(kwargs, message):
    arguments = {"fisher": np.eye(2), "gradient": np.ones(2), "kl_radius": 0.01, **kwargs}
    with pytest.raises(ValueError, match=message):
        natural_step(**arguments)


def test_natural_step_with_a_valid_lr_climbs():
    """The guard must not break the step itself: it points along +F^-1 g."""
    assert natural_step(np.eye(2), np.array([1.0, 0.0]), 0.01, lr=0.01)[0] > 0


@pytest.mark.parametrize("optimizer", [SGD(0.1), Adam(0.1)], ids=["sgd", "adam"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_optimizers_refuse_a_theta_that_is_not_finite(optimizer, bad):
    with pytest.raises(ValueError, match="theta contains NaN or inf"):
        optimizer.step(np.array([0.0, bad]), np.ones(2))


SOFTMAX, GAUSSIAN = SoftmaxPolicy(4, 2), GaussianPolicy(4, 2)
THETA_S, THETA_G, OBS, RNG = np.zeros(10), np.zeros(12), np.zeros((3, 4)), np.random.default_rng(0)


@pytest.mark.parametrize("call, message", [
    (lambda: SOFTMAX.path_log_probs(THETA_S, OBS, np.array([0, 1])), r"actions must have shape \(3,\)"),
    (lambda: SOFTMAX.path_scores(THETA_S, OBS, np.zeros((3, 1), int)), r"actions must have shape \(3,\)"),
    (lambda: SOFTMAX.path_scores(THETA_S, np.zeros((3, 5)), np.zeros(3, int)),
     r"observations must have shape \(T, 4\)"),
    (lambda: SOFTMAX.path_kls(THETA_S, THETA_S, np.zeros(4)), r"observations must have shape \(T, 4\)"),
    (lambda: SOFTMAX.path_fisher(THETA_S, np.zeros((3, 4, 1))), r"observations must have shape \(T, 4\)"),
    (lambda: GAUSSIAN.path_log_probs(THETA_G, OBS, np.zeros((2, 3))), r"actions must have shape \(3, 2\)"),
    (lambda: GAUSSIAN.path_scores(THETA_G, OBS, np.zeros(6)), r"actions must have shape \(3, 2\)"),
    (lambda: GAUSSIAN.path_kls(THETA_G, THETA_G, np.zeros((4, 3))), r"observations must have shape \(T, 4\)"),
    (lambda: GAUSSIAN.path_fisher(THETA_G, np.zeros((2, 2))), r"observations must have shape \(T, 4\)"),
], ids=["softmax-log-probs-length", "softmax-scores-2d", "softmax-scores-obs", "softmax-kls", "softmax-fisher",
        "gaussian-transposed", "gaussian-flat", "gaussian-kls", "gaussian-fisher"])
def test_the_vectorised_twins_name_a_misshapen_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- 16. Non-finite regression targets: refused, never an endless retry -------------------------------------


class Hung(Exception):
    pass


@pytest.fixture
def deadline():
    """Fail, rather than hang the suite, if the test body runs past 5 s (SIGALRM interrupts a Python loop or a
    blocked open). Where there is no SIGALRM (Windows) the test runs without a deadline."""
    def give_up(number, frame):
        raise Hung("still running after 5 s: an endless retry, a wait or a huge allocation")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def corridor_path(rewards):
    steps = len(rewards)
    return Path(observations=np.ones((steps, 1)), actions=np.zeros(steps, int), rewards=np.asarray(rewards, float),
                log_probs=np.zeros(steps), terminated=True, final_observation=np.ones(1))


@pytest.mark.parametrize("fit", [
    lambda: ridge_fit(np.ones((3, 2)), np.array([1.0, np.nan, 0.0]), 1e-5),
    lambda: LinearValueBaseline().fit([corridor_path([1.0, np.nan])], 1.0),
    lambda: RegressionCritic(1).fit([corridor_path([1.0, np.nan])], 0.9),
    lambda: RegressionCritic(1).fit([corridor_path([1.0, 2.0])], np.nan),
], ids=["ridge-fit", "linear-baseline", "critic-nan-reward", "critic-nan-gamma"])
def test_non_finite_regression_targets_are_refused_not_retried_forever(deadline, fit):
    with pytest.raises(ValueError):
        fit()


@pytest.mark.parametrize("call, named", [
    (lambda policy, paths: estimators.reward_to_go(policy, np.zeros(10), paths, gamma=1.5), "discount"),
    (lambda policy, paths: estimators.likelihood_ratio(policy, np.zeros(10), paths, gamma=float("nan")), "discount"),
    (lambda policy, paths: estimators.actor_critic(policy, np.zeros(10), paths, RegressionCritic(4), lam=2.0), "lam"),
    (lambda policy, paths: estimators.reward_to_go(policy, np.zeros(10), []), "paths must be non-empty"),
])
def test_estimators_refuse_a_bad_discount_lambda_or_an_empty_batch(call, named):
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    paths = sample_paths(env, policy, np.zeros(10), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=named):
        call(policy, paths)


def test_a_gaussian_divergence_is_one_line_without_warnings(tmp_path):
    process = start("minipg.train", "--env", "cartpole-continuous", "--optimizer", "sgd", "--lr", "1e308",
                    "--iterations", "5", "--quiet", "--out", str(tmp_path))
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1 and "not finite" in one_line(stderr) and "Warning" not in stderr


# --- 19.7. Every CSV holds plain numbers, one "\n" per row, on every system ---------------------------------


@pytest.mark.parametrize("main, args, name, integers, text", [
    (train_main, ["--env", "cartpole", "--iterations", "2", "--quiet"], "cartpole.csv",
     {"iteration", "env_steps", "episodes", "eval_env_steps"}, set()),
    (bench_main, ["--quick", "--configs", "default", "--quiet"], "bench_cartpole.csv", set(),
     {"configuration", "solved"}),
    (corridor_main, ["--runs", "2", "--episodes", "5"], "corridor_13.csv", {"episode"}, {"setting"}),
], ids=["train", "bench", "corridor"])
def test_every_csv_reads_back_as_plain_numbers_with_newline_line_ends(tmp_path, capsys, main, args, name, integers,
                                                                      text):
    assert cli.run_cli(main, [*args, "--out", str(tmp_path)]) == 0
    data = (tmp_path / name).read_bytes()
    assert b"\r" not in data and data.endswith(b"\n")
    with open(tmp_path / name, newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert rows and all(len(row) == len(header) for row in rows)
    for row in rows:
        for column, field in zip(header, row):
            if column in integers:
                int(field)
            elif column not in text:
                float(field)


# --- 19.2. Any locale: every command finishes and says what it wrote on an ASCII stdout ---------------------


ASCII_RUNS = {  # each command on small counts; out is the folder it writes into
    "train": ("minipg.train", "--env", "corridor", "--iterations", "2", "--out", "{out}"),
    "train --eval": ("minipg.train", "--env", "corridor", "--load", "{checkpoint}", "--eval", "3"),
    "bench": ("minipg.lab.bench", "--quick", "--configs", "default", "--quiet", "--out", "{out}"),
    "derivation": ("minipg.lab.derivation", "--out", "{out}"),
    "corridor": ("minipg.lab.corridor", "--runs", "2", "--episodes", "5", "--out", "{out}"),
    "show": ("minipg.lab.show", "{checkpoint}", "--episodes", "5", "--out", "{out}"),
    "variance": ("minipg.lab.variance", "--batches", "2", "--episodes", "5", "--horizon", "5", "--out", "{out}"),
}


@pytest.fixture(scope="module")
def ascii_runs(tmp_path_factory):
    """Every command of ASCII_RUNS started at once with PYTHONIOENCODING=ascii, as on a C or Latin-1 terminal."""
    folder = tmp_path_factory.mktemp("ascii")
    checkpoint = folder / "corridor.npz"
    save_checkpoint(checkpoint, np.zeros(4), "corridor", "softmax", {"gamma": 1.0})
    environment = {**os.environ, "PYTHONPATH": ROOT, "PYTHONIOENCODING": "ascii"}
    processes = {}
    for name, (module, *args) in ASCII_RUNS.items():
        out = folder / name.replace(" ", "")
        args = [arg.format(out=out, checkpoint=checkpoint) for arg in args]
        processes[name] = (out, subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=environment,
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return processes


@pytest.mark.parametrize("name", ASCII_RUNS)
def test_every_command_finishes_on_an_ascii_stdout(ascii_runs, name):
    out, process = ascii_runs[name]
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0 and stderr == "", stderr
    if name != "train --eval":  # it writes nothing
        assert "wrote" in stdout and os.listdir(out), stdout


# --- 19.6. Counts whose data cannot fit in memory: refused before any work, naming the flags ----------------


@pytest.mark.parametrize("main, args, named", [
    (corridor_main, ["--runs", "1", "--episodes", str(10**9)], "--runs and --episodes"),
    (corridor_main, ["--runs", str(10**5), "--episodes", str(10**5)], "--runs and --episodes"),
    (show_main, ["{cartpole}", "--episodes", "9"], "--episodes"),  # every 600 x 400 frame of the GIF is kept
    (show_main, ["{corridor}", "--episodes", str(10**9)], "--episodes"),
    (train_main, ["--env", "corridor", "--iterations", str(10**9)], "--iterations"),
    (train_main, ["--episodes", str(10**8)], "--episodes"),
    (train_main, ["--batch-steps", str(10**9)], "--batch-steps"),
    (train_main, ["--estimator", "importance", "--reuse", str(10**6)], "--reuse"),
    (train_main, ["--env", "corridor", "--load", "{corridor}", "--eval", str(10**9)], "--eval"),
    (bench_main, ["--seeds", str(10**6)], "--seeds"),
    (bench_main, ["--max-steps", str(10**9)], "--max-steps"),
    # a 6,000-episode batch (0.18 GiB) fits once; eight seeds trained at once hold eight
    (bench_main, ["--configs", "default", "--seeds", "8", "--jobs", "8", "--set", "episodes=6000"], "--jobs"),
    (variance_main, ["--batches", str(10**5), "--episodes", str(10**4)], "--batches, --episodes"),
], ids=["corridor-episodes", "corridor-runs", "show-gif", "show-grid", "train-iterations", "train-episodes",
        "train-batch-steps", "train-reuse", "train-eval", "bench-seeds", "bench-max-steps", "bench-jobs",
        "variance"])
def test_counts_that_cannot_fit_in_memory_are_refused_before_any_work(tmp_path, capsys, deadline, main, args, named):
    checkpoints = {"cartpole": tmp_path / "cartpole.npz", "corridor": tmp_path / "corridor.npz"}
    save_checkpoint(checkpoints["cartpole"], np.zeros(10), "cartpole", "softmax", {"gamma": 0.99})
    save_checkpoint(checkpoints["corridor"], np.zeros(4), "corridor", "softmax", {"gamma": 1.0})
    out = tmp_path / "out"
    args = [arg.format(**checkpoints) for arg in args] + ([] if "--eval" in args else ["--out", str(out)])
    assert cli.run_cli(main, args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and named in one_line(captured.err) and "GiB" in captured.err and not out.exists()


def test_the_arrays_a_checkpoint_declares_are_summed_over_its_members(tmp_path):
    """Two members of 78,643 float64 (629,144 bytes each, each under the 1 MiB limit; zeros, so the file is a few
    kB) declare 1,258,288 bytes with the three strings' few more: together over the limit, refused before any data is
    read."""
    members = {"theta": np.zeros(78_643), "value": np.zeros(78_643), **NAMES}
    path = save_members(tmp_path / "c.npz", **members)
    assert path.stat().st_size < 2**20 and members["theta"].nbytes < 2**20 < 2 * members["theta"].nbytes
    declared = sum(np.asanyarray(member).nbytes for member in members.values())
    refused(path, f"its arrays declare {declared} bytes, more than a checkpoint's {2**20}")


def test_progress_always_prints_the_last_line_however_soon_it_comes(capsys):
    """At most a line every 5 s of the run's clock, but the last is printed even 1 s after the one before; a line
    that is neither waits."""
    progress = cli.Progress(5.0)
    progress.show(0.0, "a")
    progress.show(0.5, "skipped")
    progress.show(1.0, "b", last=True)
    assert capsys.readouterr().out == "a\nb\n"
