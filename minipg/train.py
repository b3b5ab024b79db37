"""`python -m minipg.train`: learn an env by policy gradient, on the env's own complete setting.

The loop in `train` is the algorithm, a line for each step of the derivation: sample tau ~ P(tau; theta)
(Eq. 2), weigh every step by psi (Eqs. 5-13; PPO: Eq. 21, over epochs and minibatches), form the one sum
(Eqs. 3-4), step, and let the baseline or critic learn from the batch after its psi was formed. A simulated env
(cart-pole, acrobot, pendulum, a Gymnasium env) is judged after every iteration on 100 episodes of the stochastic
policy and training stops at the first evaluation whose mean return reaches the env's threshold (SOLVED_RETURN, or
a Gymnasium env's reward_threshold: without one, the run is never solved and goes on to its iteration cap); a
tabular env shows the exact U(theta) and runs to its iteration cap. The learning curve, a CSV log of every iteration
and a checkpoint go into --out.
"""
import argparse
import collections
import contextlib
import dataclasses
import os
import re
import sys
import time

import numpy as np

import envs
from minipg import estimators, exact
from minipg.baselines import Constant, LeaveOneOutMean, LinearValueBaseline, TimeIndexedBaseline
from minipg.critics import NetworkCritic, RegressionCritic, TDCritic
from minipg.estimators import policy_gradient
from minipg.io.checkpoint import load_checkpoint, save_checkpoint
from minipg.io.cli import MAX_COUNT, Parser, Progress, check_memory, integer_in, interrupt_status, number, widths
from minipg.io.figures import plot_learning_curve
from minipg.io.files import check_output_dir, write_csv, writing_together
from minipg.natural import batch_fisher, natural_step, trust_region_step
from minipg.optim import OPTIMIZER_NAMES, make_optimizer
from minipg.policies import GaussianPolicy, SoftmaxPolicy, mean_kl
from minipg.rollout import LockStep, OneByOne, Steps, sample_paths
from minipg.settings import ENV_DEFAULTS, Config, critic_kind, flag, interval, settings

# ---- the command's flags, built from Config --------------------------------------------------------------

