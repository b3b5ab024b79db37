"""`python -m minipg.derivation`: the README's derivation evaluated, line by line, on an MDP small enough
to list every trajectory.

On a tabular env every trajectory tau of at most H decisions can be listed with its probability

    P(tau; theta) = mu(s_0) prod_t pi_theta(u_t|s_t) P(s_{t+1}|s_t, u_t)                      (2)

so U(theta) = sum_tau P(tau; theta) R(tau) is a finite sum, and so is every line of the derivation of
grad U: the product rule, the log-derivative trick (3), the dynamics dropping out (4), importance
sampling (7)-(8), reward-to-go with a baseline (10)-(11) and the policy-gradient theorem (12). Each is
computed here as written; they agree to rounding, and central differences of the enumerated U agree to
their own error. The terms the derivation drops are summed on their own and come out 0.

One more line: the natural gradient F^+ grad U and the least-squares weights of a critic on the
compatible features grad log pi(u|s), fitted to the exact Q_t, are the same vector (Sutton et al. 2000;
Kakade 2001) when F and the fit weigh the decisions alike, by gamma^t d_t(s) pi(u|s): the fit's normal
equations are F w = sum_t gamma^t sum_s d_t(s) sum_u pi(u|s) grad log pi(u|s) Q_t(s, u) = grad U, Eq. (12).
The softmax's F is singular (adding the same number to every logit of a state changes no
probability; with one-hot features and a bias, the bias trades against the state weights; a state where
no decision is taken has no curvature at all), so both sides are the minimum-norm solutions.

The policy must be a SoftmaxPolicy: the product rule differentiates pi itself, by the softmax's Jacobian.
"""
import os
import sys
from dataclasses import dataclass

import numpy as np

from envs.gridworld import TwoRooms
from minipg import estimators, exact
from minipg.baselines import LinearValueBaseline
from minipg.cli import Parser, check_output_dir, non_negative_int, run_cli, writing_together
from minipg.plotting import plot_error_against_m, plot_gradient_field
from minipg.policies import SoftmaxPolicy
from minipg.returns import discounted_cumsum
from minipg.rollout import Path

MAX_TRAJECTORIES = 200_000
DIFFERENCE_STEP = 1e-5          # h of the central differences of U: truncation ~h^2, rounding ~1e-16 / h
NULL_EIGENVALUE = 1e-10         # eigenvalues of F below this fraction of the largest are the null space
HORIZON = 4
BATCH_SIZES = (10, 100, 1000, 10000)
BATCHES = 200                   # batches drawn at each m
CLOUD_BATCH = 50                # paths per single-batch estimate in the cloud of the field picture


# THE DERIVATION, EVALUATED: sums over every trajectory, each as its equation writes it

@dataclass(frozen=True)
class Trajectory:
    """tau = (s_0, u_0, s_1, ..., u_{T-1}, s_T): states (T + 1 of them), actions and rewards r(s_t, u_t, s_{t+1})."""

    states: tuple
    actions: tuple
    rewards: tuple


def _check_problem(env, policy, horizon, gamma):
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


def trajectory_return(trajectory, gamma):
    """R(tau) = sum_t gamma^t r_t, Eq. (1)."""
    return sum(gamma**t * r for t, r in enumerate(trajectory.rewards))


def trajectory_probability(env, pi, trajectory):
    """P(tau; theta) = mu(s_0) prod_t pi(u_t|s_t) P(s_{t+1}|s_t, u_t), Eq. (2); pi is the table pi(u|s)."""
    probability = env.start[trajectory.states[0]]
    for _, s, u, s_next in steps(trajectory):
        probability *= pi[s, u] * env.P[s, u, s_next]
    return probability


def enumerated_return(env, policy, theta, trajectories, gamma=1.0):
    """U(theta) = sum_tau P(tau; theta) R(tau), Eq. (1), literally."""
    pi = exact.policy_table(env, policy, theta)
    return sum(trajectory_probability(env, pi, tau) * trajectory_return(tau, gamma) for tau in trajectories)


