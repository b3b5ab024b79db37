"""A saved policy: an .npz holding theta, the env and policy names, and the run's settings as JSON."""
import dataclasses
import json

import numpy as np

from minipg.cli import write_atomically


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
    """The Checkpoint stored at path, or ValueError naming the file."""
    try:
        with np.load(path) as data:
            theta, env, policy, config = data["theta"], str(data["env"]), str(data["policy"]), str(data["config"])
    except FileNotFoundError:
        raise ValueError(f"checkpoint {path} does not exist") from None
    except (OSError, KeyError, ValueError):
        raise ValueError(f"checkpoint {path} is not a minipg checkpoint (.npz with theta, env, policy)") from None
    return Checkpoint(np.asarray(theta, dtype=np.float64), env, policy, json.loads(config))
