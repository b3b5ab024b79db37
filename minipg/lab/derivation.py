"""`python -m minipg.lab.derivation`: the README's derivation evaluated, line by line, on an MDP small enough
to list every trajectory.

It prints grad U(theta) of TwoRooms by every step of the derivation (minipg.lab.enumeration), the sums the
derivation drops, the natural gradient beside the compatible critic (minipg.lab.compatible, Eq. 20), the
trust region's surrogate (18) beside the change in U it stands for, and the error of three sampled
estimators against the exact gradient at growing batch sizes; then draws the gradient field on the slice
of the policy's two preferences and that error against m.
"""
import os
import sys

import numpy as np

from envs.gridworld import TwoRooms
from minipg import estimators, exact
from minipg.baselines import LinearValueBaseline
from minipg.io.cli import Parser, non_negative_int, run_cli
from minipg.io.files import check_output_dir, writing_together
from minipg.lab.compatible import compatible_critic_weights, natural_gradient, state_weighted_fisher
from minipg.lab.enumeration import (DIFFERENCE_STEP, Enumeration, as_path, central_difference, dynamics_term,
                                    enumerated_return, importance_sampled_forms, log_derivative_form,
                                    product_rule_form, reward_to_go_terms, score_form, surrogate_terms,
                                    trajectory_probabilities)
from minipg.io.figures import plot_error_against_m, plot_gradient_field
from minipg.policies import SoftmaxPolicy

HORIZON = 4
BATCH_SIZES = (10, 100, 1000, 10000)
BATCHES = 200                   # batches drawn at each m
CLOUD_BATCH = 50                # paths per single-batch estimate in the cloud of the field picture
FIGURES = ("gradient_field.png", "derivation.png")  # what the command writes into --out


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


# EVERY FORM OF THE DERIVATION, as sums over the enumeration

def gradient_forms(env, policy, theta, theta_old, horizon, gamma=1.0):
    """grad U(theta) by every step of the derivation: a list of (label, gradient), the label led by its equation."""
    problem = Enumeration.of(env, policy, theta, theta_old, horizon, gamma)
    return forms_of(problem)


