"""Every trajectory of a tabular MDP listed with its probability, and grad U(theta) by each step of the
README's derivation, as sums over that list.

On a tabular env every trajectory tau of at most H decisions can be listed with its probability

    P(tau; theta) = mu(s_0) prod_t pi_theta(u_t|s_t) P(s_{t+1}|s_t, u_t)                      (2)

so U(theta) = sum_tau P(tau; theta) R(tau) is a finite sum, and so is every line of the derivation of
grad U: the product rule, the log-derivative trick (3), the dynamics dropping out (4), importance
sampling (7)-(8), reward-to-go with a baseline (10)-(11) and the policy-gradient theorem (12). Each is
computed here as written; they agree to rounding, and central differences of the enumerated U agree to
their own error. The terms the derivation drops are summed on their own and come out 0.

The policy must be a SoftmaxPolicy, linear or a network: the product rule differentiates pi itself, by the
softmax's Jacobian and the logits' own (the policy's path_logit_jacobians).
"""
from dataclasses import dataclass

import numpy as np

from minipg import estimators, exact
from minipg.estimators import path_return
from minipg.policies import SoftmaxPolicy
from minipg.returns import discounted_cumsum
from minipg.rollout import Path

MAX_TRAJECTORIES = 200_000
DIFFERENCE_STEP = 1e-5          # h of the central differences of U: truncation ~h^2, rounding ~1e-16 / h


@dataclass(frozen=True)
class Trajectory:
    """tau = (s_0, u_0, s_1, ..., u_{T-1}, s_T): states (T + 1 of them), actions and rewards r(s_t, u_t, s_{t+1})."""

    states: tuple
    actions: tuple
    rewards: tuple


def check_problem(env, policy, horizon, gamma):
    """Raise naming the argument unless env is tabular, policy a SoftmaxPolicy, horizon >= 1 and gamma in (0, 1]."""
    if not hasattr(env, "P"):
        raise ValueError("env has no model (P, R, start, terminal): enumerating trajectories needs a tabular env")
    if not isinstance(policy, SoftmaxPolicy):
        raise TypeError(f"policy must be a SoftmaxPolicy, got {type(policy).__name__}")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")


def count_trajectories(env, horizon):
    """The number of trajectories enumerate_trajectories lists, counted forward without listing them."""
    possible = (env.P > 0).astype(np.float64)           # 1 where s' can follow (s, u)
    prefixes = (env.start > 0).astype(np.float64)       # prefixes of t decisions ending in each state
    ended = 0.0
    for _ in range(horizon):
        ended += prefixes[env.terminal].sum()
        prefixes = np.einsum("s,sut->t", np.where(env.terminal, 0.0, prefixes), possible)
    return int(ended + prefixes.sum())


def enumerate_trajectories(env, horizon):
    """Every tau with mu(s_0) > 0 and P(s_{t+1}|s_t, u_t) > 0: H decisions, or fewer if it enters a terminal state.

    Every action is listed: a softmax policy with finite theta gives each one positive probability.
    """
    n_trajectories = count_trajectories(env, horizon)
    if n_trajectories > MAX_TRAJECTORIES:
        raise ValueError(f"horizon {horizon} gives {n_trajectories} trajectories, more than the "
                         f"{MAX_TRAJECTORIES} this enumeration is meant for")
    trajectories = []

    def extend(states, actions, rewards):
        s = states[-1]
        if len(actions) == horizon or env.terminal[s]:
            trajectories.append(Trajectory(tuple(states), tuple(actions), tuple(rewards)))
            return
        for u in range(env.n_actions):
            for s_next in np.flatnonzero(env.P[s, u]):
                extend(states + [int(s_next)], actions + [u], rewards + [float(env.rewards[s, u, s_next])])

    for s_0 in np.flatnonzero(env.start):
        extend([int(s_0)], [], [])
    return trajectories


def steps(trajectory):
    """(t, s_t, u_t, s_{t+1}) for every decision of tau."""
    return [(t, s, u, trajectory.states[t + 1])
            for t, (s, u) in enumerate(zip(trajectory.states, trajectory.actions))]


def trajectory_probability(env, pi, trajectory):
    """P(tau; theta) = mu(s_0) prod_t pi(u_t|s_t) P(s_{t+1}|s_t, u_t), Eq. (2); pi is the table pi(u|s)."""
    probability = env.start[trajectory.states[0]]
    for _, s, u, s_next in steps(trajectory):
        probability *= pi[s, u] * env.P[s, u, s_next]
    return probability


