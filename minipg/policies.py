"""Linear policies pi_theta(u|s) with hand-written score functions grad_theta log pi_theta(u|s).

Both policies are linear in the augmented features phi~(s) = [phi(s), 1] (the 1 is the bias),
and read their parameters from ONE flat float64 vector `theta` (DESIGN.md).

    SoftmaxPolicy:  pi(u|s) = softmax(W phi~(s))_u,                 W = theta.reshape(A, d+1)
    GaussianPolicy: u ~ N(M phi~(s), diag sigma^2),  sigma = exp(log sigma),
                    theta = [M.ravel(), log sigma],                 M of shape (k, d+1)

The score grad log pi is all a policy-gradient estimator needs from the policy: Eq. (4) of
the README shows that the dynamics drop out of grad log P(tau; theta).
"""
import numpy as np


def _check_theta(theta, n_params):
    """Return theta as a float64 vector of length n_params, or raise ValueError naming the problem."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_params,):
        raise ValueError(f"theta must have shape ({n_params},), got {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta contains NaN or inf")
    return theta


def _augmented(obs, n_features):
    """phi~(s) = [phi(s), 1]: the observation with a constant 1 appended for the bias."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.shape != (n_features,):
        raise ValueError(f"observation must have shape ({n_features},), got {obs.shape}")
    if not np.all(np.isfinite(obs)):
        raise ValueError("observation contains NaN or inf")
    return np.append(obs, 1.0)


def log_softmax(logits):
    """log softmax(z)_u = z_u - max z - log sum_a exp(z_a - max z); finite for any finite z."""
    shifted = logits - np.max(logits)
    return shifted - np.log(np.sum(np.exp(shifted)))


class SoftmaxPolicy:
    """pi(u|s) = softmax(W phi~(s))_u over n_actions discrete actions."""

    def __init__(self, n_features, n_actions):
        if int(n_features) < 0:
            raise ValueError(f"n_features must be >= 0, got {n_features}")
        if int(n_actions) < 2:
            raise ValueError(f"n_actions must be >= 2, got {n_actions}")
        self.n_features = int(n_features)
        self.n_actions = int(n_actions)
        self.n_params = self.n_actions * (self.n_features + 1)

    def _weights(self, theta):
        return _check_theta(theta, self.n_params).reshape(self.n_actions, self.n_features + 1)

    def _check_action(self, action):
        if not isinstance(action, (int, np.integer)) or isinstance(action, bool) or not 0 <= action < self.n_actions:
            raise ValueError(f"action {action!r} is outside Discrete({self.n_actions})")
        return int(action)

    def log_probs(self, theta, obs):
        """log pi(.|s) = log softmax(W phi~(s)), shape (n_actions,)."""
        return log_softmax(self._weights(theta) @ _augmented(obs, self.n_features))

    def probs(self, theta, obs):
        """pi(.|s), shape (n_actions,); sums to 1."""
        return np.exp(self.log_probs(theta, obs))

    def act(self, theta, obs, rng):
        """Draw u ~ pi(.|s) by inverting the cumulative distribution at one uniform number."""
        cumulative = np.cumsum(self.probs(theta, obs))
        return min(int(np.searchsorted(cumulative, rng.random(), side="right")), self.n_actions - 1)

    def log_prob(self, theta, obs, action):
        """log pi(u|s)."""
        return float(self.log_probs(theta, obs)[self._check_action(action)])

    def kl(self, theta_p, theta_q, obs):
        """KL(pi_p(.|s) || pi_q(.|s)) = sum_u pi_p(u|s) (log pi_p(u|s) - log pi_q(u|s))."""
        log_p, log_q = self.log_probs(theta_p, obs), self.log_probs(theta_q, obs)
        return float(np.sum(np.exp(log_p) * (log_p - log_q)))

    def grad_log_prob(self, theta, obs, action):
        """grad_{W_a} log pi(u|s) = (1[a = u] - pi(a|s)) phi~(s), for every row a of W."""
        features = _augmented(obs, self.n_features)
        indicator = np.zeros(self.n_actions)
        indicator[self._check_action(action)] = 1.0
        probs = np.exp(log_softmax(self._weights(theta) @ features))
        return np.outer(indicator - probs, features).ravel()


class GaussianPolicy:
    """u ~ N(M phi~(s), diag sigma^2) with a state-independent, learned log sigma at the end of theta.

    log sigma is clipped to LOG_STD_RANGE before use, so sigma stays in [4.5e-5, 7.4]; where the
    clip is active the policy does not depend on that parameter and its score entry is 0.
    """

    LOG_STD_RANGE = (-10.0, 2.0)

    def __init__(self, n_features, action_dim):
        if int(n_features) < 0:
            raise ValueError(f"n_features must be >= 0, got {n_features}")
        if int(action_dim) < 1:
            raise ValueError(f"action_dim must be >= 1, got {action_dim}")
        self.n_features = int(n_features)
        self.action_dim = int(action_dim)
        self.n_mean_params = self.action_dim * (self.n_features + 1)
        self.n_params = self.n_mean_params + self.action_dim

    def _split(self, theta):
        """theta -> (M, log sigma as stored)."""
        theta = _check_theta(theta, self.n_params)
        return theta[: self.n_mean_params].reshape(self.action_dim, -1), theta[self.n_mean_params :]

    def _check_action(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (self.action_dim,) or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be {self.action_dim} finite real number(s), got {action!r}")
        return action

    def log_std(self, theta):
        """log sigma, clipped to LOG_STD_RANGE."""
        return np.clip(self._split(theta)[1], *self.LOG_STD_RANGE)

    def mean(self, theta, obs):
        """mu(s) = M phi~(s), shape (action_dim,)."""
        return self._split(theta)[0] @ _augmented(obs, self.n_features)

    def act(self, theta, obs, rng):
        """Draw u = mu(s) + sigma * eps with eps ~ N(0, I)."""
        return self.mean(theta, obs) + np.exp(self.log_std(theta)) * rng.standard_normal(self.action_dim)

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = sum_j [ -(u_j - mu_j)^2 / (2 sigma_j^2) - log sigma_j - log(2 pi) / 2 ]."""
        z = (self._check_action(action) - self.mean(theta, obs)) / np.exp(self.log_std(theta))
        return float(np.sum(-0.5 * z**2 - self.log_std(theta) - 0.5 * np.log(2.0 * np.pi)))

    def kl(self, theta_p, theta_q, obs):
        """KL(N_p || N_q) = sum_j [log(sigma_q/sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]."""
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        mean_gap = self.mean(theta_p, obs) - self.mean(theta_q, obs)
        ratio = np.exp(2.0 * (log_std_p - log_std_q)) + mean_gap**2 / np.exp(2.0 * log_std_q)
        return float(np.sum(log_std_q - log_std_p + 0.5 * ratio - 0.5))

    def grad_log_prob(self, theta, obs, action):
        """grad_M log pi = ((u - mu) / sigma^2) phi~(s)^T;  grad_{log sigma} log pi = (u - mu)^2 / sigma^2 - 1."""
        weights, raw_log_std = self._split(theta)
        features = _augmented(obs, self.n_features)
        log_std = np.clip(raw_log_std, *self.LOG_STD_RANGE)
        z = (self._check_action(action) - weights @ features) / np.exp(log_std)
        inside_clip = (raw_log_std > self.LOG_STD_RANGE[0]) & (raw_log_std < self.LOG_STD_RANGE[1])
        grad_mean = np.outer(z / np.exp(log_std), features)
        grad_log_std = (z**2 - 1.0) * inside_clip
        return np.concatenate([grad_mean.ravel(), grad_log_std])
