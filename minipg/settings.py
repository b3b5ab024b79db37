"""Every setting of a training run, each env's complete setting, and the one check every setting passes.

`python -m minipg.train` builds its flags from `Config`; `settings(env, **given)` is the env's own setting with the
given ones changed, checked before any work: a number outside its interval (NaN included), an unknown name, or a
setting the run would not read is refused in one line that names it.
"""
import dataclasses
import math
import numbers

import envs
from minipg.optim import OPTIMIZER_NAMES

POLICIES = ("softmax", "gaussian")
ESTIMATORS = ("reinforce", "reward-to-go", "mean-baseline", "baseline", "actor-critic", "importance", "ppo")
OPTIMIZERS = OPTIMIZER_NAMES + ("natural", "capped-natural", "trust-region")
OWN_LR = {"adam": 0.001, "sgd": 0.01, "natural": 1.0, "capped-natural": 0.01, "trust-region": 0.0}
CRITIC_LR = {"td": 0.1, "network": 0.001}  # the TD step of Eq. (14); the network critic's Adam step
MAX_EPOCHS = 1000  # PPO's passes over one batch: past a few dozen every ratio is clipped; 10^9 would never end


def _setting(help_text, within=None):
    """A field of Config: its help text and, for a number, the interval it must lie in, written as '(0, 1]'."""
    return dataclasses.field(metadata={"help": help_text, "within": within})


@dataclasses.dataclass(frozen=True)
class Config:
    """Every setting of a run, with its help text; the train command's flags are built from it."""

    env: str = _setting("environment: " + ", ".join(envs.ENV_NAMES) + ", or gymnasium:ID, a Gymnasium env with a 1-D "
                        "Box observation (needs Gymnasium), on cartpole's setting for a Discrete action and "
                        "cartpole-continuous's for a Box one, solved at its spec's reward_threshold (none: never)")
    policy: str = _setting("softmax (discrete actions) or gaussian (continuous)")
    hidden: tuple = _setting("the policy's tanh layers, e.g. 64,64 (none: linear in the observation)")
    estimator: str = _setting("psi: reinforce (Eq. 9, b = mean return of the other paths), reward-to-go (Eq. 10), "
                              "mean-baseline (Eq. 10, b_t = mean return-to-go of the other paths at t), baseline "
                              "(Eq. 10, b = V(s, t) fitted on the batch before), actor-critic (Eq. 13), importance "
                              "(Eq. 8 over the last --reuse batches), ppo (Eq. 21)")
    critic: str = _setting("actor-critic's and ppo's V: regression (Eq. 15) or td (Eq. 14)")
    critic_hidden: tuple = _setting("actor-critic, ppo: a network V's tanh layers, e.g. 64,64, fitted by Adam to "
                                    "Eq. (15)'s targets (none: --critic's V, linear in x(s))")
    optimizer: str = _setting("the step: " + ", ".join(OPTIMIZERS) + " (natural: Eq. 17; capped-natural: Eq. 19; "
                              "trust-region: Eqs. 17-18)")
    lr: float = _setting("step size: the env's with the env's optimizer, else the optimizer's own ("
                         + ", ".join(f"{name} {lr:g}" for name, lr in OWN_LR.items() if lr) + "; natural: a multiple"
                         " of the KL-sized step); trust-region has none", "(0, inf)")
    kl: float = _setting("natural, capped-natural, trust-region: the KL radius delta", "(0, inf)")
    cg_iterations: int = _setting("natural steps on a network policy: conjugate-gradient iterations", "[1, inf)")
    iterations: int = _setting("iteration cap", "[1, inf)")
    episodes: int = _setting("at least m episodes per batch", "[1, inf)")
    batch_steps: int = _setting("and more episodes until the batch holds this many env steps", "[0, inf)")
    envs: int = _setting("ppo: n envs stepped together", "[1, inf)")
    steps: int = _setting("ppo: T steps of each env per batch", "[1, inf)")
    epochs: int = _setting("ppo: K passes over each batch", f"[1, {MAX_EPOCHS}]")
    minibatches: int = _setting("ppo: shuffled minibatches per pass", "[1, inf)")
    clip: float = _setting("ppo: the clip epsilon of Eq. (21)", "(0, inf)")
    normalise: bool = _setting("ppo: advantages to mean 0 and standard deviation 1 in each minibatch")
    target_kl: float = _setting("ppo: stop the passes once the mean KL(pi_old || pi) passes this (0: never)",
                                "[0, inf)")
    entropy: float = _setting("ppo: coefficient of the entropy bonus", "[0, inf)")
    gamma: float = _setting("discount factor", "(0, 1]")
    lam: float = _setting("actor-critic, ppo: GAE lambda", "[0, 1]")
    critic_lr: float = _setting("td critic: the TD(0) step of Eq. (14); network critic: Adam's step (the critic's "
                                "own unless given: " + ", ".join(f"{name} {lr:g}" for name, lr in CRITIC_LR.items())
                                + ")", "(0, 1]")
    critic_epochs: int = _setting("network critic: passes over its batches at each fit", "[1, 1000]")
    critic_minibatches: int = _setting("network critic: shuffled minibatches per pass", "[1, inf)")
    critic_batches: int = _setting("network critic: the recent batches it fits on", "[1, inf)")
    reuse: int = _setting("importance: the number of recent batches reused", "[1, inf)")
    seed: int = _setting("seed of every random number of the run", "[0, inf)")
    out: str = _setting("directory for the plot, the CSV log and the checkpoint")
    quiet: bool = _setting("print no progress lines")
    load: str = _setting("start from the theta of this checkpoint (.npz)")
    eval: int = _setting("with --load: only evaluate the loaded theta for this many episodes", "[0, inf)")
    deterministic: bool = _setting("with --eval: act by the mode (argmax pi, or the mean action), not by sampling")


