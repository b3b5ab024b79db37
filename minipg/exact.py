"""The oracle: U(theta) and grad U(theta) computed exactly on tabular envs, by dynamic programming.

No sampling and no finite differences: with the model P(s'|s,u), R(s,u) and start distribution
mu(s_0) of a tabular env, the finite-horizon objective of Eq. (1), with discount gamma,

    U(theta) = E[ sum_{t=0}^{H-1} gamma^t r_t ]

is a backward recursion for Q and a forward recursion for the state distribution, and its
gradient is the policy-gradient theorem for a finite horizon, Eq. (12):

    grad U(theta) = sum_{t=0}^{H-1} gamma^t sum_s d_t(s) sum_u pi(u|s) grad log pi(u|s) Q_t(s, u).

An episode that has terminated collects nothing more: V_t and Q_t are 0 in terminal states,
just as a sampled path stops there. Cost O(H S^2 A).
"""
import numpy as np

from minipg.policies import count


def _check_tabular(env, horizon, gamma):
    if not hasattr(env, "P"):
        raise ValueError("env has no model (P, R, start, terminal): the exact oracle needs a tabular env")
    count(horizon, "horizon")
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")


def policy_table(env, policy, theta):
    """pi(u|s) for every state, shape (S, A)."""
    return np.array([policy.probs(theta, obs) for obs in env.state_observations])


def q_values(env, pi, horizon, gamma):
    """Q_t(s,u) = R(s,u) + gamma sum_s' P(s'|s,u) V_{t+1}(s'),  V_t(s) = sum_u pi(u|s) Q_t(s,u),  V_H = 0.

    Returns Q of shape (H, S, A) and V of shape (H + 1, S).
    """
    alive = ~env.terminal
    q = np.zeros((horizon, env.n_states, env.P.shape[1]))
    v = np.zeros((horizon + 1, env.n_states))
    for t in reversed(range(horizon)):
        q[t] = (env.R + gamma * np.sum(env.P * v[t + 1], axis=2)) * alive[:, None]
        v[t] = np.sum(pi * q[t], axis=1)
    return q, v


def state_distributions(env, pi, horizon):
    """d_0 = mu,  d_{t+1}(s') = sum_{s,u} d_t(s) pi(u|s) P(s'|s,u);  shape (H, S)."""
    d = np.zeros((horizon, env.n_states))
    d[0] = env.start
    for t in range(horizon - 1):
        d[t + 1] = np.einsum("s,su,sut->t", d[t], pi, env.P)
    return d


def expected_return(env, policy, theta, horizon, gamma=1.0):
    """U(theta) = sum_s mu(s) V_0(s), Eq. (1) with discount gamma and horizon H."""
    _check_tabular(env, horizon, gamma)
    _, v = q_values(env, policy_table(env, policy, theta), horizon, gamma)
    return float(np.sum(env.start * v[0]))


def gradient(env, policy, theta, horizon, gamma=1.0):
    """grad U(theta) = sum_t gamma^t sum_s d_t(s) sum_u pi(u|s) grad log pi(u|s) Q_t(s,u), Eq. (12)."""
    _check_tabular(env, horizon, gamma)
    pi = policy_table(env, policy, theta)
    q, _ = q_values(env, pi, horizon, gamma)
    d = state_distributions(env, pi, horizon)
    weight = np.einsum("t,ts,su,tsu->su", gamma ** np.arange(horizon), d, pi, q)  # sum over t first
    grad = np.zeros(policy.n_params)
    for s, obs in enumerate(env.state_observations):
        for u in range(pi.shape[1]):
            grad += weight[s, u] * policy.grad_log_prob(theta, obs, u)
    return grad


def optimal_return(env, horizon, gamma=1.0):
    """max over all (time-dependent) policies of U: value iteration V_t = max_u [R + gamma P V_{t+1}]."""
    _check_tabular(env, horizon, gamma)
    alive = ~env.terminal
    v = np.zeros(env.n_states)
    for _ in range(horizon):
        v = np.max(env.R + gamma * np.sum(env.P * v, axis=2), axis=1) * alive
    return float(np.sum(env.start * v))
