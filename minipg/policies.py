"""Policies pi_theta(u|s) with hand-written score functions grad_theta log pi_theta(u|s), linear or on a tanh network.

Both heads act on phi~(s) = [h(s), 1] (the 1 is the bias): h(s) = phi(s), the observation itself, for a linear
policy (hidden=(), the default), or the last hidden layer of a tanh network (`networks.TanhBody`, hidden=(64, 64)
for two layers of 64). Each reads its parameters from ONE flat float64 vector `theta`:

    SoftmaxPolicy:  pi(u|s) = softmax(W phi~(s))_u,                 theta = [body, W.ravel()],  W of shape (A, n+1)
    GaussianPolicy: u ~ N(M phi~(s), diag sigma^2),  sigma = exp(log sigma),
                                                                    theta = [body, M.ravel(), log sigma],  M (k, n+1)

with n the width of h (d for a linear policy) and `body` the network's [W_1.ravel(), b_1, W_2.ravel(), b_2, ...],
W_l of shape (n_l, n_{l-1}) row by row, empty for a linear policy; theta ends with log sigma. The score grad log pi
is all a policy-gradient estimator needs from the policy (Eq. 4 of the README): the head's formula, and for a
network the body's backward pass from dlog pi/dh behind it.

Each formula is written first for one step (`log_prob`, `grad_log_prob`), as its equation reads; the
`path_` methods are their vectorised twins over the T steps of a path, rows t = 0..T-1, and check theta,
the observations and the actions once per path. `act` and `act_batch` run once per env step and check
nothing: the path's log-probabilities, computed when it is complete, check what it saw. A linear policy's
row gives the same bits alone or in a batch (`times`); a network's layers multiply with `@`, so its twins agree
to rounding and its numbers depend on the machine's BLAS.
"""
import numpy as np

from envs.sampling import inverse_cdf
from minipg.networks import TanhBody, orthogonal

HEAD_GAIN = 0.01                # a network policy's head starts this small: pi near uniform, mu near 0


