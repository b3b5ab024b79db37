"""SerialVector, the vector of single envs: every row is its env stepped alone, through ends and restarts, and
equals the vectorised twins row for row where minipg has one."""
import numpy as np
import pytest

import envs
from envs.serial import SerialVector
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from minipg.rollout import LockStep, OneByOne
from tests.test_rollout import assert_same_paths

NAMES = ["cartpole", "cartpole-continuous", "acrobot", "pendulum"]


def random_actions(vector, rng):
    if hasattr(vector, "n_actions"):
        return rng.integers(vector.n_actions, size=vector.n)
    return rng.uniform(-3, 3, size=(vector.n, vector.action_dim))


@pytest.mark.parametrize("name", NAMES)
def test_each_row_steps_as_the_single_env_stepped_alone(name):
    """Row r against env r alone, same seed and actions: ended rows stay put with reward 0, a restarted row starts
    where the single env's unseeded reset does, and `steps` counts each row's own steps. Every 50 steps half the
    ended rows restart, so rows run while others wait, ended."""
    rng, n = np.random.default_rng(1), 6
    vector, singles = SerialVector(lambda: envs.make(name), n), [envs.make(name) for _ in range(n)]
    seeds = [[1, r] for r in range(n)]
    observations = vector.reset(seeds)
    for r, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(seed=seeds[r])[0], observations[r])
    ended, steps, restarts, mixed = np.zeros(n, dtype=bool), np.zeros(n, dtype=int), 0, False
    for t in range(600):
        actions, before = random_actions(vector, rng), vector.observations()
        observations, rewards, terminated, truncated = vector.step(actions)
        for r, env in enumerate(singles):
            if ended[r]:
                np.testing.assert_array_equal(observations[r], before[r])
                assert (rewards[r], terminated[r], truncated[r]) == (0.0, False, False)
                continue
            obs, reward, done, cut, _ = env.step(actions[r])
            np.testing.assert_array_equal(observations[r], obs)
            assert (rewards[r], terminated[r], truncated[r]) == (reward, done, cut)
            ended[r], steps[r] = done or cut, steps[r] + 1
        np.testing.assert_array_equal(vector.steps, steps)
        np.testing.assert_array_equal(vector.done, ended)
        mixed |= ended.any() and not ended.all()
        if t % 50 == 49:
            rows = [r for r in np.flatnonzero(ended) if (r + t // 50) % 2]
            started = vector.restart(rows)
            for r, start in zip(rows, started):
                np.testing.assert_array_equal(vector.observations()[r], singles[r].reset()[0])
                np.testing.assert_array_equal(start, vector.observations()[r])
            ended[rows], steps[rows], restarts = False, 0, restarts + len(rows)
    assert restarts > 0 and mixed


@pytest.mark.parametrize("name", NAMES)
def test_rows_equal_the_vectorised_twin_bit_for_bit(name):
    """The same seeds and actions through SerialVector and make_vector's twin: the same numbers in every row."""
    rng, n = np.random.default_rng(2), 16
    serial, twin = SerialVector(lambda: envs.make(name), n), envs.make_vector(name, n)
    seeds = [[2, r] for r in range(n)]
    np.testing.assert_array_equal(serial.reset(seeds), twin.reset(seeds))
    for t in range(300):
        actions = random_actions(twin, rng)
        for ours, theirs in zip(serial.step(actions), twin.step(actions)):
            np.testing.assert_array_equal(ours, theirs)
        rows = np.flatnonzero(twin.done)
        serial.restart(rows)
        twin.restart(rows)
        np.testing.assert_array_equal(serial.observations(), twin.observations())
        np.testing.assert_array_equal(serial.steps, twin.steps)
    assert (serial.n, serial.observation_dim, serial.max_episode_steps, serial.max_step_reward) == \
        (twin.n, twin.observation_dim, twin.max_episode_steps, twin.max_step_reward)


@pytest.mark.parametrize("kind", ["serial", "twin"])
@pytest.mark.parametrize("name", NAMES)
def test_a_row_that_ended_keeps_its_step_count_while_the_others_count_on(name, kind):
    """Random actions for max_episode_steps + 20 steps, no row restarted after it ends: each row's `steps` is the
    number of steps from its start to the step that ended it (flagged terminated or truncated), and a running row's
    counts on. Row 2 restarts at step 10, so it runs while others wait, ended."""
    rng, n = np.random.default_rng(3), 3
    vector = SerialVector(lambda: envs.make(name), n) if kind == "serial" else envs.make_vector(name, n)
    vector.reset([[3, r] for r in range(n)])
    started, ended_at = np.zeros(n, dtype=int), np.full(n, -1)
    last = vector.max_episode_steps + 20
    for t in range(1, last + 1):
        if t == 11:
            vector.restart([2])
            started[2], ended_at[2] = 10, -1
        _, _, terminated, truncated = vector.step(random_actions(vector, rng))
        ended_at[(terminated | truncated) & (ended_at < 0)] = t
        np.testing.assert_array_equal(vector.steps, np.where(ended_at < 0, t, ended_at) - started)
    assert vector.done.all() and np.all(ended_at < last)


@pytest.mark.parametrize("continuous", [False, True], ids=["softmax", "gaussian"])
def test_lock_step_on_a_serial_vector_samples_what_one_by_one_samples(continuous):
    """PPO's lock-step batches on a SerialVector and its loop twin OneByOne, the same streams per env: the same paths,
    bit for bit, over batches that cut some episodes and end others."""
    name = "cartpole-continuous" if continuous else "cartpole"
    policy = GaussianPolicy(4, 1) if continuous else SoftmaxPolicy(4, 2)
    theta = np.random.default_rng(4).normal(scale=0.3, size=policy.n_params)
    lock_step = LockStep(SerialVector(lambda: envs.make(name), 5), seed=7)
    one_by_one = OneByOne(lambda: envs.make(name), 5, seed=7)
    for _ in range(3):
        assert_same_paths(lock_step.sample(policy, theta, 40), one_by_one.sample(policy, theta, 40))


def test_a_wrong_number_of_seeds_is_refused():
    with pytest.raises(ValueError, match="reset needs one seed per row, 3, got 2"):
        SerialVector(lambda: envs.make("cartpole"), 3).reset([0, 1])


def test_reset_step_and_observations_hand_out_copies():
    """An array the vector returned is the caller's: stepping on does not change it."""
    vector = SerialVector(lambda: envs.make("pendulum"), 2)
    kept = [vector.reset([0, 1])]
    for _ in range(2):
        kept.append(vector.step(np.array([1.0, -1.0]))[0])
        kept.append(vector.observations())
    copies = [array.copy() for array in kept]
    vector.step(np.array([2.0, 2.0]))
    for array, copy in zip(kept, copies):
        np.testing.assert_array_equal(array, copy)
    assert not np.array_equal(vector.observations(), copies[-1])


@pytest.mark.parametrize("rows", [[], np.array([], dtype=int)], ids=["list", "array"])
def test_restarting_no_rows_gives_no_observations(rows):
    vector = SerialVector(lambda: envs.make("acrobot"), 3)
    vector.reset([0, 1, 2])
    before = vector.observations()
    assert vector.restart(rows).shape == (0, 6)
    np.testing.assert_array_equal(vector.observations(), before)
