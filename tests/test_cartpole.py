"""Cart-pole against golden transitions recorded from Gymnasium's CartPole-v1 (tests/data/make_cartpole_golden.py).

The recorded episodes are replayed twice. Step by step: before every step env.state is set to
Gymnasium's recorded state, so each transition is judged on its own, while the step counter, and
with it the 500-step truncation, advances exactly as in Gymnasium. Open loop: from reset(seed=s)
with the recorded actions only, which holds when every step agrees to the last bit.
"""
import pathlib

import numpy as np
import pytest

import envs
from envs.cartpole import FORCE_MAG, THETA_THRESHOLD, X_THRESHOLD, CartPoleEnv
from minipg.policies import SoftmaxPolicy
from tests.helpers import assert_state_setter_copies

with np.load(pathlib.Path(__file__).parent / "data" / "cartpole_golden.npz") as _golden:
    GOLDEN = dict(_golden)  # an open NpzFile would decompress an array again on every lookup
EPISODES = range(len(GOLDEN["episode_seeds"]))


def episode_steps(episode):
    return np.flatnonzero(GOLDEN["episode"] == episode)


def test_golden_data_covers_falling_leaving_the_track_and_truncation():
    last_steps = [episode_steps(k)[-1] for k in EPISODES]
    ends = GOLDEN["after"][last_steps]
    assert np.sum(np.abs(ends[:, 2]) > THETA_THRESHOLD) >= 4
    assert np.sum(np.abs(ends[:, 0]) > X_THRESHOLD) >= 4
    assert np.sum(GOLDEN["truncated"][last_steps]) >= 4


