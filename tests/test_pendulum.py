"""Pendulum against golden transitions recorded from Gymnasium's Pendulum-v1
(tests/data/make_acrobot_pendulum_golden.py), and against Gymnasium itself where it is installed.

The recorded episodes are replayed as tests/test_acrobot.py replays its own: step by step, each from Gymnasium's
recorded state, and open loop from reset(seed=s) and the unseeded resets after it. "To the bit" means the float64
state equals Gymnasium's env.unwrapped.state exactly, the float64 observation equals Gymnasium's float32 one once
rounded to float32, and the rewards are equal.
"""
import math
import pathlib

import numpy as np
import pytest

import envs
from envs.pendulum import PendulumEnv, PendulumVector, cost
from tests.helpers import assert_state_setter_copies

with np.load(pathlib.Path(__file__).parent / "data" / "pendulum_golden.npz") as _golden:
    GOLDEN = dict(_golden)  # an open NpzFile would decompress an array again on every lookup
EPISODES = range(len(GOLDEN["episode_seed"]))


def episode_steps(episode):
    return np.flatnonzero(GOLDEN["episode"] == episode)


def squaring_by_multiplication(x):
    return x * x


def test_golden_data_covers_truncation_velocity_clip_torque_clip_turns_and_resets():
    last_steps = [episode_steps(k)[-1] for k in EPISODES]
    assert np.all(GOLDEN["truncated"][last_steps]) and not GOLDEN["terminated"].any()
    assert all(len(episode_steps(k)) == 200 for k in EPISODES)
    after, before, actions = GOLDEN["after"], GOLDEN["before"], GOLDEN["action"]
    assert np.sum(after[:, 1] == 8.0) >= 10 and np.sum(after[:, 1] == -8.0) >= 10  # the velocity clip held, both ways
    assert np.sum(actions > 2.0) >= 100 and np.sum(actions < -2.0) >= 100  # the torque clip, both ways
    assert np.sum(before[:, 0] > math.pi) >= 100 and np.sum(before[:, 0] < -math.pi) >= 100  # normalize(th) != th
    assert np.abs(before[:, 0]).max() > 10 * math.pi  # th runs on for turns: never wrapped
    assert np.any(GOLDEN["episode_resets"] > 0)  # whole episodes from unseeded resets


def test_golden_edge_states_are_ones_where_pow_and_multiplication_round_apart(monkeypatch):
    """What the edge steps are for: each one's reward changes if x*x replaces pow(x, 2)."""
    pairs = list(zip(GOLDEN["edge_before"], np.clip(GOLDEN["edge_action"], -2.0, 2.0)))
    with_pow = [cost(*state, u) for state, u in pairs]
    monkeypatch.setattr(envs.pendulum, "square", squaring_by_multiplication)
    for (state, u), expected in zip(pairs, with_pow):
        assert cost(*state, u) != expected


def assert_step_matches(env, outcome, i, prefix=""):
    observation, reward, terminated, truncated, _ = outcome
    np.testing.assert_array_equal(env.state, GOLDEN[prefix + "after"][i])
    np.testing.assert_array_equal(observation.astype(np.float32), GOLDEN[prefix + "observation"][i])
    assert reward == GOLDEN[prefix + "reward"][i] and not terminated


@pytest.mark.parametrize("episode", EPISODES)
def test_every_step_matches_gymnasium(episode):
    env = PendulumEnv()
    env.reset(seed=0)
    for i in episode_steps(episode):
        env.state = GOLDEN["before"][i]
        outcome = env.step(np.array([GOLDEN["action"][i]]))
        assert_step_matches(env, outcome, i)
        assert outcome[3] == GOLDEN["truncated"][i]


@pytest.mark.parametrize("episode", EPISODES)
def test_whole_episodes_match_gymnasium_bit_for_bit(episode):
    """Open loop from reset(seed=s) and the unseeded resets after it, the actions given as scalars this time."""
    env = PendulumEnv()
    steps = episode_steps(episode)
    observation, _ = env.reset(seed=int(GOLDEN["episode_seed"][episode]))
    for _ in range(GOLDEN["episode_resets"][episode]):
        observation, _ = env.reset()
    np.testing.assert_array_equal(observation.astype(np.float32), GOLDEN["episode_reset_observation"][episode])
    np.testing.assert_array_equal(env.state, GOLDEN["before"][steps[0]])
    for i in steps:
        outcome = env.step(float(GOLDEN["action"][i]))
        assert_step_matches(env, outcome, i)
        assert outcome[3] == GOLDEN["truncated"][i]