def enumerated_return(env, policy, theta, trajectories, returns):
    """U(theta) = sum_tau P(tau; theta) R(tau), Eq. (1), literally; returns[i] = R(tau_i), which theta does not move."""
    pi = exact.policy_table(env, policy, theta)
    return sum(trajectory_probability(env, pi, tau) * tau_return for tau, tau_return in zip(trajectories, returns))


def central_difference(f, theta, step=DIFFERENCE_STEP):
    """(f(theta + h e_j) - f(theta - h e_j)) / 2h for every coordinate j."""
    gradient = np.zeros(len(theta))
    for j in range(len(theta)):
        shift = np.zeros(len(theta))
        shift[j] = step
        gradient[j] = (f(theta + shift) - f(theta - shift)) / (2.0 * step)
    return gradient


def probability_gradient(policy, theta, obs, action):
    """grad pi(u|s) = sum_a pi(u|s) (1[a = u] - pi(a|s)) grad z_a(s): the softmax's Jacobian, no logarithm.

    d softmax_u(z) / d z_a = pi_u (1[a = u] - pi_a), and grad z_a(s) is row a of the logits' Jacobian: phi~(s) on
    the weights W_a of a linear policy, z_a = W_a phi~(s) with phi~(s) = [phi(s), 1].
    """
    p = policy.probs(theta, obs)
    return p[action] * (np.eye(len(p))[action] - p) @ policy.path_logit_jacobians(theta, obs[None])[0]


@dataclass
class PolicyTables:
    """Everything the sums need of pi_theta on a tabular env, one row per state: pi(u|s), log pi(u|s),
    grad log pi(u|s) (the policy's score) and grad pi(u|s) (the softmax's Jacobian)."""

    pi: np.ndarray
    log_pi: np.ndarray
    scores: np.ndarray
    probability_gradients: np.ndarray

    @classmethod
    def of(cls, env, policy, theta):
        actions = range(env.n_actions)
        observations = env.state_observations
        return cls(
            pi=exact.policy_table(env, policy, theta),
            log_pi=np.array([policy.log_probs(theta, obs) for obs in observations]),
            scores=np.array([[policy.grad_log_prob(theta, obs, u) for u in actions] for obs in observations]),
            probability_gradients=np.array([[probability_gradient(policy, theta, obs, u) for u in actions]
                                            for obs in observations]),
        )


@dataclass
class ModelGradients:
    """grad_theta of the model's factors of Eq. (2), mu(s) and P(s'|s, u), and of their logs.

    The model is the env's table, read without theta, so each is the central difference of a function
    that ignores theta and comes out exactly 0: computed, not assumed, so that the terms Eq. (4) drops
    are seen to vanish. Only factors of positive probability are differenced (log 0 has no derivative).
    """

    start: np.ndarray           # grad mu(s), (S, n)
    start_log: np.ndarray       # grad log mu(s)
    transition: np.ndarray      # grad P(s'|s, u), (S, A, S, n)
    transition_log: np.ndarray  # grad log P(s'|s, u)

    @classmethod
    def of(cls, env, theta):
        n_states, n_actions = env.P.shape[:2]
        start, start_log = np.zeros((2, n_states, len(theta)))
        transition, transition_log = np.zeros((2, n_states, n_actions, n_states, len(theta)))
        for s in np.flatnonzero(env.start):
            start[s] = central_difference(lambda _theta: env.start[s], theta)
            start_log[s] = central_difference(lambda _theta: np.log(env.start[s]), theta)
        for s, u, s_next in zip(*np.nonzero(env.P)):
            transition[s, u, s_next] = central_difference(lambda _theta: env.P[s, u, s_next], theta)
            transition_log[s, u, s_next] = central_difference(lambda _theta: np.log(env.P[s, u, s_next]), theta)
        return cls(start, start_log, transition, transition_log)


def factors(env, tables, model, trajectory):
    """(f_k, grad f_k) for the factors of Eq. (2) in order: mu(s_0), then pi(u_t|s_t) and P(s_{t+1}|s_t, u_t)."""
    s_0 = trajectory.states[0]
    pairs = [(env.start[s_0], model.start[s_0])]
    for _, s, u, s_next in steps(trajectory):
        pairs.append((tables.pi[s, u], tables.probability_gradients[s, u]))
        pairs.append((env.P[s, u, s_next], model.transition[s, u, s_next]))
    return pairs