@pytest.mark.parametrize("episode", EPISODES)
def test_every_step_matches_gymnasium(episode):
    env = CartPoleEnv()
    env.reset(seed=0)
    steps = episode_steps(episode)
    outcomes = []
    for i in steps:
        env.state = GOLDEN["before"][i]
        outcomes.append(env.step(int(GOLDEN["action"][i]))[:4])
    states, rewards, terminated, truncated = map(np.array, zip(*outcomes))
    np.testing.assert_allclose(states, GOLDEN["after"][steps], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(rewards, GOLDEN["reward"][steps])
    np.testing.assert_array_equal(terminated, GOLDEN["terminated"][steps])
    np.testing.assert_array_equal(truncated, GOLDEN["truncated"][steps])


@pytest.mark.parametrize("episode", EPISODES)
def test_whole_episodes_match_gymnasium_bit_for_bit(episode):
    """Open loop, up to 500 steps: same np.cos/np.sin and order of operations, so no last bit may differ."""
    env = CartPoleEnv()
    steps = episode_steps(episode)
    obs, _ = env.reset(seed=int(GOLDEN["episode_seeds"][episode]))
    states = [obs]
    for i in steps:
        obs, reward, terminated, truncated, _ = env.step(int(GOLDEN["action"][i]))
        states.append(obs)
        assert (reward, terminated, truncated) == (GOLDEN["reward"][i], GOLDEN["terminated"][i], GOLDEN["truncated"][i])
    np.testing.assert_array_equal(states[:-1], GOLDEN["before"][steps])
    np.testing.assert_array_equal(states[1:], GOLDEN["after"][steps])


@pytest.mark.parametrize("k", range(len(GOLDEN["edge_action"])))
def test_edge_steps_match_gymnasium_to_the_last_bit(k):
    """States where squaring by pow instead of np.square would change a last bit, and states at rest
    on each termination threshold (the episode goes on: Gymnasium tests x > 2.4, not >=) and one float past it."""
    env = CartPoleEnv()
    env.reset(seed=0)
    env.state = GOLDEN["edge_before"][k]
    obs, _, terminated, _, _ = env.step(int(GOLDEN["edge_action"][k]))
    np.testing.assert_array_equal(obs, GOLDEN["edge_after"][k])
    assert terminated == GOLDEN["edge_terminated"][k]


@pytest.mark.parametrize("k", range(len(GOLDEN["continuous_action"])))
def test_continuous_steps_match_gymnasium_pushing_with_the_same_force(k):
    """Recorded as Gymnasium's step with force_mag = 10 a: the same arithmetic at fractional forces. The first
    steps are unpushed (a = 0) from states where theta_dot**2 (pow) instead of np.square would change a last bit."""
    env = CartPoleEnv(continuous=True)
    env.reset(seed=0)
    env.state = GOLDEN["continuous_before"][k]
    np.testing.assert_array_equal(env.step(GOLDEN["continuous_action"][k])[0], GOLDEN["continuous_after"][k])


def test_reset_reproduces_gymnasium_seeding():
    env = CartPoleEnv()
    for seed, (seeded, second, third) in zip(GOLDEN["seeds"], GOLDEN["resets"]):
        np.testing.assert_array_equal(env.reset(seed=int(seed))[0], seeded)
        np.testing.assert_array_equal(env.reset()[0], second)
        np.testing.assert_array_equal(env.reset()[0], third)


def test_reset_is_uniform_on_plus_minus_005():
    """4,000 resets: all inside [-0.05, 0.05]; each coordinate's mean within 4 standard errors
    (0.05 / sqrt(3) / sqrt(4000) = 4.6e-4) of 0, and its variance within 5% of 0.05^2 / 3
    (the sample variance's relative standard error is sqrt(0.8 / 4000) = 1.4%)."""
    env = CartPoleEnv()
    env.reset(seed=123)
    starts = np.array([env.reset()[0] for _ in range(4000)])
    assert np.all(np.abs(starts) <= 0.05)
    assert np.all(np.abs(starts.mean(axis=0)) < 4 * 0.05 / np.sqrt(3) / np.sqrt(4000))
    np.testing.assert_allclose(starts.var(axis=0), 0.05**2 / 3, rtol=0.05)


def test_observation_is_a_float64_copy_of_the_state():
    env = CartPoleEnv()
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float64 and obs.shape == (4,)
    obs[0] = 99.0
    assert env.state[0] != 99.0
    env.state = [1, 0, 0, 0]
    assert env.state.dtype == np.float64


def step_from(env, state, action):
    env.reset(seed=0)
    env.state = state
    return env.step(action)[0]


def test_continuous_force_is_clipped_action_times_force_mag():
    discrete, continuous = envs.make("cartpole"), envs.make("cartpole-continuous")
    state = np.array([0.1, -0.2, 0.03, 0.4])
    np.testing.assert_array_equal(step_from(continuous, state, 1.0), step_from(discrete, state, 1))
    np.testing.assert_array_equal(step_from(continuous, state, np.array([5.0])), step_from(discrete, state, 1))
    np.testing.assert_array_equal(step_from(continuous, state, -1.0), step_from(discrete, state, 0))
    np.testing.assert_array_equal(step_from(continuous, state, np.array([-5.0])), step_from(discrete, state, 0))
    assert continuous.force(np.array([0.25])) == 0.25 * FORCE_MAG


def test_zero_force_follows_the_equations_of_motion():
    """From rest at theta = 0.1 with no push: theta_acc = g sin(theta) / (l (4/3 - m cos^2(theta) / M))."""
    env = envs.make("cartpole-continuous")
    after = step_from(env, np.array([0.0, 0.0, 0.1, 0.0]), 0.0)
    theta_acc = 9.8 * np.sin(0.1) / (0.5 * (4.0 / 3.0 - 0.1 * np.cos(0.1) ** 2 / 1.1))
    x_acc = -0.1 * 0.5 * theta_acc * np.cos(0.1) / 1.1
    np.testing.assert_allclose(after, [0.0, 0.02 * x_acc, 0.1, 0.02 * theta_acc], rtol=1e-14, atol=1e-16)


def test_reward_is_one_per_step_and_truncation_comes_at_500():
    env = CartPoleEnv()
    obs, _ = env.reset(seed=1)
    rewards = []
    truncated = terminated = False
    while not (terminated or truncated):
        x, x_dot, theta, theta_dot = obs
        obs, reward, terminated, truncated, _ = env.step(int(theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot > 0))
        rewards.append(reward)
    assert truncated and not terminated and len(rewards) == 500 and set(rewards) == {1.0}


def balancing_push(states):
    """A linear controller that keeps the pole up: push right when the pole leans or turns right."""
    x, x_dot, theta, theta_dot = np.asarray(states).T
    return (theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot > 0).astype(int)


def test_vector_rows_are_truncated_at_step_500():
    """CartPoleVector, stepped directly: four rows balanced to the time limit are truncated at their 500th step,
    not at the 499th or the 501st (a bench evaluation would score such a row 499 or 501)."""
    vector = envs.cartpole.CartPoleVector(4)
    states = vector.reset([[1, row] for row in range(4)])
    for step in range(1, 501):
        states, rewards, terminated, truncated = vector.step(balancing_push(states))
        assert not terminated.any() and np.all(rewards == 1.0)
        np.testing.assert_array_equal(truncated, np.full(4, step == 500))
    assert vector.done.all()


def test_terminal_step_is_rewarded():
    env = CartPoleEnv()
    env.reset(seed=0)
    env.state = [0.0, 0.0, 0.5, 0.0]  # past the 12 degree threshold: the next step terminates
    _, reward, terminated, truncated, _ = env.step(0)
    assert (reward, terminated, truncated) == (1.0, True, False)


def test_numpy_integer_actions_are_accepted():
    env = CartPoleEnv()
    env.reset(seed=0)
    start = env.state.copy()
    after_numpy = env.step(np.int64(1))[0]
    env.state = start
    np.testing.assert_array_equal(env.step(1)[0], after_numpy)


@pytest.mark.parametrize(
    "name, action, message",
    [("cartpole", 2, r"action 2 is outside Discrete\(2\)"),
     ("cartpole", 0.5, r"action 0.5 is outside Discrete\(2\)"),
     ("cartpole", True, r"action True is outside Discrete\(2\)"),
     ("cartpole-continuous", np.nan, "one finite real number"),
     ("cartpole-continuous", np.inf, "one finite real number"),
     ("cartpole-continuous", np.array([0.1, 0.2]), "one finite real number"),
     ("cartpole-continuous", "0.5", "one finite real number")],
)
def test_bad_action_names_the_problem(name, action, message):
    env = envs.make(name)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_step_before_reset_is_refused():
    with pytest.raises(ValueError, match=r"step\(\) called before reset\(\)"):
        CartPoleEnv().step(0)


def test_step_after_the_episode_ended_is_refused():
    env = CartPoleEnv()
    env.reset(seed=0)
    env.state = [0.0, 0.0, 0.5, 0.0]
    assert env.step(0)[2]
    with pytest.raises(ValueError, match="episode ended; call reset"):
        env.step(0)
    env.reset()
    env.step(0)  # a reset starts a new episode


@pytest.mark.parametrize("state", [[0.0, 1.0], np.zeros((1, 4)), [0.0, np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0, 0.0]])
def test_bad_state_is_refused(state):
    with pytest.raises(ValueError, match=r"state must be 4 finite numbers \[x, x_dot, theta, theta_dot\]"):
        CartPoleEnv().state = state


def test_setting_the_state_copies_it():
    assert_state_setter_copies(CartPoleEnv(), [0.1, -0.2, 0.03, 0.4])


def test_action_space_attributes():
    discrete, continuous = CartPoleEnv(), CartPoleEnv(continuous=True)
    assert (discrete.observation_dim, discrete.n_actions, discrete.max_episode_steps) == (4, 2, 500)
    assert (continuous.observation_dim, continuous.action_dim, continuous.max_episode_steps) == (4, 1, 500)
    assert not hasattr(discrete, "action_dim") and not hasattr(continuous, "n_actions")


def test_unknown_env_lists_the_known_ones():
    known = "known envs: cartpole, cartpole-continuous, gridworld, corridor, acrobot, pendulum"
    with pytest.raises(ValueError, match=known):
        envs.make("pong")


def test_unknown_vector_env_lists_the_known_ones():
    with pytest.raises(ValueError, match="known vector envs: cartpole, cartpole-continuous, acrobot, pendulum"):
        envs.make_vector("gridworld", 4)


@pytest.mark.parametrize("n", [0, -2, 2.0, True, "4"])
def test_vector_of_no_rows_is_refused(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        envs.make_vector("cartpole", n)


@pytest.mark.parametrize("name", ["cartpole", "cartpole-continuous"])
def test_make_vector_builds_the_cart_pole_twin_whose_observations_are_its_states(name):
    vector = envs.make_vector(name, 3)
    assert isinstance(vector, envs.cartpole.CartPoleVector) and vector.continuous == (name == "cartpole-continuous")
    assert (vector.n, vector.observation_dim, vector.max_episode_steps) == (3, 4, 500)
    assert (vector.action_dim if vector.continuous else vector.n_actions) == (1 if vector.continuous else 2)
    vector.reset([0, 1, 2])
    vector.step(np.array([0.5, -0.5, 1.0]) if vector.continuous else np.array([0, 1, 1]))
    observations = vector.observations()
    np.testing.assert_array_equal(observations, vector.states)
    observations[0, 0] = 99.0
    assert vector.states[0, 0] != 99.0  # a copy


@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_vector_twin_steps_every_row_as_the_single_env(continuous):
    """CartPoleVector row i equals CartPoleEnv stepped alone from the same seed with the same actions: the rows
    that end stay put with reward 0, and a restarted row starts where the single env's unseeded reset does."""
    rng = np.random.default_rng(5)
    n, seeds = 64, [[5, i] for i in range(64)]
    vector = envs.cartpole.CartPoleVector(n, continuous=continuous)
    states = vector.reset(seeds)
    vector.states = states + rng.uniform(-0.15, 0.15, size=(n, 4))
    singles = [CartPoleEnv(continuous=continuous) for _ in range(n)]
    for i, (env, seed) in enumerate(zip(singles, seeds)):
        np.testing.assert_array_equal(env.reset(seed=seed)[0], states[i])
        env.state = vector.states[i]
    ended = np.zeros(n, dtype=bool)
    for _ in range(30):
        actions = rng.uniform(-2, 2, size=n) if continuous else rng.integers(2, size=n)
        before = vector.states.copy()
        states, rewards, terminated, truncated = vector.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:
                np.testing.assert_array_equal(states[i], before[i])
                assert rewards[i] == 0.0
                continue
            obs, reward, done, cut, _ = env.step(np.array([actions[i]]) if continuous else int(actions[i]))
            np.testing.assert_allclose(states[i], obs, rtol=0, atol=1e-15)
            assert (rewards[i], terminated[i], truncated[i]) == (reward, done, cut)
            ended[i] = done
    assert 0 < ended.sum() < n  # some rows ended during the test, some did not
    rows = np.flatnonzero(ended)
    started = vector.restart(rows)
    for i, start in zip(rows, started):
        np.testing.assert_array_equal(vector.states[i], singles[i].reset()[0])
        np.testing.assert_array_equal(start, vector.observations()[i])
    assert not vector.done[rows].any() and not vector.steps[rows].any()


def test_vector_rows_truncate_at_500_steps_each():
    """Rows started at different times are cut when their own step count reaches 500, not a shared one."""
    vector = envs.cartpole.CartPoleVector(2)
    vector.reset([0, 1])
    balancing = np.array([-0.1, -0.5, -1.0, -1.0, 0.0, 0.1, 0.5, 1.0, 1.0, 0.0]) * 10.0
    policy, rng, cut = SoftmaxPolicy(4, 2), np.random.default_rng(0), []
    for step in range(1, 701):
        if step == 101:
            vector.restart([1])
        _, _, terminated, truncated = vector.step(policy.act_batch(balancing, vector.states, rng))
        assert not terminated.any()
        cut += [(step, row) for row in np.flatnonzero(truncated)]
    assert cut == [(500, 0), (600, 1)]


def drifting_push(states):
    """Balances the pole while it lets the cart drift away from the centre (the x gain has the wrong sign)."""
    x, x_dot, theta, theta_dot = np.asarray(states).T
    return (theta + 0.5 * theta_dot - 0.015 * x > 0).astype(int)


LEAVES_AT_500 = 106  # under drifting_push the cart leaves the track on exactly its 500th step


def test_vector_row_leaving_the_track_at_step_500_is_terminated_and_truncated_at_once():
    """Seed 106 under drifting_push: the cart passes x = -2.4 on the 500th step. Found by stepping CartPoleVector
    rows from seeds 0-19999 under drifting_push and keeping those terminated at step 500 (106 is the first; 243
    and 263 follow). Gymnasium's TimeLimit sets truncated at step 500 whatever terminated is, so that row is both;
    row 1 (seed 0) never leaves and is truncated only. CartPoleEnv stepped alone agrees at every step."""
    vector, env = envs.cartpole.CartPoleVector(2), CartPoleEnv()
    states = vector.reset([LEAVES_AT_500, 0])
    np.testing.assert_array_equal(env.reset(seed=LEAVES_AT_500)[0], states[0])
    for step in range(1, 501):
        actions = drifting_push(states)
        states, rewards, terminated, truncated = vector.step(actions)
        obs, reward, done, cut, _ = env.step(int(actions[0]))
        np.testing.assert_array_equal(states[0], obs)
        assert (rewards[0], terminated[0], truncated[0]) == (reward, done, cut)
        if step < 500:
            assert not (terminated.any() or truncated.any())
    assert (terminated[0], truncated[0], states[0, 0] < -X_THRESHOLD) == (True, True, True)
    assert (terminated[1], truncated[1]) == (False, True)
    assert vector.done.all()


def test_live_gymnasium_reports_the_step_500_fall_as_terminated_and_truncated():
    gymnasium = pytest.importorskip("gymnasium")
    gym_env, env = gymnasium.make("CartPole-v1"), CartPoleEnv()
    gym_env.reset(seed=LEAVES_AT_500)
    obs, _ = env.reset(seed=LEAVES_AT_500)
    for step in range(1, 501):
        action = int(drifting_push(obs))
        _, their_reward, their_done, their_cut, _ = gym_env.step(action)
        obs, reward, done, cut, _ = env.step(action)
        np.testing.assert_array_equal(obs, gym_env.unwrapped.state)
        assert (reward, done, cut) == (their_reward, their_done, their_cut) == (1.0, step == 500, step == 500)


def test_row_starts_give_each_row_the_starts_of_its_env_reset_again_and_again():
    """Blocks of 3 starts a row, over 8 restarts of ragged sets of rows: row r's k-th start is the k-th reset of a
    CartPoleEnv seeded with seeds[r] (its first reset seeded, the others not), bit for bit."""
    from envs.cartpole import start_state
    from envs.sampling import RowStarts

    seeds = [11, 12, 13, 14]
    starts = RowStarts(seeds, start_state, block=3)
    singles = [CartPoleEnv() for _ in seeds]
    for env, seed, first in zip(singles, seeds, starts.first):
        np.testing.assert_array_equal(first, env.reset(seed=seed)[0])
    for rows in ([0, 1, 2, 3], [1], [3, 1], [0, 1, 2], [1, 3], [1], [2, 1, 0], [1]):
        got = starts.next(rows)
        np.testing.assert_array_equal(got, [singles[r].reset()[0] for r in rows])


def test_vector_row_that_has_ended_reports_no_second_end():
    """A row ends once: on the step it falls it is terminated; on later steps, while the other rows go on, it keeps
    its state with reward 0 and neither flag, so a sampler that counts episode ends by the flags counts it once, and
    its step count stops (a count that ran on would reach 500 and cut the row again)."""
    vector = envs.cartpole.CartPoleVector(2)
    vector.reset([0, 1])
    vector.states = [[0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]]  # row 0 past 12 degrees: its next step ends it
    _, rewards, terminated, truncated = vector.step(np.array([0, 1]))
    assert (rewards.tolist(), terminated.tolist(), truncated.tolist()) == ([1.0, 1.0], [True, False], [False, False])
    ended = vector.states[0].copy()
    for _ in range(3):
        states, rewards, terminated, truncated = vector.step(np.array([0, 1]))
        assert (rewards.tolist(), terminated.tolist(), truncated.tolist()) == \
            ([0.0, 1.0], [False, False], [False, False])
        np.testing.assert_array_equal(states[0], ended)
    np.testing.assert_array_equal(vector.steps, [1, 4])  # steps since its start: the ended row's count stops at 1


def test_vector_float_and_bool_actions_push_as_the_single_envs_integer_actions():
    """Discrete actions given as floats 0.0 / 1.0 or as bools take forces()'s non-integer branch: 1 (True) must still
    push right and 0 (False) left, as CartPoleEnv's actions 1 and 0 do, to the last bit."""
    state = np.array([0.1, -0.2, 0.03, 0.4])
    expected = [step_from(CartPoleEnv(), state, action) for action in (0, 1)]
    for actions in (np.array([0, 1]), np.array([0.0, 1.0]), np.array([False, True])):
        vector = envs.cartpole.CartPoleVector(2)
        vector.reset([0, 1])
        vector.states = [state, state]
        np.testing.assert_array_equal(vector.step(actions)[0], expected)