@pytest.mark.parametrize("k", range(len(GOLDEN["edge_action"])))
def test_edge_steps_match_gymnasium_to_the_last_bit(k):
    """Rewards with one term, thdot^2, normalize(th)^2 or u^2, where x*x and pow(x, 2) round apart."""
    env = PendulumEnv()
    env.reset(seed=0)
    env.state = GOLDEN["edge_before"][k]
    assert_step_matches(env, env.step(np.array([GOLDEN["edge_action"][k]])), k, "edge_")


def test_reset_reproduces_gymnasium_seeding():
    env = PendulumEnv()
    for seed, states, observations in zip(GOLDEN["reset_seeds"], GOLDEN["reset_states"], GOLDEN["reset_observations"]):
        for k in range(3):
            observation, _ = env.reset(seed=int(seed)) if k == 0 else env.reset()
            np.testing.assert_array_equal(env.state, states[k])
            np.testing.assert_array_equal(observation.astype(np.float32), observations[k])


def test_reset_is_uniform_on_pi_by_1():
    """4,000 resets: th in [-pi, pi], thdot in [-1, 1]; each mean within 4 standard errors (sqrt(h^2 / 3 / 4000): 0.029
    for th, 0.0091 for thdot) of 0, each variance within 5% of h^2 / 3 (relative standard error sqrt(0.8 / 4000))."""
    env = PendulumEnv()
    env.reset(seed=123)
    starts = []
    for _ in range(4000):
        env.reset()
        starts.append(env.state)
    starts, high = np.array(starts), np.array([math.pi, 1.0])
    assert np.all(np.abs(starts) <= high)
    assert np.all(np.abs(starts.mean(axis=0)) < 4 * high / np.sqrt(3) / np.sqrt(4000))
    np.testing.assert_allclose(starts.var(axis=0), high**2 / 3, rtol=0.05)


def step_from(state, action):
    env = PendulumEnv()
    env.reset(seed=0)
    env.state = state
    observation, reward, *_ = env.step(action)
    return env.state, observation, reward


def test_one_step_is_semi_implicit_euler_charged_on_the_state_before():
    """From th = 0.5, thdot = -1 with u = 0.7, worked by hand: thdot' = thdot + (15 sin th + 3 u) 0.05, the angle
    moved with the NEW velocity, th' = th + 0.05 thdot', and r = -(th^2 + 0.1 thdot^2 + 0.001 u^2)."""
    state, observation, reward = step_from([0.5, -1.0], 0.7)
    thdot = -1.0 + (15 * math.sin(0.5) + 3 * 0.7) * 0.05
    np.testing.assert_allclose(state, [0.5 + 0.05 * thdot, thdot], rtol=1e-15)
    np.testing.assert_allclose(observation, [math.cos(state[0]), math.sin(state[0]), state[1]], rtol=1e-15)
    assert reward == pytest.approx(-(0.25 + 0.1 + 0.001 * 0.49), rel=1e-15)


def test_torque_is_the_action_clipped_to_plus_minus_2():
    for action, torque in ((5.0, 2.0), (np.array([-7.5]), -2.0), (np.array([2.0]), 2.0)):
        state, _, reward = step_from([0.3, 0.2], action)
        expected_state, _, expected_reward = step_from([0.3, 0.2], torque)
        np.testing.assert_array_equal(state, expected_state)
        assert reward == expected_reward


def test_a_float32_action_steps_as_its_value_widened_to_float64():
    """Gymnasium computes 3 u and u^2 in the action's dtype; minipg widens every action to float64 first, so a
    float32 action (a scalar or shape (1,)) and the same number given as float64 step to the same bits."""
    rng = np.random.default_rng(8)
    narrow, wide = PendulumEnv(), PendulumEnv()
    np.testing.assert_array_equal(narrow.reset(seed=8)[0], wide.reset(seed=8)[0])
    actions = [np.float32(a) for a in rng.uniform(-2.5, 2.5, size=20)] + [np.array([0.3], dtype=np.float32)]
    for action in actions:
        observation, reward, *ends = narrow.step(action)
        expected, expected_reward, *expected_ends = wide.step(action.astype(np.float64))
        np.testing.assert_array_equal(observation, expected)
        assert (reward, ends) == (expected_reward, expected_ends)
    np.testing.assert_array_equal(narrow.state, wide.state)


