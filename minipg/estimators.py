"""The policy gradient of the README's derivation: one sum, Eqs. (3)-(4), and each estimator's weight psi.

    g = 1/m sum_i sum_t grad log pi_theta(u_t|s_t) psi_t

`policy_gradient` forms that sum and is the only code that does. Every estimator is a psi, a few lines
that read like its equation, plus one call of it. With per_path=True an estimator returns its m
per-path terms, shape (m, n_params), whose mean is the estimate, so bias and variance can be measured.

Nothing here imports an env or the exact oracle: an estimator sees only sampled paths and the
policy's score grad log pi, never P(s'|s,u) (Eq. 4).
"""
import numpy as np

from minipg.baselines import baseline_values, leave_one_out_mean
from minipg.returns import discounted_cumsum


def policy_gradient(policy, theta, paths, weights, per_path=False):
    """Eqs. (3)-(4): g = 1/m sum_i sum_t grad log pi(u_t|s_t) psi_t, with weights[i] = psi for path i."""
    if len(paths) == 0 or len(weights) != len(paths):
        raise ValueError(f"paths must be non-empty with one weight array each; got {len(paths)} paths, "
                         f"{len(weights)} weight arrays")
    terms = np.zeros((len(paths), policy.n_params))
    for i, (path, psi) in enumerate(zip(paths, weights)):  # sum over paths i
        scores = policy.path_scores(theta, path.observations, path.actions)  # grad log pi(u_t|s_t), t = 0..T-1
        for t in range(len(path)):  # sum over decisions t
            terms[i] += scores[t] * psi[t]
    return terms if per_path else terms.mean(axis=0)  # 1/m


def path_score(policy, theta, path):
    """Eq. (4): grad log P(tau; theta) = sum_t grad log pi(u_t|s_t), the one sum with psi_t = 1."""
    return policy_gradient(policy, theta, [path], [np.ones(len(path))])


def path_return(path, gamma=1.0):
    """Eq. (1): R(tau) = sum_t gamma^t r_t."""
    return discounted_cumsum(path.rewards, gamma)[0]


def total_return_weights(paths, gamma=1.0, baseline=0.0):
    """Eqs. (5), (9): psi_t = R(tau) - b, the same for every step of a path.

    baseline: a constant b, or "mean" for the mean return of the OTHER paths of the batch
    (leaving path i out keeps b independent of tau_i, so with a fixed number of paths m the estimate stays
    exactly unbiased; when a batch is filled to a number of steps, how many others path i meets depends on
    its own length, and that independence is lost).
    """
    returns = np.array([path_return(path, gamma) for path in paths])
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"baseline must be a number or 'mean', got {baseline!r}")
        b = leave_one_out_mean(returns)
    else:
        b = np.full(len(paths), float(baseline))
    return [np.full(len(path), returns[i] - b[i]) for i, path in enumerate(paths)]


def reward_to_go_weights(paths, gamma=1.0, baseline=None, discount_weighting=False):
    """Eq. (10): psi_t = sum_{k>=t} gamma^(k-t) r_k - b(s_t);  Eq. (11): psi_t = gamma^t (that same sum).

    baseline: None, a number, a callable b(observation, t), or an object with .values(paths, returns).
    """
    returns = [discounted_cumsum(path.rewards, gamma) for path in paths]
    advantages = [g - b for g, b in zip(returns, baseline_values(baseline, paths, returns))]
    if not discount_weighting:
        return advantages
    return [gamma ** np.arange(len(a)) * a for a in advantages]


def log_ratios(policy, theta, theta_old, path):
    """log pi_theta(u_t|s_t) - log pi_theta_old(u_t|s_t) for every step t, shape (T,)."""
    return (policy.path_log_probs(theta, path.observations, path.actions)
            - policy.path_log_probs(theta_old, path.observations, path.actions))


def log_weights(policy, theta, theta_old, path):
    """Eq. (6): log w_{0:t} = sum_{k<=t} [log pi_theta(u_k|s_k) - log pi_theta_old(u_k|s_k)] for every t.

    P(s_{k+1}|s_k,u_k) appears in both P(tau; theta) and P(tau; theta_old) and cancels in the ratio.
    """
    return np.cumsum(log_ratios(policy, theta, theta_old, path))


