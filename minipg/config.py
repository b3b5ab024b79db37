"""A run's settings, and the pieces they name: the policy pi_theta, its weights psi, and its step.

`Config` holds every setting with its default and help text (the train command's flags are built
from it); `build` turns a Config into the pieces the training loop calls, once.
"""
import argparse
import collections
import dataclasses

import envs
from minipg import estimators
from minipg.baselines import LeaveOneOutMean, LinearValueBaseline, TimeIndexedBaseline
from minipg.io.cli import Parser, non_negative_int, positive_float, positive_int
from minipg.critics import RegressionCritic, TDCritic
from minipg.natural import fisher_matrix, natural_step, trust_region_step
from minipg.optim import OPTIMIZER_NAMES, make_optimizer
from minipg.policies import GaussianPolicy, SoftmaxPolicy

ESTIMATOR_NAMES = ("reinforce", "reward-to-go", "mean-baseline", "baseline", "actor-critic", "importance")
POLICY_NAMES = ("softmax", "gaussian")
CRITIC_NAMES = ("regression", "td")
UPDATE_NAMES = OPTIMIZER_NAMES + ("natural", "capped-natural", "trust-region")


OWN_LR = {"sgd": 0.01, "adam": 0.001, "natural": 1.0, "capped-natural": 0.01}  # trust-region has no step size


def _flag(default, help_text, **kwargs):
    return dataclasses.field(default=default, metadata={"help": help_text, **kwargs})


@dataclasses.dataclass
class Config:
    """Every setting of a run, with its help text; argparse is built from this.

    A setting left at None takes its env's value from ENV_DEFAULTS (see `resolve`).
    """

    env: str = _flag("cartpole", "environment: " + ", ".join(envs.ENV_NAMES))
    policy: str = _flag(None, "softmax or gaussian (default: softmax for discrete actions, gaussian otherwise)")
    estimator: str = _flag(None, "gradient estimator: " + ", ".join(ESTIMATOR_NAMES))
    critic: str = _flag("regression", "actor-critic's V: regression (ridge fit of V(s) to bootstrapped returns) "
                        "or td (TD(0) on V(s, t))")
    optimizer: str = _flag(None, "optimizer: " + ", ".join(UPDATE_NAMES))
    lr: float = _flag(None, "step size of the optimizer (natural: a multiple of the KL-sized step; capped-natural: "
                      "lr F^-1 g; trust-region has none); the env's with the env's optimizer, else the "
                      "optimizer's own: " + ", ".join(f"{name} {lr}" for name, lr in OWN_LR.items()),
                      type=positive_float)
    kl: float = _flag(0.01, "natural, capped-natural and trust-region: KL radius delta of a step",
                      type=positive_float)
    iterations: int = _flag(None, "iteration cap", type=positive_int)
    episodes: int = _flag(None, "at least m episodes per iteration", type=positive_int)
    batch_steps: int = _flag(None, "and more episodes until the batch holds at least this many env steps",
                             type=non_negative_int)
    gamma: float = _flag(None, "discount factor in (0, 1]")
    lam: float = _flag(1.0, "GAE lambda of the actor-critic advantage, in [0, 1]")
    critic_lr: float = _flag(0.1, "td critic: normalised TD(0) step, in (0, 1]", type=positive_float)
    reuse: int = _flag(3, "importance estimator: number of recent batches reused", type=positive_int)
    seed: int = _flag(0, "seed of every random number of the run", type=non_negative_int)
    out: str = _flag("plots", "directory for the plot, the CSV log and the checkpoint")
    load: str = _flag(None, "start from the theta of this checkpoint (.npz)")
    eval: int = _flag(0, "with --load: only evaluate the loaded theta for this many episodes", type=non_negative_int)
    quiet: bool = _flag(False, "print no progress lines")


_CARTPOLE = {"estimator": "actor-critic", "optimizer": "adam", "lr": 0.2, "iterations": 300,
             "episodes": 2, "batch_steps": 0, "gamma": 0.99}