def parse_flags(argv):
    """(env, {setting: typed value}) of the flags given on the command line, and no others."""
    parser = Parser(prog="python -m minipg.train", description=__doc__.split("\n\n")[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS,
                    epilog="Each env's setting (a flag given on the command line changes only what it names):\n"
                           + defaults_table())
    for field in dataclasses.fields(Config):
        values, within = {getattr(c, field.name) for c in ENV_DEFAULTS.values()}, field.metadata["within"]
        shown = (f", in {within}" if within else "") + (f" (default: {values.pop()!r})" if len(values) == 1
                                                          else " (default: the env's, below)")
        if field.type is bool:
            parser.add_argument(flag(field.name), action=argparse.BooleanOptionalAction,
                                help=field.metadata["help"] + shown)
        elif field.name != "env":
            parser.add_argument(flag(field.name), type=argument_type(field), help=field.metadata["help"] + shown)
        else:
            parser.add_argument(flag(field.name), help=field.metadata["help"] + " (default: 'cartpole')")
    given = vars(parser.parse_args(argv))
    return given.pop("env", "cartpole"), given


def argument_type(field):
    """How a flag's text becomes the setting: an integer within its bounds and at most MAX_COUNT, a number (its
    interval is checked with the other settings, so Python callers and bench --set meet the same check), layer
    widths, or the text itself."""
    if field.type is int:
        low, high, _, _ = interval(field.metadata["within"])
        return integer_in(int(low), int(min(high, MAX_COUNT)))
    return {float: number, tuple: widths}.get(field.type, str)


def defaults_table():
    """The settings that differ between envs, one row per setting and one column per env, as flags write them."""
    names = [f.name for f in dataclasses.fields(Config)
             if len({getattr(c, f.name) for c in ENV_DEFAULTS.values()}) > 1 and f.name != "env"]
    shown = {env: {name: flag_text(getattr(config, name)) for name in names} for env, config in ENV_DEFAULTS.items()}
    width = {env: max(len(env), *map(len, values.values())) + 2 for env, values in shown.items()}
    lines = [f"{'':<20}" + "".join(f"{env:>{width[env]}}" for env in shown)]
    for name in names:
        lines.append(f"{flag(name):<20}" + "".join(f"{shown[env][name]:>{width[env]}}" for env in shown))
    return "\n".join(lines)


def flag_text(value):
    """A setting as its flag takes it: layer widths as 64,64 (none for no layer), anything else as str()."""
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


# ---- the algorithm -----------------------------------------------------------------------------------

POLICY_STREAM, CRITIC_STREAM, EVALUATION_STREAM = 2025, 2026, 2024  # seeded (--seed, this number[, iteration])

def make_policy(env, name, hidden=()):
    """Softmax over discrete actions, Gaussian over continuous ones; linear, or on tanh layers of widths `hidden`,
    which take the observation divided by the env's fixed scales where it has them (observation_scale)."""
    discrete = hasattr(env, "n_actions")
    if (name == "softmax") != discrete:
        raise ValueError(f"policy {name!r} does not fit this env's {'discrete' if discrete else 'continuous'} actions")
    policy = SoftmaxPolicy if discrete else GaussianPolicy
    return policy(env.observation_dim, env.n_actions if discrete else env.action_dim, hidden,
                  getattr(env, "observation_scale", None) if hidden else None)


def bootstraps_time_limit(env):
    """Whether V(s_T) of a path cut by env's time limit is bootstrapped: cart-pole's 500 steps stand in for
    balancing forever; a tabular env's limit is the horizon H of the exact U(theta) it is judged by, after
    which nothing is collected (V(s_H) = 0)."""
    return not hasattr(env, "P")


def make_value(config, env):
    """What psi subtracts, learning from each batch after its psi is formed: b of Eqs. (9)-(10), or V of
    Eqs. (13)-(15)."""
    if critic_kind(config) == "network":  # its init and shuffles from a stream of its own
        return NetworkCritic(env.observation_dim, np.random.default_rng([config.seed, CRITIC_STREAM]),
                             config.critic_hidden, config.critic_lr, config.critic_epochs, config.critic_minibatches,
                             config.critic_batches, getattr(env, "observation_scale", None),
                             bootstrap_truncated=bootstraps_time_limit(env))
    if critic_kind(config) == "td":
        return TDCritic(env.observation_dim, lr=config.critic_lr, bootstrap_truncated=bootstraps_time_limit(env))
    if critic_kind(config) == "regression":
        return RegressionCritic(env.observation_dim, bootstrap_truncated=bootstraps_time_limit(env))
    baselines = {"reinforce": LeaveOneOutMean, "mean-baseline": TimeIndexedBaseline, "baseline": LinearValueBaseline}
    return baselines.get(config.estimator, Constant)()


def make_sampler(config, env):
    """PPO's batches of n envs x T steps: stepped together on the env's vector (its vectorised twin, or a Gymnasium
    env's copies stepped in turn), else, on a tabular env, one by one."""
    if config.env in envs.VECTOR_NAMES or envs.is_gymnasium(config.env):
        return LockStep(envs.make_vector(config.env, config.envs), config.seed)
    return OneByOne(lambda: envs.make(config.env), config.envs, config.seed)


def estimator_psi(config, policy, theta, paths, value):
    """psi_t for every step of the batch, by the estimator the config names."""
    if config.estimator == "reinforce":
        return estimators.total_return_psi(paths, config.gamma, value)  # Eq. (9), the others' mean return
    if config.estimator == "actor-critic":
        return estimators.advantage_psi(paths, value, config.gamma, config.lam)  # Eq. (13)
    if config.estimator == "importance":
        return estimators.per_decision_psi(policy, theta, paths, config.gamma)  # Eq. (8)
    return estimators.reward_to_go_psi(paths, config.gamma, value)  # Eq. (10): b = 0, b_t, or V(s, t)


def step(config, optimizer, policy, theta, gradient, paths, psi):
    """The next theta: Adam or SGD, or the natural step on the batch's Fisher matrix, Eqs. (16)-(19)."""
    if optimizer is not None:
        return optimizer.step(theta, gradient)
    fisher = batch_fisher(policy, theta, paths)  # a matrix for a linear policy, products F v for a network
    if config.optimizer == "capped-natural":
        return theta + natural_step(fisher, gradient, config.kl, lr=config.lr, iterations=config.cg_iterations)
    direction = natural_step(fisher, gradient, config.kl, iterations=config.cg_iterations)  # Eq. (17)
    if config.optimizer == "natural":
        return theta + config.lr * direction
    return trust_region_step(policy, theta, direction, paths, psi, config.kl)  # Eq. (18)


def divergence_cause(config, theta_is_loaded):
    """The settings that sized the step whose numbers overflowed: the entropy bonus's coefficient, the KL radius,
    the step size, and the theta the run started from when it diverged at once."""
    causes = [f"--entropy {config.entropy:g} (it scales the entropy bonus's gradient)"] if config.entropy else []
    # delta sizes their step, sqrt(2 delta / x^T F x) x, which natural then multiplies by lr
    if config.optimizer in ("natural", "trust-region"):
        causes.append(f"the KL radius --kl {config.kl:g}")
    if config.optimizer != "trust-region":
        causes.append(f"the step size --lr {config.lr:g}")
    start = f"; or the theta loaded from {config.load} is too large" if theta_is_loaded else ""
    return " or ".join(causes) + " is likely too large" + start


def batches_kept(config):
    """How many batches psi weighs at once: --reuse for the importance estimator, else the newest alone."""
    return config.reuse if config.estimator == "importance" else 1


def reused(recent, paths):
    """The paths psi weighs: this batch, and for the importance estimator the --reuse - 1 drawn before it."""
    recent.append(paths)
    return [path for batch in recent for path in batch]


def train(config, theta=None, progress=None, stop_when_solved=True, stop_early=True, value_weights=None):
    """Run the training loop of `config` from theta, by default the policy's initial_theta (zeros for a linear
    policy, drawing nothing; a network's init from a stream of its own), and from the critic's value_weights if
    given; never touches the disk.

    After every iteration progress(log_row, training_seconds, theta) is called if given; if it returns True,
    training stops there. With stop_when_solved, training stops at the first evaluation that finds the env
    solved. Time spent judging or inside progress is not training time.
    """
    env = envs.make(config.env)
    policy, rng = make_policy(env, config.policy, config.hidden), np.random.default_rng(config.seed)
    value = make_value(config, env)
    if value_weights is not None:
        value.load_weights(value_weights)
    optimizer = make_optimizer(config.optimizer, config.lr) if config.optimizer in OPTIMIZER_NAMES else None
    sampler = make_sampler(config, env) if config.estimator == "ppo" else None
    recent = collections.deque(maxlen=batches_kept(config))
    theta_loaded = theta is not None
    theta = policy.initial_theta(np.random.default_rng([config.seed, POLICY_STREAM])) if theta is None else theta
    judge, run = Judge(config, env, policy, stop_early), Run(theta, [], "cap", 0.0)
    start, outside = time.perf_counter(), 0.0
    try:
        for iteration in range(1, config.iterations + 1):
            theta_old = theta
            with np.errstate(over="raise", invalid="raise"):  # a NaN or inf is divergence, reported as such
                # ---- the algorithm: one iteration ----
                if config.estimator == "ppo":
                    paths = sampler.sample(policy, theta, config.steps)  # tau ~ P(tau; theta), Eq. (2)
                    steps = Steps.of(paths)
                    advantages = np.concatenate(estimators.advantage_psi(paths, value, config.gamma, config.lam))
                    for epoch in range(config.epochs):  # K passes over the batch ...
                        for rows in np.array_split(rng.permutation(len(steps)), config.minibatches):  # ... shuffled
                            minibatch, advantage = steps.take(rows), advantages[rows]
                            advantage = estimators.normalised(advantage) if config.normalise else advantage
                            psi = estimators.ppo_psi(policy, theta, minibatch, advantage, config.clip)  # Eq. (21)
                            gradient = policy_gradient(policy, theta, [minibatch], [psi])  # Eqs. (3)-(4)
                            if config.entropy:
                                gradient = gradient + config.entropy * policy.path_entropy_gradients(
                                    theta, minibatch.observations).mean(axis=0)
                            theta = optimizer.step(theta, gradient)
                        if config.target_kl and mean_kl(policy, theta, theta_old, paths) > config.target_kl:
                            break
                else:
                    paths = sample_paths(env, policy, theta, config.episodes, rng,
                                         min_steps=config.batch_steps)  # tau ~ P(tau; theta), Eq. (2)
                    batch = reused(recent, paths)
                    psi = estimator_psi(config, policy, theta, batch, value)  # psi_t, Eqs. (5)-(13)
                    gradient = policy_gradient(policy, theta, batch, psi)  # Eqs. (3)-(4)
                    theta = step(config, optimizer, policy, theta, gradient, batch, psi)  # Adam, or Eqs. (17)-(19)
                value.fit(paths, config.gamma)  # b or V learns from the batch, after its psi was formed
            # ---- plumbing: judge, log, progress ----
            run.theta, entered = theta, time.perf_counter()
            solved, row = judge.log_row(iteration, paths, gradient, theta, theta_old, run.log)
            run.log.append(row)
            stop = progress(row, entered - start - outside, theta) if progress else False
            outside += time.perf_counter() - entered
            if stop:
                break
            if solved and stop_when_solved:
                run.status = "solved"
                break
    except FloatingPointError:
        run.status, run.message = "diverged", f"iteration {iteration}: theta or its gradient is not finite; " + \
            divergence_cause(config, theta_is_loaded=iteration == 1 and theta_loaded)
    except KeyboardInterrupt:
        run.status, run.message = "interrupted", "interrupted: stopped after saving the last finite theta"
    run.seconds, run.eval_seconds = time.perf_counter() - start - outside, judge.seconds
    run.value_weights = getattr(value, "weights", None) if critic_kind(config) else None
    return run


# ---- how an iteration is judged, and what the log keeps of it -------------------------------------------

SOLVED_RETURN = {  # the mean return of EVAL_EPISODES sampled episodes that solves an env
    "cartpole": 475.0, "cartpole-continuous": 475.0,  # Gymnasium's reward_threshold of CartPole-v1
    "acrobot": -100.0,  # Gymnasium's reward_threshold of Acrobot-v1
    "pendulum": -200.0,  # ours: Gymnasium gives Pendulum-v1 none
}
EVAL_EPISODES = 100


def evaluated(env_name):
    """Whether a run on env_name is judged by evaluation episodes (a simulated env), not by the exact U(theta)."""
    return env_name in SOLVED_RETURN or envs.is_gymnasium(env_name)


def solved_return(env_name, env):
    """The evaluation's mean return that solves env: SOLVED_RETURN's, or a Gymnasium env's spec's reward_threshold
    (None where it has none: never solved)."""
    return SOLVED_RETURN[env_name] if env_name in SOLVED_RETURN else getattr(env, "reward_threshold", None)


@dataclasses.dataclass
class LogRow:
    """One iteration of a run, as the CSV log, the progress line and the bench read it."""

    iteration: int
    env_steps: int
    paths: int  # paths drawn so far: whole episodes, or PPO's segments of n envs x T steps
    mean_return: float  # of the batch's paths
    std_return: float
    min_return: float
    max_return: float
    gradient_norm: float  # PPO: of the last minibatch's gradient
    kl: float  # PPO: mean KL(pi_old || pi) over the batch's states after the passes; else nan
    clip_fraction: float  # PPO: the share of the batch's ratios outside 1 +- epsilon after the passes; else nan
    eval_mean_return: float  # 100 evaluation episodes (nan once the threshold was out of reach); tabular: nan
    eval_env_steps: int  # evaluation steps so far, not counted in env_steps
    exact_return: float  # tabular envs: U(theta) by the oracle; else nan


@dataclasses.dataclass
class Run:
    """What a training run produced: theta, one log row per iteration, and how it ended."""

    theta: np.ndarray
    log: list
    status: str  # "solved", "cap", "diverged" or "interrupted"
    seconds: float  # training alone
    eval_seconds: float = 0.0
    message: str = ""
    value_weights: np.ndarray = None  # the critic's, saved with theta (None without a critic)


def evaluate_solved(vector, threshold, policy, theta, rng, stop_early=True):
    """(solved, mean return, env steps) of one episode of pi_theta in each row of the vector env, stepped together;
    solved if their mean return reaches the threshold.

    With stop_early the episodes stop as soon as the mean can no longer reach it (mean return nan), the verdict
    unchanged: an episode still running collects at most the env's max_step_reward a step up to the time limit.
    """
    episodes = vector.n
    observations = vector.reset(rng.integers(2**32, size=episodes))
    returns, steps, target, running = np.zeros(episodes), 0, threshold * episodes, episodes
    while running:
        steps += running
        observations, rewards, _, _ = vector.step(policy.act_batch(theta, observations, rng))
        returns += rewards
        running = episodes - np.count_nonzero(vector.done)
        if stop_early:
            still_to_earn = np.sum(vector.max_step_reward * (vector.max_episode_steps - vector.steps)[~vector.done])
            if returns.sum() + still_to_earn < target:
                return False, float("nan"), steps
    return bool(returns.sum() >= target), float(returns.mean()), steps


class Judge:
    """After each iteration: a simulated env's evaluation (is it solved?) or a tabular env's exact U(theta), and the
    iteration's log row. Evaluation k draws from its own stream, seeded by (seed, 2024, k), so an evaluation
    stopped early (train) and one run to the end (bench) leave the next one's draws alike. An env without a
    threshold is judged by the evaluation's mean return, never stopped early and never solved."""

    def __init__(self, config, env, policy, stop_early=True):
        self.config, self.env, self.policy = config, env, policy
        self.threshold = solved_return(config.env, env) if evaluated(config.env) else None
        self.stop_early = stop_early and self.threshold is not None
        self.vector = envs.make_vector(config.env, EVAL_EPISODES) if evaluated(config.env) else None
        self.env_steps, self.episodes, self.seconds = 0, 0, 0.0

    def log_row(self, iteration, paths, gradient, theta, theta_old, log):
        """(solved, LogRow) of the iteration that turned theta_old into theta with `paths`."""
        start = time.perf_counter()
        solved, eval_mean_return, eval_steps, exact_return = False, float("nan"), 0, float("nan")
        if self.vector is not None:  # without a threshold, infinity: never reached
            solved, eval_mean_return, eval_steps = evaluate_solved(
                self.vector, np.inf if self.threshold is None else self.threshold, self.policy, theta,
                np.random.default_rng([self.config.seed, EVALUATION_STREAM, iteration - 1]), self.stop_early)
        elif hasattr(self.env, "P"):
            exact_return = exact.expected_return(self.env, self.policy, theta, self.env.max_episode_steps,
                                                 self.config.gamma)
        kl = clip_fraction = float("nan")
        if self.config.estimator == "ppo":
            kl = float(mean_kl(self.policy, theta, theta_old, paths))
            ratios = np.exp(np.concatenate([estimators.log_ratios(self.policy, theta, path) for path in paths]))
            clip_fraction = float(np.mean(np.abs(ratios - 1.0) > self.config.clip))
        self.env_steps += eval_steps
        self.seconds += time.perf_counter() - start
        returns = [float(path.rewards.sum()) for path in paths]
        previous = log[-1] if log else None
        row = LogRow(iteration, (previous.env_steps if previous else 0) + sum(len(path) for path in paths),
                     (previous.paths if previous else 0) + len(paths), float(np.mean(returns)),
                     float(np.std(returns)), min(returns), max(returns),
                     float(np.sqrt(np.sum(gradient**2))), kl, clip_fraction, eval_mean_return, self.env_steps,
                     exact_return)
        return solved, row


# ---- the command: files, progress, summary ---------------------------------------------------------------

def network_of(checkpoint, path, given):
    """The loaded policy's tanh layers, as a setting: the checkpoint's `hidden` (none in one older than networks)
    unless --hidden names the same; a different --hidden is refused by name."""
    stored = checkpoint.config.get("hidden", [])
    if not isinstance(stored, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                                                 for n in stored):
        raise ValueError(f"checkpoint {path}: its config's hidden must be a list of layer widths, got {stored!r}")
    if "hidden" in given and given["hidden"] != tuple(stored):
        raise ValueError(f"--hidden {','.join(map(str, given['hidden'])) or 'none'}: checkpoint {path} holds a policy "
                         f"with hidden layers {','.join(map(str, stored)) or 'none'}")
    return {"hidden": tuple(stored)}


def critic_of(checkpoint, config):
    """The critic weights the checkpoint kept, if its critic is the one this run builds (same kind, same layers),
    else None: a run with another critic starts its own."""
    saved = (checkpoint.config.get("estimator") in ("actor-critic", "ppo"), checkpoint.config.get("critic"),
             tuple(checkpoint.config.get("critic_hidden", [])))
    if checkpoint.value is None or saved != (critic_kind(config) is not None, config.critic, config.critic_hidden):
        return None
    return checkpoint.value


def load_theta(config, checkpoint, env, policy):
    """theta of --load, refusing a checkpoint written for another env or policy, of the wrong size, or whose policy
    is not finite."""
    if (checkpoint.env, checkpoint.policy) != (config.env, config.policy):
        raise ValueError(f"checkpoint {config.load} is for env {checkpoint.env!r} with policy {checkpoint.policy!r}, "
                         f"not env {config.env!r} with policy {config.policy!r}")
    return fitting_theta(checkpoint, config.load, env, policy)


def fitting_theta(checkpoint, path, env, policy):
    """The checkpoint's theta if it has the policy's size and gives finite probabilities where the policy acts (every
    state of a tabular env; the states of one episode elsewhere), else ValueError naming the file."""
    if checkpoint.theta.shape != (policy.n_params,):
        raise ValueError(f"checkpoint {path}: theta has shape {checkpoint.theta.shape}, the {checkpoint.policy} "
                         f"policy on {checkpoint.env} needs ({policy.n_params},)")
    with acting_finitely(path, checkpoint.theta):
        if hasattr(env, "P"):
            exact.policy_table(env, policy, checkpoint.theta)
        else:
            sample_paths(env, policy, checkpoint.theta, 1, np.random.default_rng(0))
    return checkpoint.theta


@contextlib.contextmanager
def acting_finitely(path, theta):
    """A NaN or an overflow while the theta loaded from path acts becomes one line naming the checkpoint: a finite but
    huge theta (1e308, say) overflows W phi~ and leaves no probability to draw from."""
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError:
        raise ValueError(f"checkpoint {path}: its theta (largest |theta_i| = {np.max(np.abs(theta)):.3g}) makes the "
                         "policy overflow: it gives no finite probabilities at a state it reaches") from None


class ModeOf:
    """A policy acting by its mode (argmax pi, or the mean action) instead of sampling, for --eval --deterministic;
    everything else, its log-probabilities included, is the policy's own."""

    def __init__(self, policy):
        self.policy = policy

    def act(self, theta, obs, rng):
        return self.policy.deterministic_action(theta, obs)

    def __getattr__(self, name):
        return getattr(self.policy, name)


def output_names(config):
    """The files a run writes into config.out: its CSV log, its checkpoint, its learning curve, named after the env
    (a Gymnasium env's id with every character a file name may not hold, ':' and '/' among them, as '_')."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", config.env)
    return [stem + extension for extension in (".csv", ".npz", ".png")]


def write_outputs(run, config, threshold=None):
    """The CSV log, the checkpoint and (if an iteration finished) the learning-curve PNG with the threshold's line,
    written together into config.out: an older run's PNG is removed. Returns the paths written."""
    paths = [os.path.join(config.out, name) for name in output_names(config)]
    columns = [field.name for field in dataclasses.fields(LogRow)]
    with writing_together(paths):
        write_csv(paths[0], columns, [[getattr(row, name) for name in columns] for row in run.log])
        save_checkpoint(paths[1], run.theta, config.env, config.policy, dataclasses.asdict(config), run.value_weights)
        if run.log:
            column = lambda name: np.array([getattr(row, name) for row in run.log])  # noqa: E731
            judged, label = ((column("eval_mean_return"), "evaluation: mean of 100 episodes (finished ones)")
                             if evaluated(config.env) else (column("exact_return"), "exact U(θ), the oracle"))
            plot_learning_curve(column("env_steps"), column("mean_return"), column("min_return"),
                                column("max_return"), paths[2], f"minipg: {config.estimator} on {config.env}",
                                threshold=threshold, judged=judged, judged_label=label, batch=batch_name(config))
    return paths if run.log else paths[:2]


def batch_name(config):
    """What the learning curve's batch returns are of: whole episodes, or PPO's paths cut at the batch's end."""
    if config.estimator != "ppo":
        return "the batch"
    return f"the batch's paths (cut at {config.steps} steps)"


def judgement(row, threshold):
    """The evaluation's mean return, or the exact U(theta), or '< 475' (the threshold) for an evaluation stopped
    early."""
    if not np.isnan(row.exact_return):
        return f"{row.exact_return:.4f}"
    return f"< {threshold:g}" if np.isnan(row.eval_mean_return) else f"{row.eval_mean_return:.1f}"


def progress_line(row, elapsed, threshold):
    return (f"{row.iteration:6d} {row.env_steps:10d} {row.mean_return:12.1f} {judgement(row, threshold):>12} "
            f"{row.gradient_norm:10.3g} {elapsed:8.1f}")


def summary(run, config, written, threshold=None):
    """The closing line: how the run ended, what it cost, how it was judged (against `threshold`, the evaluation's
    mean return that solves the env), and what was written."""
    row = run.log[-1] if run.log else None
    cost = f"{len(run.log)} iterations, {row.env_steps if row else 0} env steps, {run.seconds:.2f} s"
    if evaluated(config.env):
        judged = (f"evaluation mean return {judgement(row, threshold)} over {EVAL_EPISODES} episodes "
                  f"(+{row.eval_env_steps} env steps, {run.eval_seconds:.2f} s)" if row else "no evaluation")
        judged += "" if threshold is not None else ("; never solved: its spec gives no reward_threshold, so the run "
                                                    "goes to its iteration cap")
    else:
        judged = f"exact U(theta) {row.exact_return:.4f}" if row else "no iteration"
    return f"{run.status}: {config.env} after {cost}; {judged}; wrote {', '.join(written)}"


ROW_BYTES, PATH_BYTES = 512, 1024  # a LogRow held in memory, a Path's objects besides its arrays (measured)


def batch_bytes(env, episodes, min_steps=0, horizon=None):
    """At most what one batch of whole episodes holds: >= `episodes` paths of <= H steps and >= min_steps steps in
    all, so at most max(episodes, min_steps) paths and max(episodes H, min_steps + H) steps, each an observation,
    an action, a reward, log pi and psi (float64)."""
    horizon = horizon or env.max_episode_steps
    steps = max(episodes * horizon, min_steps + horizon)
    return max(episodes, min_steps) * PATH_BYTES + steps * 8 * (env.observation_dim + 4)


def run_bytes(config, env):
    """At most what a run's counts ask of memory: the batches it holds at once (importance keeps --reuse of
    them; PPO's is --envs x --steps) and its log, a row per iteration."""
    if config.estimator == "ppo":
        batch = config.envs * config.steps * (PATH_BYTES + 8 * (env.observation_dim + 8))
    else:
        batch = batches_kept(config) * batch_bytes(env, config.episodes, config.batch_steps)
    return batch + config.iterations * ROW_BYTES


def main(argv=None):
    env_name, given = parse_flags(argv)
    checkpoint = load_checkpoint(given["load"]) if given.get("load") else None
    config = settings(env_name, **{**given, **(network_of(checkpoint, given["load"], given) if checkpoint else {})})
    env = envs.make(config.env)
    policy = make_policy(env, config.policy, config.hidden)
    theta = load_theta(config, checkpoint, env, policy) if checkpoint else None
    threshold = solved_return(config.env, env) if evaluated(config.env) else None
    if config.eval:
        check_memory("--eval", batch_bytes(env, config.eval))
        with acting_finitely(config.load, theta):
            returns = [estimators.path_return(path) for path in sample_paths(
                env, ModeOf(policy) if config.deterministic else policy, theta, config.eval,
                np.random.default_rng(config.seed))]
        print(f"{config.env}: mean return {np.mean(returns):.1f} ± {np.std(returns):.1f} over {config.eval} episodes"
              + (" acting by the mode" if config.deterministic else ""))
        return 0
    check_memory("--episodes, --batch-steps, --envs, --steps, --iterations and --reuse", run_bytes(config, env))
    check_output_dir("--out", config.out, output_names(config))
    printer = None if config.quiet else Progress(1.0, f"{'iter':>6} {'env steps':>10} {'mean return':>12} "
                                                   f"{'eval return' if evaluated(config.env) else 'exact U':>12} "
                                                   f"{'|grad|':>10} {'seconds':>8}")
    run = train(config, theta, progress=printer and (lambda row, elapsed, theta: printer.show(
        elapsed, progress_line(row, elapsed, threshold))), value_weights=checkpoint and critic_of(checkpoint, config))
    print(summary(run, config, write_outputs(run, config, threshold), threshold))
    if run.message:
        print(run.message, file=sys.stderr)
    return {"diverged": 1, "interrupted": interrupt_status()}.get(run.status, 0)


if __name__ == "__main__":
    from minipg.io.cli import run_cli

    sys.exit(run_cli(main))