def central_difference(f, theta, step=DIFFERENCE_STEP):
    """(f(theta + h e_j) - f(theta - h e_j)) / 2h for every coordinate j."""
    gradient = np.zeros(len(theta))
    for j in range(len(theta)):
        shift = np.zeros(len(theta))
        shift[j] = step
        gradient[j] = (f(theta + shift) - f(theta - shift)) / (2.0 * step)
    return gradient


def probability_gradient(policy, theta, obs, action):
    """grad_{W_a} pi(u|s) = pi(u|s) (1[a = u] - pi(a|s)) phi~(s): the softmax's Jacobian, no logarithm.

    d softmax_u(z) / d z_a = pi_u (1[a = u] - pi_a), and z_a = W_a phi~(s) with phi~(s) = [phi(s), 1].
    """
    p = policy.probs(theta, obs)
    features = np.append(obs, 1.0)
    return np.outer(p[action] * (np.eye(len(p))[action] - p), features).ravel()


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
    return sum(product_rule(factors(env, tables, model, tau)) * trajectory_return(tau, gamma) for tau in trajectories)


def log_derivative_form(env, tables, model, trajectories, gamma):
    """Eq. (3): sum_tau P(tau; theta) grad log P(tau; theta) R(tau), grad log P with the dynamics terms."""
    return sum(trajectory_probability(env, tables.pi, tau) * (model_score(model, tau) + policy_score(tables, tau))
               * trajectory_return(tau, gamma) for tau in trajectories)


def dynamics_term(env, tables, model, trajectories, gamma):
    """sum_tau P(tau; theta) [grad log mu(s_0) + sum_t grad log P(s_{t+1}|s_t, u_t)] R(tau): what Eq. (4) drops."""
    return sum(trajectory_probability(env, tables.pi, tau) * model_score(model, tau) * trajectory_return(tau, gamma)
               for tau in trajectories)


def score_form(env, tables, trajectories, gamma):
    """Eq. (4) in Eq. (3): sum_tau P(tau; theta) [sum_t grad log pi(u_t|s_t)] R(tau)."""
    return sum(trajectory_probability(env, tables.pi, tau) * policy_score(tables, tau) * trajectory_return(tau, gamma)
               for tau in trajectories)


def log_weights(tables, old_tables, trajectory):
    """log w_{0:t} = sum_{k<=t} [log pi_theta(u_k|s_k) - log pi_theta_old(u_k|s_k)] for every t, Eq. (6)."""
    return np.cumsum([tables.log_pi[s, u] - old_tables.log_pi[s, u] for _, s, u, _ in steps(trajectory)])


def importance_sampled_form(env, tables, old_tables, trajectories, gamma):
    """Eq. (7): sum_tau P(tau; theta_old) w(tau) [sum_t grad log pi_theta(u_t|s_t)] R(tau), w = exp log w_{0:T-1}."""
    total = 0.0
    for tau in trajectories:
        weight = np.exp(log_weights(tables, old_tables, tau)[-1]) if tau.actions else 1.0
        total = total + (trajectory_probability(env, old_tables.pi, tau) * weight * policy_score(tables, tau)
                         * trajectory_return(tau, gamma))
    return total


def per_decision_form(env, tables, old_tables, trajectories, gamma):
    """Eq. (8): sum_tau P(tau; theta_old) sum_t grad log pi_theta(u_t|s_t) sum_{k>=t} w_{0:k} gamma^k r_k."""
    total = 0.0
    for tau in trajectories:
        weighted_rewards = np.exp(log_weights(tables, old_tables, tau)) * gamma ** np.arange(len(tau.rewards)) \
            * np.array(tau.rewards)
        to_go = discounted_cumsum(weighted_rewards, 1.0)   # sum_{k>=t} w_{0:k} gamma^k r_k
        probability = trajectory_probability(env, old_tables.pi, tau)
        for t, s, u, _ in steps(tau):
            total = total + probability * tables.scores[s, u] * to_go[t]
    return total


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