def test_velocity_is_clipped_at_8_and_the_angle_moves_with_the_clipped_velocity():
    state, _, _ = step_from([math.pi / 2, 7.9], 2.0)  # thdot + (15 + 6) 0.05 = 8.95 without the clip
    np.testing.assert_array_equal(state, [math.pi / 2 + 8.0 * 0.05, 8.0])
    state, _, _ = step_from([-math.pi / 2, -7.9], -2.0)
    np.testing.assert_array_equal(state, [-math.pi / 2 - 8.0 * 0.05, -8.0])


def test_reward_sees_the_angle_whole_turns_away_as_the_same_but_the_state_keeps_the_turns():
    near, _, near_reward = step_from([0.3, 0.0], 0.0)
    far, _, far_reward = step_from([0.3 + 4 * math.pi, 0.0], 0.0)
    assert far_reward == pytest.approx(near_reward, rel=1e-12)
    assert far[0] > 4 * math.pi


def test_episodes_never_terminate_and_are_truncated_at_200_steps():
    env = PendulumEnv()
    env.reset(seed=4)
    flags = [env.step(0.0)[2:4] for _ in range(200)]
    assert flags[:199] == [(False, False)] * 199 and flags[199] == (False, True)
    with pytest.raises(ValueError, match="episode ended; call reset"):
        env.step(0.0)
    env.reset()
    env.step(0.0)  # a reset starts a new episode


@pytest.mark.parametrize("action", [np.nan, np.inf, np.array([0.1, 0.2]), "0.5", None, np.array([[1.0]]), True])
def test_bad_action_names_the_problem(action):
    env = PendulumEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be one finite real number \(a scalar or shape \(1,\)\)"):
        env.step(action)


def test_step_before_reset_is_refused():
    with pytest.raises(ValueError, match=r"step\(\) called before reset\(\)"):
        PendulumEnv().step(0.0)


@pytest.mark.parametrize("state", [[0.0], np.zeros((1, 2)), [0.0, np.nan], [np.inf, 0.0]])
def test_bad_state_is_refused(state):
    with pytest.raises(ValueError, match=r"state must be 2 finite numbers \[th, thdot\]"):
        PendulumEnv().state = state


def test_setting_the_state_copies_it():
    assert_state_setter_copies(PendulumEnv(), [0.5, -1.0])


def test_action_space_attributes():
    env = envs.make("pendulum")
    assert isinstance(env, PendulumEnv)
    assert (env.observation_dim, env.action_dim, env.max_episode_steps) == (3, 1, 200)
    assert not hasattr(env, "n_actions")


def test_vector_twin_steps_every_row_as_the_single_env():
    """PendulumVector row i equals PendulumEnv stepped alone from the same seed with the same actions, over 240
    steps: every third row restarts at step 30 while running, so rows end at step 200 or 230; ended rows stay put
    with reward 0; at step 215 some of the ended rows restart, as the single env's unseeded reset does."""
    rng = np.random.default_rng(6)
    n, seeds = 64, [[6, i] for i in range(64)]
    vector = PendulumVector(n)
    observations = vector.reset(seeds)
    singles = [PendulumEnv() for _ in range(n)]
    for i, (env, seed) in enumerate(zip(singles, seeds)):
        np.testing.assert_array_equal(env.reset(seed=seed)[0], observations[i])
    ended, frozen_steps = np.zeros(n, dtype=bool), 0
    for step in range(1, 241):
        if step in (30, 215):
            chosen = np.arange(n) % 3 == 0 if step == 30 else ended & (np.arange(n) % 3 == 1)
            rows = np.flatnonzero(chosen)
            started = vector.restart(rows)
            starts = vector.observations()
            for i, start in zip(rows, started):
                np.testing.assert_array_equal(starts[i], singles[i].reset()[0])
                np.testing.assert_array_equal(start, starts[i])
            ended[rows] = False
            assert not vector.done[rows].any() and not vector.steps[rows].any()
        actions = rng.uniform(-3, 3, size=(n, 1) if step % 2 else n)
        before = vector.states.copy()
        observations, rewards, terminated, truncated = vector.step(actions)
        assert not terminated.any()
        for i, env in enumerate(singles):
            if ended[i]:
                np.testing.assert_array_equal(vector.states[i], before[i])
                assert rewards[i] == 0.0 and not truncated[i]
                frozen_steps += 1
                continue
            observation, reward, _, cut, _ = env.step(actions[i])
            np.testing.assert_array_equal(observations[i], observation)
            np.testing.assert_array_equal(vector.states[i], env.state)
            assert (rewards[i], truncated[i]) == (reward, cut)
            ended[i] = cut
    assert frozen_steps > 500 and 0 < ended.sum() < n


