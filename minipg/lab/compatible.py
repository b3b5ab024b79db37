"""The natural gradient is a critic, Eq. (20): F^+ grad U and the least-squares weights of a critic on the
compatible features grad log pi(u|s), fitted to the exact Q_t, are the same vector (Sutton et al. 2000;
Kakade 2001) when F and the fit weigh the decisions alike, by gamma^t d_t(s) pi(u|s).

The fit's normal equations are F w = sum_t gamma^t sum_s d_t(s) sum_u pi(u|s) grad log pi(u|s) Q_t(s, u)
= grad U, Eq. (12). The softmax's F is singular (adding the same number to every logit of a state changes
no probability; with one-hot features and a bias, the bias trades against the state weights; a state
where no decision is taken has no curvature at all), so both sides are the minimum-norm solutions.
Everything here is exact, from the DP oracle, on a tabular env with a SoftmaxPolicy, linear or a network: the
compatible features are the policy's own scores.
"""
import numpy as np

from minipg import exact
from minipg.lab.enumeration import check_problem

NULL_EIGENVALUE = 1e-10         # eigenvalues of F below this fraction of the largest are the null space


def decision_weights(env, pi, horizon, gamma):
    """rho_t(s) = gamma^t d_t(s) on the states where a decision is taken (not terminal), shape (H, S)."""
    d = exact.state_distributions(env, pi, horizon)
    return gamma ** np.arange(horizon)[:, None] * d * ~env.terminal


def state_weighted_fisher(env, policy, theta, horizon, gamma=1.0):
    """F = sum_t gamma^t sum_s d_t(s) F(s),  F(s) = E_{u ~ pi(.|s)}[grad log pi(u|s) grad log pi(u|s)^T], exactly."""
    weight = decision_weights(env, exact.policy_table(env, policy, theta), horizon, gamma).sum(axis=0)
    return sum(weight[s] * policy.path_fisher(theta, obs[None]) for s, obs in enumerate(env.state_observations))


def minimum_norm_solve(symmetric, vector):
    """x = A^+ b: the solution of A x = b of least norm, with eigenvalues below NULL_EIGENVALUE x the largest as 0."""
    return np.linalg.pinv(symmetric, rcond=NULL_EIGENVALUE, hermitian=True) @ vector


def natural_gradient(env, policy, theta, horizon, gamma=1.0):
    """F^+ grad U(theta), F weighed by gamma^t d_t(s) as in state_weighted_fisher."""
    check_problem(env, policy, horizon, gamma)
    return minimum_norm_solve(state_weighted_fisher(env, policy, theta, horizon, gamma),
                              exact.gradient(env, policy, theta, horizon, gamma))


def compatible_critic_weights(env, policy, theta, horizon, gamma=1.0):
    """w = argmin sum_t gamma^t sum_s d_t(s) sum_u pi(u|s) (Q_t(s,u) - w . grad log pi(u|s))^2, of least norm:
    a weighted least-squares fit over every decision (t, s, u)."""
    check_problem(env, policy, horizon, gamma)
    pi = exact.policy_table(env, policy, theta)
    q, _ = exact.q_values(env, pi, horizon, gamma)
    rho = decision_weights(env, pi, horizon, gamma)
    rows, targets, weights = [], [], []
    for t in range(horizon):
        for s, obs in enumerate(env.state_observations):
            for u in range(env.n_actions):
                rows.append(policy.grad_log_prob(theta, obs, u))   # compatible feature of (s, u)
                targets.append(q[t, s, u])
                weights.append(rho[t, s] * pi[s, u])
    return weighted_least_squares(np.array(rows), np.array(targets), np.array(weights))


def weighted_least_squares(rows, targets, weights):
    """w = argmin sum_i weights_i (targets_i - w . rows_i)^2 of least norm, solved as the ordinary fit of the rows
    scaled by sqrt(weight). The singular values of that design are the square roots of the eigenvalues of its
    normal matrix A^T W A, so the cut at sqrt(NULL_EIGENVALUE) drops the null space minimum_norm_solve drops."""
    scale = np.sqrt(weights)
    w, *_ = np.linalg.lstsq(scale[:, None] * rows, scale * targets, rcond=np.sqrt(NULL_EIGENVALUE))
    return w
