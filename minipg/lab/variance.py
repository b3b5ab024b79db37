"""`python -m minipg.lab.variance`: every estimator's bias and variance, measured against the exact gradient.

On the gridworld at a fixed, non-trivial theta, many batches of paths are drawn; each estimator turns
every batch into per-path terms (whose batch mean is its estimate). Pooled over all batches:
  bias     = |mean of terms - exact gradient|, with the norm of the mean's standard errors beside it;
  variance = trace of the covariance of the per-path terms (the variance of a 1-path estimate).
A second experiment moves theta away from theta_old along a fixed direction and records the
importance weights of paths sampled at theta_old: ESS / m and Var(w) against KL(pi_old || pi_theta).
"""
import os
import sys

import numpy as np

import envs
from minipg import estimators, exact
from minipg.baselines import LeaveOneOutMean, LinearValueBaseline, TimeIndexedBaseline
from minipg.io.cli import Parser, check_memory, integer_in, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir
from minipg.critics import TDCritic
from minipg.io.figures import plot_variance
from minipg.policies import SoftmaxPolicy, mean_kl
from minipg.rollout import sample_paths
from minipg.train import batch_bytes

FIGURE = "variance.png"
GAMMA_DISCOUNTED = 0.8
IS_SHIFT = 0.1


def fitted_on(baseline, paths):
    """Fit a value baseline on `paths` (undiscounted returns-to-go) and return it."""
    baseline.fit(paths, 1.0)
    return baseline


def estimator_rows(policy, theta, theta_shifted, n_features):
    """(name, gamma, theta the gradient is taken at, psi(paths, previous_paths)) for each table row."""
    critic = TDCritic(n_features, lr=0.2, epochs=3, bootstrap_truncated=False)  # U counts H steps only

    def advantages(paths, previous):
        critic.fit(previous, 1.0)  # the critic learns on earlier batches only
        return estimators.advantage_psi(paths, critic, 1.0, 0.0)

    return [
        ("REINFORCE, Eq. (5)", 1.0, theta, lambda paths, previous: estimators.total_return_psi(paths)),
        ("REINFORCE - mean return of the others, Eq. (9)", 1.0, theta,
         lambda paths, previous: estimators.total_return_psi(paths, baseline=LeaveOneOutMean())),
        ("reward-to-go, Eq. (10)", 1.0, theta, lambda paths, previous: estimators.reward_to_go_psi(paths)),
        ("reward-to-go - time-indexed b_t", 1.0, theta,
         lambda paths, previous: estimators.reward_to_go_psi(paths, baseline=TimeIndexedBaseline())),
        ("reward-to-go - linear V fitted on previous batch", 1.0, theta,
         lambda paths, previous: estimators.reward_to_go_psi(
             paths, baseline=fitted_on(LinearValueBaseline(), previous))),
        ("reward-to-go - linear V fitted on same batch", 1.0, theta,
         lambda paths, previous: estimators.reward_to_go_psi(
             paths, baseline=fitted_on(LinearValueBaseline(), paths))),
        ("actor-critic TD(0), Eq. (13)", 1.0, theta, advantages),
        ("importance sampled, whole path, Eq. (7)", 1.0, theta_shifted,
         lambda paths, previous: estimators.whole_path_importance_psi(policy, theta_shifted, paths)),
        ("importance sampled, per decision, Eq. (8)", 1.0, theta_shifted,
         lambda paths, previous: estimators.per_decision_psi(policy, theta_shifted, paths)),
        (f"reward-to-go, gamma={GAMMA_DISCOUNTED}, no gamma^t, Eq. (10)", GAMMA_DISCOUNTED, theta,
         lambda paths, previous: estimators.reward_to_go_psi(paths, GAMMA_DISCOUNTED)),
        (f"reward-to-go, gamma={GAMMA_DISCOUNTED}, with gamma^t, Eq. (11)", GAMMA_DISCOUNTED, theta,
         lambda paths, previous: estimators.reward_to_go_psi(paths, GAMMA_DISCOUNTED, discount_weighting=True)),
    ]


def bias_and_variance(terms, truth):
    """(|mean - truth|, |standard errors of the mean|, rms z, trace of the covariance of the terms).

    z_j = (mean_j - truth_j) / SE_j over the coordinates at least 300 paths touch (a rarely visited
    state's coordinate is 0 in almost every path, and its SE is then unreliable): an unbiased
    estimator has rms z near 1, a biased one far above.
    """
    errors = terms.mean(axis=0) - truth
    standard_errors = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
    touched = np.count_nonzero(terms, axis=0) >= 300
    rms_z = np.sqrt(np.mean((errors[touched] / standard_errors[touched]) ** 2)) if touched.any() else np.nan
    return (float(np.linalg.norm(errors)), float(np.linalg.norm(standard_errors)), float(rms_z),
            float(np.sum(terms.var(axis=0, ddof=1))))