_CARTPOLE = Config(env="cartpole", policy="softmax", hidden=(), estimator="actor-critic", critic="regression",
                   critic_hidden=(), optimizer="adam", lr=0.2, kl=0.01, cg_iterations=10, iterations=300, episodes=2,
                   batch_steps=0, envs=2, steps=512, epochs=10, minibatches=4, clip=0.2, normalise=False,
                   target_kl=0.0, entropy=0.0, gamma=0.99, lam=1.0, critic_lr=0.1, critic_epochs=10,
                   critic_minibatches=8, critic_batches=3, reuse=3, seed=0, out="plots", quiet=False, load="", eval=0,
                   deterministic=False)
_CLASSIC_PPO = dataclasses.replace(  # PPO on 4 envs, advantages normalised, lambda = 0.95, as for classic control
    _CARTPOLE, estimator="ppo", envs=4, normalise=True, lam=0.95)
_NETWORK_PPO = dataclasses.replace(  # the same with a 64 x 64 tanh policy and critic
    _CLASSIC_PPO, hidden=(64, 64), critic_hidden=(64, 64), lr=0.001, critic_lr=0.001, critic_batches=1)
ENV_DEFAULTS = {  # what `python -m minipg.train --env E` runs with no other flag
    "cartpole": _CARTPOLE,
    "cartpole-continuous": dataclasses.replace(_CARTPOLE, env="cartpole-continuous", policy="gaussian",
                                               optimizer="capped-natural", lr=0.01, episodes=1, batch_steps=500),
    "gridworld": dataclasses.replace(_CARTPOLE, env="gridworld", estimator="baseline", lr=0.3, iterations=400,
                                     episodes=20, gamma=1.0),
    "corridor": dataclasses.replace(_CARTPOLE, env="corridor", estimator="baseline", lr=0.01, iterations=500,
                                    episodes=20, gamma=1.0),
    "acrobot": dataclasses.replace(_CLASSIC_PPO, env="acrobot", lr=0.05, iterations=400, steps=128, minibatches=8),
    "pendulum": dataclasses.replace(_NETWORK_PPO, env="pendulum", policy="gaussian", gamma=0.9, steps=512,
                                    minibatches=32, critic_minibatches=32),
}
PPO_SETTINGS = ("envs", "steps", "epochs", "minibatches", "clip", "normalise", "target_kl", "entropy")
EVAL_SETTINGS = ("env", "policy", "hidden", "load", "eval", "seed", "deterministic")  # all that --eval reads
USED_BY = {  # a setting given for a run that would not read it is refused by name
    **{name: (lambda c: c.estimator == "ppo", "only --estimator ppo") for name in PPO_SETTINGS},
    **{name: (lambda c: c.estimator != "ppo", "every estimator but ppo, whose batch is --envs x --steps")
       for name in ("episodes", "batch_steps")},
    "lr": (lambda c: c.optimizer != "trust-region", "every optimizer but trust-region, whose step is set by --kl"),
    "kl": (lambda c: c.optimizer in ("natural", "capped-natural", "trust-region"), "only the natural steps"),
    "critic": (lambda c: c.estimator in ("actor-critic", "ppo"), "only actor-critic and ppo"),
    "critic_hidden": (lambda c: c.estimator in ("actor-critic", "ppo"), "only actor-critic and ppo"),
    "lam": (lambda c: c.estimator in ("actor-critic", "ppo"), "only actor-critic and ppo"),
    "critic_lr": (lambda c: critic_kind(c) in CRITIC_LR, "only the td and the network critics"),
    **{name: (lambda c: critic_kind(c) == "network", "only a network critic, --critic-hidden")
       for name in ("critic_epochs", "critic_minibatches", "critic_batches")},
    "cg_iterations": (lambda c: c.optimizer in ("natural", "capped-natural", "trust-region") and bool(c.hidden),
                      "only the natural steps of a network policy"),
    "deterministic": (lambda c: bool(c.eval), "only an --eval run"),
    "reuse": (lambda c: c.estimator == "importance", "only --estimator importance"),
    "eval": (lambda c: bool(c.load), "only a run with --load"),
}


