"""Sampling batches: m whole episodes, or enough whole episodes to hold a number of env steps."""
import numpy as np
import pytest

import envs
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_paths


@pytest.mark.parametrize("m, min_steps", [(1, 0), (5, 0), (1, 300), (3, 300), (40, 300)])
def test_batch_holds_m_paths_and_at_least_min_steps_and_stops_there(m, min_steps):
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    paths = sample_paths(env, policy, np.zeros(10), m, np.random.default_rng(0), min_steps=min_steps)
    lengths = [len(path) for path in paths]
    assert len(paths) >= m and sum(lengths) >= min_steps
    if len(paths) > m:  # the last path was drawn only because the steps were still short of min_steps
        assert sum(lengths[:-1]) < min_steps


def test_same_seed_same_batch():
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    first, second = (sample_paths(env, policy, np.zeros(10), 1, np.random.default_rng(3), min_steps=200)
                     for _ in range(2))
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.observations, b.observations)
        np.testing.assert_array_equal(a.actions, b.actions)


@pytest.mark.parametrize("kwargs, message", [({"m": 0}, "m must"), ({"min_steps": -1}, "min_steps must"),
                                             ({"min_steps": 2.5}, "min_steps must"), ({"horizon": 0}, "horizon must")])
def test_bad_counts_name_the_argument(kwargs, message):
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    arguments = {"m": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        sample_paths(env, policy, np.zeros(10), rng=np.random.default_rng(0), **arguments)


def test_paths_take_at_most_horizon_decisions():
    """H counts decisions: with H = 7 below the env's own 500-step limit, no path is longer than 7."""
    env, policy = envs.make("cartpole"), SoftmaxPolicy(4, 2)
    theta = np.array([0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # balances for far more than 7 steps
    paths = sample_paths(env, policy, theta, 20, np.random.default_rng(5), horizon=7)
    assert env.max_episode_steps > 7
    assert max(len(path) for path in paths) == 7 and all(path.truncated for path in paths if len(path) == 7)


def assert_same_paths(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        for field in ("observations", "actions", "rewards", "log_probs", "final_observation"):
            np.testing.assert_array_equal(getattr(p, field), getattr(q, field), err_msg=field)
        assert (p.terminated, p.first_step, p.cut) == (q.terminated, q.first_step, q.cut)


@pytest.mark.parametrize("continuous", [False, True], ids=["softmax", "gaussian"])
def test_lock_step_samples_the_paths_its_loop_twin_samples(continuous):
    """8 cart-poles stepped together against 8 stepped one at a time, the same streams per env: the same paths,
    bit for bit, over batches of 40 steps that cut some episodes and end others."""
    from envs.cartpole import CartPoleEnv, CartPoleVector
    from minipg.policies import GaussianPolicy
    from minipg.rollout import LockStep, OneByOne

    policy = GaussianPolicy(4, 1) if continuous else SoftmaxPolicy(4, 2)
    theta = np.random.default_rng(3).normal(0.0, 0.5, policy.n_params)
    together = LockStep(CartPoleVector(8, continuous=continuous), seed=7)
    alone = OneByOne(lambda: CartPoleEnv(continuous=continuous), 8, seed=7)
    ended = cut = 0
    for _ in range(3):
        paths = together.sample(policy, theta, 40)
        assert_same_paths(paths, alone.sample(policy, theta, 40))
        assert sum(len(path) for path in paths) == 8 * 40
        ended += sum(path.terminated for path in paths)
        cut += sum(not path.terminated for path in paths)
    assert ended > 0 and cut > 0


@pytest.mark.parametrize("name", ["acrobot", "pendulum"])
def test_lock_step_on_acrobots_and_pendulums_vector_samples_what_its_loop_twin_samples(name):
    """As above on the other vectorised twins, over six batches of 90 steps: episodes cut by a batch and ended by the
    time limit (500 steps, 200) or acrobot's goal inside one give the same paths, bit for bit."""
    import envs
    from minipg.policies import GaussianPolicy
    from minipg.rollout import LockStep, OneByOne

    env = envs.make(name)
    policy = SoftmaxPolicy(6, 3) if name == "acrobot" else GaussianPolicy(3, 1)
    theta = np.random.default_rng(4).normal(0.0, 2.0 if name == "acrobot" else 0.5, policy.n_params)
    together, alone = LockStep(envs.make_vector(name, 5), seed=3), OneByOne(lambda: envs.make(name), 5, seed=3)
    paths = [path for _ in range(6) for path in together.sample(policy, theta, 90)]
    assert_same_paths(paths, [path for _ in range(6) for path in alone.sample(policy, theta, 90)])
    assert any(path.cut for path in paths) and any(not path.cut for path in paths) and env.max_episode_steps > 90


def test_a_cut_episode_goes_on_in_the_next_batch():
    """Env 0's last segment of a batch is cut (Path.cut, truncated) and its episode goes on as the next batch's first
    segment, which starts where the cut one ended and says at which step of its episode."""
    from envs.cartpole import CartPoleVector
    from minipg.rollout import LockStep

    policy, theta = SoftmaxPolicy(4, 2), np.array([0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    sampler = LockStep(CartPoleVector(2), seed=1)
    first, second = sampler.sample(policy, theta, 25), sampler.sample(policy, theta, 25)
    lengths = np.cumsum([len(path) for path in first])
    cut = first[int(np.flatnonzero(lengths == 25)[0])]  # env 0's paths come first and fill its 25 steps
    assert cut.cut and not cut.terminated and second[0].first_step == cut.first_step + len(cut)
    assert not any(path.cut for path in first if path.terminated)
    np.testing.assert_array_equal(second[0].observations[0], cut.final_observation)


def test_row_streams_draw_what_each_rows_generator_draws_one_call_at_a_time():
    from minipg.rollout import RowStreams

    streams = RowStreams([[0, r] for r in range(3)], block=4)
    uniforms = np.array([streams.random(3) for _ in range(10)])
    singles = [np.random.default_rng([0, r]) for r in range(3)]
    np.testing.assert_array_equal(uniforms, [[g.random() for g in singles] for _ in range(10)])
    normals = RowStreams([[1, r] for r in range(2)], block=3)
    draws = np.array([normals.standard_normal((2, 2)) for _ in range(5)])
    singles = [np.random.default_rng([1, r]) for r in range(2)]
    np.testing.assert_array_equal(draws, [[g.standard_normal(2) for g in singles] for _ in range(5)])
    some = RowStreams([[2, r] for r in range(3)], block=2)
    picked = [some.random_at(rows) for rows in ([0, 2], [2], [0, 1, 2], [2])]
    singles = [np.random.default_rng([2, r]) for r in range(3)]
    expected = [[singles[r].random() for r in rows] for rows in ([0, 2], [2], [0, 1, 2], [2])]
    for got, want in zip(picked, expected):
        np.testing.assert_array_equal(got, want)
    mixed = RowStreams([[3, r] for r in range(3)], block=2)  # every row together, then some, then every row again
    reads = [mixed.random(3), mixed.random(3), mixed.random(3), mixed.random_at([1]), mixed.random(3), mixed.random(3)]
    singles = [np.random.default_rng([3, r]) for r in range(3)]
    expected = [[g.random() for g in singles] for _ in range(3)] + [[singles[1].random()]] + \
        [[g.random() for g in singles] for _ in range(2)]
    for got, want in zip(reads, expected):
        np.testing.assert_array_equal(got, want)