def test_vector_float32_actions_step_as_their_values_widened_to_float64():
    rng = np.random.default_rng(9)
    narrow, wide = envs.make_vector("pendulum", 3), envs.make_vector("pendulum", 3)
    np.testing.assert_array_equal(narrow.reset([0, 1, 2]), wide.reset([0, 1, 2]))
    for step in range(20):
        actions = rng.uniform(-2.5, 2.5, size=(3, 1) if step % 2 else 3).astype(np.float32)
        for ours, theirs in zip(narrow.step(actions), wide.step(actions.astype(np.float64))):
            np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(narrow.states, wide.states)


def test_a_vector_row_that_ended_keeps_its_step_count_while_the_others_count_on():
    """Row 0 runs from reset to its cut at 200 steps, as PendulumEnv alone does, then waits, not restarted; row 1,
    restarted at step 50, goes on counting to 180 at step 230."""
    vector, env = PendulumVector(2), PendulumEnv()
    vector.reset([3, 4])
    env.reset(seed=3)
    length, truncated = 0, False
    while not truncated:
        truncated = env.step(0.0)[3]
        length += 1
    for step in range(1, 231):
        if step == 51:
            vector.restart([1])
        vector.step(np.zeros(2))
        np.testing.assert_array_equal(vector.steps, [min(step, length), step - 50 if step > 50 else step])
    assert list(vector.done) == [True, False]


@pytest.mark.parametrize("actions", [np.zeros(2), np.zeros((3, 2)), np.array([0.0, np.nan, 0.0]),
                                     np.array(["a", "b", "c"]), np.array([np.inf, 0.0, 0.0])])
def test_vector_refuses_bad_actions(actions):
    vector = PendulumVector(3)
    vector.reset([0, 1, 2])
    with pytest.raises(ValueError, match=r"actions must be 3 finite real numbers, shape \(3,\) or \(3, 1\)"):
        vector.step(actions)


def test_vector_states_are_read_only_and_set_whole():
    vector = PendulumVector(2)
    vector.reset([0, 1])
    with pytest.raises(ValueError, match="read-only"):
        vector.states[0, 0] = 1.0
    vector.states = [[0.1, -0.2], [3.0, 0.5]]
    np.testing.assert_array_equal(vector.observations(),
                                  [[np.cos(0.1), np.sin(0.1), -0.2], [np.cos(3.0), np.sin(3.0), 0.5]])
    with pytest.raises(ValueError, match=r"states must be 2 rows of 2 finite numbers"):
        vector.states = np.zeros((2, 3))


def test_make_vector_builds_the_pendulum_twin():
    vector = envs.make_vector("pendulum", 5)
    assert isinstance(vector, PendulumVector)
    assert (vector.n, vector.observation_dim, vector.action_dim, vector.max_episode_steps) == (5, 3, 1, 200)
    observations = vector.reset(range(5))
    assert observations.shape == (5, 3) and observations.flags["C_CONTIGUOUS"]  # rows laid out as a batch's rows


# Live against Gymnasium, where it is installed (never a dependency of minipg).

@pytest.mark.parametrize("seed", [0, 7, 42])
def test_live_episodes_match_gymnasium(seed):
    """From reset(seed) and two unseeded resets after it: random actions in [-4, 4], pumping a = 3 sign(thdot), and
    a = -(10 th + thdot); every step's state, float32 observation, reward and flags compared."""
    gymnasium = pytest.importorskip("gymnasium")
    gym_env, env = gymnasium.make("Pendulum-v1"), PendulumEnv()
    rng = np.random.default_rng(seed)
    controllers = [lambda state: rng.uniform(-4.0, 4.0), lambda state: 3.0 * np.sign(state[1]),
                   lambda state: -(10.0 * state[0] + state[1])]
    for k, controller in enumerate(controllers):
        theirs, ours = (gym_env.reset(seed=seed), env.reset(seed=seed)) if k == 0 else (gym_env.reset(), env.reset())
        np.testing.assert_array_equal(ours[0].astype(np.float32), theirs[0])
        truncated = False
        while not truncated:
            action = np.array([controller(env.state)])
            theirs, ours = gym_env.step(action), env.step(action)
            np.testing.assert_array_equal(env.state, gym_env.unwrapped.state)
            np.testing.assert_array_equal(ours[0].astype(np.float32), theirs[0])
            assert ours[1:4] == (theirs[1], theirs[2], theirs[3])
            truncated = ours[3]