def product_rule(pairs):
    """grad prod_k f_k = sum_k grad f_k prod_{j != k} f_j."""
    values = [value for value, _ in pairs]
    return sum(gradient * np.prod(values[:k]) * np.prod(values[k + 1:]) for k, (_, gradient) in enumerate(pairs))


def policy_score(tables, trajectory):
    """sum_t grad log pi(u_t|s_t), Eq. (4)."""
    return sum(tables.scores[s, u] for _, s, u, _ in steps(trajectory))


def model_score(model, trajectory):
    """grad log mu(s_0) + sum_t grad log P(s_{t+1}|s_t, u_t): the dynamics terms of grad log P(tau; theta)."""
    return model.start_log[trajectory.states[0]] + sum(model.transition_log[s, u, s_next]
                                                       for _, s, u, s_next in steps(trajectory))


def product_rule_form(env, tables, model, trajectories, gamma):
    """sum_tau grad P(tau; theta) R(tau), grad P by the product rule over the factors of Eq. (2)."""
    return sum(product_rule(factors(env, tables, model, tau)) * path_return(tau, gamma) for tau in trajectories)


def log_derivative_form(env, tables, model, trajectories, gamma):
    """Eq. (3): sum_tau P(tau; theta) grad log P(tau; theta) R(tau), grad log P with the dynamics terms."""
    return sum(trajectory_probability(env, tables.pi, tau) * (model_score(model, tau) + policy_score(tables, tau))
               * path_return(tau, gamma) for tau in trajectories)


def dynamics_term(env, tables, model, trajectories, gamma):
    """sum_tau P(tau; theta) [grad log mu(s_0) + sum_t grad log P(s_{t+1}|s_t, u_t)] R(tau): what Eq. (4) drops."""
    return sum(trajectory_probability(env, tables.pi, tau) * model_score(model, tau) * path_return(tau, gamma)
               for tau in trajectories)


def score_form(env, tables, trajectories, gamma):
    """Eq. (4) in Eq. (3): sum_tau P(tau; theta) [sum_t grad log pi(u_t|s_t)] R(tau)."""
    return sum(trajectory_probability(env, tables.pi, tau) * policy_score(tables, tau) * path_return(tau, gamma)
               for tau in trajectories)


def as_path(env, tables, trajectory):
    """tau as the rollout.Path that sample_paths returns when it draws this trajectory with the policy of `tables`."""
    states, actions = np.array(trajectory.states), np.array(trajectory.actions, dtype=np.int64)
    return Path(observations=env.state_observations[states[:-1]], actions=actions,
                rewards=np.array(trajectory.rewards), log_probs=tables.log_pi[states[:-1], actions],
                terminated=bool(env.terminal[states[-1]]), final_observation=env.state_observations[states[-1]])


def importance_sampled_forms(problem):
    """Eqs. (7) and (8): sum_tau P(tau; theta_old) g(tau), g the estimators' importance-sampled gradient at theta from
    tau drawn at theta_old, whole-path and per decision: what the estimators average to over theta_old's paths."""
    old = [as_path(problem.env, problem.old_tables, tau) for tau in problem.trajectories]
    probabilities = np.array([trajectory_probability(problem.env, problem.old_tables.pi, tau)
                              for tau in problem.trajectories])
    return [probabilities @ estimators.importance_sampled(problem.policy, problem.theta, problem.theta_old, old,
                                                         per_decision, problem.gamma, per_path=True)
            for per_decision in (False, True)]


def reward_to_go_terms(env, tables, baseline, trajectories, gamma):
    """Eqs. (10)-(11) and the two sums they drop, for the baseline b_t(s) (an array (H, S)):

    kept      sum_tau P sum_t gamma^t grad log pi(u_t|s_t) (G_t - b_t(s_t)),  G_t = sum_{k>=t} gamma^(k-t) r_k
    past      sum_tau P sum_t grad log pi(u_t|s_t) sum_{k<t} gamma^k r_k
    baseline  sum_tau P sum_t gamma^t grad log pi(u_t|s_t) b_t(s_t)

    kept + past + baseline is Eq. (4)'s form term by term, since R(tau) = sum_{k<t} gamma^k r_k + gamma^t G_t.
    """
    kept = past = dropped_baseline = 0.0
    for tau in trajectories:
        probability = trajectory_probability(env, tables.pi, tau)
        rewards = np.array(tau.rewards)
        to_go = discounted_cumsum(rewards, gamma)
        for t, s, u, _ in steps(tau):
            score = probability * tables.scores[s, u]
            kept = kept + gamma**t * score * (to_go[t] - baseline[t, s])
            past = past + score * sum(gamma**k * rewards[k] for k in range(t))
            dropped_baseline = dropped_baseline + gamma**t * score * baseline[t, s]
    return kept, past, dropped_baseline