def count(value, name, minimum=1):
    """int(value) if value is an integer >= minimum, else ValueError naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def hidden_sizes(hidden):
    """hidden as a tuple of layer widths, each an integer >= 1 (() for none), else ValueError naming the argument."""
    if not isinstance(hidden, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and n >= 1 for n in hidden):
        raise ValueError(f"hidden must be a tuple of integers >= 1, the widths of the tanh layers (() for none), "
                         f"got {hidden!r}")
    return tuple(int(n) for n in hidden)


def check_theta(theta, n_params, name="theta"):
    """theta as a float64 vector of length n_params, or ValueError naming the problem."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (n_params,):
        raise ValueError(f"{name} must have shape ({n_params},), got {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError(f"{name} contains NaN or inf")
    return theta


def observation_rows(observations, n_features):
    """Observations as a float64 array of shape (T, n_features), finite, or ValueError naming the problem."""
    observations = np.asarray(observations, dtype=np.float64)
    if observations.ndim != 2 or observations.shape[1] != n_features:
        raise ValueError(f"observations must have shape (T, {n_features}), got {observations.shape}")
    if not np.isfinite(observations).all():
        raise ValueError("observation contains NaN or inf")
    return observations


def path_psi(psi, n_steps):
    """psi as one float64 weight per step of a path, shape (T,), or ValueError naming the problem."""
    psi = np.asarray(psi, dtype=np.float64)
    if psi.shape != (n_steps,):
        raise ValueError(f"psi must have one weight per step, shape ({n_steps},), got {psi.shape}")
    return psi


def with_ones(rows):
    """[rows, 1]: each row, along the last axis, with a 1 appended: shape (..., n+1), float64."""
    shape = np.shape(rows)
    extended = np.empty(shape[:-1] + (shape[-1] + 1,))
    extended[..., :-1] = rows
    extended[..., -1] = 1.0
    return extended


def one_row(observation, n_features):
    """One observation of shape (n_features,) as a row of shape (1, n_features), or ValueError naming the problem."""
    observation = np.asarray(observation, dtype=np.float64)
    if observation.shape != (n_features,):
        raise ValueError(f"observation must have shape ({n_features},), got {observation.shape}")
    return observation[None]


def augmented(observation, n_features):
    """phi~(s) = [phi(s), 1] for one observation of shape (n_features,), checked."""
    return augmented_rows(one_row(observation, n_features), n_features)[0]


def augmented_rows(observations, n_features):
    """Phi~ = [Phi, 1]: each observation row with a 1 appended, shape (T, d+1), checked."""
    return with_ones(observation_rows(observations, n_features))


PAIRWISE_TERMS = 8  # np.sum adds fewer terms than this one after another, left to right, and more in pairs


def times(weights, features):
    """W phi~ for one feature vector (d+1,) or each row of (n, d+1), summed term by term along phi~: a row gives the
    same bits alone or in a batch of any size, and on any machine (a matrix product's BLAS kernel may add in
    another order), so a vectorised sampler draws what its loop twin draws, and a batch's log-probabilities are
    its paths'. Shape (k,) or (n, k); the bits of np.sum(W * phi~, axis=-1), weights (..., k, d+1) broadcast: that
    very sum for one row (one short loop), output_columns' for many rows of few terms."""
    if weights.ndim != 2 or features.ndim != 2 or features.shape[-1] >= PAIRWISE_TERMS:
        return np.add.reduce(weights * features[..., None, :], axis=-1)
    return np.ascontiguousarray(output_columns(weights, np.ascontiguousarray(features.T)).T)


def output_columns(weights, feature_columns):
    """W phi~_t for each column phi~_t of feature_columns (d+1, n): shape (k, n), np.sum(W * phi~_t)'s bits.

    Fewer than PAIRWISE_TERMS terms, which np.sum adds left to right, are added so here one term at a time across
    all columns at once (one sum per row over a short axis costs NumPy a loop per row); more go to np.sum itself.
    """
    if len(feature_columns) >= PAIRWISE_TERMS:
        return times(weights, np.ascontiguousarray(feature_columns.T)).T
    return np.add.reduce(weights.T[:, :, None] * feature_columns[:, None, :], axis=0)  # W_kj phi~_tj at [j, k, t]


def feature_columns(observations):
    """[phi(s_t), 1] of each row of observations (n, d) as the columns of a (d+1, n) array, unchecked."""
    columns = np.empty((observations.shape[1] + 1, len(observations)))
    columns[:-1] = observations.T
    columns[-1] = 1.0
    return columns


def linear(weights, observations):
    """W phi~(s) for one observation (d,) or each row of (n, d), unchecked: the product acting uses each step."""
    return times(weights, with_ones(observations))


def log_softmax(logits, axis=-1):
    """log softmax(z)_u = z_u - max z - log sum_a exp(z_a - max z) along `axis`, row by row; finite for any finite z.

    With axis=0, logits (A, n) hold one row's z in each column; fewer than PAIRWISE_TERMS actions are then worked
    one at a time across all rows, the sum left to right as np.sum adds a row's: the same bits as row by row.
    """
    if axis == 0 and len(logits) >= PAIRWISE_TERMS:
        return log_softmax(logits.T).T
    if axis == 0:
        shifted = logits - logits.max(axis=0)
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=0))
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def mean_kl(policy, theta, theta_old, paths):
    """1/N sum_i sum_t KL(pi_old(.|s_t) || pi_theta(.|s_t)) over the visited states."""
    total = sum(policy.path_kls(theta_old, theta, path.observations).sum() for path in paths)
    return total / sum(len(path) for path in paths)