@dataclass
class Enumeration:
    """One tabular problem at one theta (and theta_old), with its trajectories and tables computed once."""

    env: object
    policy: SoftmaxPolicy
    theta: np.ndarray
    horizon: int
    gamma: float
    trajectories: list
    tables: PolicyTables
    old_tables: PolicyTables
    model: ModelGradients

    @classmethod
    def of(cls, env, policy, theta, theta_old, horizon, gamma=1.0):
        _check_problem(env, policy, horizon, gamma)
        theta = np.asarray(theta, dtype=np.float64)
        return cls(env, policy, theta, int(horizon), float(gamma), enumerate_trajectories(env, horizon),
                   PolicyTables.of(env, policy, theta), PolicyTables.of(env, policy, theta_old),
                   ModelGradients.of(env, theta))

    def value_baseline(self):
        """b_t(s) = V_t(s), the exact value of the policy: a baseline that depends on s_t (and t) only."""
        _, v = exact.q_values(self.env, self.tables.pi, self.horizon, self.gamma)
        return v[:-1]

    def expected_return(self):
        return enumerated_return(self.env, self.policy, self.theta, self.trajectories, self.gamma)


def gradient_forms(env, policy, theta, theta_old, horizon, gamma=1.0):
    """grad U(theta) by every step of the derivation: a list of (label, gradient), the label led by its equation."""
    problem = Enumeration.of(env, policy, theta, theta_old, horizon, gamma)
    return forms_of(problem)


def forms_of(problem):
    """The (label, gradient) list of gradient_forms, for an Enumeration."""
    env, tables, model, trajectories, gamma = (problem.env, problem.tables, problem.model, problem.trajectories,
                                               problem.gamma)
    kept, _, _ = reward_to_go_terms(env, tables, problem.value_baseline(), trajectories, gamma)
    return [
        ("(3)      Σ_τ ∇P(τ;θ) R(τ), product rule over (2), no log",
         product_rule_form(env, tables, model, trajectories, gamma)),
        ("(3)      Σ_τ P ∇log P R, ∇log P with the dynamics terms",
         log_derivative_form(env, tables, model, trajectories, gamma)),
        ("(4)      Σ_τ P [Σ_t ∇log π(u_t|s_t)] R, dynamics dropped",
         score_form(env, tables, trajectories, gamma)),
        ("(7)      Σ_τ P(τ;θ_old) w(τ) [Σ_t ∇log π] R",
         importance_sampled_form(env, tables, problem.old_tables, trajectories, gamma)),
        ("(8)      Σ_τ P(τ;θ_old) Σ_t ∇log π Σ_k≥t w_0:k γ^k r_k",
         per_decision_form(env, tables, problem.old_tables, trajectories, gamma)),
        ("(10-11)  Σ_τ P Σ_t γ^t ∇log π (G_t - V_t(s_t))", kept),
        ("(12)     exact.gradient, Σ_t γ^t Σ_s d_t Σ_u π ∇log π Q_t",
         exact.gradient(env, problem.policy, problem.theta, problem.horizon, gamma)),
        (f"finite   central differences of Σ_τ P R, h = {DIFFERENCE_STEP:g}",
         central_difference(lambda th: enumerated_return(env, problem.policy, th, trajectories, gamma),
                            problem.theta)),
    ]


def vanishing_terms(env, policy, theta, horizon, gamma=1.0):
    """The sums the derivation drops, each a vector that must be 0: a list of (label, vector)."""
    return vanishing_terms_of(Enumeration.of(env, policy, theta, theta, horizon, gamma))