def surrogate_terms(problem):
    """Eq. (18) beside the change in U it stands for, theta_old -> theta, over the trajectories of theta_old:

    change     sum_tau P(tau; theta) R(tau) - sum_tau P(tau; theta_old) R(tau)
    pdis       sum_tau P(tau; theta_old) sum_t (w_{0:t} - 1) gamma^t r_t, per-decision IS: the same, exactly
    surrogate  sum_tau P(tau; theta_old) sum_t gamma^t [pi_theta / pi_old](u_t|s_t) A_t(s_t, u_t), A of theta_old:
               one ratio per decision, as if the states stayed those of theta_old (first order in theta - theta_old)
    kl         the mean KL(pi_old(.|s_t) || pi_theta(.|s_t)) over the decisions of theta_old
    """
    env, tables, old_tables, gamma = problem.env, problem.tables, problem.old_tables, problem.gamma
    q, v = exact.q_values(env, old_tables.pi, problem.horizon, gamma)
    advantage = q - v[:-1, :, None]
    pi_kl = np.sum(old_tables.pi * (old_tables.log_pi - tables.log_pi), axis=1)
    change = pdis = surrogate = kl = decisions = 0.0
    for tau in problem.trajectories:
        path, old_probability = as_path(env, old_tables, tau), trajectory_probability(env, old_tables.pi, tau)
        change += (trajectory_probability(env, tables.pi, tau) - old_probability) * path_return(tau, gamma)
        discounts, states = gamma ** np.arange(len(path)), np.array(tau.states[:-1])
        pdis += old_probability * discounts @ ((np.exp(estimators.log_weights(problem.policy, problem.theta, path))
                                               - 1.0) * path.rewards)
        ratios = np.exp(estimators.log_ratios(problem.policy, problem.theta, path))
        surrogate += old_probability * discounts @ (ratios * advantage[np.arange(len(path)), states, path.actions])
        kl += old_probability * pi_kl[states].sum()
        decisions += old_probability * len(path)
    return change, pdis, surrogate, kl / decisions


@dataclass
class Enumeration:
    """One tabular problem at one theta (and theta_old), with its trajectories and tables computed once."""

    env: object
    policy: SoftmaxPolicy
    theta: np.ndarray
    theta_old: np.ndarray
    horizon: int
    gamma: float
    trajectories: list
    returns: list  # R(tau) of each trajectory, Eq. (1)
    tables: PolicyTables
    old_tables: PolicyTables
    model: ModelGradients

    @classmethod
    def of(cls, env, policy, theta, theta_old, horizon, gamma=1.0):
        check_problem(env, policy, horizon, gamma)
        theta, theta_old = np.asarray(theta, dtype=np.float64), np.asarray(theta_old, dtype=np.float64)
        trajectories = enumerate_trajectories(env, horizon)
        return cls(env, policy, theta, theta_old, int(horizon), float(gamma), trajectories,
                   [path_return(tau, gamma) for tau in trajectories], PolicyTables.of(env, policy, theta),
                   PolicyTables.of(env, policy, theta_old), ModelGradients.of(env, theta))

    def value_baseline(self):
        """b_t(s) = V_t(s), the exact value of the policy: a baseline that depends on s_t (and t) only."""
        _, v = exact.q_values(self.env, self.tables.pi, self.horizon, self.gamma)
        return v[:-1]

    def expected_return(self):
        return enumerated_return(self.env, self.policy, self.theta, self.trajectories, self.returns)



def trajectory_probabilities(problem):
    """P(tau; theta) of every enumerated tau, Eq. (2)."""
    return np.array([trajectory_probability(problem.env, problem.tables.pi, tau) for tau in problem.trajectories])