def importance_weights(policy, theta, theta_old, paths):
    """w(tau_i) = P(tau_i; theta) / P(tau_i; theta_old) and the effective sample size (sum w)^2 / sum w^2.

    Returns (weights of shape (m,), ess). ESS = m when theta = theta_old, and falls towards 1 as a
    few paths come to carry all the weight.
    """
    log_w = np.array([log_weights(policy, theta, theta_old, path)[-1] for path in paths])
    weights = np.exp(log_w - log_w.max())  # exponentiated last; the shift cancels in the ESS
    ess = weights.sum() ** 2 / np.sum(weights**2)
    return np.exp(log_w), float(ess)


def whole_path_importance_weights(policy, theta, theta_old, paths, gamma=1.0):
    """Eq. (7): psi_t = w(tau) R(tau) for every step of a path sampled under theta_old."""
    return [np.full(len(path), np.exp(log_weights(policy, theta, theta_old, path)[-1]) * path_return(path, gamma))
            for path in paths]


def per_decision_weights(policy, theta, theta_old, paths, gamma=1.0):
    """Eq. (8): psi_t = sum_{k>=t} w_{0:k} gamma^k r_k: reward r_k weighs only the decisions made before it.

    Each r_k carries gamma^k from 0, not gamma^(k-t): at theta = theta_old this is Eq. (11), gamma^t G_t,
    unbiased for U_gamma, where the other estimators' Eq. (10) drops gamma^t.
    """
    return [discounted_cumsum(np.exp(log_weights(policy, theta, theta_old, path)) * gamma ** np.arange(len(path))
                              * path.rewards, 1.0)
            for path in paths]


def advantage_weights(paths, critic, gamma, lam):
    """Eq. (13): psi_t = A_t = sum_{k>=t} (gamma lambda)^(k-t) delta_k, the GAE of a critic's TD errors."""
    return [critic.advantages(path, gamma, lam) for path in paths]


def likelihood_ratio(policy, theta, paths, baseline=0.0, gamma=1.0, per_path=False):
    """Eqs. (5), (9): g = 1/m sum_i [sum_t grad log pi(u_t|s_t)] (R(tau_i) - b)."""
    return policy_gradient(policy, theta, paths, total_return_weights(paths, gamma, baseline), per_path)


def reward_to_go(policy, theta, paths, baseline=None, gamma=1.0, discount_weighting=False, per_path=False):
    """Eqs. (10), (11): g = 1/m sum_i sum_t [gamma^t] grad log pi(u_t|s_t) (sum_{k>=t} gamma^(k-t) r_k - b(s_t)).

    discount_weighting=False drops the gamma^t factor, as most code does: for gamma < 1 that is
    a biased estimate of grad U_gamma (it weights late decisions as much as early ones), which
    many prefer for its lower variance. discount_weighting=True keeps gamma^t and is unbiased
    for the discounted objective, Eq. (11). With gamma = 1 the two coincide.
    """
    weights = reward_to_go_weights(paths, gamma, baseline, discount_weighting)
    return policy_gradient(policy, theta, paths, weights, per_path)


def importance_sampled(policy, theta, theta_old, paths, per_decision=False, gamma=1.0, per_path=False):
    """Eqs. (7), (8): the gradient at theta of U(theta), from paths sampled under theta_old.

    At theta = theta_old every weight is exp(0) = 1 and both reduce to Eq. (5) (or its reward-to-go form).
    """
    weigh = per_decision_weights if per_decision else whole_path_importance_weights
    return policy_gradient(policy, theta, paths, weigh(policy, theta, theta_old, paths, gamma), per_path)


def actor_critic(policy, theta, paths, critic, gamma=0.99, lam=0.0, per_path=False):
    """Eq. (13): g = 1/m sum_i sum_t grad log pi(u_t|s_t) A_t, with A_t from a learned critic V.

    lam = 0 gives the one-step TD advantage delta_t, lam = 1 the return-to-go minus V(s_t). V(s_T) = 0
    after termination and is bootstrapped after truncation (critics.Critic.state_values). Like Eq. (10) it
    drops gamma^t: for gamma < 1 it is biased for grad U_gamma even with the exact V.
    """
    return policy_gradient(policy, theta, paths, advantage_weights(paths, critic, gamma, lam), per_path)