def measure_estimators(env, policy, theta, theta_shifted, batches, m, horizon, rng):
    """Pool per-path terms over `batches` batches for every row; return the table rows."""
    batch_list = [sample_paths(env, policy, theta, m, rng, horizon) for _ in range(batches + 1)]
    table = []
    for name, gamma, theta_at, weigh in estimator_rows(policy, theta, theta_shifted, env.observation_dim):
        terms = np.vstack([estimators.policy_gradient(policy, theta_at, batch_list[k + 1],
                                                      weigh(batch_list[k + 1], batch_list[k]), per_path=True)
                           for k in range(batches)])
        truth = exact.gradient(env, policy, theta_at, horizon, gamma)
        table.append((name, *bias_and_variance(terms, truth)))
    return table


def measure_weights(env, policy, theta_old, direction, n_paths, horizon, rng):
    """For theta = theta_old + alpha * direction: (KL, ESS / m, Var(w)) at each alpha > 0."""
    paths = sample_paths(env, policy, theta_old, n_paths, rng, horizon)
    kls, ess_fractions, weight_variances = [], [], []
    for alpha in np.geomspace(0.03, 3.0, 10):
        theta = theta_old + alpha * direction
        weights, ess = estimators.importance_weights(policy, theta, paths)
        kls.append(float(mean_kl(policy, theta, theta_old, paths)))
        ess_fractions.append(ess / n_paths)
        weight_variances.append(float(np.var(weights)))
    return kls, ess_fractions, weight_variances


def print_table(table):
    reference = table[0][4]
    print(f"{'estimator':<52} {'bias':>8} {'± SE':>8} {'rms z':>6} {'variance':>10} {'/ REINFORCE':>11}")
    for name, bias, bias_error, rms_z, variance in table:
        print(f"{name:<52} {bias:8.4f} {bias_error:8.4f} {rms_z:6.1f} {variance:10.4f} {variance / reference:11.3f}")


def parse_args(argv):
    parser = Parser(
        prog="python -m minipg.lab.variance",
        description="Bias and variance of every gradient estimator on the gridworld, against the exact gradient.")
    parser.add_argument("--batches", type=positive_int, default=100, help="batches drawn (default 100)")
    parser.add_argument("--episodes", type=positive_int, default=50, help="paths per batch, m (default 50)")
    parser.add_argument("--horizon", type=integer_in(1, envs.make("gridworld").max_episode_steps), default=15,
                        help="decisions per path, H, at most the gridworld's episode limit (default 15)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of every random number (default 0)")
    parser.add_argument("--out", default="plots", help="directory for variance.png (default plots)")
    args = parser.parse_args(argv)
    if args.batches * args.episodes < 2:
        raise ValueError("--batches times --episodes must be at least 2 paths, for a variance")
    check_memory("--batches, --episodes and --horizon", memory_bytes(args.batches, args.episodes, args.horizon))
    return args


def memory_bytes(batches, m, horizon):
    """At most what measure_estimators holds at once: all batches + 1 batches of paths, kept until every
    estimator has seen them, and one row's per-path terms twice (per batch, then stacked)."""
    env = envs.make("gridworld")
    n_params = SoftmaxPolicy(env.observation_dim, env.n_actions).n_params
    return (batches + 1) * batch_bytes(env, m, horizon=horizon) + 2 * batches * m * n_params * 8


def main(argv=None):
    args = parse_args(argv)
    check_output_dir("--out", args.out, [FIGURE])
    rng = np.random.default_rng(args.seed)
    env = envs.make("gridworld")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = 0.5 * rng.standard_normal(policy.n_params)
    direction = rng.standard_normal(policy.n_params)
    table = measure_estimators(env, policy, theta, theta + IS_SHIFT * direction, args.batches, args.episodes,
                               args.horizon, rng)
    print(f"gridworld, H = {args.horizon}, {args.batches} batches of m = {args.episodes} paths, seed {args.seed}")
    print_table(table)
    kls, ess_fractions, weight_variances = measure_weights(env, policy, theta, direction, 500, args.horizon, rng)
    names, biases, bias_errors, _, variances = zip(*table)
    figure = os.path.join(args.out, FIGURE)
    plot_variance(names, np.array(variances) / variances[0], biases, bias_errors, kls, ess_fractions,
                  weight_variances, figure)
    print(f"wrote {figure}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
