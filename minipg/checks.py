"""The argument check every module of the package shares: a count is a whole number, not a bool."""
import numpy as np


def count(value, name, minimum=1):
    """int(value) if value is an integer >= minimum, else ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
