"""A saved policy: an .npz holding theta, the env and policy names, the run's settings as JSON, and the critic's
weights where the run had a critic."""
import dataclasses
import json
import math
import os
import stat
import zipfile

import numpy as np

from minipg.io.files import write_atomically

KEYS = ("theta", "env", "policy", "config")
MAX_CHECKPOINT_BYTES = 2**20  # a checkpoint takes a few kB; a load reads at most this much from disk, and as arrays
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


@dataclasses.dataclass
class Checkpoint:
    theta: np.ndarray  # a finite float64 vector
    env: str
    policy: str
    config: dict
    value: np.ndarray = None  # the critic's weights, a finite float64 vector, or None


def save_checkpoint(path, theta, env, policy, config, value=None):
    """Write theta with its env and policy names, `config` (a dict) as JSON and the critic's weights `value` (if
    not None), atomically."""
    critic = {} if value is None else {"value": value}

    def write(temporary):
        with open(temporary, "wb") as file:
            np.savez(file, theta=theta, policy=policy, env=env, config=json.dumps(config, sort_keys=True), **critic)
    write_atomically(path, write)


def load_checkpoint(path):
    """The Checkpoint stored at path, or one ValueError line naming the file and what is wrong with it.

    Whether its theta fits a policy is the caller's to check. Time and memory are bounded: the file must
    be a regular file of at most MAX_CHECKPOINT_BYTES, and so must the arrays its .npy headers declare,
    which are read before any data.
    """
    if not os.path.exists(path):
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        return _checkpoint_from(_read_arrays(path))
    except ValueError as error:
        raise ValueError(f"checkpoint {path} is not a minipg checkpoint: {error}") from None


def _read_arrays(path):
    """Every array of the .npz at path, each read only once its header has shown that all of them fit."""
    status = os.stat(path)  # before opening: a named pipe would block the open
    if not stat.S_ISREG(status.st_mode):
        raise ValueError("it is not a regular file")
    if status.st_size > MAX_CHECKPOINT_BYTES:
        raise ValueError(f"it is {status.st_size} bytes, more than a checkpoint's {MAX_CHECKPOINT_BYTES}")
    with open(path, "rb") as file:
        start = file.read(6)
    if not start:
        raise ValueError("the file is empty")
    if start.startswith(b"\x93NUMPY"):
        raise ValueError("it holds a single .npy array, not an .npz of theta, env, policy and config")
    if not start.startswith(b"PK"):
        raise ValueError("it is not an .npz (zip) file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            declared = sum(_declared_bytes(archive, name) for name in names)  # before any data is read
            if declared > MAX_CHECKPOINT_BYTES:
                raise ValueError(f"its arrays declare {declared} bytes, more than a checkpoint's "
                                 f"{MAX_CHECKPOINT_BYTES}")
            return {name.removesuffix(".npy"): _read_member(archive, name) for name in names}
    except ValueError as error:  # ours, or numpy.lib.format's on a damaged .npy member
        raise ValueError(_first_line(error)) from None
    except Exception as error:  # damaged bytes raise a dozen types from zipfile and numpy.lib.format
        raise ValueError(f"truncated or damaged ({type(error).__name__}: {_first_line(error)})") from None


def _declared_bytes(archive, name):
    """The bytes of the array that member `name` declares, from its .npy header alone."""
    with archive.open(name) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError:
            raise ValueError(f"{name} is not an .npy array") from None
        if version not in HEADER_READERS:
            raise ValueError(f"{name} is an .npy file of version {version}, not 1.0 or 2.0")
        shape, _, dtype = HEADER_READERS[version](member)
    return math.prod(shape) * dtype.itemsize


def _read_member(archive, name):
    """The array stored in member `name`, refused if it holds pickled objects."""
    with archive.open(name) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _first_line(error):
    return str(error).strip().split("\n")[0]


def _checkpoint_from(arrays):
    """Checkpoint(theta, env, policy, config) from the arrays of an .npz, each checked for type and shape."""
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise ValueError(f"it has no {missing[0]!r}")
    theta = finite_vector(arrays, "theta")
    value = finite_vector(arrays, "value") if "value" in arrays else None
    for key in KEYS[1:]:
        if arrays[key].ndim != 0 or arrays[key].dtype.kind != "U":
            raise ValueError(f"{key} must be a string, got {arrays[key].dtype} of shape {arrays[key].shape}")
    try:
        config = json.loads(str(arrays["config"]))
    except (ValueError, RecursionError):
        raise ValueError("config is not JSON (or is nested too deep)") from None
    if not isinstance(config, dict):
        raise ValueError(f"config must be a JSON object, got {type(config).__name__}")
    return Checkpoint(theta, str(arrays["env"]), str(arrays["policy"]), config, value)


def finite_vector(arrays, key):
    """arrays[key] as a finite float64 vector, or ValueError naming the key."""
    vector = arrays[key]
    if vector.ndim != 1 or vector.dtype.kind != "f":
        raise ValueError(f"{key} must be a vector of floats, got {vector.dtype} of shape {vector.shape}")
    with np.errstate(over="ignore"):  # a wider float beyond float64's range becomes inf, refused next
        vector = vector.astype(np.float64)
    if not np.isfinite(vector).all():
        raise ValueError(f"{key} contains NaN or inf")
    return vector
