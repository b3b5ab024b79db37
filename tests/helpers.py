"""Numerical tools shared by the tests: the finite differences every analytic gradient is checked against, and the
oracle's values as a critic.

central_difference is the package's own (minipg.lab.enumeration, where the derivation command uses it): one
implementation of (f(theta + h e_j) - f(theta - h e_j)) / 2h.
"""
import sys

import numpy as np
import pytest

from minipg.critics import Critic
from minipg.lab.enumeration import central_difference  # noqa: F401


POSIX_SIGNALS = pytest.mark.skipif(sys.platform == "win32", reason=(
    "Windows sends no SIGINT or SIGTERM to a process: Popen.send_signal(SIGINT) raises ValueError, and "
    "SIGTERM (os.kill, terminate) ends the process outright"))


def central_hessian(f, theta, step=1e-4):
    """[f(+h e_j + h e_k) - f(+h e_j - h e_k) - f(-h e_j + h e_k) + f(-h e_j - h e_k)] / 4h^2; error O(h^2)."""
    n = len(theta)
    hessian = np.zeros((n, n))
    for j in range(n):
        for k in range(j, n):
            e_j, e_k = step * np.eye(n)[j], step * np.eye(n)[k]
            hessian[j, k] = hessian[k, j] = (f(theta + e_j + e_k) - f(theta + e_j - e_k)
                                             - f(theta - e_j + e_k) + f(theta - e_j - e_k)) / (4.0 * step**2)
    return hessian


def relative_error(analytic, numeric):
    """||a - n|| / max(||a|| + ||n||, 1): relative for large gradients, absolute near zero."""
    return np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1.0)


class ValueTableCritic(Critic):
    """A table V_t(s) (the oracle's, say) as a critic: features one-hot in (t, s), weights the table, V_H = 0; for a
    tabular env whose observations are one-hot in the state, and paths that start at t = 0."""

    bootstrap_truncated = False

    def __init__(self, values):
        self.weights, self.shape = values.ravel(), values.shape

    def features(self, path):
        states = np.argmax(np.vstack([path.observations, path.final_observation]), axis=1)
        return np.eye(self.weights.size)[np.ravel_multi_index((np.arange(len(states)), states), self.shape)]


def assert_state_setter_copies(env, state):
    """env.state = s keeps a copy of its own: the caller writing into s afterwards leaves the env's state as set."""
    given = np.array(state, dtype=np.float64)
    env.state = given
    given[0] = 5.0
    np.testing.assert_array_equal(env.state, state)