def critic_kind(config):
    """The V of an actor-critic or PPO run: 'regression', 'td' or 'network'; None for the other estimators."""
    if config.estimator not in ("actor-critic", "ppo"):
        return None
    return "network" if config.critic_hidden else config.critic


def flag(name):
    """The command-line flag of a setting: --batch-steps for batch_steps."""
    return "--" + name.replace("_", "-")


def own_setting(env):
    """What `python -m minipg.train --env env` runs with no other flag: ENV_DEFAULTS[env]; for a Gymnasium env
    ('gymnasium:ID'), cart-pole's setting if its action is Discrete, continuous cart-pole's if it is a Box."""
    if envs.is_gymnasium(env):
        like = "cartpole" if hasattr(envs.make(env), "n_actions") else "cartpole-continuous"
        return dataclasses.replace(ENV_DEFAULTS[like], env=env)
    if env not in ENV_DEFAULTS:
        raise ValueError(f"--env: unknown env {env!r}; known envs: {', '.join(envs.ENV_NAMES)}, or "
                         f"{envs.GYMNASIUM_PREFIX}ID for a Gymnasium env")
    return ENV_DEFAULTS[env]


def settings(env="cartpole", **given):
    """env's complete setting, with `given` changing only what it names: an optimizer other than the env's takes
    its own step size unless lr is given too, and a setting the run would not read is refused by name."""
    own = own_setting(env)
    config = dataclasses.replace(own, **given)
    if config.policy != own.policy and config.policy in POLICIES:  # one policy for each kind of action
        raise ValueError(f"--policy: {config.policy!r} does not fit {env}'s actions; {own.policy!r} does")
    if config.optimizer != own.optimizer and "lr" not in given or config.optimizer == "trust-region":
        config = dataclasses.replace(config, lr=OWN_LR.get(config.optimizer, 0.0))
    if critic_kind(config) != critic_kind(own) and critic_kind(config) in CRITIC_LR \
            and "critic_lr" not in given:
        config = dataclasses.replace(config, critic_lr=CRITIC_LR[critic_kind(config)])
    for name in given:
        if config.eval and name not in EVAL_SETTINGS:
            raise ValueError(f"{flag(name)}: an --eval run does not use it (it only evaluates the loaded theta, "
                             f"reading {', '.join(flag(name) for name in EVAL_SETTINGS)})")
        used, by = USED_BY.get(name, (lambda c: True, ""))
        if not used(config):
            raise ValueError(f"{flag(name)}: the run does not use it (what uses it: {by})")
    check(config)
    return config