ENV_DEFAULTS = {  # each env's own settings: what `python -m minipg.train --env E` runs with no other flag
    "cartpole": _CARTPOLE,
    "cartpole-continuous": {**_CARTPOLE, "optimizer": "capped-natural", "lr": 0.01, "episodes": 1,
                            "batch_steps": 500},
    "gridworld": {"estimator": "baseline", "optimizer": "adam", "lr": 0.3, "iterations": 400, "episodes": 20,
                  "batch_steps": 0, "gamma": 1.0},
    "corridor": {"estimator": "baseline", "optimizer": "adam", "lr": 0.01, "iterations": 500, "episodes": 20,
                 "batch_steps": 0, "gamma": 1.0},
}


def resolve(config):
    """config with every None setting taken from its env's defaults; lr is the env's only with the env's optimizer,
    else the optimizer's own (natural: 1, the KL-sized step itself); trust-region takes none."""
    defaults = ENV_DEFAULTS[config.env]
    filled = {name: value for name, value in defaults.items() if getattr(config, name) is None}
    optimizer = config.optimizer or defaults["optimizer"]
    if optimizer == "trust-region":
        if config.lr is not None:
            raise ValueError("--lr: trust-region has no step size; its step is set by the KL radius --kl")
        filled["lr"] = None
    elif config.lr is None and optimizer != defaults["optimizer"]:
        filled["lr"] = OWN_LR.get(optimizer)
    return dataclasses.replace(config, **filled)


def defaults_table():
    """ENV_DEFAULTS as aligned text, one row per env, for --help."""
    names = list(_CARTPOLE)
    lines = [f"{'env':<20}" + "".join(f"{name.replace('_', '-'):>15}" for name in names)]
    for env, defaults in ENV_DEFAULTS.items():
        lines.append(f"{env:<20}" + "".join(f"{defaults[name]!s:>15}" for name in names))
    return "\n".join(lines)


def _check_name(value, names, what):
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; known {what}s: {', '.join(names)}")


def check_config(config):
    """Raise ValueError naming the first bad setting of a resolved config; nothing has been written yet."""
    if config.policy is not None:
        _check_name(config.policy, POLICY_NAMES, "policy")
    _check_name(config.estimator, ESTIMATOR_NAMES, "estimator")
    _check_name(config.critic, CRITIC_NAMES, "critic")
    _check_name(config.optimizer, UPDATE_NAMES, "optimizer")
    if config.optimizer == "trust-region" and config.estimator == "importance":
        raise ValueError("trust-region checks its step on paths sampled at the current theta; "
                         "the importance estimator reuses older batches")
    if not 0.0 < config.gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {config.gamma}")
    if not 0.0 <= config.lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {config.lam}")
    if not 0.0 < config.critic_lr <= 1.0:
        raise ValueError(f"critic-lr must be in (0, 1], got {config.critic_lr}")
    if config.eval < 0 or (config.eval and config.load is None):
        raise ValueError("eval takes a positive episode count and needs --load")


def make_policy(env, name=None):
    """The linear policy for env: softmax over discrete actions, Gaussian over continuous ones."""
    discrete = hasattr(env, "n_actions")
    name = name or ("softmax" if discrete else "gaussian")
    if (name == "softmax") != discrete:
        raise ValueError(f"policy {name!r} does not fit this env's {'discrete' if discrete else 'continuous'} actions")
    if name == "softmax":
        return SoftmaxPolicy(env.observation_dim, env.n_actions)
    return GaussianPolicy(env.observation_dim, env.action_dim)


Batch = collections.namedtuple("Batch", "paths weights")  # the paths a gradient sums over, and psi per path


def bootstraps_time_limit(env):
    """Whether V(s_T) of a path cut by env's time limit is bootstrapped: cart-pole's 500 steps stand in for
    balancing forever; a tabular env's limit is the horizon H of the exact U(theta) it is judged by, after
    which nothing is collected (V(s_H) = 0)."""
    return not hasattr(env, "P")


