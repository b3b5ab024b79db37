"""A saved policy: an .npz holding theta, the env and policy names, and the run's settings as JSON."""
import dataclasses
import json
import os

import numpy as np

from minipg.cli import write_atomically

KEYS = ("theta", "env", "policy", "config")


@dataclasses.dataclass
class Checkpoint:
    theta: np.ndarray
    env: str
    policy: str
    config: dict


def save_checkpoint(path, theta, env, policy, config):
    """Write theta with its env and policy names and `config` (a dict) as JSON, atomically."""
    def write(temporary):
        with open(temporary, "wb") as file:
            np.savez(file, theta=theta, policy=policy, env=env, config=json.dumps(config, sort_keys=True))
    write_atomically(path, write)


def load_checkpoint(path):
    """The Checkpoint stored at path, or one ValueError line naming the file and what is wrong with it."""
    if not os.path.exists(path):
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        return _checkpoint_from(_read_arrays(path))
    except ValueError as error:
        raise ValueError(f"checkpoint {path} is not a minipg checkpoint: {error}") from None


def _read_arrays(path):
    """Every array of the .npz at path, read whole; pickled objects refused (a checkpoint holds none)."""
    if os.path.isdir(path):
        raise ValueError("it is a directory")
    with open(path, "rb") as file:
        start = file.read(6)
    if not start:
        raise ValueError("the file is empty")
    if start.startswith(b"\x93NUMPY"):
        raise ValueError("it holds a single .npy array, not an .npz of theta, env, policy and config")
    if not start.startswith(b"PK"):
        raise ValueError("it is not an .npz (zip) file")
    try:
        with np.load(path, allow_pickle=False) as loaded:
            return {key: loaded[key] for key in loaded.files}
    except Exception as error:  # damaged bytes raise a dozen types from zipfile and numpy.lib.format
        raise ValueError(f"truncated or damaged ({type(error).__name__}: {_first_line(error)})") from None


def _first_line(error):
    return str(error).strip().split("\n")[0]


def _checkpoint_from(arrays):
    """Checkpoint(theta, env, policy, config) from the arrays of an .npz, each checked for type and shape."""
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise ValueError(f"it has no {missing[0]!r}")
    theta = arrays["theta"]
    if theta.ndim != 1 or theta.dtype.kind != "f":
        raise ValueError(f"theta must be a vector of floats, got {theta.dtype} of shape {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError("theta contains NaN or inf")
    for key in KEYS[1:]:
        if arrays[key].ndim != 0 or arrays[key].dtype.kind != "U":
            raise ValueError(f"{key} must be a string, got {arrays[key].dtype} of shape {arrays[key].shape}")
    try:
        config = json.loads(str(arrays["config"]))
    except ValueError:
        raise ValueError("config is not JSON") from None
    if not isinstance(config, dict):
        raise ValueError(f"config must be a JSON object, got {type(config).__name__}")
    return Checkpoint(theta.astype(np.float64), str(arrays["env"]), str(arrays["policy"]), config)
