"""Baselines b(s_t) for Eqs. (9)-(10) and the TD critic V(s_t) of actor-critic, Eqs. (13)-(14).

Subtracting b(s_t) leaves the gradient unbiased because E_u[grad log pi(u|s_t)] = 0 for any b that
does not depend on u_t or on the path it multiplies. Every baseline here keeps that condition:
  - a constant b;
  - TimeIndexedBaseline: b_t = mean return-to-go at time t over the OTHER paths of the batch;
  - LinearValueBaseline: b(s_t) = w . x(s_t, t), fitted by ridge regression on the PREVIOUS batch
    (call .fit after the gradient is formed): fitting on the current batch would let b see the
    returns it is subtracted from, a bias of order 1/m that the exact oracle can measure;
  - LinearCritic: the same linear V, trained by TD(0) for actor-critic;
  - RegressionCritic: V(s) on the state alone, fitted to returns bootstrapped past a time limit.
"""
from collections import deque

import numpy as np


def discounted_returns(rewards, gamma, final_value=0.0):
    """G_t = sum_{k>=t} gamma^(k-t) r_k + gamma^(T-t) G_T, by the recursion G_t = r_t + gamma G_{t+1}.

    G_T = final_value: 0 when nothing follows the path, V(s_T) to bootstrap a path cut short.
    """
    returns = np.zeros(len(rewards))
    future = float(final_value)
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


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
    """w = argmin |X w - y|^2 + reg |w|^2, by (X^T X + reg I) w = X^T y; reg is raised tenfold
    until the solve is finite (a feature constant over the data makes X^T X singular)."""
    gram, moment = features.T @ features, features.T @ targets
    while True:
        try:
            weights = np.linalg.solve(gram + reg * np.eye(len(gram)), moment)
            if np.all(np.isfinite(weights)):
                return weights
        except np.linalg.LinAlgError:
            pass
        reg *= 10.0


def path_features(path):
    """x(s_t, t) for t = 0..T, the last row being the state s_T after the final step."""
    observations = np.vstack([path.observations, path.final_observation])
    return value_features(observations, np.arange(len(path) + 1))


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

    Predicts 0 before its first fit. If the regularised normal equations are singular, reg is raised
    tenfold until they are not.
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


class Critic:
    """What every critic shares: V(s_0..s_T) from its features, TD errors and GAE advantages, Eq. (13).

    A subclass sets self.weights, defines features(path) -> x(s_0..s_T) and update(paths, gamma).
    bootstrap_truncated: a path cut off by a time limit is bootstrapped with V(s_T) when the task goes
    on beyond the limit (cart-pole's 500 steps stand in for balancing forever); set it False when the
    limit is the horizon H of the objective itself, as in the exact finite-horizon experiments,
    where nothing is collected after step H - 1 and V(s_H) = 0.
    """

    bootstrap_truncated = True

    def ends_at_zero(self, path):
        """Whether V(s_T) = 0: after termination, or after a time limit that is the objective's horizon."""
        return path.terminated or not self.bootstrap_truncated

    def state_values(self, path):
        """V(s_0), ..., V(s_{T-1}), V(s_T), with V(s_T) = 0 when nothing more is to be collected."""
        values = self.features(path) @ self.weights
        if self.ends_at_zero(path):
            values[-1] = 0.0
        return values

    def td_errors(self, path, gamma):
        """delta_t = r_t + gamma V(s_{t+1}) - V(s_t); bootstrapped from V(s_T) after truncation."""
        values = self.state_values(path)
        return path.rewards + gamma * values[1:] - values[:-1]

    def advantages(self, path, gamma, lam):
        """GAE: A_t = delta_t + gamma lambda A_{t+1}, A_T = 0."""
        return discounted_returns(self.td_errors(path, gamma), gamma * lam)


class LinearCritic(Critic):
    """V_w(s, t) = w . x(s, t), trained by semi-gradient TD(0), Eq. (14).

    Each update sweeps the batch `epochs` times; the step is normalised by |x_t|^2 (normalised LMS),
    so lr is a fraction of the TD error removed per step and lr in (0, 1] is stable whatever the
    scale of the features.
    """

    def __init__(self, n_features, lr=0.1, epochs=1, bootstrap_truncated=True):
        if not lr > 0:
            raise ValueError(f"critic lr must be > 0, got {lr}")
        self.weights = np.zeros(2 * n_features + 4)
        self.lr = lr
        self.epochs = epochs
        self.bootstrap_truncated = bootstrap_truncated

    def features(self, path):
        return path_features(path)

    def update(self, paths, gamma):
        """w <- w + lr delta_t x_t / |x_t|^2, where x_t = grad_w V_w(s_t) (the target is held fixed)."""
        for _ in range(self.epochs):
            for path in paths:
                features = self.features(path)
                for t in range(len(path)):
                    last = t == len(path) - 1
                    next_value = 0.0 if last and self.ends_at_zero(path) else features[t + 1] @ self.weights
                    delta = path.rewards[t] + gamma * next_value - features[t] @ self.weights
                    self.weights += self.lr * delta * features[t] / (features[t] @ features[t])


class RegressionCritic(Critic):
    """V_w(s) = w . x(s) on the state alone, fitted by ridge regression to bootstrapped returns, Eq. (19).

    The targets are G_t = r_t + gamma r_{t+1} + ... + gamma^(T-t) V(s_T), with V(s_T) = 0 after
    termination and the current V(s_T) after truncation: the value of balancing on beyond the time
    limit, so V has no reason to depend on t. Each update adds the batch to the last `keep` batches
    and refits w on all of them, so one batch without a failure does not erase what V learned of
    the states that lead to one. With lam = 1 its advantage A_t = G_t - V(s_t).
    """

    def __init__(self, n_features, keep=10, reg=1e-5):
        if not (isinstance(keep, int) and keep >= 1):
            raise ValueError(f"keep must be a positive integer, got {keep!r}")
        if not reg > 0:
            raise ValueError(f"reg must be > 0, got {reg}")
        self.weights = np.zeros(2 * n_features + 1)
        self.batches = deque(maxlen=keep)
        self.reg = reg

    def features(self, path):
        return state_features(np.vstack([path.observations, path.final_observation]))

    def update(self, paths, gamma):
        """Refit w to the targets G_t of this batch (under the current V) and of the keep - 1 before it."""
        features = np.vstack([self.features(path)[:-1] for path in paths])
        targets = np.concatenate([discounted_returns(path.rewards, gamma, self.state_values(path)[-1]) for path in paths])
        self.batches.append((features, targets))
        self.weights = ridge_fit(np.vstack([x for x, _ in self.batches]),
                                 np.concatenate([y for _, y in self.batches]), self.reg)
