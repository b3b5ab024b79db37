"""Baselines b(s_t) for Eqs. (9)-(10), and the ridge regression that fits the linear ones.

Subtracting b(s_t) leaves the gradient unbiased because E_u[grad log pi(u|s_t)] = 0 for any b that
does not depend on u_t or on the path it multiplies. Every baseline here keeps that condition for a batch
of a fixed number of paths (with --batch-steps the number of other paths depends on each path's length):
  - a constant b;
  - leave_one_out_mean: the batch mean of the OTHER paths' returns;
  - TimeIndexedBaseline: b_t = mean return-to-go at time t over the OTHER paths of the batch;
  - LinearValueBaseline: b(s_t) = w . x(s_t, t), fitted by ridge regression on the PREVIOUS batch
    (call .fit after the gradient is formed): fitting on the current batch would let b see the
    returns it is subtracted from, a bias of order 1/m that the exact oracle can measure.
"""
import numpy as np

MAX_RIDGE_RETRIES = 20


def leave_one_out_mean(values):
    """b_i = mean_{j != i} values_j: a batch mean that is independent of sample i (0 when m = 1)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return np.zeros(len(values))
    return (values.sum() - values) / (len(values) - 1)


def state_features(observations):
    """x(s) = [clip(s, -10, 10), clip(s, -10, 10)^2, 1], one row per observation."""
    s = np.clip(np.asarray(observations, dtype=np.float64), -10.0, 10.0)
    return np.hstack([s, s**2, np.ones((len(s), 1))])


def value_features(observations, times):
    """x(s, t) = [x(s), t/100, (t/100)^2, (t/100)^3], one row per step."""
    tau = np.asarray(times, dtype=np.float64)[:, None] / 100.0
    return np.hstack([state_features(observations), tau, tau**2, tau**3])


def ridge_fit(features, targets, reg):
    """w = argmin |X w - y|^2 + reg |w|^2, by (X^T X + reg I) w = X^T y.

    reg is raised tenfold, at most MAX_RIDGE_RETRIES times, until the solve is finite (a feature constant
    over the data makes X^T X singular); non-finite data is refused, as no reg would help.
    """
    if not (np.isfinite(features).all() and np.isfinite(targets).all()):
        raise ValueError("ridge_fit: features and targets must be finite (a NaN return or reward?)")
    gram, moment = features.T @ features, features.T @ targets
    for _ in range(MAX_RIDGE_RETRIES):
        try:
            weights = np.linalg.solve(gram + reg * np.eye(len(gram)), moment)
            if np.all(np.isfinite(weights)):
                return weights
        except np.linalg.LinAlgError:
            pass
        reg *= 10.0
    raise ValueError(f"ridge_fit: no finite solution up to reg = {reg / 10.0:g}")


def baseline_values(baseline, paths, returns):
    """b(s_t) for every step of every path: a list of arrays shaped like `returns`.

    baseline: None (b = 0), a number, a callable b(observation, t), or an object with
    .values(paths, returns).
    """
    if baseline is None:
        return [np.zeros(len(path)) for path in paths]
    if isinstance(baseline, (int, float, np.floating, np.integer)) and not isinstance(baseline, bool):
        return [np.full(len(path), float(baseline)) for path in paths]
    if hasattr(baseline, "values"):
        return baseline.values(paths, returns)
    if callable(baseline):
        return [np.array([baseline(path.observations[t], t) for t in range(len(path))]) for path in paths]
    raise ValueError(f"baseline must be None, a number, a callable b(obs, t) or have .values(); got {baseline!r}")


class TimeIndexedBaseline:
    """b_t for path i = mean of G_t over the other paths still running at time t (0 if none)."""

    def values(self, paths, returns):
        horizon = max(len(path) for path in paths)
        padded = np.zeros((len(paths), horizon))
        alive = np.zeros((len(paths), horizon))
        for i, path_returns in enumerate(returns):
            padded[i, : len(path_returns)] = path_returns
            alive[i, : len(path_returns)] = 1.0
        others_sum = padded.sum(axis=0) - padded
        others_count = alive.sum(axis=0) - alive
        means = np.divide(others_sum, others_count, out=np.zeros_like(others_sum), where=others_count > 0)
        return [means[i, : len(path)] for i, path in enumerate(paths)]


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
        return [value_features(path.observations, np.arange(len(path))) @ self.weights for path in paths]

    def fit(self, paths, returns):
        """Ridge regression (X^T X + reg I) w = X^T G on every step of the batch."""
        features = np.vstack([value_features(path.observations, np.arange(len(path))) for path in paths])
        self.weights = ridge_fit(features, np.concatenate(returns), self.reg)