def _known(name, value, names):
    if value not in names:
        raise ValueError(f"{flag(name)}: unknown {name} {value!r}; known {name}s: {', '.join(names)}")


def interval(within):
    """'(0, 1]' -> (0.0, 1.0, False, True): the ends, and whether each belongs to the interval."""
    low, high = (float(end) for end in within[1:-1].split(","))
    return low, high, within[0] == "[", within[-1] == "]"


def check_number(name, value, within, integer):
    """value if it is a finite number (an integer if `integer`) in the interval `within`, else ValueError naming it."""
    low, high, with_low, with_high = interval(within)
    kind = "an integer" if integer else "a finite number"
    right_type = isinstance(value, numbers.Integral if integer else numbers.Real) and (integer or math.isfinite(value))
    if isinstance(value, bool) or not right_type or not ((low <= value if with_low else low < value)
                                                          and (value <= high if with_high else value < high)):
        raise ValueError(f"{flag(name)} must be {kind} in {within}, got {value!r}")
    return value


def check_widths(name, widths):
    """widths if it is a tuple of integers >= 1, the widths of tanh layers (() for none), else ValueError naming it."""
    if not isinstance(widths, tuple) or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1
                                                  for n in widths):
        raise ValueError(f"{flag(name)} must be the widths of tanh layers, integers >= 1 (none for a linear one), "
                         f"got {widths!r}")
    return widths


def check(config):
    """Raise ValueError naming the first bad setting; nothing has been written yet."""
    _known("policy", config.policy, POLICIES)
    _known("estimator", config.estimator, ESTIMATORS)
    _known("critic", config.critic, ("regression", "td"))
    _known("optimizer", config.optimizer, OPTIMIZERS)
    for name in ("hidden", "critic_hidden"):
        check_widths(name, getattr(config, name))
    if config.critic_hidden and config.critic == "td":
        raise ValueError("--critic-hidden: a network critic is fitted by regression (Eq. 15); --critic td is linear")
    for field in dataclasses.fields(Config):
        used = USED_BY.get(field.name, (lambda c: True, ""))[0](config)
        if field.metadata["within"] and used:  # trust-region's lr, which it never reads, is 0
            check_number(field.name, getattr(config, field.name), field.metadata["within"], field.type is int)
    if config.optimizer == "trust-region" and config.estimator in ("importance", "ppo"):
        raise ValueError(f"trust-region checks its step on paths drawn at the current theta; {config.estimator} "
                         "reuses older ones")
    if config.estimator == "ppo" and config.optimizer not in OPTIMIZER_NAMES:
        raise ValueError("ppo takes its steps with --optimizer adam or sgd")
    if config.minibatches > config.envs * config.steps:
        raise ValueError(f"--minibatches: {config.minibatches} is more than the {config.envs * config.steps} steps "
                         "of a batch (--envs x --steps)")
    if config.normalise and config.envs * config.steps // config.minibatches < 2:
        raise ValueError(f"--normalise: a minibatch of {config.envs * config.steps // config.minibatches} step has "
                         "its one advantage normalised to 0 and theta would never move; take fewer --minibatches")
