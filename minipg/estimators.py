"""The policy gradient of the README's derivation: one sum, Eqs. (3)-(4), and each estimator's weight psi.

    g = 1/m sum_i sum_t grad log pi_theta(u_t|s_t) psi_t

`policy_gradient` forms that sum and is the only code that does; a path's sum over t is the policy's
`score_sum` (psi times its scores, `path_scores`, summed over the path's steps; a network gets the same vector by one
backward pass, without forming the scores row by row). Every estimator is a psi, a few lines that read like its
equation (`..._psi`), plus one call of it. With per_path=True an estimator returns
its m per-path terms, shape (m, n_params), whose mean is the estimate, so bias and variance can be measured.

Nothing here imports an env or the exact oracle: an estimator sees only sampled paths and the policy's
score grad log pi, never P(s'|s,u) (Eq. 4). Every importance ratio divides by pi_theta_old(u_t|s_t), from the
log-probability each path recorded when it was drawn (Path.log_probs).
"""
import numpy as np

from minipg.baselines import baseline_values
from minipg.returns import discounted_cumsum


def policy_gradient(policy, theta, paths, psi, per_path=False):
    """Eqs. (3)-(4): g = 1/m sum_i sum_t grad log pi(u_t|s_t) psi_t, with psi[i] the weights of path i's steps."""
    if len(paths) == 0 or len(psi) != len(paths):
        raise ValueError(f"paths must be non-empty with one psi array each; got {len(paths)} paths, "
                         f"{len(psi)} psi arrays")
    terms = np.zeros((len(paths), policy.n_params))
    for i, (path, psi_i) in enumerate(zip(paths, psi)):  # sum over paths i
        terms[i] = policy.score_sum(theta, path.observations, path.actions, psi_i)  # sum_t psi_t grad log pi(u_t|s_t)
    return terms if per_path else terms.mean(axis=0)  # 1/m


def path_score(policy, theta, path):
    """Eq. (4): grad log P(tau; theta) = sum_t grad log pi(u_t|s_t), the one sum with psi_t = 1."""
    return policy_gradient(policy, theta, [path], [np.ones(len(path))])


def path_return(path, gamma=1.0):
    """Eq. (1): R(tau) = sum_t gamma^t r_t."""
    return discounted_cumsum(path.rewards, gamma)[0]


def total_return_psi(paths, gamma=1.0, baseline=0.0):
    """Eqs. (5), (9): psi_t = R(tau) - b, the same for every step of a path.

    baseline: a number b, or baselines.LeaveOneOutMean() for the mean return of the OTHER paths of the batch
    (leaving path i out keeps b independent of tau_i, so with a fixed number of paths m the estimate stays
    exactly unbiased; when a batch is filled to a number of steps, how many others path i meets depends on
    its own length, and that independence is lost).
    """
    returns = [np.full(len(path), path_return(path, gamma)) for path in paths]
    return [r - b for r, b in zip(returns, baseline_values(baseline, paths, returns))]


def reward_to_go_psi(paths, gamma=1.0, baseline=0.0, discount_weighting=False):
    """Eq. (10): psi_t = sum_{k>=t} gamma^(k-t) r_k - b(s_t);  Eq. (11): psi_t = gamma^t (that same difference).

    baseline: a number, or an object with values(paths, returns) (baselines.py).
    """
    returns = [discounted_cumsum(path.rewards, gamma) for path in paths]
    advantages = [g - b for g, b in zip(returns, baseline_values(baseline, paths, returns))]
    if not discount_weighting:
        return advantages
    return [gamma ** np.arange(len(a)) * a for a in advantages]


def log_ratios(policy, theta, path):
    """log pi_theta(u_t|s_t) - log pi_theta_old(u_t|s_t) for every step t, shape (T,), pi_theta_old as recorded."""
    return policy.path_log_probs(theta, path.observations, path.actions) - path.log_probs


def log_weights(policy, theta, path):
    """log w_{0:t} = sum_{k<=t} [log pi_theta(u_k|s_k) - log pi_theta_old(u_k|s_k)] for every t: w_{0:t} is the
    product of the first t + 1 ratios of Eq. (6), and w_{0:T-1} the whole path's w(tau).

    P(s_{k+1}|s_k,u_k) appears in both P(tau; theta) and P(tau; theta_old) and cancels in the ratio.
    """
    return np.cumsum(log_ratios(policy, theta, path))


def importance_weights(policy, theta, paths):
    """w(tau_i) = P(tau_i; theta) / P(tau_i; theta_old) and the effective sample size (sum w)^2 / sum w^2.

    Returns (weights of shape (m,), ess). ESS = m when theta = theta_old, and falls towards 1 as a
    few paths come to carry all the weight.
    """
    log_w = np.array([log_weights(policy, theta, path)[-1] for path in paths])
    shifted = np.exp(log_w - log_w.max())  # the shift cancels in the ESS and keeps it finite
    return np.exp(log_w), float(shifted.sum() ** 2 / np.sum(shifted**2))