def vanishing_terms_of(problem):
    """The (label, vector) list of vanishing_terms, for an Enumeration."""
    env, tables, trajectories, gamma = problem.env, problem.tables, problem.trajectories, problem.gamma
    _, past, dropped_baseline = reward_to_go_terms(env, tables, problem.value_baseline(), trajectories, gamma)
    return [
        ("(3)→(4)  Σ_τ P [∇log μ(s_0) + Σ_t ∇log P(s_t+1|s_t,u_t)] R",
         dynamics_term(env, tables, problem.model, trajectories, gamma)),
        ("(4)→(10) Σ_τ P Σ_t ∇log π(u_t|s_t) Σ_k<t γ^k r_k, past rewards", past),
        ("(10)     Σ_τ P Σ_t γ^t ∇log π(u_t|s_t) V_t(s_t), the baseline", dropped_baseline),
    ]


def largest_differences(forms, n_exact):
    """For each form, max_j |g_j - g'_j| over the first n_exact forms g' other than itself.

    The forms after the first n_exact (finite differences) are approximate: they are judged against the
    exact ones, and do not count in the difference of an exact form.
    """
    gradients = [gradient for _, gradient in forms]
    return [max(np.max(np.abs(g - gradients[k])) for k in range(n_exact) if k != i) for i, g in enumerate(gradients)]


# NATURAL GRADIENT AND THE COMPATIBLE CRITIC

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
    _check_problem(env, policy, horizon, gamma)
    return minimum_norm_solve(state_weighted_fisher(env, policy, theta, horizon, gamma),
                              exact.gradient(env, policy, theta, horizon, gamma))


def compatible_critic_weights(env, policy, theta, horizon, gamma=1.0):
    """w = argmin sum_t gamma^t sum_s d_t(s) sum_u pi(u|s) (Q_t(s,u) - w . grad log pi(u|s))^2, of least norm.

    A weighted least-squares fit over every decision (t, s, u), solved as the ordinary one of the rows
    scaled by sqrt(weight). Singular values of that design are the square roots of F's eigenvalues, so
    the cut at sqrt(NULL_EIGENVALUE) drops the same null space as minimum_norm_solve.
    """
    _check_problem(env, policy, horizon, gamma)
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
    scale = np.sqrt(weights)
    w, *_ = np.linalg.lstsq(scale[:, None] * np.array(rows), scale * np.array(targets), rcond=np.sqrt(NULL_EIGENVALUE))
    return w


# THE PICTURE'S SLICE: the two preferences that define TwoRooms' policy

def preference_directions(policy):
    """v_A, v_B: moving theta by x along v_s raises log pi(1|s) - log pi(0|s) by x, for the one-hot s = A, B.

    v_s puts +1/2 on the weight of action 1 for feature s and -1/2 on that of action 0. The directional
    derivative v_s . grad U is dU/dx_s: the gradient of U on the slice of these two preferences.
    """
    directions = np.zeros((2, policy.n_actions, policy.n_features + 1))
    for i, s in enumerate((0, 1)):
        directions[i, 1, s], directions[i, 0, s] = 0.5, -0.5
    return directions.reshape(2, -1)


def preferences(env, policy, theta):
    """x_s = log pi(1|s) - log pi(0|s) in A and B: the coordinates of theta on the slice."""
    return np.array([np.diff(policy.log_probs(theta, env.state_observations[s]))[0] for s in (0, 1)])


def slice_field(env, policy, horizon, grid, gamma=1.0):
    """At theta = x_A v_A + x_B v_B for each (x_A, x_B) of grid x grid (rows x_B, columns x_A): the gradient of U
    on the slice, V^T grad U, and the natural gradient on the slice, (V^T F V)^-1 V^T grad U; each (N, N, 2)."""
    directions = preference_directions(policy)
    gradients, naturals = np.zeros((2, len(grid), len(grid), 2))
    for i, x_b in enumerate(grid):
        for j, x_a in enumerate(grid):
            theta = x_a * directions[0] + x_b * directions[1]
            gradients[i, j] = directions @ exact.gradient(env, policy, theta, horizon, gamma)
            fisher = directions @ state_weighted_fisher(env, policy, theta, horizon, gamma) @ directions.T
            naturals[i, j] = np.linalg.solve(fisher, gradients[i, j])
    return gradients, naturals


