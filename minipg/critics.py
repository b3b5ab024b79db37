"""Critics V_w(s) for actor-critic and PPO: TD errors and GAE advantages, Eq. (13); learned by TD, Eq. (14), or
by regression on bootstrapped returns, Eq. (15), linear in features of the state or on a tanh network.
"""
from collections import deque

import numpy as np

from minipg.baselines import ridge_fit, state_features, value_features
from minipg.networks import TanhBody, orthogonal
from minipg.optim import Adam
from minipg.policies import check_theta, count, hidden_sizes, with_ones
from minipg.returns import discounted_cumsum


class Critic:
    """What every critic shares: V(s_0..s_T) from its features, TD errors and GAE advantages, Eq. (13).

    A subclass sets self.weights and self.bootstrap_truncated, and defines features(path) -> x(s_0..s_T)
    and fit(paths, gamma); one whose V is not linear in features defines values(path) instead.
    bootstrap_truncated: a path cut off by a time limit is bootstrapped with
    V(s_T) when the task goes on beyond the limit (cart-pole's 500 steps stand in for balancing forever);
    False when the limit is the horizon H of the objective itself (a tabular env judged by its exact
    U_H), where nothing is collected after step H - 1 and V(s_H) = 0. A path cut by the end of a batch of steps
    (Path.cut) goes on in the next batch, so it is bootstrapped on every env.
    """

    def load_weights(self, weights):
        """Set w (e.g. from a checkpoint), checked: as many finite numbers as w has."""
        self.weights = check_theta(weights, len(self.weights), "weights").copy()

    def ends_at_zero(self, path):
        """Whether V(s_T) = 0: after termination, or after a time limit that is the objective's horizon."""
        return path.terminated or not (path.cut or self.bootstrap_truncated)

    def values(self, path):
        """V_w(s_0), ..., V_w(s_T) = w . x(s_t), as the critic computes them, before any ending sets V(s_T) = 0."""
        return np.sum(self.features(path) * self.weights, axis=1)

    def state_values(self, path):
        """V(s_0), ..., V(s_{T-1}), V(s_T), with V(s_T) = 0 when nothing more is to be collected."""
        values = self.values(path)
        if self.ends_at_zero(path):
            values[-1] = 0.0
        return values

    def td_errors(self, path, gamma):
        """delta_t = r_t + gamma V(s_{t+1}) - V(s_t), with V(s_T) as state_values gives it."""
        values = self.state_values(path)
        return path.rewards + gamma * values[1:] - values[:-1]

    def advantages(self, path, gamma, lam):
        """GAE: A_t = delta_t + gamma lambda A_{t+1}, A_T = 0."""
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1], got {lam}")
        return discounted_cumsum(self.td_errors(path, gamma), gamma * lam)


class TDCritic(Critic):
    """V_w(s, t) = w . x(s, t), trained by semi-gradient TD(0), Eq. (14) (`--critic td`).

    Each fit sweeps the batch `epochs` times. Every step is divided by the same number, the batch's
    largest |x_t|^2: the states keep their on-policy weights (a step divided by its own |x_t|^2 would
    reweigh them by 1 / |x(s)|^2 and can diverge), and no step moves V(s_t) by more than lr |delta_t|,
    whatever the scale of the features.
    """

    def __init__(self, n_features, lr=0.1, epochs=1, bootstrap_truncated=True):
        if not 0 < lr <= 1:
            raise ValueError(f"critic lr must be in (0, 1], got {lr}")
        self.weights = np.zeros(2 * n_features + 4)
        self.lr = lr
        self.epochs = count(epochs, "epochs")
        self.bootstrap_truncated = bootstrap_truncated

    def features(self, path):
        """x(s_t, t) for t = 0..T (t counted from the episode's start); the last row is s_T, after the final step."""
        observations = np.vstack([path.observations, path.final_observation])
        return value_features(observations, path.first_step + np.arange(len(path) + 1))

    def fit(self, paths, gamma):
        """Eq. (14): w <- w + lr delta_t x_t / max_k |x_k|^2 over the batch's steps, the target held fixed."""
        features = [self.features(path) for path in paths]
        scale = max(np.max(np.sum(x[:-1] ** 2, axis=1)) for x in features)  # one normaliser for the whole batch
        for _ in range(self.epochs):
            for path, x in zip(paths, features):
                for t in range(len(path)):
                    last = t == len(path) - 1
                    next_value = 0.0 if last and self.ends_at_zero(path) else np.sum(x[t + 1] * self.weights)
                    delta = path.rewards[t] + gamma * next_value - np.sum(x[t] * self.weights)
                    self.weights += self.lr * delta * x[t] / scale


class RegressionCritic(Critic):
    """V_w(s) = w . x(s) on the state alone, fitted by ridge regression to bootstrapped returns, Eq. (15)
    (`--critic regression`).

    The targets are G_t = r_t + gamma r_{t+1} + ... + gamma^(T-t) V(s_T), with V(s_T) = 0 after
    termination and the current V(s_T) after truncation where it bootstraps (Critic): the value of balancing on
    beyond the time limit, so V has no reason to depend on t. Each fit refits w on the last `keep` batches, this
    one included, so one batch without a failure does not erase what V learned of
    the states that lead to one. With lam = 1 its advantage A_t = G_t - V(s_t).
    """

    def __init__(self, n_features, keep=10, reg=1e-5, bootstrap_truncated=True):
        if not reg > 0:
            raise ValueError(f"reg must be > 0, got {reg}")
        self.weights = np.zeros(2 * n_features + 1)
        self.batches = deque(maxlen=count(keep, "keep"))
        self.reg = reg
        self.bootstrap_truncated = bootstrap_truncated

    def features(self, path):
        return state_features(np.vstack([path.observations, path.final_observation]))

    def fit(self, paths, gamma):
        """Refit w to the targets G_t of this batch (under the current V) and of the keep - 1 before it."""
        features = np.vstack([self.features(path)[:-1] for path in paths])
        targets = np.concatenate([discounted_cumsum(path.rewards, gamma, self.state_values(path)[-1])
                                  for path in paths])
        self.batches.append((features, targets))
        self.weights = ridge_fit(np.vstack([x for x, _ in self.batches]),
                                 np.concatenate([y for _, y in self.batches]), self.reg)


