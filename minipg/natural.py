"""Natural policy gradient and a trust region on the importance-sampled surrogate, Eqs. (16)-(19).

The Fisher matrix of the policy, averaged over the N states of a batch sampled at theta_old,

    F = 1/N sum_i sum_t E_{u ~ pi(.|s_t)}[grad log pi(u|s_t) grad log pi(u|s_t)^T]       (16)

is the Hessian of the mean KL(pi_old || pi_theta) at theta_old: KL = 1/2 d^T F d + O(|d|^3). The
expectation over u is taken exactly by the policy (`path_fisher`), not estimated from the one
action sampled at s_t. The natural step
solves F x = g and scales x so that this quadratic KL equals the radius delta:

    d = sqrt(2 delta / x^T F x) x                                                         (17)

The surrogate L puts one ratio on each decision of the same batch, with the weights psi_t the gradient used:

    L(theta) = 1/N sum_i sum_t [pi_theta(u_t|s_t) / pi_old(u_t|s_t)] psi_t               (18)

(at theta_old its gradient is the policy gradient times m/N: the one sum with 1/N for 1/m). It keeps the
states of theta_old, so it is right to first order in theta - theta_old only (Kakade & Langford 2002,
TRPO): exact per-decision importance sampling would weigh each reward by all the ratios before it. The
trust-region step backtracks along d until L improves and the sample mean KL(pi_old || pi_theta) <= delta.
The capped step

    d = min(lr, sqrt(2 delta / x^T F x)) x                                                (19)

is Eq. (17) used as a bound rather than a length: it shrinks with the gradient.
"""
import numpy as np

from minipg.baselines import solve_positive_definite
from minipg.estimators import log_ratios
from minipg.policies import mean_kl


def fisher_matrix(policy, theta, paths):
    """F of Eq. (16): 1/N sum_i sum_t F(s_t), with F(s) = E_{u ~ pi(.|s)}[score score^T] exact per state.

    The outer products of the sampled scores, 1/N sum_t s_t s_t^T, estimate the same matrix without
    bias, but on a nearly deterministic policy one rare action, whose score is large, dominates
    that estimate and with it the length of the step.
    """
    fisher = np.zeros((policy.n_params, policy.n_params))
    n_steps = 0
    for path in paths:
        fisher += policy.path_fisher(theta, path.observations)  # sum_t F(s_t)
        n_steps += len(path)
    return fisher / n_steps


def natural_step(fisher, gradient, kl_radius, damping=1e-3, lr=None):
    """Eq. (17): x solves (F + damping I) x = g; the step is sqrt(2 delta / x^T F x) x.

    With lr, the step is lr x instead, shortened to that KL-sized step when it is longer (Eq. 19):
    it then shrinks with the gradient, and stops where the gradient vanishes.
    The linear policies here have tens of parameters, so F is formed and solved directly; a network
    with millions of parameters would solve F x = g by conjugate gradients on products F v.
    The damping keeps the solve well posed where F is singular (a feature constant over the batch makes
    its weight and the bias columns dependent): along an eigenvector of F with eigenvalue lambda the
    direction is (v . g) / (lambda + damping), the natural step where lambda >> damping and a plain
    gradient step (v . g) / damping where lambda << damping.
    """
    if not 0 < kl_radius < np.inf:
        raise ValueError(f"kl radius must be a finite number > 0, got {kl_radius}")
    if lr is not None and not 0 < lr < np.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if not (np.isfinite(fisher).all() and np.isfinite(gradient).all()):
        raise ValueError("fisher or gradient contains NaN or inf")
    direction = solve_positive_definite(fisher + damping * np.eye(len(fisher)), gradient)
    curvature = np.sum(direction * np.sum(fisher * direction, axis=1))  # x^T F x
    if not curvature > 0:
        return np.zeros_like(gradient)
    radius_scale = np.sqrt(2.0 * kl_radius / curvature)
    return (radius_scale if lr is None else min(lr, radius_scale)) * direction


def surrogate(policy, theta, paths, psi):
    """L(theta) of Eq. (18): 1/N sum_i sum_t [pi_theta(u_t|s_t) / pi_old(u_t|s_t)] psi_t, pi_old as recorded."""
    total = sum(np.sum(np.exp(log_ratios(policy, theta, path)) * psi_i) for path, psi_i in zip(paths, psi))
    return total / sum(len(path) for path in paths)


def trust_region_step(policy, theta_old, step, paths, psi, kl_radius, shrink=0.5, max_backtracks=10):
    """theta_old + shrink^k step for the first k = 0, 1, ... where L improves and KL <= delta, else theta_old."""
    old_value = surrogate(policy, theta_old, paths, psi)
    for k in range(max_backtracks):
        theta = theta_old + shrink**k * step
        if (surrogate(policy, theta, paths, psi) > old_value
                and mean_kl(policy, theta, theta_old, paths) <= kl_radius):
            return theta
    return theta_old
