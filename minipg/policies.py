"""Linear policies pi_theta(u|s) with hand-written score functions grad_theta log pi_theta(u|s).

Both policies are linear in the augmented features phi~(s) = [phi(s), 1] (the 1 is the bias),
and read their parameters from ONE flat float64 vector `theta`.

    SoftmaxPolicy:  pi(u|s) = softmax(W phi~(s))_u,                 W = theta.reshape(A, d+1)
    GaussianPolicy: u ~ N(M phi~(s), diag sigma^2),  sigma = exp(log sigma),
                    theta = [M.ravel(), log sigma],                 M of shape (k, d+1)

The score grad log pi is all a policy-gradient estimator needs from the policy: Eq. (4) of the README
shows that the dynamics drop out of grad log P(tau; theta).

Each formula is written first for one step (`log_prob`, `grad_log_prob`), as its equation reads; the
`path_` methods are their vectorised twins over the T steps of a path, rows t = 0..T-1, and check theta,
the observations and the actions once per path. `act` and `act_batch` run once per env step and check
nothing: the path's log-probabilities, computed when it is complete, check what it saw.
"""
import numpy as np

from envs.sampling import inverse_cdf


def count(value, name, minimum=1):
    """int(value) if value is an integer >= minimum, else ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_theta(theta, n_params):
    """theta as a float64 vector of length n_params, or ValueError naming the problem."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_params,):
        raise ValueError(f"theta must have shape ({n_params},), got {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError("theta contains NaN or inf")
    return theta


def augmented(observation, n_features):
    """phi~(s) = [phi(s), 1] for one observation of shape (n_features,), checked."""
    observation = np.asarray(observation, dtype=np.float64)
    if observation.shape != (n_features,):
        raise ValueError(f"observation must have shape ({n_features},), got {observation.shape}")
    return augmented_rows(observation[None], n_features)[0]


def augmented_rows(observations, n_features):
    """Phi~ = [Phi, 1]: each observation row with a 1 appended, shape (T, d+1), checked."""
    observations = np.asarray(observations, dtype=np.float64)
    if observations.ndim != 2 or observations.shape[1] != n_features:
        raise ValueError(f"observations must have shape (T, {n_features}), got {observations.shape}")
    if not np.isfinite(observations).all():
        raise ValueError("observation contains NaN or inf")
    return np.hstack([observations, np.ones((len(observations), 1))])


def times(weights, features):
    """W phi~ for one feature vector (d+1,) or each row of (n, d+1), summed term by term along phi~: a row gives the
    same bits alone or in a batch of any size, and on any machine (a matrix product's BLAS kernel may add in
    another order), so a vectorised sampler draws what its loop twin draws, and a batch's log-probabilities are
    its paths'."""
    return np.sum(weights * features[..., None, :], axis=-1)


def linear(weights, observations):
    """W phi~(s) for one observation (d,) or each row of (n, d), unchecked: the product acting uses each step."""
    return times(weights, np.concatenate([observations, np.ones(np.shape(observations)[:-1] + (1,))], axis=-1))


def log_softmax(logits):
    """log softmax(z)_u = z_u - max z - log sum_a exp(z_a - max z), row by row; finite for any finite z."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def mean_kl(policy, theta, theta_old, paths):
    """1/N sum_i sum_t KL(pi_old(.|s_t) || pi_theta(.|s_t)) over the visited states."""
    total = sum(policy.path_kls(theta_old, theta, path.observations).sum() for path in paths)
    return total / sum(len(path) for path in paths)


class SoftmaxPolicy:
    """pi(u|s) = softmax(W phi~(s))_u over n_actions discrete actions."""

    def __init__(self, n_features, n_actions):
        self.n_features = count(n_features, "n_features", 0)
        self.n_actions = count(n_actions, "n_actions", 2)
        self.n_params = self.n_actions * (self.n_features + 1)

    def _weights(self, theta):
        return check_theta(theta, self.n_params).reshape(self.n_actions, self.n_features + 1)

    def _action(self, action):
        if not (isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))
                and 0 <= action < self.n_actions):
            raise ValueError(f"action {action!r} is outside Discrete({self.n_actions})")
        return int(action)

    def _actions(self, actions, n_steps):
        actions = np.asarray(actions)
        if actions.shape != (n_steps,):
            raise ValueError(f"actions must have shape ({n_steps},), one per observation, got {actions.shape}")
        if actions.dtype.kind not in "iu" or not np.all((actions >= 0) & (actions < self.n_actions)):
            raise ValueError(f"action {actions!r} is outside Discrete({self.n_actions})")
        return actions

    def log_probs(self, theta, obs):
        """log pi(.|s) = log softmax(W phi~(s)), shape (n_actions,)."""
        return log_softmax(times(self._weights(theta), augmented(obs, self.n_features)))

    def probs(self, theta, obs):
        """pi(.|s), shape (n_actions,); sums to 1."""
        return np.exp(self.log_probs(theta, obs))

    def act(self, theta, obs, rng):
        """u ~ pi(.|s), by inverting the cumulative distribution at one uniform number.

        The draw needs pi only up to its normaliser (inverse_cdf scales u by the total), so exp(z - max z).
        """
        logits = linear(theta.reshape(self.n_actions, -1), obs)
        return int(inverse_cdf(np.exp(logits - logits.max()), rng.random()))

    def act_batch(self, theta, observations, rng):
        """u_t ~ pi(.|s_t) for every row, one uniform number per row: the vectorised twin of act, bit for bit."""
        logits = linear(theta.reshape(self.n_actions, -1), observations)
        return inverse_cdf(np.exp(logits - logits.max(axis=1, keepdims=True)), rng.random(len(logits)))

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = z_u - log sum_a exp(z_a), z = W phi~(s)."""
        return float(self.log_probs(theta, obs)[self._action(action)])

    def grad_log_prob(self, theta, obs, action):
        """grad_W log pi(u|s) = (onehot(u) - pi(.|s)) outer phi~(s): row a is (1[a = u] - pi(a|s)) phi~(s)."""
        onehot = np.eye(self.n_actions)[self._action(action)]
        return np.outer(onehot - self.probs(theta, obs), augmented(obs, self.n_features)).ravel()

    def _path_log_pi(self, theta, observations):
        """log pi(.|s_t) for every row, shape (T, n_actions), and Phi~."""
        features = augmented_rows(observations, self.n_features)
        return log_softmax(times(self._weights(theta), features)), features

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob."""
        log_pi, _ = self._path_log_pi(theta, observations)
        return log_pi[np.arange(len(log_pi)), self._actions(actions, len(log_pi))]

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): the vectorised twin of grad_log_prob."""
        log_pi, features = self._path_log_pi(theta, observations)
        onehot = np.eye(self.n_actions)[self._actions(actions, len(log_pi))]
        return ((onehot - np.exp(log_pi))[:, :, None] * features[:, None, :]).reshape(len(log_pi), -1)

    def kl(self, theta_p, theta_q, obs):
        """KL(pi_p(.|s) || pi_q(.|s)) = sum_u pi_p(u|s) (log pi_p(u|s) - log pi_q(u|s))."""
        log_p, log_q = self.log_probs(theta_p, obs), self.log_probs(theta_q, obs)
        return float(np.sum(np.exp(log_p) * (log_p - log_q)))

    def path_kls(self, theta_p, theta_q, observations):
        """KL(pi_p(.|s_t) || pi_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        log_p, _ = self._path_log_pi(theta_p, observations)
        log_q, _ = self._path_log_pi(theta_q, observations)
        return np.sum(np.exp(log_p) * (log_p - log_q), axis=1)

    def path_entropies(self, theta, observations):
        """H(pi(.|s_t)) = -sum_u pi(u|s_t) log pi(u|s_t) for every row, shape (T,)."""
        log_pi, _ = self._path_log_pi(theta, observations)
        return -np.sum(np.exp(log_pi) * log_pi, axis=1)

    def path_entropy_gradients(self, theta, observations):
        """grad_W H(pi(.|s_t)): row a is -pi(a|s_t) (log pi(a|s_t) + H(s_t)) phi~(s_t), shape (T, n_params).

        With dpi_b/dz_a = pi_b (1[a = b] - pi_a):  dH/dz_a = -sum_b (log pi_b + 1) dpi_b/dz_a = -pi_a (log pi_a + H).
        """
        log_pi, features = self._path_log_pi(theta, observations)
        pi = np.exp(log_pi)
        entropy = -np.sum(pi * log_pi, axis=1, keepdims=True)
        return ((-pi * (log_pi + entropy))[:, :, None] * features[:, None, :]).reshape(len(pi), -1)

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi grad log pi^T] = sum_t (diag p_t - p_t p_t^T) kron phi~_t phi~_t^T.

        The expectation over u is exact: the score of u is (e_u - p) kron phi~(s), and the covariance of
        the one-hot e_u under u ~ p is E[(e_u - p)(e_u - p)^T] = diag p - p p^T.
        """
        log_pi, features = self._path_log_pi(theta, observations)
        p = np.exp(log_pi)
        covariance = p[:, :, None] * np.eye(self.n_actions) - p[:, :, None] * p[:, None, :]
        return np.einsum("tab,ti,tj->aibj", covariance, features, features).reshape(self.n_params, self.n_params)


class GaussianPolicy:
    """u ~ N(M phi~(s), diag sigma^2) with a state-independent, learned log sigma at the end of theta.

    log sigma is clipped to LOG_STD_RANGE before use, so sigma stays in [4.5e-5, 7.4]; where the clip is
    active the policy does not depend on that parameter and its score entry is 0. Acting, scoring and the
    log-density all read sigma through the one clip.
    """

    LOG_STD_RANGE = (-10.0, 2.0)
    LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)

    def __init__(self, n_features, action_dim):
        self.n_features = count(n_features, "n_features", 0)
        self.action_dim = count(action_dim, "action_dim", 1)
        self.n_mean_params = self.action_dim * (self.n_features + 1)
        self.n_params = self.n_mean_params + self.action_dim

    def _split(self, theta):
        """theta -> (M, log sigma as stored)."""
        return theta[: self.n_mean_params].reshape(self.action_dim, -1), theta[self.n_mean_params :]

    def _checked(self, theta):
        return self._split(check_theta(theta, self.n_params))

    def _clipped(self, raw_log_std):
        """log sigma as the policy uses it: the stored value clipped to LOG_STD_RANGE."""
        return np.clip(raw_log_std, *self.LOG_STD_RANGE)

    def _inside_clip(self, raw_log_std):
        """1 where the stored log sigma lies strictly inside LOG_STD_RANGE (the policy depends on it), else 0."""
        return ((raw_log_std > self.LOG_STD_RANGE[0]) & (raw_log_std < self.LOG_STD_RANGE[1])).astype(np.float64)

    def _action(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.size != self.action_dim or not np.isfinite(action).all():
            raise ValueError(f"action must be {self.action_dim} finite real number(s), got {action!r}")
        return action

    def _actions(self, actions, n_steps):
        """Actions of shape (T, k), or (T,) when k = 1, all finite."""
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (n_steps, self.action_dim) and not (self.action_dim == 1 and actions.shape == (n_steps,)):
            raise ValueError(f"actions must have shape ({n_steps}, {self.action_dim}), one row per observation, "
                             f"got {actions.shape}")
        if not np.isfinite(actions).all():
            raise ValueError("actions contain NaN or inf: each must be a finite real number")
        return actions.reshape(n_steps, self.action_dim)

    def log_std(self, theta):
        """log sigma, clipped to LOG_STD_RANGE."""
        return self._clipped(self._checked(theta)[1])

    def mean(self, theta, obs):
        """mu(s) = M phi~(s), shape (action_dim,)."""
        return times(self._checked(theta)[0], augmented(obs, self.n_features))

    def act(self, theta, obs, rng):
        """u = mu(s) + sigma * eps with eps ~ N(0, I)."""
        weights, raw_log_std = self._split(theta)
        return linear(weights, obs) + np.exp(self._clipped(raw_log_std)) * rng.standard_normal(self.action_dim)

    def act_batch(self, theta, observations, rng):
        """u_t = mu(s_t) + sigma * eps_t for every row: the vectorised twin of act, same normals in the same order."""
        weights, raw_log_std = self._split(theta)
        means = linear(weights, observations)
        return means + np.exp(self._clipped(raw_log_std)) * rng.standard_normal(means.shape)

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = sum_j [-z_j^2 / 2 - log sigma_j - log(2 pi) / 2],  z = (u - mu(s)) / sigma."""
        log_std = self.log_std(theta)
        z = (self._action(action) - self.mean(theta, obs)) / np.exp(log_std)
        return float(np.sum(-0.5 * z**2 - log_std - self.LOG_SQRT_2PI))

    def grad_log_prob(self, theta, obs, action):
        """grad_M log pi = (z / sigma) phi~(s)^T;  grad_{log sigma} log pi = z^2 - 1 (0 where log sigma is clipped)."""
        raw_log_std = self._checked(theta)[1]
        sigma = np.exp(self._clipped(raw_log_std))
        z = (self._action(action) - self.mean(theta, obs)) / sigma
        return np.concatenate([np.outer(z / sigma, augmented(obs, self.n_features)).ravel(),
                               (z**2 - 1.0) * self._inside_clip(raw_log_std)])

    def _path_z(self, theta, observations, actions):
        """z_t = (u_t - mu(s_t)) / sigma for every row, with log sigma, Phi~ and the stored log sigma."""
        weights, raw_log_std = self._checked(theta)
        features = augmented_rows(observations, self.n_features)
        log_std = self._clipped(raw_log_std)
        z = (self._actions(actions, len(features)) - times(weights, features)) / np.exp(log_std)
        return z, log_std, features, raw_log_std

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob."""
        z, log_std, _, _ = self._path_z(theta, observations, actions)
        return np.sum(-0.5 * z**2 - log_std - self.LOG_SQRT_2PI, axis=1)

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): the vectorised twin of grad_log_prob."""
        z, log_std, features, raw_log_std = self._path_z(theta, observations, actions)
        grad_mean = (z / np.exp(log_std))[:, :, None] * features[:, None, :]
        return np.hstack([grad_mean.reshape(len(z), -1), (z**2 - 1.0) * self._inside_clip(raw_log_std)])

    def kl(self, theta_p, theta_q, obs):
        """KL(N_p || N_q) = sum_j [log(sigma_q/sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]."""
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        gap = self.mean(theta_p, obs) - self.mean(theta_q, obs)
        ratio = np.exp(2.0 * (log_std_p - log_std_q)) + gap**2 / np.exp(2.0 * log_std_q)
        return float(np.sum(log_std_q - log_std_p + 0.5 * ratio - 0.5))

    def path_kls(self, theta_p, theta_q, observations):
        """KL(N_p(.|s_t) || N_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        (weights_p, _), (weights_q, _) = self._checked(theta_p), self._checked(theta_q)
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        gap = times(weights_p - weights_q, augmented_rows(observations, self.n_features))
        ratio = np.exp(2.0 * (log_std_p - log_std_q)) + gap**2 / np.exp(2.0 * log_std_q)
        return np.sum(log_std_q - log_std_p + 0.5 * ratio - 0.5, axis=1)

    def path_entropies(self, theta, observations):
        """H(N(mu, sigma^2)) = sum_j [log sigma_j + (1 + log 2 pi) / 2], the same in every row, shape (T,)."""
        entropy = np.sum(self.log_std(theta) + 0.5 + self.LOG_SQRT_2PI)
        return np.full(len(augmented_rows(observations, self.n_features)), entropy)

    def path_entropy_gradients(self, theta, observations):
        """grad H: 0 on the mean weights, 1 on each log sigma_j (0 where it is clipped), in every row."""
        raw_log_std = self._checked(theta)[1]
        gradient = np.concatenate([np.zeros(self.n_mean_params), self._inside_clip(raw_log_std)])
        return np.tile(gradient, (len(augmented_rows(observations, self.n_features)), 1))

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi grad log pi^T]: sum_t phi~_t phi~_t^T / sigma_j^2 on the weights of
        action j, 2 T on each log sigma_j (0 where it is clipped), 0 elsewhere.

        With z = (u - mu) / sigma ~ N(0, I): E[z_j z_l] = 1[j = l], E[z_j (z_l^2 - 1)] = 0, E[(z_j^2 - 1)^2] = 2.
        """
        features = augmented_rows(observations, self.n_features)
        raw_log_std = self._checked(theta)[1]
        inside_clip = self._inside_clip(raw_log_std)
        gram = np.sum(features[:, :, None] * features[:, None, :], axis=0)  # sum_t phi~_t phi~_t^T
        fisher = np.zeros((self.n_params, self.n_params))
        for j, log_std in enumerate(self._clipped(raw_log_std)):
            weights_j = slice(j * (self.n_features + 1), (j + 1) * (self.n_features + 1))
            fisher[weights_j, weights_j] = gram / np.exp(2.0 * log_std)
            fisher[self.n_mean_params + j, self.n_mean_params + j] = 2.0 * len(features) * inside_clip[j]
        return fisher
