"""Linear policies pi_theta(u|s) with hand-written score functions grad_theta log pi_theta(u|s).

Both policies are linear in the augmented features phi~(s) = [phi(s), 1] (the 1 is the bias),
and read their parameters from ONE flat float64 vector `theta`.

    SoftmaxPolicy:  pi(u|s) = softmax(W phi~(s))_u,                 W = theta.reshape(A, d+1)
    GaussianPolicy: u ~ N(M phi~(s), diag sigma^2),  sigma = exp(log sigma),
                    theta = [M.ravel(), log sigma],                 M of shape (k, d+1)

The score grad log pi is all a policy-gradient estimator needs from the policy: Eq. (4) of
the README shows that the dynamics drop out of grad log P(tau; theta).

Each formula is written once, over all T steps of a path at a time (`path_log_probs`,
`path_scores`, rows t = 0..T-1); `log_prob` and `grad_log_prob` are the same code on a path of
one step. tests/test_policies.py checks the one-step scores against finite differences and every
row of a path's scores against its step taken alone.
"""
import numpy as np

from envs.sampling import inverse_cdf
from minipg.checks import count


def _check_theta(theta, n_params):
    """Return theta as a float64 vector of length n_params, or raise ValueError naming the problem."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_params,):
        raise ValueError(f"theta must have shape ({n_params},), got {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError("theta contains NaN or inf")
    return theta


def augmented_features(observations, n_features):
    """Phi~ = [Phi, 1]: each observation row with a constant 1 appended for the bias, shape (T, d+1)."""
    observations = np.asarray(observations, dtype=np.float64)
    if observations.ndim != 2 or observations.shape[1] != n_features:
        raise ValueError(f"observations must have shape (T, {n_features}), got {observations.shape}")
    features = np.ones((len(observations), n_features + 1))
    features[:, :n_features] = observations
    if not np.isfinite(features).all():
        raise ValueError("observation contains NaN or inf")
    return features


def _one_step(obs, n_features):
    """A single observation of shape (n_features,) as a path of one row, so one-step and path code are one code."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.shape != (n_features,):
        raise ValueError(f"observation must have shape ({n_features},), got {obs.shape}")
    return obs[None, :]


_BIAS = np.ones(1)


def _one_feature_vector(obs, n_features):
    """phi~(s) = [phi(s), 1] for one observation, shape (d+1,): `act` runs once per env step, so it skips
    the (T, d+1) matrix the path code builds."""
    obs = _one_step(obs, n_features)[0]
    if not np.isfinite(obs).all():
        raise ValueError("observation contains NaN or inf")
    return np.concatenate((obs, _BIAS))