class NetworkCritic(Critic):
    """V_w(s) = w_v . [h(s), 1] on the state alone, h the last layer of a tanh body (networks.py), fitted by Adam to
    the bootstrapped returns of Eq. (15), G_t = r_t + gamma r_{t+1} + ... + gamma^(T-t) V(s_T), with V(s_T) = 0
    after termination and the current V(s_T) after truncation where it bootstraps (Critic), on the mean squared error

        L(w) = 1/n sum_t (V_w(s_t) - G_t)^2 over a minibatch of n steps,
        dL/dw_v = 2/n sum_t (V_w(s_t) - G_t) [h(s_t), 1],   dL/dh_t = 2/n (V_w(s_t) - G_t) w_v[:-1],

    then the body's backward pass from dL/dh. w = [body, w_v] is one flat float64 vector, `weights` (length
    `n_params`; `load_weights` checks and sets it). Each fit computes the targets of its batch under the current
    V, keeps them with those of the `keep` - 1 batches before it, and takes `epochs` passes over all their steps,
    each in `minibatches` shuffled minibatches (fewer if there are fewer steps), one Adam step of `lr` on each.
    The init (the body's orthogonal init, w_v of gain 1 and bias 0) and the shuffles are drawn from `rng`, the
    critic's own stream. Adam's moments and the kept batches are the fit's state, not part of the weights.
    """

    def __init__(self, n_features, rng, hidden=(64, 64), lr=1e-3, epochs=10, minibatches=8, keep=3,
                 input_scale=None, bootstrap_truncated=True):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, the critic's own stream, got {type(rng).__name__}")
        self.hidden = hidden_sizes(hidden)
        if not self.hidden:
            raise ValueError("hidden must name at least one tanh layer for a NetworkCritic, got ()")
        self.body = TanhBody(count(n_features, "n_features"), self.hidden, input_scale)
        self.n_params = self.body.n_params + self.hidden[-1] + 1
        self.optimizer = Adam(lr)
        self.epochs, self.minibatches = count(epochs, "epochs"), count(minibatches, "minibatches")
        self.batches = deque(maxlen=count(keep, "keep"))
        self.rng, self.bootstrap_truncated = rng, bootstrap_truncated
        value_head = np.append(orthogonal(rng, 1, self.hidden[-1], 1.0), 0.0)
        self.weights = np.concatenate([self.body.initial_params(rng), value_head])

    def _split(self, weights):
        """w -> (the body's parameters, w_v)."""
        return weights[: self.body.n_params], weights[self.body.n_params :]

    def value_rows(self, weights, observations):
        """V_w(s) = w_v . [h(s), 1] for every row of observations (T, d), with [h(s), 1] and the body's activations."""
        body, value_head = self._split(weights)
        activations = self.body.forward(body, observations)
        features = with_ones(activations[-1])
        return features @ value_head, features, activations

    def values(self, path):
        return self.value_rows(self.weights, np.vstack([path.observations, path.final_observation]))[0]

    def squared_error(self, weights, observations, targets):
        """L(w) = 1/n sum_t (V_w(s_t) - G_t)^2."""
        return np.mean((self.value_rows(weights, observations)[0] - targets) ** 2)

    def squared_error_gradient(self, weights, observations, targets):
        """dL/dw: 2/n sum_t (V_w(s_t) - G_t) [h(s_t), 1] on w_v, the body's backward pass from
        dL/dh_t = 2/n (V_w(s_t) - G_t) w_v[:-1], summed over the rows, on the body."""
        values, features, activations = self.value_rows(weights, observations)
        grad_values = 2.0 * (values - targets) / len(targets)  # dL/dV(s_t)
        body, value_head = self._split(weights)
        grad_body = self.body.backward(body, activations, grad_values[:, None] * value_head[:-1], per_row=False)
        return np.concatenate([grad_body, grad_values @ features])

    def fit(self, paths, gamma):
        """The targets G_t of this batch under the current V, then `epochs` passes of Adam over the kept batches."""
        observations = np.vstack([path.observations for path in paths])
        targets = np.concatenate([discounted_cumsum(path.rewards, gamma, self.state_values(path)[-1])
                                  for path in paths])
        self.batches.append((observations, targets))
        observations = np.vstack([x for x, _ in self.batches])
        targets = np.concatenate([y for _, y in self.batches])
        for _ in range(self.epochs):
            for rows in np.array_split(self.rng.permutation(len(targets)), min(self.minibatches, len(targets))):
                gradient = self.squared_error_gradient(self.weights, observations[rows], targets[rows])
                self.weights = self.optimizer.step(self.weights, -gradient)  # Adam ascends: descend L along -dL/dw
