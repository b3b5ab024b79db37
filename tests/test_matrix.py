"""Every combination the train command offers runs: each env with each estimator and each optimizer, linear, and
with a network policy (and critic) each estimator with adam and the natural steps (conjugate gradients) with
actor-critic, for two iterations on small batches; a combination the settings refuse is refused by name."""
import itertools

import numpy as np
import pytest

import envs
from minipg.settings import ENV_DEFAULTS, ESTIMATORS, OPTIMIZERS, settings
from minipg.train import make_policy, train

SMALL = {"iterations": 2, "episodes": 1, "batch_steps": 0}
SMALL_PPO = {"iterations": 2, "envs": 2, "steps": 16, "minibatches": 2, "epochs": 2}
REFUSED = {  # trust-region checks its step on paths drawn at theta; PPO's passes are first-order steps
    **{(estimator, "trust-region"): "trust-region checks its step on paths drawn at the current theta"
       for estimator in ("importance", "ppo")},
    **{("ppo", optimizer): "ppo takes its steps with --optimizer adam or sgd"
       for optimizer in ("natural", "capped-natural")},
}
LINEAR = [(env, estimator, optimizer, False) for env, estimator, optimizer in
          itertools.product(ENV_DEFAULTS, ESTIMATORS, OPTIMIZERS)]
NETWORKS = ([(env, estimator, "adam", True) for env, estimator in itertools.product(ENV_DEFAULTS, ESTIMATORS)]
            + [(env, "actor-critic", optimizer, True) for env, optimizer in
               itertools.product(ENV_DEFAULTS, ("natural", "capped-natural", "trust-region"))])


def small(env, estimator, optimizer, network):
    """env's own setting with this estimator and optimizer, two iterations of small batches; a network of one
    tanh layer of 4 for the policy, and for the critic of the estimators that have one."""
    given = {"estimator": estimator, "optimizer": optimizer, **(SMALL_PPO if estimator == "ppo" else SMALL)}
    if network:
        given["hidden"] = (4,)
        if estimator in ("actor-critic", "ppo"):
            given["critic_hidden"] = (4,)
    return settings(env, **given)


@pytest.mark.parametrize("env, estimator, optimizer, network", LINEAR + NETWORKS)
def test_every_combination_trains_two_iterations(env, estimator, optimizer, network):
    if (estimator, optimizer) in REFUSED:
        with pytest.raises(ValueError, match=REFUSED[estimator, optimizer]):
            small(env, estimator, optimizer, network)
        return
    config = small(env, estimator, optimizer, network)
    start = make_policy(envs.make(env), config.policy, config.hidden).initial_theta(np.random.default_rng(0))
    run = train(config, theta=start.copy(), stop_when_solved=False)
    assert len(run.log) == 2 and np.all(np.isfinite(run.theta))
    assert run.theta.shape == start.shape and not np.array_equal(run.theta, start)
