"""One function per gradient estimator of the README's derivation, Eqs. (5)-(13).

Each body is the boxed equation: `for i, path in enumerate(paths)` is the sum over sample paths i,
`for t in range(len(path))` the sum over decisions t, and the final mean over axis 0 the 1/m.
With per_path=True an estimator returns its m per-path terms, shape (m, n_params), whose mean
is the estimate, so that bias and variance can be measured.

Nothing here imports an env or the exact oracle: every estimator sees only sampled paths and the
policy's score grad log pi, never P(s'|s,u) (Eq. 4).
"""
import numpy as np

from minipg.baselines import baseline_values, discounted_returns, leave_one_out_mean


def _finish(terms, per_path):
    """1/m sum_i terms_i, or the terms themselves."""
    return terms if per_path else terms.mean(axis=0)


def step_scores(policy, theta, path):
    """grad log pi(u_t|s_t) for t = 0..T-1, one row per step, shape (T, n_params)."""
    return policy.path_scores(theta, path.observations, path.actions)


def path_score(policy, theta, path):
    """grad log P(tau; theta) = sum_t grad log pi(u_t|s_t), Eq. (4): the dynamics drop out."""
    scores = step_scores(policy, theta, path)
    score = np.zeros(policy.n_params)
    for t in range(len(path)):
        score += scores[t]
    return score


def likelihood_ratio(policy, theta, paths, baseline=0.0, per_path=False):
    """Eqs. (5), (9): g = 1/m sum_i [sum_t grad log pi(u_t|s_t)] (R(tau_i) - b).

    baseline: a constant b, or "mean" for the mean return of the OTHER paths of the batch
    (leaving path i out keeps b independent of tau_i, so the estimate stays exactly unbiased).
    """
    total_returns = np.array([path.rewards.sum() for path in paths])
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"baseline must be a number or 'mean', got {baseline!r}")
        b = leave_one_out_mean(total_returns)
    else:
        b = np.full(len(paths), float(baseline))
    terms = np.zeros((len(paths), policy.n_params))
    for i, path in enumerate(paths):
        terms[i] = path_score(policy, theta, path) * (total_returns[i] - b[i])
    return _finish(terms, per_path)


def reward_to_go(policy, theta, paths, baseline=None, gamma=1.0, discount_weighting=False, per_path=False):
    """Eqs. (10), (11): g = 1/m sum_i sum_t [gamma^t] grad log pi(u_t|s_t) (sum_{k>=t} gamma^(k-t) r_k - b(s_t)).

    discount_weighting=False drops the gamma^t factor, as most code does: for gamma < 1 that is
    a biased estimate of grad U_gamma (it weights late decisions as much as early ones), which
    many prefer for its lower variance. discount_weighting=True keeps gamma^t and is unbiased
    for the discounted objective, Eq. (11). With gamma = 1 the two coincide.
    baseline: None, a number, a callable b(observation, t), or an object with .values(paths, returns)
    (see baselines.py).
    """
    returns = [discounted_returns(path.rewards, gamma) for path in paths]
    baselines = baseline_values(baseline, paths, returns)
    terms = np.zeros((len(paths), policy.n_params))
    for i, path in enumerate(paths):
        scores = step_scores(policy, theta, path)
        for t in range(len(path)):
            weight = gamma**t if discount_weighting else 1.0
            advantage = returns[i][t] - baselines[i][t]
            terms[i] += weight * scores[t] * advantage
    return _finish(terms, per_path)


def log_weights(policy, theta, theta_old, path):
    """log w_{0:t} = sum_{k<=t} [log pi_theta(u_k|s_k) - log pi_theta_old(u_k|s_k)] for every t, Eq. (6).

    P(s_{k+1}|s_k,u_k) appears in both P(tau; theta) and P(tau; theta_old) and cancels in the ratio,
    which is why only policy log-probabilities are summed here.
    """
    log_ratios = (policy.path_log_probs(theta, path.observations, path.actions)
                  - policy.path_log_probs(theta_old, path.observations, path.actions))
    return np.cumsum(log_ratios)


def importance_weights(policy, theta, theta_old, paths):
    """w(tau_i) = P(tau_i; theta) / P(tau_i; theta_old) and the effective sample size (sum w)^2 / sum w^2.

    Returns (weights of shape (m,), ess). ESS = m when theta = theta_old, and falls towards 1 as a
    few paths come to carry all the weight.
    """
    log_w = np.array([log_weights(policy, theta, theta_old, path)[-1] for path in paths])
    weights = np.exp(log_w - log_w.max())  # exponentiated last; the shift cancels in the ESS
    ess = weights.sum() ** 2 / np.sum(weights**2)
    return np.exp(log_w), float(ess)


def importance_sampled(policy, theta, theta_old, paths, per_decision=False, per_path=False):
    """Eqs. (7), (8): the gradient at theta of U(theta) estimated from paths sampled under theta_old.

    Whole-path (7):   g = 1/m sum_i w(tau_i) [sum_t grad log pi_theta(u_t|s_t)] R(tau_i)
    Per-decision (8): g = 1/m sum_i sum_t grad log pi_theta(u_t|s_t) sum_{k>=t} w_{0:k} r_k,
    where reward r_k is weighted only by the ratios of the decisions made before it.
    At theta = theta_old every weight is exp(0) = 1 and both reduce to Eq. (5) (or its reward-to-go form).
    """
    terms = np.zeros((len(paths), policy.n_params))
    for i, path in enumerate(paths):
        log_w = log_weights(policy, theta, theta_old, path)
        if per_decision:
            weighted_returns = discounted_returns(np.exp(log_w) * path.rewards, 1.0)  # sum_{k>=t} w_{0:k} r_k
            scores = step_scores(policy, theta, path)
            for t in range(len(path)):
                terms[i] += scores[t] * weighted_returns[t]
        else:
            terms[i] = np.exp(log_w[-1]) * path_score(policy, theta, path) * path.rewards.sum()
    return _finish(terms, per_path)


def actor_critic(policy, theta, paths, critic, gamma=0.99, lam=0.0, per_path=False):
    """Eq. (13): g = 1/m sum_i sum_t grad log pi(u_t|s_t) A_t, with A_t from a learned critic V.

    A_t is the GAE(lambda) advantage sum_{k>=t} (gamma lambda)^(k-t) delta_k of the TD errors
    delta_k = r_k + gamma V(s_{k+1}) - V(s_k); lam = 0 gives the one-step TD advantage delta_t,
    lam = 1 the return-to-go minus V(s_t). V(s_T) = 0 after termination and is bootstrapped
    after truncation (see critic_targets in baselines.py).
    """
    terms = np.zeros((len(paths), policy.n_params))
    for i, path in enumerate(paths):
        advantages = critic.advantages(path, gamma, lam)
        scores = step_scores(policy, theta, path)
        for t in range(len(path)):
            terms[i] += scores[t] * advantages[t]
    return _finish(terms, per_path)
