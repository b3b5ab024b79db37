"""Baselines b(s_t) for Eqs. (9)-(10), and the ridge regression that fits the linear ones.

Subtracting b(s_t) leaves the gradient unbiased because E_u[grad log pi(u|s_t)] = 0 for any b that
does not depend on u_t or on the path it multiplies. Every baseline here keeps that condition for a batch
of a fixed number of paths (with --batch-steps the number of other paths depends on each path's length).

One protocol: a baseline is an object whose values(paths, returns) gives b(s_t) for every step of every path
and whose fit(paths, gamma) learns from a batch once its psi has been formed (a plain number b stands for
Constant(b)):
  - Constant: a fixed b, 0 for none;
  - LeaveOneOutMean: b = the mean return of the OTHER paths of the batch (Eq. 9);
  - TimeIndexedBaseline: b_t = the mean return-to-go at time t over the OTHER paths of the batch;
  - LinearValueBaseline: b(s_t) = w . x(s_t, t), fitted by ridge regression on the batch BEFORE:
    fitting on the current batch would let b see the returns it is subtracted from, a bias of order 1/m.
"""
import numbers

import numpy as np

from minipg.returns import discounted_cumsum


def state_features(observations):
    """x(s) = [clip(s, -10, 10), clip(s, -10, 10)^2, 1], one row per observation."""
    s = np.clip(np.asarray(observations, dtype=np.float64), -10.0, 10.0)
    return np.hstack([s, s**2, np.ones((len(s), 1))])


def value_features(observations, times):
    """x(s, t) = [x(s), t/100, (t/100)^2, (t/100)^3], one row per step."""
    tau = np.asarray(times, dtype=np.float64)[:, None] / 100.0
    return np.hstack([state_features(observations), tau, tau**2, tau**3])


def episode_features(path):
    """x(s_t, t) for the path's steps, t counted from its episode's start."""
    return value_features(path.observations, path.first_step + np.arange(len(path)))


def ridge_fit(features, targets, reg):
    """w = argmin |X w - y|^2 + reg |w|^2, by (X^T X + reg I) w = X^T y (reg > 0 makes it positive definite).

    X^T X and X^T y are NumPy's own sums of element-wise products and the solve is written out: a BLAS or LAPACK
    kernel adds in an order that depends on the machine, and the same batches would give other bits elsewhere.
    """
    if not (np.isfinite(features).all() and np.isfinite(targets).all()):
        raise ValueError("ridge_fit: features and targets must be finite (a NaN return or reward?)")
    gram = np.array([np.sum(features * column[:, None], axis=0) for column in features.T])  # X^T X
    return solve_positive_definite(gram + reg * np.eye(features.shape[1]), np.sum(features * targets[:, None], axis=0))


def solve_positive_definite(matrix, vector):
    """x = A^-1 b for a symmetric positive definite A, by Cholesky, A = L L^T, and two triangular solves:

        L_jj = sqrt(A_jj - sum_{k<j} L_jk^2),   L_ij = (A_ij - sum_{k<j} L_ik L_jk) / L_jj  (i > j)
        L y = b,   L^T x = y

    written out with NumPy's sums, so that its bits are the same on every machine.
    """
    n = len(vector)
    lower = np.zeros((n, n))
    for j in range(n):
        lower[j, j] = np.sqrt(matrix[j, j] - np.sum(lower[j, :j] ** 2))
        lower[j + 1:, j] = (matrix[j + 1:, j] - np.sum(lower[j + 1:, :j] * lower[j, :j], axis=1)) / lower[j, j]
    y, x = np.zeros(n), np.zeros(n)
    for i in range(n):
        y[i] = (vector[i] - np.sum(lower[i, :i] * y[:i])) / lower[i, i]
    for i in reversed(range(n)):
        x[i] = (y[i] - np.sum(lower[i + 1:, i] * x[i + 1:])) / lower[i, i]
    return x


def baseline_values(baseline, paths, returns):
    """b(s_t) for every step of every path, a list of arrays shaped like `returns`: a number b, or baseline.values."""
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        baseline = Constant(baseline)
    return baseline.values(paths, returns)


class Constant:
    """b = a fixed number; 0 is no baseline at all."""

    def __init__(self, b=0.0):
        self.b = float(b)

    def values(self, paths, returns):
        return [np.full(len(path), self.b) for path in paths]

    def fit(self, paths, gamma):
        """Nothing to learn."""


class LeaveOneOutMean:
    """b for path i = mean over j != i of returns_j at t = 0 (the whole return R(tau_j) in Eq. 9); 0 when m = 1."""

    def values(self, paths, returns):
        first = np.array([path_returns[0] for path_returns in returns])
        others = (first.sum() - first) / (len(first) - 1) if len(first) > 1 else np.zeros(1)
        return [np.full(len(path), b) for path, b in zip(paths, others)]

    def fit(self, paths, gamma):
        """Nothing to learn: b is a statistic of the batch it is used on."""


class TimeIndexedBaseline:
    """b_t for path i = mean of G_t over the other paths still running at time t (0 if none)."""

    def values(self, paths, returns):
        horizon = max(len(path) for path in paths)
        padded, alive = np.zeros((2, len(paths), horizon))
        for i, path_returns in enumerate(returns):
            padded[i, : len(path_returns)] = path_returns
            alive[i, : len(path_returns)] = 1.0
        others_sum, others_count = padded.sum(axis=0) - padded, alive.sum(axis=0) - alive
        means = np.divide(others_sum, others_count, out=np.zeros_like(others_sum), where=others_count > 0)
        return [means[i, : len(path)] for i, path in enumerate(paths)]

    def fit(self, paths, gamma):
        """Nothing to learn: b_t is a statistic of the batch it is used on."""


class LinearValueBaseline:
    """b(s_t) = w . x(s_t, t) with w = argmin sum (w . x - G_t)^2 + reg |w|^2, refitted after each batch.

    Predicts 0 before its first fit.
    """

    def __init__(self, reg=1e-5):
        if not reg > 0:
            raise ValueError(f"reg must be > 0, got {reg}")
        self.reg = reg
        self.weights = None

    def values(self, paths, returns):
        if self.weights is None:
            return [np.zeros(len(path)) for path in paths]
        return [np.sum(episode_features(path) * self.weights, axis=1) for path in paths]

    def fit(self, paths, gamma):
        """Ridge regression (X^T X + reg I) w = X^T G on every step of the batch, G_t the return-to-go."""
        features = np.vstack([episode_features(path) for path in paths])
        returns = np.concatenate([discounted_cumsum(path.rewards, gamma) for path in paths])
        self.weights = ridge_fit(features, returns, self.reg)