def slice_values(env, policy, horizon, grid, gamma=1.0):
    """U(x_A v_A + x_B v_B) on grid x grid, rows x_B, columns x_A."""
    directions = preference_directions(policy)
    return np.array([[exact.expected_return(env, policy, x_a * directions[0] + x_b * directions[1], horizon, gamma)
                      for x_a in grid] for x_b in grid])


# THE COMMAND: sampled estimators, printing, pictures

def as_path(env, tables, trajectory):
    """tau as the rollout.Path that sample_paths returns when it draws this trajectory."""
    states, actions = np.array(trajectory.states), np.array(trajectory.actions, dtype=np.int64)
    return Path(observations=env.state_observations[states[:-1]], actions=actions,
                rewards=np.array(trajectory.rewards), log_probs=tables.log_pi[states[:-1], actions],
                terminated=bool(env.terminal[states[-1]]), final_observation=env.state_observations[states[-1]])


def trajectory_probabilities(problem):
    """P(tau; theta) of every enumerated tau, Eq. (2)."""
    return np.array([trajectory_probability(problem.env, problem.tables.pi, tau) for tau in problem.trajectories])


def estimator_terms(problem, rng):
    """g(tau) of REINFORCE (5), reward-to-go (10) and reward-to-go minus a fitted V (10) for every enumerated tau.

    An estimate from m sampled paths is the mean of g over them. The value baseline is fitted on 1,000
    paths drawn before, and apart from, the paths it is used on, so g(tau) depends on tau alone.
    """
    env, policy, theta = problem.env, problem.policy, problem.theta
    paths = [as_path(env, problem.tables, tau) for tau in problem.trajectories]
    earlier = [paths[i] for i in rng.choice(len(paths), size=1000, p=trajectory_probabilities(problem))]
    baseline = LinearValueBaseline()
    baseline.fit(earlier, [discounted_cumsum(path.rewards, 1.0) for path in earlier])
    return {
        "REINFORCE (5)": estimators.likelihood_ratio(policy, theta, paths, per_path=True),
        "reward-to-go (10)": estimators.reward_to_go(policy, theta, paths, per_path=True),
        "rtg - fitted V (10)": estimators.reward_to_go(policy, theta, paths, baseline=baseline, per_path=True),
    }


def sampled_estimates(terms, probabilities, m, batches, rng):
    """g_m of `batches` batches of m paths tau ~ P(tau; theta): a batch is how often each tau was drawn,
    counts ~ Multinomial(m, P), and its estimate is the mean of g over the draws, counts @ g / m."""
    return rng.multinomial(m, probabilities, size=batches) @ terms / m


def exact_moments(terms, probabilities):
    """E g = sum_tau P(tau) g(tau) and trace Cov g = E |g|^2 - |E g|^2, over the enumeration: an estimate from
    m paths has mean E g and an rms distance from it of sqrt(trace Cov g / m)."""
    mean = probabilities @ terms
    return mean, probabilities @ np.sum(terms**2, axis=1) - mean @ mean


def print_forms(forms, n_exact, title):
    print(f"{title:<64} {'|g|':>10} {'max diff':>10}")
    for (label, gradient), difference in zip(forms, largest_differences(forms, n_exact)):
        print(f"{label:<64} {np.linalg.norm(gradient):10.6f} {difference:10.1e}", flush=True)


def print_vanishing(terms):
    print(f"{'Eq.      dropped sums, each a vector that must be 0':<64} {'max |.|':>10}")
    for label, vector in terms:
        print(f"{label:<64} {np.max(np.abs(vector)):10.1e}", flush=True)


def print_sampled(terms, probabilities, truth, rms):
    """One row per estimator: its exact mean's error, sqrt(trace Cov) of one path, the rms error at each m."""
    print(f"{'sampled estimator':<20} {'max|E ĝ - ∇U|':>14} {'√tr Cov':>8}   "
          f"rms |ĝ_m - ∇U| over {BATCHES} batches of m paths")
    print(" " * 47 + "".join(f"{f'm = {m}':>10}" for m in BATCH_SIZES))
    for name, values in terms.items():
        mean, variance = exact_moments(values, probabilities)
        print(f"{name:<20} {np.max(np.abs(mean - truth)):14.1e} {np.sqrt(variance):8.3f}   "
              + "".join(f"{error:10.4f}" for error in rms[name]))