def forms_of(problem):
    """The (label, gradient) list of gradient_forms, for an Enumeration."""
    env, tables, model, trajectories, gamma = (problem.env, problem.tables, problem.model, problem.trajectories,
                                               problem.gamma)
    kept, _, _ = reward_to_go_terms(env, tables, problem.value_baseline(), trajectories, gamma)
    whole_path, per_decision = importance_sampled_forms(problem)
    return [
        ("(3)      Σ_τ ∇P(τ;θ) R(τ), product rule over (2), no log",
         product_rule_form(env, tables, model, trajectories, gamma)),
        ("(3)      Σ_τ P ∇log P R, ∇log P with the dynamics terms",
         log_derivative_form(env, tables, model, trajectories, gamma)),
        ("(4)      Σ_τ P [Σ_t ∇log π(u_t|s_t)] R, dynamics dropped",
         score_form(env, tables, trajectories, gamma)),
        ("(7)      Σ_τ P(τ;θ_old) w(τ) [Σ_t ∇log π] R", whole_path),
        ("(8)      Σ_τ P(τ;θ_old) Σ_t ∇log π Σ_k≥t w_0:k γ^k r_k", per_decision),
        ("(10-11)  Σ_τ P Σ_t γ^t ∇log π (G_t - V_t(s_t))", kept),
        ("(12)     exact.gradient, Σ_t γ^t Σ_s d_t Σ_u π ∇log π Q_t",
         exact.gradient(env, problem.policy, problem.theta, problem.horizon, gamma)),
        (f"finite   central differences of Σ_τ P R, h = {DIFFERENCE_STEP:g}",
         central_difference(lambda th: enumerated_return(env, problem.policy, th, trajectories, problem.returns),
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



# THE COMMAND: sampled estimators, printing, pictures

def estimator_terms(problem, rng):
    """g(tau) of REINFORCE (5), reward-to-go (10) and reward-to-go minus a fitted V (10) for every enumerated tau.

    An estimate from m sampled paths is the mean of g over them. The value baseline is fitted on 1,000
    paths drawn before, and apart from, the paths it is used on, so g(tau) depends on tau alone.
    """
    env, policy, theta = problem.env, problem.policy, problem.theta
    paths = [as_path(env, problem.tables, tau) for tau in problem.trajectories]
    earlier = [paths[i] for i in rng.choice(len(paths), size=1000, p=trajectory_probabilities(problem))]
    baseline = LinearValueBaseline()
    baseline.fit(earlier, 1.0)
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


def rounding(x, floor=1e-14):
    """x as 1.4e-03, or "< 1e-14" for a difference below what float64 rounding (or, with floor = 1e-10, central
    differences at h = 1e-5) can resolve: below it the digits change from machine to machine."""
    return f"{x:.1e}" if abs(x) >= floor else f"< {floor:.0e}"


def print_forms(forms, n_exact, title):
    print(f"{title:<64} {'|g|':>10} {'max diff':>10}")
    for k, ((label, gradient), difference) in enumerate(zip(forms, largest_differences(forms, n_exact))):
        floor = 1e-14 if k < n_exact else 1e-10  # the forms after n_exact are central differences
        print(f"{label:<64} {np.linalg.norm(gradient):10.6f} {rounding(difference, floor):>10}", flush=True)


def print_vanishing(terms):
    print(f"{'Eq.      dropped sums, each a vector that must be 0':<64} {'max |.|':>10}")
    for label, vector in terms:
        print(f"{label:<64} {rounding(np.max(np.abs(vector))):>10}", flush=True)


def print_surrogate(change, pdis, surrogate, kl):
    """U(theta) - U(theta_old) exactly, by per-decision importance sampling, and by the first-order surrogate (18)."""
    print(f"{f'Eq.      θ_old → θ, mean KL(π_old ‖ π_θ) = {kl:.3f} per decision':<64} {'change':>10}")
    for label, value in [("         U(θ) - U(θ_old), Σ_τ [P(τ;θ) - P(τ;θ_old)] R(τ)", change),
                         ("(8)      Σ_τ P(τ;θ_old) Σ_t (w_0:t - 1) γ^t r_t, per decision", pdis),
                         ("(18)     Σ_τ P(τ;θ_old) Σ_t γ^t π_θ/π_old A_t, first order", surrogate)]:
        print(f"{label:<64} {value:10.6f}")


def print_sampled(terms, probabilities, truth, rms):
    """One row per estimator: its exact mean's error, sqrt(trace Cov) of one path, the rms error at each m."""
    print(f"{'sampled estimator':<20} {'max|E ĝ - ∇U|':>14} {'√tr Cov':>8}   "
          f"rms |ĝ_m - ∇U| over {BATCHES} batches of m paths")
    print(" " * 47 + "".join(f"{f'm = {m}':>10}" for m in BATCH_SIZES))
    for name, values in terms.items():
        mean, variance = exact_moments(values, probabilities)
        print(f"{name:<20} {rounding(np.max(np.abs(mean - truth))):>14} {np.sqrt(variance):8.3f}   "
              + "".join(f"{error:10.4f}" for error in rms[name]))


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.derivation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of theta, theta_old and every sample (default 0)")
    parser.add_argument("--out", default="plots", help="directory for gradient_field.png and derivation.png "
                                                        "(default plots)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_output_dir("--out", args.out, FIGURES)
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
          f"{len(problem.trajectories)} trajectories, Σ_τ P(τ;θ) - 1: {rounding(probabilities.sum() - 1)}")
    print(f"θ: x_A = log π(go|A)/π(wait|A) = {x_a:.3f}, x_B = log π(exit|B)/π(back|B) = {x_b:.3f}")
    print(f"U(θ) = Σ_τ P(τ;θ) R(τ) = {u_enumerated:.12f}; exact.expected_return - it: "
          f"{rounding(exact.expected_return(env, policy, theta, HORIZON) - u_enumerated)}")
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
    print_surrogate(*surrogate_terms(problem))
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
    field_png, error_png = (os.path.join(args.out, name) for name in FIGURES)
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