def whole_path_importance_psi(policy, theta, paths, gamma=1.0):
    """Eq. (7): psi_t = w(tau) R(tau) for every step of a path sampled under theta_old."""
    return [np.full(len(path), np.exp(log_weights(policy, theta, path)[-1]) * path_return(path, gamma))
            for path in paths]


def per_decision_psi(policy, theta, paths, gamma=1.0):
    """Eq. (8): psi_t = sum_{k>=t} w_{0:k} gamma^k r_k: reward r_k weighs only the decisions up to its own.

    Each r_k carries gamma^k from 0, not gamma^(k-t): at theta = theta_old this is Eq. (11), gamma^t G_t,
    unbiased for U_gamma, where the other estimators' Eq. (10) drops gamma^t.
    """
    return [discounted_cumsum(np.exp(log_weights(policy, theta, path)) * gamma ** np.arange(len(path))
                              * path.rewards, 1.0)
            for path in paths]


def advantage_psi(paths, critic, gamma, lam):
    """Eq. (13): psi_t = A_t = sum_{k>=t} (gamma lambda)^(k-t) delta_k, the GAE of a critic's TD errors."""
    return [critic.advantages(path, gamma, lam) for path in paths]


def normalised(advantages):
    """(A - mean A) / std A over a minibatch, as PPO users expect (A - mean A where every A is the same)."""
    centred = advantages - advantages.mean()
    spread = advantages.std()
    return centred / spread if spread > 0 else centred


def ppo_psi(policy, theta, steps, advantages, clip):
    """Eq. (21): psi_t = r_t A_t / N where that is the smaller term of L, and 0 where the clip holds L constant.

    L = 1/N sum_t min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t) with r_t = pi_theta(u_t|s_t) / pi_old(u_t|s_t),
    and grad r_t = r_t grad log pi(u_t|s_t): so grad L is the one sum of Eqs. (3)-(4) over the N steps,
    taken as a single batch (m = 1).
    """
    ratios = np.exp(log_ratios(policy, theta, steps))
    unclipped = ratios * advantages <= np.clip(ratios, 1.0 - clip, 1.0 + clip) * advantages
    return np.where(unclipped, ratios * advantages, 0.0) / len(steps)


def likelihood_ratio(policy, theta, paths, baseline=0.0, gamma=1.0, per_path=False):
    """Eqs. (5), (9): g = 1/m sum_i [sum_t grad log pi(u_t|s_t)] (R(tau_i) - b)."""
    return policy_gradient(policy, theta, paths, total_return_psi(paths, gamma, baseline), per_path)


def reward_to_go(policy, theta, paths, baseline=None, gamma=1.0, discount_weighting=False, per_path=False):
    """Eqs. (10), (11): g = 1/m sum_i sum_t [gamma^t] grad log pi(u_t|s_t) (sum_{k>=t} gamma^(k-t) r_k - b(s_t)).

    discount_weighting=False drops the gamma^t factor, as most code does: for gamma < 1 that is
    a biased estimate of grad U_gamma (it weights late decisions as much as early ones), which
    many prefer for its lower variance. discount_weighting=True keeps gamma^t and is unbiased
    for the discounted objective, Eq. (11). With gamma = 1 the two coincide.
    """
    psi = reward_to_go_psi(paths, gamma, 0.0 if baseline is None else baseline, discount_weighting)
    return policy_gradient(policy, theta, paths, psi, per_path)


def importance_sampled(policy, theta, theta_old, paths, per_decision=False, gamma=1.0, per_path=False):
    """Eqs. (7), (8): the gradient at theta of U(theta), from paths sampled under theta_old.

    The paths recorded log pi_theta_old as they were drawn, and every ratio divides by that record, so
    theta_old only names the theta they were drawn at. At theta = theta_old every weight is exp(0) = 1:
    the whole-path form is Eq. (5), the per-decision form Eq. (11) with b = 0.
    """
    psi = (per_decision_psi if per_decision else whole_path_importance_psi)(policy, theta, paths, gamma)
    return policy_gradient(policy, theta, paths, psi, per_path)


def actor_critic(policy, theta, paths, critic, gamma=0.99, lam=0.0, per_path=False):
    """Eq. (13): g = 1/m sum_i sum_t grad log pi(u_t|s_t) A_t, with A_t from a learned critic V.

    lam = 0 gives the one-step TD advantage delta_t, lam = 1 the return-to-go minus V(s_t). V(s_T) = 0
    after termination, and after truncation unless the critic bootstraps it (critics.Critic.state_values). Like
    Eq. (10) it drops gamma^t: for gamma < 1 it is biased for grad U_gamma even with the exact V.
    """
    return policy_gradient(policy, theta, paths, advantage_psi(paths, critic, gamma, lam), per_path)

