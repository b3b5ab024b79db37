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

A linear policy has tens of parameters: F is formed and (F + damping I) x = g solved directly. A network's F
would have n_params^2 entries, so it is never formed: conjugate gradients solve the same system from products
F v (`fisher_product`), each exact over the actions at every visited state, as F itself is.
"""
import numpy as np

from minipg.baselines import solve_positive_definite
from minipg.estimators import log_ratios
from minipg.policies import count, mean_kl

CG_ITERATIONS = 10              # conjugate-gradient steps of a natural step on a network, unless given (as in TRPO)


def fisher_matrix(policy, theta, paths):
    """F of Eq. (16): 1/N sum_i sum_t F(s_t), with F(s) = E_{u ~ pi(.|s)}[score score^T] exact per state.

    The outer products of the sampled scores g_t = grad log pi(u_t|s_t), 1/N sum_t g_t g_t^T, estimate the same
    matrix without bias, but on a nearly deterministic policy one rare action, whose score is large, dominates
    that estimate and with it the length of the step.
    """
    fisher = np.zeros((policy.n_params, policy.n_params))
    n_steps = 0
    for path in paths:
        fisher += policy.path_fisher(theta, path.observations)  # sum_t F(s_t)
        n_steps += len(path)
    return fisher / n_steps


def fisher_product(policy, theta, paths):
    """v -> F v for the F of Eq. (16), never formed: 1/N sum_t F(s_t) v over the batch's N states, each F(s_t) v
    exact over the actions (`policy.path_fisher_product`), O(N n_actions n_params) a product."""
    observations = np.concatenate([path.observations for path in paths])
    return lambda vector: policy.path_fisher_product(theta, observations, vector) / len(observations)


def batch_fisher(policy, theta, paths):
    """F of Eq. (16) as natural_step takes it: the matrix for a linear policy, solved directly; for a network the
    products v -> F v, solved by conjugate gradients."""
    return fisher_matrix(policy, theta, paths) if not policy.hidden else fisher_product(policy, theta, paths)


def conjugate_gradient(product, gradient, iterations, damping):
    """x ~ (F + damping I)^-1 g by `iterations` steps of conjugate gradients on the products v -> F v, Eq. (23):

        x_0 = 0,  r_0 = p_0 = g,   q_k = (F + damping I) p_k,   alpha_k = (r_k . r_k) / (p_k . q_k),
        x_{k+1} = x_k + alpha_k p_k,   r_{k+1} = r_k - alpha_k q_k,
        p_{k+1} = r_{k+1} + (r_{k+1} . r_{k+1} / r_k . r_k) p_k

    r_k = g - (F + damping I) x_k is the residual (Hestenes & Stiefel 1952). x_k minimises 1/2 x^T (F + damping I) x
    - g^T x over the span of g, F g, ..., F^(k-1) g: after n_params steps it is the solve itself (to rounding),
    and after k its error in the norm of A = F + damping I is at most 2 ((sqrt c - 1) / (sqrt c + 1))^k that of
    x_0 = 0, c = lambda_max(A) / lambda_min(A). It stops early once no residual (or, at damping 0, no curvature) is
    left. Each step costs one product.
    """
    direction, residual = np.zeros_like(gradient), gradient.copy()
    conjugate, residual_norm = residual.copy(), residual @ residual
    for _ in range(count(iterations, "iterations")):
        if residual_norm == 0.0:
            break
        curved = product(conjugate) + damping * conjugate
        curvature = conjugate @ curved
        if not curvature > 0.0:
            break
        alpha = residual_norm / curvature
        direction = direction + alpha * conjugate
        residual = residual - alpha * curved
        residual_norm, previous = residual @ residual, residual_norm
        conjugate = residual + (residual_norm / previous) * conjugate
    return direction


def natural_step(fisher, gradient, kl_radius, damping=1e-3, lr=None, iterations=CG_ITERATIONS):
    """Eq. (17): x solves (F + damping I) x = g; the step is sqrt(2 delta / x^T F x) x.

    fisher is F as a matrix (`fisher_matrix`), solved directly, or the products v -> F v (`fisher_product`), solved
    by `iterations` steps of conjugate gradients (`conjugate_gradient`; a matrix ignores iterations); x^T F x
    then takes one more product. `batch_fisher` gives the matrix for a linear policy, the products for a network.
    With lr, the step is lr x instead, shortened to that KL-sized step when it is longer (Eq. 19):
    it then shrinks with the gradient, and stops where the gradient vanishes. A step that would not be finite (a
    radius so large that sqrt(2 delta / x^T F x) overflows) raises FloatingPointError, as an overflow does where
    NumPy raises.
    The damping keeps the solve well posed where F is singular (a feature constant over the batch makes
    its weight and the bias columns dependent): along an eigenvector of F with eigenvalue lambda the
    direction is (v . g) / (lambda + damping), the natural step where lambda >> damping and a plain
    gradient step (v . g) / damping where lambda << damping.
    """
    if not 0 < kl_radius < np.inf:
        raise ValueError(f"kl radius must be a finite number > 0, got {kl_radius}")
    if lr is not None and not 0 < lr < np.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if not 0 <= damping < np.inf:
        raise ValueError(f"damping must be a finite number >= 0, got {damping}")
    if not (callable(fisher) or np.isfinite(fisher).all()) or not np.isfinite(gradient).all():
        raise ValueError("fisher or gradient contains NaN or inf")
    if callable(fisher):
        direction = conjugate_gradient(fisher, gradient, iterations, damping)
        curvature = direction @ fisher(direction)
    else:
        direction = solve_positive_definite(fisher + damping * np.eye(len(fisher)), gradient)
        curvature = np.sum(direction * np.sum(fisher * direction, axis=1))  # x^T F x
    if not curvature > 0:
        return np.zeros_like(gradient)
    radius_scale = np.sqrt(2.0 * kl_radius / curvature)
    step = (radius_scale if lr is None else min(lr, radius_scale)) * direction
    if not np.isfinite(step).all():  # 2 delta / x^T F x overflowed, in arithmetic that does not raise
        raise FloatingPointError(f"the natural step is not finite: sqrt(2 delta / x^T F x) = {radius_scale:g}")
    return step


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