def log_softmax(logits):
    """log softmax(z)_u = z_u - max z - log sum_a exp(z_a - max z), row by row; finite for any finite z."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxPolicy:
    """pi(u|s) = softmax(W phi~(s))_u over n_actions discrete actions."""

    def __init__(self, n_features, n_actions):
        self.n_features = count(n_features, "n_features", 0)
        self.n_actions = count(n_actions, "n_actions", 2)
        self.n_params = self.n_actions * (self.n_features + 1)

    def _weights(self, theta):
        return _check_theta(theta, self.n_params).reshape(self.n_actions, self.n_features + 1)

    def _check_actions(self, actions, n_steps):
        actions = np.asarray(actions)
        if actions.shape != (n_steps,):
            raise ValueError(f"actions must have shape ({n_steps},), one per observation, got {actions.shape}")
        valid = actions.dtype.kind in "iu" and np.all((actions >= 0) & (actions < self.n_actions))
        if not valid:
            bad = actions.reshape(-1)[0] if actions.size == 1 else actions
            raise ValueError(f"action {bad!r} is outside Discrete({self.n_actions})")
        return actions

    def _one_action(self, action):
        if np.ndim(action) != 0:
            raise ValueError(f"action {action!r} is outside Discrete({self.n_actions})")
        return np.reshape(action, 1)

    def _all_log_probs(self, theta, observations):
        """log pi(.|s_t) for every row, shape (T, n_actions), and the features Phi~."""
        features = augmented_features(observations, self.n_features)
        return log_softmax(features @ self._weights(theta).T), features

    def log_probs(self, theta, obs):
        """log pi(.|s) = log softmax(W phi~(s)), shape (n_actions,)."""
        return self._all_log_probs(theta, _one_step(obs, self.n_features))[0][0]

    def probs(self, theta, obs):
        """pi(.|s), shape (n_actions,); sums to 1."""
        return np.exp(self.log_probs(theta, obs))

    def act(self, theta, obs, rng):
        """Draw u ~ pi(.|s) by inverting the cumulative distribution at one uniform number.

        The draw needs pi only up to its normaliser (inverse_cdf scales u by the total), so exp(z - max z).
        """
        logits = self._weights(theta) @ _one_feature_vector(obs, self.n_features)
        return int(inverse_cdf(np.exp(logits - logits.max()), rng.random()))

    def act_batch(self, theta, observations, rng):
        """u_t ~ pi(.|s_t) for every row, one uniform number per row, drawn in row order."""
        log_pi, _ = self._all_log_probs(theta, observations)
        return inverse_cdf(np.exp(log_pi), rng.random(len(log_pi)))

    def log_prob(self, theta, obs, action):
        """log pi(u|s)."""
        return float(self.path_log_probs(theta, _one_step(obs, self.n_features), self._one_action(action))[0])

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob."""
        log_pi, _ = self._all_log_probs(theta, observations)
        return log_pi[np.arange(len(log_pi)), self._check_actions(actions, len(log_pi))]

    def kl(self, theta_p, theta_q, obs):
        """KL(pi_p(.|s) || pi_q(.|s)) = sum_u pi_p(u|s) (log pi_p(u|s) - log pi_q(u|s))."""
        return float(self.path_kls(theta_p, theta_q, _one_step(obs, self.n_features))[0])

    def path_kls(self, theta_p, theta_q, observations):
        """KL(pi_p(.|s_t) || pi_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        log_p, _ = self._all_log_probs(theta_p, observations)
        log_q, _ = self._all_log_probs(theta_q, observations)
        return np.sum(np.exp(log_p) * (log_p - log_q), axis=1)

    def grad_log_prob(self, theta, obs, action):
        """grad_{W_a} log pi(u|s) = (1[a = u] - pi(a|s)) phi~(s), for every row a of W."""
        return self.path_scores(theta, _one_step(obs, self.n_features), self._one_action(action))[0]

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): rows (1[a = u_t] - pi(a|s_t)) phi~(s_t)."""
        log_pi, features = self._all_log_probs(theta, observations)
        indicator = np.zeros_like(log_pi)
        indicator[np.arange(len(log_pi)), self._check_actions(actions, len(log_pi))] = 1.0
        return ((indicator - np.exp(log_pi))[:, :, None] * features[:, None, :]).reshape(len(log_pi), -1)

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi(u|s_t) grad log pi(u|s_t)^T] = sum_t (diag p_t - p_t p_t^T) kron phi~_t phi~_t^T.

        The expectation over u is exact: the score of u is (e_u - p) kron phi~(s), and the
        covariance of the one-hot e_u under u ~ p is E[(e_u - p)(e_u - p)^T] = diag p - p p^T.
        """
        log_pi, features = self._all_log_probs(theta, observations)
        p = np.exp(log_pi)
        covariance = p[:, :, None] * np.eye(self.n_actions) - p[:, :, None] * p[:, None, :]
        return np.einsum("tab,ti,tj->aibj", covariance, features, features).reshape(self.n_params, self.n_params)


class GaussianPolicy:
    """u ~ N(M phi~(s), diag sigma^2) with a state-independent, learned log sigma at the end of theta.

    log sigma is clipped to LOG_STD_RANGE before use, so sigma stays in [4.5e-5, 7.4]; where the
    clip is active the policy does not depend on that parameter and its score entry is 0.
    """

    LOG_STD_RANGE = (-10.0, 2.0)

    def __init__(self, n_features, action_dim):
        self.n_features = count(n_features, "n_features", 0)
        self.action_dim = count(action_dim, "action_dim", 1)
        self.n_mean_params = self.action_dim * (self.n_features + 1)
        self.n_params = self.n_mean_params + self.action_dim

    def _split(self, theta):
        """theta -> (M, log sigma as stored)."""
        theta = _check_theta(theta, self.n_params)
        return theta[: self.n_mean_params].reshape(self.action_dim, -1), theta[self.n_mean_params :]

    def _one_action(self, action):
        action = np.asarray(action, dtype=np.float64)
        if action.size != self.action_dim:
            raise ValueError(f"action must be {self.action_dim} finite real number(s), got {action!r}")
        return action.reshape(1, self.action_dim)

    def _check_actions(self, actions, n_steps):
        """Actions of shape (T, k), or (T,) when k = 1, all finite."""
        actions = np.asarray(actions, dtype=np.float64)
        one_column = self.action_dim == 1 and actions.shape == (n_steps,)
        if actions.shape != (n_steps, self.action_dim) and not one_column:
            raise ValueError(f"actions must have shape ({n_steps}, {self.action_dim}), one row per observation, "
                             f"got {actions.shape}")
        if not np.isfinite(actions).all():
            raise ValueError("actions contain NaN or inf: each must be a finite real number")
        return actions.reshape(n_steps, self.action_dim)

    def _inside_clip(self, raw_log_std):
        """Where the stored log sigma lies strictly inside LOG_STD_RANGE, i.e. where the policy depends on it."""
        return (raw_log_std > self.LOG_STD_RANGE[0]) & (raw_log_std < self.LOG_STD_RANGE[1])

    def _clipped(self, raw_log_std):
        """log sigma as the policy uses it: the stored value clipped to LOG_STD_RANGE."""
        return np.clip(raw_log_std, *self.LOG_STD_RANGE)

    def log_std(self, theta):
        """log sigma, clipped to LOG_STD_RANGE."""
        return self._clipped(self._split(theta)[1])

    def mean(self, theta, obs):
        """mu(s) = M phi~(s), shape (action_dim,)."""
        return augmented_features(_one_step(obs, self.n_features), self.n_features)[0] @ self._split(theta)[0].T

    def act(self, theta, obs, rng):
        """Draw u = mu(s) + sigma * eps with eps ~ N(0, I)."""
        weights, raw_log_std = self._split(theta)
        mean = weights @ _one_feature_vector(obs, self.n_features)
        return mean + np.exp(self._clipped(raw_log_std)) * rng.standard_normal(self.action_dim)

    def act_batch(self, theta, observations, rng):
        """u_t = mu(s_t) + sigma * eps_t for every row: the vectorised twin of act, same normals in the same order."""
        means = augmented_features(observations, self.n_features) @ self._split(theta)[0].T
        return means + np.exp(self.log_std(theta)) * rng.standard_normal(means.shape)

    def _standardised(self, theta, observations, actions):
        """z_t = (u_t - mu(s_t)) / sigma for every step, with sigma, the features and the raw log sigma."""
        weights, raw_log_std = self._split(theta)
        features = augmented_features(observations, self.n_features)
        log_std = self._clipped(raw_log_std)
        z = (self._check_actions(actions, len(features)) - features @ weights.T) / np.exp(log_std)
        return z, log_std, features, raw_log_std

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = sum_j [ -(u_j - mu_j)^2 / (2 sigma_j^2) - log sigma_j - log(2 pi) / 2 ]."""
        return float(self.path_log_probs(theta, _one_step(obs, self.n_features), self._one_action(action))[0])

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob."""
        z, log_std, _, _ = self._standardised(theta, observations, actions)
        return np.sum(-0.5 * z**2 - log_std - 0.5 * np.log(2.0 * np.pi), axis=1)

    def kl(self, theta_p, theta_q, obs):
        """KL(N_p || N_q) = sum_j [log(sigma_q/sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]."""
        return float(self.path_kls(theta_p, theta_q, _one_step(obs, self.n_features))[0])

    def path_kls(self, theta_p, theta_q, observations):
        """KL(N_p(.|s_t) || N_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        (weights_p, _), (weights_q, _) = self._split(theta_p), self._split(theta_q)
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        features = augmented_features(observations, self.n_features)
        mean_gap = features @ (weights_p - weights_q).T
        ratio = np.exp(2.0 * (log_std_p - log_std_q)) + mean_gap**2 / np.exp(2.0 * log_std_q)
        return np.sum(log_std_q - log_std_p + 0.5 * ratio - 0.5, axis=1)

    def grad_log_prob(self, theta, obs, action):
        """grad_M log pi = ((u - mu) / sigma^2) phi~(s)^T;  grad_{log sigma} log pi = (u - mu)^2 / sigma^2 - 1."""
        return self.path_scores(theta, _one_step(obs, self.n_features), self._one_action(action))[0]

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): the vectorised twin of grad_log_prob."""
        z, log_std, features, raw_log_std = self._standardised(theta, observations, actions)
        inside_clip = self._inside_clip(raw_log_std)
        grad_mean = (z / np.exp(log_std))[:, :, None] * features[:, None, :]
        grad_log_std = (z**2 - 1.0) * inside_clip
        return np.hstack([grad_mean.reshape(len(z), -1), grad_log_std])

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi grad log pi^T]: sum_t phi~_t phi~_t^T / sigma_j^2 on the weights of
        action j, 2 T on each log sigma_j (0 where it is clipped), 0 elsewhere.

        With z = (u - mu) / sigma ~ N(0, I): E[z_j z_l] = 1[j = l], E[z_j (z_l^2 - 1)] = 0, E[(z_j^2 - 1)^2] = 2.
        """
        features = augmented_features(observations, self.n_features)
        raw_log_std = self._split(theta)[1]
        inside_clip = self._inside_clip(raw_log_std)
        gram = features.T @ features  # sum_t phi~_t phi~_t^T
        fisher = np.zeros((self.n_params, self.n_params))
        for j, log_std in enumerate(self.log_std(theta)):
            weights_j = slice(j * (self.n_features + 1), (j + 1) * (self.n_features + 1))
            fisher[weights_j, weights_j] = gram / np.exp(2.0 * log_std)
            fisher[self.n_mean_params + j, self.n_mean_params + j] = 2.0 * len(features) * inside_clip[j]
        return fisher