class _Features:
    """What both policies share: phi~(s) = [h(s), 1] with h(s) the observation (linear) or a tanh body's last layer,
    and the body's part of every derivative. A head of k outputs z = W phi~(s) (the logits, or the mean) reads
    W, (k, n+1), from theta; W_h = W[:, :-1] is W without its bias column, so dz/dh = W_h.

    A linear policy has no body (self.body is None) and runs no code of networks.py.
    """

    def __init__(self, n_features, hidden, input_scale):
        self.n_features = count(n_features, "n_features", 0)
        self.hidden = hidden_sizes(hidden)
        if input_scale is not None and not self.hidden:
            raise ValueError("input_scale divides a network's inputs: a linear policy (hidden=()) takes none")
        self.body = TanhBody(self.n_features, self.hidden, input_scale) if self.hidden else None
        self.n_body_params = self.body.n_params if self.body else 0
        self.n_last = self.hidden[-1] if self.hidden else self.n_features  # the width of h(s)

    def _body_params(self, theta):
        return theta[: self.n_body_params]

    def _path_features(self, theta, observations):
        """Phi~ = [h(s_t), 1] for every row, checked, and the body's activations (None for a linear policy)."""
        if self.body is None:
            return augmented_rows(observations, self.n_features), None
        activations = self.body.forward(self._body_params(theta), observation_rows(observations, self.n_features))
        return with_ones(activations[-1]), activations

    def _features(self, theta, obs):
        """phi~(s) = [h(s), 1] for one observation, checked, and the body's activations of that one row."""
        if self.body is None:
            return augmented(obs, self.n_features), None
        features, activations = self._path_features(theta, one_row(obs, self.n_features))
        return features[0], activations

    def _acting_features(self, theta, observations):
        """h(s) for one observation (d,) or each row of (n, d), unchecked: what acting multiplies the head with."""
        if self.body is None:
            return observations
        rows = self.body.forward(self._body_params(theta), np.atleast_2d(observations))[-1]
        return rows.reshape(np.shape(observations)[:-1] + (self.n_last,))

    def _with_body(self, theta, activations, grad_outputs, head, head_scores):
        """[body part, head part] of a gradient, one row per step (or one vector for one step): the body's backward
        pass from dL/dh = (dL/dz) W_h in front of the head's part; the head's part alone for a linear policy."""
        if self.body is None:
            return head_scores
        scores = np.empty(head_scores.shape[:-1] + (self.n_body_params + head_scores.shape[-1],))
        scores[..., self.n_body_params :] = head_scores
        grad_last = np.atleast_2d(grad_outputs @ head[:, :-1])
        self.body.backward(self._body_params(theta), activations, grad_last,
                           out=np.atleast_2d(scores[..., : self.n_body_params]))
        return scores

    def _jacobians(self, theta, features, activations, head):
        """J_t = dz(s_t)/d[body, W] for every row, shape (T, k, n_body + k (n+1)): phi~(s_t) on the block of output j's
        weights, and the body's backward pass from dz_j/dh = W_h[j]."""
        n_steps, k = len(features), len(head)
        head_part = (np.eye(k)[None, :, :, None] * features[:, None, None, :]).reshape(n_steps, k, -1)
        if self.body is None:
            return head_part
        body_part = np.stack([self.body.backward(self._body_params(theta), activations,
                                                 np.tile(head[j, :-1], (n_steps, 1))) for j in range(k)], axis=1)
        return np.concatenate([body_part, head_part], axis=-1)

    def _tangent(self, theta, features, activations, head, vector):
        """J_t v for every row, (T, k): dz = V phi~(s_t) + W_h dh(s_t), v = [body direction, V.ravel()] and dh the
        body's tangent along the body direction."""
        head_direction = vector[self.n_body_params :].reshape(head.shape)
        tangent = features @ head_direction.T
        if self.body is None:
            return tangent
        body_tangent = self.body.tangent(self._body_params(theta), activations, self._body_params(vector))
        return tangent + body_tangent @ head[:, :-1].T

    def _pullback(self, theta, features, activations, head, cotangent):
        """sum_t J_t^T c_t for the rows c_t of cotangent (T, k): sum_t c_t phi~(s_t)^T on W, and the body's backward
        pass from c_t W_h, summed over the rows."""
        head_part = (cotangent.T @ features).ravel()
        if self.body is None:
            return head_part
        body_part = self.body.backward(self._body_params(theta), activations, cotangent @ head[:, :-1], per_row=False)
        return np.concatenate([body_part, head_part])

    def _initial(self, rng, n_outputs):
        """[body, W]: the body's scaled orthogonal init, then W_h = HEAD_GAIN Q and a zero bias column, from rng."""
        head = np.hstack([orthogonal(rng, n_outputs, self.n_last, HEAD_GAIN), np.zeros((n_outputs, 1))])
        return np.concatenate([self.body.initial_params(rng), head.ravel()])