def make_critic(config, env):
    """Actor-critic's V, by the config's --critic: the TD(0) critic of Eq. (14) or the regression critic of Eq. (19)."""
    bootstrap = bootstraps_time_limit(env)
    if config.critic == "td":
        return TDCritic(env.observation_dim, lr=config.critic_lr, bootstrap_truncated=bootstrap)
    return RegressionCritic(env.observation_dim, bootstrap_truncated=bootstrap)


def make_weigh(config, policy, env):
    """weigh(theta, paths) -> Batch: psi_t for every step, by the estimator the config names.

    Baselines and critics learn AFTER psi is formed, so each batch is weighed by a value function
    fitted on earlier batches only.
    """
    gamma = config.gamma
    if config.estimator == "reinforce":
        return lambda theta, paths: Batch(paths, estimators.total_return_psi(paths, gamma, LeaveOneOutMean()))
    if config.estimator == "reward-to-go":
        return lambda theta, paths: Batch(paths, estimators.reward_to_go_psi(paths, gamma))
    if config.estimator == "mean-baseline":
        baseline = TimeIndexedBaseline()
        return lambda theta, paths: Batch(paths, estimators.reward_to_go_psi(paths, gamma, baseline))
    if config.estimator == "baseline":
        baseline = LinearValueBaseline()

        def weigh(theta, paths):
            weights = estimators.reward_to_go_psi(paths, gamma, baseline)
            baseline.fit(paths, gamma)
            return Batch(paths, weights)

        return weigh
    if config.estimator == "actor-critic":
        critic = make_critic(config, env)

        def weigh(theta, paths):
            weights = estimators.advantage_psi(paths, critic, gamma, config.lam)
            critic.fit(paths, gamma)
            return Batch(paths, weights)

        return weigh
    recent = collections.deque(maxlen=config.reuse)

    def weigh(theta, paths):
        """Eq. (8) over this batch and the reuse - 1 before it, each path weighed against the theta that drew it."""
        recent.append(paths)
        reused = [path for old_paths in recent for path in old_paths]
        return Batch(reused, estimators.per_decision_psi(policy, theta, reused, gamma))

    return weigh


def make_step(config, policy):
    """step(theta, gradient, batch) -> the next theta, by the optimizer the config names."""
    lr = config.lr
    if config.optimizer in OPTIMIZER_NAMES:
        optimizer = make_optimizer(config.optimizer, lr)
        return lambda theta, gradient, batch: optimizer.step(theta, gradient)

    def step(theta, gradient, batch):
        fisher = fisher_matrix(policy, theta, batch.paths)
        if config.optimizer == "capped-natural":
            return theta + natural_step(fisher, gradient, config.kl, lr=lr)
        direction = natural_step(fisher, gradient, config.kl)
        if config.optimizer == "natural":
            return theta + lr * direction
        return trust_region_step(policy, theta, direction, batch.paths, batch.weights, config.kl)

    return step


Pieces = collections.namedtuple("Pieces", "env policy weigh step")  # what the training loop calls


def build(config):
    """The config with every setting resolved, and the pieces of the run it describes."""
    _check_name(config.env, envs.ENV_NAMES, "env")
    config = resolve(config)
    check_config(config)
    env = envs.make(config.env)
    policy = make_policy(env, config.policy)
    config = dataclasses.replace(config, policy="softmax" if isinstance(policy, SoftmaxPolicy) else "gaussian")
    return config, Pieces(env, policy, make_weigh(config, policy, env), make_step(config, policy))


def parse_config(argv, prog="python -m minipg.train", description=None):
    """A Config from command-line flags, one per field."""
    parser = Parser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="Defaults per env (a flag given on the command line overrides them):\n" + defaults_table())
    for field in dataclasses.fields(Config):
        flag = "--" + field.name.replace("_", "-")
        if field.type is bool:
            parser.add_argument(flag, action="store_true", help=field.metadata["help"])
        else:
            kind = field.metadata.get("type", field.type)
            shown = f" (default {field.default})" if field.default is not None else ""
            parser.add_argument(flag, type=kind, default=field.default, help=field.metadata["help"] + shown)
    return Config(**vars(parser.parse_args(argv)))