def parse_args(argv):
    parser = Parser(prog="python -m minipg.derivation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of theta, theta_old and every sample (default 0)")
    parser.add_argument("--out", default="plots", help="directory for gradient_field.png and derivation.png "
                                                        "(default plots)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_output_dir("--out", args.out)
    rng = np.random.default_rng(args.seed)
    env = TwoRooms()
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = rng.standard_normal(policy.n_params)
    theta_old = theta + 0.5 * rng.standard_normal(policy.n_params)
    problem = Enumeration.of(env, policy, theta, theta_old, HORIZON)
    probabilities = trajectory_probabilities(problem)
    x_a, x_b = preferences(env, policy, theta)
    u_enumerated = problem.expected_return()
    print(f"TwoRooms (A, B, exit; slip 0.2), H = {HORIZON}, γ = 1, seed {args.seed}: "
          f"{len(problem.trajectories)} trajectories, Σ_τ P(τ;θ) - 1 = {probabilities.sum() - 1:.1e}")
    print(f"θ: x_A = log π(go|A)/π(wait|A) = {x_a:.3f}, x_B = log π(exit|B)/π(back|B) = {x_b:.3f}")
    print(f"U(θ) = Σ_τ P(τ;θ) R(τ) = {u_enumerated:.12f}; exact.expected_return - it = "
          f"{exact.expected_return(env, policy, theta, HORIZON) - u_enumerated:.1e}")
    print()
    forms = forms_of(problem)
    print_forms(forms, len(forms) - 1, "Eq.      form of ∇U(θ)")
    print()
    print_vanishing(vanishing_terms_of(problem))
    print()
    print_forms([("(20)     F⁺∇U, F = Σ_t γ^t Σ_s d_t(s) F(s), least norm",
                  natural_gradient(env, policy, theta, HORIZON)),
                 ("(20)     critic w·∇log π(u|s) fitted to Q_t, least norm",
                  compatible_critic_weights(env, policy, theta, HORIZON))],
                2, "Eq.      natural gradient = compatible critic")
    print()

    truth = exact.gradient(env, policy, theta, HORIZON)
    terms = estimator_terms(problem, rng)
    estimates = {name: {m: sampled_estimates(values, probabilities, m, BATCHES, rng) for m in BATCH_SIZES}
                 for name, values in terms.items()}
    rms = {name: [np.sqrt(np.mean(np.sum((by_m[m] - truth) ** 2, axis=1))) for m in BATCH_SIZES]
           for name, by_m in estimates.items()}
    print_sampled(terms, probabilities, truth, rms)

    print("drawing the gradient field ...", flush=True)
    directions = preference_directions(policy)
    arrows, contours = np.linspace(-4.0, 4.0, 13), np.linspace(-4.0, 4.0, 33)
    clouds = {name: sampled_estimates(values, probabilities, CLOUD_BATCH, BATCHES, rng) @ directions.T
              for name, values in terms.items()}
    field_png, error_png = os.path.join(args.out, "gradient_field.png"), os.path.join(args.out, "derivation.png")
    with writing_together([field_png, error_png]):
        plot_gradient_field(contours, slice_values(env, policy, HORIZON, contours), arrows,
                            *slice_field(env, policy, HORIZON, arrows), (x_a, x_b), directions @ truth, clouds,
                            CLOUD_BATCH, field_png)
        plot_error_against_m(BATCH_SIZES, {name: np.array(errors) for name, errors in rms.items()},
                             {name: np.sqrt(exact_moments(values, probabilities)[1] / np.array(BATCH_SIZES))
                              for name, values in terms.items()}, error_png)
    print(f"wrote {field_png}, {error_png}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