class SoftmaxPolicy(_Features):
    """pi(u|s) = softmax(W phi~(s))_u over n_actions discrete actions; phi~(s) = [h(s), 1], h a tanh body if hidden."""

    def __init__(self, n_features, n_actions, hidden=(), input_scale=None):
        super().__init__(n_features, hidden, input_scale)
        self.n_actions = count(n_actions, "n_actions", 2)
        self.n_params = self.n_body_params + self.n_actions * (self.n_last + 1)

    def _head(self, theta):
        """W, (A, n+1), unchecked: the last A (n+1) entries of theta."""
        return theta[self.n_body_params :].reshape(self.n_actions, self.n_last + 1)

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

    def initial_theta(self, rng):
        """theta to start from: zeros for a linear policy (drawing nothing from rng); for a network the body's
        orthogonal init (gain sqrt 2, biases 0) and a head of gain HEAD_GAIN, so pi starts near uniform."""
        return np.zeros(self.n_params) if self.body is None else self._initial(rng, self.n_actions)

    def log_probs(self, theta, obs):
        """log pi(.|s) = log softmax(W phi~(s)), shape (n_actions,)."""
        theta = check_theta(theta, self.n_params)
        return log_softmax(times(self._head(theta), self._features(theta, obs)[0]))

    def probs(self, theta, obs):
        """pi(.|s), shape (n_actions,); sums to 1."""
        return np.exp(self.log_probs(theta, obs))

    def act(self, theta, obs, rng):
        """u ~ pi(.|s), by inverting the cumulative distribution at one uniform number.

        The draw needs pi only up to its normaliser (inverse_cdf scales u by the total), so exp(z - max z).
        """
        logits = linear(self._head(theta), self._acting_features(theta, obs))
        return int(inverse_cdf(np.exp(logits - logits.max()), rng.random()))

    def act_batch(self, theta, observations, rng):
        """u_t ~ pi(.|s_t) for every row, one uniform number per row: the vectorised twin of act (bit for bit when
        linear), worked one action at a time across the rows (z_a of every row is a row of `logits`)."""
        return self._draw_batch(theta, observations, rng)[0]

    def act_batch_log_probs(self, theta, observations, rng):
        """(u_t ~ pi(.|s_t), log pi(u_t|s_t) = z_u - max z - log sum_a exp(z_a - max z)) for every row: act_batch's
        actions and, for a linear policy of fewer than PAIRWISE_TERMS actions, path_log_probs' bits of them from the
        same logits, summed as log_softmax sums them; None for more actions (log_softmax then sums in pairs) or a
        network, whose log-probabilities path_log_probs gives, one forward pass for all the rows of a batch."""
        actions, shifted, unnormalised = self._draw_batch(theta, observations, rng)
        if self.body is not None or len(shifted) >= PAIRWISE_TERMS:
            return actions, None
        return actions, shifted[actions, np.arange(len(actions))] - np.log(np.add.reduce(unnormalised, axis=0))

    def _draw_batch(self, theta, observations, rng):
        """act_batch's actions, with z - max z and exp(z - max z) of each row in its column."""
        logits = output_columns(self._head(theta), feature_columns(self._acting_features(theta, observations)))
        shifted = logits - logits.max(axis=0)
        unnormalised = np.exp(shifted)
        return inverse_cdf(unnormalised, rng.random(logits.shape[1]), axis=0), shifted, unnormalised

    def deterministic_action(self, theta, obs):
        """argmax_u pi(u|s), the mode, for evaluation; unchecked, as act."""
        return int(np.argmax(linear(self._head(theta), self._acting_features(theta, obs))))

    def deterministic_action_batch(self, theta, observations):
        """argmax_u pi(u|s_t) for every row: the vectorised twin of deterministic_action."""
        return np.argmax(linear(self._head(theta), self._acting_features(theta, observations)), axis=1)

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = z_u - log sum_a exp(z_a), z = W phi~(s)."""
        return float(self.log_probs(theta, obs)[self._action(action)])

    def grad_log_prob(self, theta, obs, action):
        """grad_W log pi(u|s) = (onehot(u) - pi(.|s)) outer phi~(s): row a is (1[a = u] - pi(a|s)) phi~(s); for a
        network, in front of it the body's backward pass from dlog pi/dh = (onehot(u) - pi(.|s)) W_h."""
        onehot = np.eye(self.n_actions)[self._action(action)]
        theta = check_theta(theta, self.n_params)
        features, activations = self._features(theta, obs)
        grad_logits = onehot - np.exp(log_softmax(times(self._head(theta), features)))  # dlog pi(u|s)/dz
        return self._with_body(theta, activations, grad_logits, self._head(theta),
                               np.outer(grad_logits, features).ravel())

    def _path_log_pi(self, theta, observations):
        """log pi(.|s_t) for every row, shape (T, n_actions), Phi~ and the body's activations; theta checked."""
        features, activations = self._path_features(theta, observations)
        return log_softmax(times(self._head(theta), features)), features, activations

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob, one column per step."""
        theta = check_theta(theta, self.n_params)
        features, _ = self._path_features(theta, observations)
        log_pi = log_softmax(output_columns(self._head(theta), np.ascontiguousarray(features.T)), axis=0)
        return log_pi[self._actions(actions, len(features)), np.arange(len(features))]

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): the vectorised twin of grad_log_prob."""
        theta = check_theta(theta, self.n_params)
        log_pi, features, activations = self._path_log_pi(theta, observations)
        grad_logits = np.eye(self.n_actions)[self._actions(actions, len(log_pi))] - np.exp(log_pi)
        head_scores = (grad_logits[:, :, None] * features[:, None, :]).reshape(len(log_pi), -1)
        return self._with_body(theta, activations, grad_logits, self._head(theta), head_scores)

    def score_sum(self, theta, observations, actions, psi):
        """sum_t psi_t grad log pi(u_t|s_t), a path's part of the one sum (Eqs. 3-4): psi times path_scores, summed
        over t. A network takes one backward pass from c_t = psi_t (onehot(u_t) - pi(.|s_t)) instead, summed over the
        rows, and never forms the (T, n_params) scores (sum_t J_t^T c_t: the same vector, to rounding)."""
        psi = path_psi(psi, len(observations))
        if self.body is None:
            return np.sum(psi[:, None] * self.path_scores(theta, observations, actions), axis=0)
        theta = check_theta(theta, self.n_params)
        log_pi, features, activations = self._path_log_pi(theta, observations)
        grad_logits = np.eye(self.n_actions)[self._actions(actions, len(log_pi))] - np.exp(log_pi)
        return self._pullback(theta, features, activations, self._head(theta), psi[:, None] * grad_logits)

    def kl(self, theta_p, theta_q, obs):
        """KL(pi_p(.|s) || pi_q(.|s)) = sum_u pi_p(u|s) (log pi_p(u|s) - log pi_q(u|s))."""
        log_p, log_q = self.log_probs(theta_p, obs), self.log_probs(theta_q, obs)
        return float(np.sum(np.exp(log_p) * (log_p - log_q)))

    def path_kls(self, theta_p, theta_q, observations):
        """KL(pi_p(.|s_t) || pi_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        log_p, _, _ = self._path_log_pi(check_theta(theta_p, self.n_params), observations)
        log_q, _, _ = self._path_log_pi(check_theta(theta_q, self.n_params), observations)
        return np.sum(np.exp(log_p) * (log_p - log_q), axis=1)

    def path_entropies(self, theta, observations):
        """H(pi(.|s_t)) = -sum_u pi(u|s_t) log pi(u|s_t) for every row, shape (T,)."""
        log_pi, _, _ = self._path_log_pi(check_theta(theta, self.n_params), observations)
        return -np.sum(np.exp(log_pi) * log_pi, axis=1)

    def path_entropy_gradients(self, theta, observations):
        """grad_W H(pi(.|s_t)): row a is -pi(a|s_t) (log pi(a|s_t) + H(s_t)) phi~(s_t), shape (T, n_params); for a
        network, in front of it the body's backward pass from dH/dz W_h.

        With dpi_b/dz_a = pi_b (1[a = b] - pi_a):  dH/dz_a = -sum_b (log pi_b + 1) dpi_b/dz_a = -pi_a (log pi_a + H).
        """
        theta = check_theta(theta, self.n_params)
        log_pi, features, activations = self._path_log_pi(theta, observations)
        pi = np.exp(log_pi)
        entropy = -np.sum(pi * log_pi, axis=1, keepdims=True)
        grad_logits = -pi * (log_pi + entropy)
        head_gradients = (grad_logits[:, :, None] * features[:, None, :]).reshape(len(pi), -1)
        return self._with_body(theta, activations, grad_logits, self._head(theta), head_gradients)

    def path_logit_jacobians(self, theta, observations):
        """J_t = dz(s_t)/dtheta, the logits' Jacobian, for every row: shape (T, n_actions, n_params); for a linear
        policy I kron phi~(s_t), for a network the body's backward pass from each dz_a/dh = W_h[a] in front of it."""
        theta = check_theta(theta, self.n_params)
        features, activations = self._path_features(theta, observations)
        return self._jacobians(theta, features, activations, self._head(theta))

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi grad log pi^T] = sum_t J_t^T (diag p_t - p_t p_t^T) J_t, with J_t =
        dz(s_t)/dtheta the logits' Jacobian; for a linear policy J_t = I kron phi~_t, so
        sum_t (diag p_t - p_t p_t^T) kron phi~_t phi~_t^T.

        The expectation over u is exact: the score of u is J^T (e_u - p), and the covariance of the one-hot e_u
        under u ~ p is E[(e_u - p)(e_u - p)^T] = diag p - p p^T. A network's F is formed from its Jacobians, O(T n^2):
        for small networks and the tests; natural steps use path_fisher_product.
        """
        theta = check_theta(theta, self.n_params)
        log_pi, features, activations = self._path_log_pi(theta, observations)
        p = np.exp(log_pi)
        covariance = p[:, :, None] * np.eye(self.n_actions) - p[:, :, None] * p[:, None, :]
        if self.body is None:
            return np.einsum("tab,ti,tj->aibj", covariance, features, features).reshape(self.n_params, self.n_params)
        jacobians = self._jacobians(theta, features, activations, self._head(theta))
        return np.einsum("tap,tab,tbq->pq", jacobians, covariance, jacobians, optimize=True)

    def path_fisher_product(self, theta, observations, vector):
        """sum_t F(s_t) v = sum_t J_t^T (diag p_t - p_t p_t^T) J_t v, shape (n_params,), never forming J or F: J_t v by
        the forward-mode tangent, (diag p - p p^T) applied as p * Jv - p (p . Jv), then one backward pass summed over
        t. Cost O(T A n_params)."""
        theta, vector = check_theta(theta, self.n_params), check_theta(vector, self.n_params, "vector")
        log_pi, features, activations = self._path_log_pi(theta, observations)
        p, head = np.exp(log_pi), self._head(theta)
        tangent = self._tangent(theta, features, activations, head, vector)
        cotangent = p * tangent - p * np.sum(p * tangent, axis=1, keepdims=True)
        return self._pullback(theta, features, activations, head, cotangent)


class GaussianPolicy(_Features):
    """u ~ N(M phi~(s), diag sigma^2) with a state-independent, learned log sigma at the end of theta.

    log sigma is clipped to LOG_STD_RANGE before use, so sigma stays in [4.5e-5, 7.4]; where the clip is
    active the policy does not depend on that parameter and its score entry is 0. Acting, scoring and the
    log-density all read sigma through the one clip.
    """

    LOG_STD_RANGE = (-10.0, 2.0)
    LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)

    def __init__(self, n_features, action_dim, hidden=(), input_scale=None):
        super().__init__(n_features, hidden, input_scale)
        self.action_dim = count(action_dim, "action_dim", 1)
        self.n_mean_params = self.n_body_params + self.action_dim * (self.n_last + 1)  # all of theta but log sigma
        self.n_params = self.n_mean_params + self.action_dim

    def _split(self, theta):
        """theta -> (M, log sigma as stored); the body's parameters come before M."""
        return (theta[self.n_body_params : self.n_mean_params].reshape(self.action_dim, -1),
                theta[self.n_mean_params :])

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

    def initial_theta(self, rng):
        """theta to start from: zeros for a linear policy (drawing nothing from rng); for a network the body's
        orthogonal init (gain sqrt 2, biases 0), a mean head of gain HEAD_GAIN and log sigma = 0, so sigma = 1."""
        if self.body is None:
            return np.zeros(self.n_params)
        return np.concatenate([self._initial(rng, self.action_dim), np.zeros(self.action_dim)])

    def log_std(self, theta):
        """log sigma, clipped to LOG_STD_RANGE."""
        return self._clipped(self._checked(theta)[1])

    def mean(self, theta, obs):
        """mu(s) = M phi~(s), shape (action_dim,)."""
        theta = check_theta(theta, self.n_params)
        return times(self._split(theta)[0], self._features(theta, obs)[0])

    def act(self, theta, obs, rng):
        """u = mu(s) + sigma * eps with eps ~ N(0, I)."""
        weights, raw_log_std = self._split(theta)
        means = linear(weights, self._acting_features(theta, obs))
        return means + np.exp(self._clipped(raw_log_std)) * rng.standard_normal(self.action_dim)

    def act_batch(self, theta, observations, rng):
        """u_t = mu(s_t) + sigma * eps_t for every row: the vectorised twin of act, same normals in the same order."""
        weights, raw_log_std = self._split(theta)
        means = linear(weights, self._acting_features(theta, observations))
        return means + np.exp(self._clipped(raw_log_std)) * rng.standard_normal(means.shape)

    def act_batch_log_probs(self, theta, observations, rng):
        """(act_batch's actions, None): log pi(u_t|s_t) is path_log_probs' of the recorded actions, whose z_t the
        draw's eps_t need not equal to the bit."""
        return self.act_batch(theta, observations, rng), None

    def deterministic_action(self, theta, obs):
        """mu(s), the mode, for evaluation; unchecked, as act."""
        return linear(self._split(theta)[0], self._acting_features(theta, obs))

    def deterministic_action_batch(self, theta, observations):
        """mu(s_t) for every row: the vectorised twin of deterministic_action."""
        return linear(self._split(theta)[0], self._acting_features(theta, observations))

    def log_prob(self, theta, obs, action):
        """log pi(u|s) = sum_j [-z_j^2 / 2 - log sigma_j - log(2 pi) / 2],  z = (u - mu(s)) / sigma."""
        log_std = self.log_std(theta)
        z = (self._action(action) - self.mean(theta, obs)) / np.exp(log_std)
        return float(np.sum(-0.5 * z**2 - log_std - self.LOG_SQRT_2PI))

    def grad_log_prob(self, theta, obs, action):
        """grad_M log pi = (z / sigma) phi~(s)^T;  grad_{log sigma} log pi = z^2 - 1 (0 where log sigma is clipped); for
        a network, in front of them the body's backward pass from dlog pi/dh = (z / sigma) W_h."""
        theta = check_theta(theta, self.n_params)
        weights, raw_log_std = self._split(theta)
        sigma = np.exp(self._clipped(raw_log_std))
        action = self._action(action)
        features, activations = self._features(theta, obs)
        z = (action - times(weights, features)) / sigma
        mean_scores = self._with_body(theta, activations, z / sigma, weights, np.outer(z / sigma, features).ravel())
        return np.concatenate([mean_scores, (z**2 - 1.0) * self._inside_clip(raw_log_std)])

    def _path_means(self, theta, observations):
        """mu(s_t) = M phi~(s_t) for every row, shape (T, k), with Phi~ and the body's activations; theta checked."""
        features, activations = self._path_features(theta, observations)
        return times(self._split(theta)[0], features), features, activations

    def _path_z(self, theta, observations, actions):
        """z_t = (u_t - mu(s_t)) / sigma for every row, with log sigma, Phi~, the stored log sigma and the body's
        activations."""
        raw_log_std = self._split(theta)[1]
        means, features, activations = self._path_means(theta, observations)
        log_std = self._clipped(raw_log_std)
        z = (self._actions(actions, len(features)) - means) / np.exp(log_std)
        return z, log_std, features, raw_log_std, activations

    def path_log_probs(self, theta, observations, actions):
        """log pi(u_t|s_t) for t = 0..T-1, shape (T,): the vectorised twin of log_prob."""
        z, log_std, _, _, _ = self._path_z(check_theta(theta, self.n_params), observations, actions)
        return np.sum(-0.5 * z**2 - log_std - self.LOG_SQRT_2PI, axis=1)

    def path_scores(self, theta, observations, actions):
        """grad log pi(u_t|s_t) for t = 0..T-1, shape (T, n_params): the vectorised twin of grad_log_prob."""
        theta = check_theta(theta, self.n_params)
        z, log_std, features, raw_log_std, activations = self._path_z(theta, observations, actions)
        grad_mean = z / np.exp(log_std)  # dlog pi/dmu
        head_scores = (grad_mean[:, :, None] * features[:, None, :]).reshape(len(z), -1)
        mean_scores = self._with_body(theta, activations, grad_mean, self._split(theta)[0], head_scores)
        return np.hstack([mean_scores, (z**2 - 1.0) * self._inside_clip(raw_log_std)])

    def score_sum(self, theta, observations, actions, psi):
        """sum_t psi_t grad log pi(u_t|s_t), a path's part of the one sum (Eqs. 3-4): psi times path_scores, summed
        over t. A network takes one backward pass from c_t = psi_t (u_t - mu(s_t)) / sigma^2 instead, summed over the
        rows, and never forms the (T, n_params) scores; log sigma's part is sum_t psi_t (z_t^2 - 1)."""
        psi = path_psi(psi, len(observations))
        if self.body is None:
            return np.sum(psi[:, None] * self.path_scores(theta, observations, actions), axis=0)
        theta = check_theta(theta, self.n_params)
        z, log_std, features, raw_log_std, activations = self._path_z(theta, observations, actions)
        mean_part = self._pullback(theta, features, activations, self._split(theta)[0],
                                   psi[:, None] * z / np.exp(log_std))
        return np.concatenate([mean_part, np.sum(psi[:, None] * (z**2 - 1.0), axis=0)
                               * self._inside_clip(raw_log_std)])

    def kl(self, theta_p, theta_q, obs):
        """KL(N_p || N_q) = sum_j [log(sigma_q/sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]."""
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        gap = self.mean(theta_p, obs) - self.mean(theta_q, obs)
        moment = np.exp(2.0 * (log_std_p - log_std_q)) + gap**2 / np.exp(2.0 * log_std_q)
        return float(np.sum(log_std_q - log_std_p + 0.5 * moment - 0.5))

    def _path_mean_gaps(self, theta_p, theta_q, observations):
        """mu_p(s_t) - mu_q(s_t) for every row: (M_p - M_q) phi~(s_t) for a linear policy, whose phi~ does not depend
        on theta."""
        if self.body is None:
            (weights_p, _), (weights_q, _) = self._checked(theta_p), self._checked(theta_q)
            return times(weights_p - weights_q, augmented_rows(observations, self.n_features))
        theta_p, theta_q = check_theta(theta_p, self.n_params), check_theta(theta_q, self.n_params)
        return self._path_means(theta_p, observations)[0] - self._path_means(theta_q, observations)[0]

    def path_kls(self, theta_p, theta_q, observations):
        """KL(N_p(.|s_t) || N_q(.|s_t)) for every row, shape (T,): the vectorised twin of kl."""
        gap = self._path_mean_gaps(theta_p, theta_q, observations)
        log_std_p, log_std_q = self.log_std(theta_p), self.log_std(theta_q)
        moment = np.exp(2.0 * (log_std_p - log_std_q)) + gap**2 / np.exp(2.0 * log_std_q)
        return np.sum(log_std_q - log_std_p + 0.5 * moment - 0.5, axis=1)

    def path_entropies(self, theta, observations):
        """H(N(mu, sigma^2)) = sum_j [log sigma_j + (1 + log 2 pi) / 2], the same in every row, shape (T,)."""
        entropy = np.sum(self.log_std(theta) + 0.5 + self.LOG_SQRT_2PI)
        return np.full(len(observation_rows(observations, self.n_features)), entropy)

    def path_entropy_gradients(self, theta, observations):
        """grad H: 0 on the mean's parameters (the body's too), 1 on each log sigma_j (0 where it is clipped), in every
        row."""
        raw_log_std = self._checked(theta)[1]
        gradient = np.concatenate([np.zeros(self.n_mean_params), self._inside_clip(raw_log_std)])
        return np.tile(gradient, (len(observation_rows(observations, self.n_features)), 1))

    def path_fisher(self, theta, observations):
        """sum_t E_{u ~ pi(.|s_t)}[grad log pi grad log pi^T]: sum_t J_t^T diag(1 / sigma^2) J_t on the mean's
        parameters, J_t = dmu(s_t)/dtheta (for a linear policy phi~_t phi~_t^T / sigma_j^2 on the weights of action j),
        2 T on each log sigma_j (0 where it is clipped), 0 elsewhere.

        With z = (u - mu) / sigma ~ N(0, I): E[z_j z_l] = 1[j = l], E[z_j (z_l^2 - 1)] = 0, E[(z_j^2 - 1)^2] = 2.
        """
        theta = check_theta(theta, self.n_params)
        weights, raw_log_std = self._split(theta)
        features, activations = self._path_features(theta, observations)
        inside_clip, log_stds = self._inside_clip(raw_log_std), self._clipped(raw_log_std)
        fisher = np.zeros((self.n_params, self.n_params))
        if self.body is None:
            gram = np.sum(features[:, :, None] * features[:, None, :], axis=0)  # sum_t phi~_t phi~_t^T
            for j, log_std in enumerate(log_stds):
                weights_j = slice(j * (self.n_features + 1), (j + 1) * (self.n_features + 1))
                fisher[weights_j, weights_j] = gram / np.exp(2.0 * log_std)
        else:
            jacobians = self._jacobians(theta, features, activations, weights)
            fisher[: self.n_mean_params, : self.n_mean_params] = np.einsum(
                "tjp,j,tjq->pq", jacobians, np.exp(-2.0 * log_stds), jacobians, optimize=True)
        for j in range(self.action_dim):
            fisher[self.n_mean_params + j, self.n_mean_params + j] = 2.0 * len(features) * inside_clip[j]
        return fisher

    def path_fisher_product(self, theta, observations, vector):
        """sum_t F(s_t) v, shape (n_params,), never forming J or F: sum_t J_t^T (J_t v / sigma^2) on the mean's
        parameters (J_t v by the forward-mode tangent, then one backward pass summed over t), 2 T v_j on each
        unclipped log sigma_j. Cost O(T k n_params)."""
        theta, vector = check_theta(theta, self.n_params), check_theta(vector, self.n_params, "vector")
        weights, raw_log_std = self._split(theta)
        features, activations = self._path_features(theta, observations)
        tangent = self._tangent(theta, features, activations, weights, vector[: self.n_mean_params])
        cotangent = tangent / np.exp(2.0 * self._clipped(raw_log_std))
        log_std_part = 2.0 * len(features) * self._inside_clip(raw_log_std) * vector[self.n_mean_params :]
        return np.concatenate([self._pullback(theta, features, activations, weights, cotangent), log_std_part])
