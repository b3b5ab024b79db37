"""Acrobot against golden transitions recorded from Gymnasium's Acrobot-v1
(tests/data/make_acrobot_pendulum_golden.py), and against Gymnasium itself where it is installed.

The recorded episodes are replayed twice, as tests/test_cartpole.py replays cart-pole's. Step by step: before every
step env.state is set to Gymnasium's recorded state, so each transition is judged on its own while the step counter,
and with it the 500-step truncation, advances as in Gymnasium. Open loop: from reset(seed=s) (and the unseeded resets
after it) with the recorded actions only, which holds when every step agrees to the last bit. "To the bit" means the
float64 state equals Gymnasium's env.unwrapped.state exactly and the float64 observation equals Gymnasium's float32
one once rounded to float32.
"""
import math
import pathlib
import threading

import numpy as np
import pytest

import envs
from envs.acrobot import MAX_VEL_1, MAX_VEL_2, AcrobotEnv, AcrobotVector, next_state
from tests.helpers import assert_state_setter_copies

with np.load(pathlib.Path(__file__).parent / "data" / "acrobot_golden.npz") as _golden:
    GOLDEN = dict(_golden)  # an open NpzFile would decompress an array again on every lookup
EPISODES = range(len(GOLDEN["episode_seed"]))


def episode_steps(episode):
    return np.flatnonzero(GOLDEN["episode"] == episode)


def float64_observation(state):
    """The observation computed in float64, rounded to float32 (what Gymnasium does after the first step)."""
    t1, t2, dt1, dt2 = state
    return np.array([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), dt1, dt2]).astype(np.float32)


def squaring_by_multiplication(x):
    return x * x


def wrapping_all_turns_at_once(angle):
    turn = 2 * math.pi
    return angle - turn * np.round(angle / turn)


def test_golden_data_covers_goal_truncation_velocity_bounds_wrapping_and_starts():
    last_steps = [episode_steps(k)[-1] for k in EPISODES]
    assert np.sum(GOLDEN["terminated"][last_steps]) >= 16 and np.sum(GOLDEN["truncated"][last_steps]) >= 4
    before, after = GOLDEN["before"], GOLDEN["after"]
    for column, bound in ((2, MAX_VEL_1), (3, MAX_VEL_2)):  # RK4 went past the bound and the clip held it, both ways
        assert np.sum(after[:, column] == bound) >= 3 and np.sum(after[:, column] == -bound) >= 3
    wrapped = np.abs(after[:, :2] - before[:, :2]) > math.pi
    assert np.all(wrapped.sum(axis=0) >= 10)
    resets = GOLDEN["episode_resets"]
    assert np.any((resets > 0) & ~GOLDEN["episode_set"])  # whole episodes from an unseeded reset
    assert np.any(GOLDEN["episode_set"])
    float32_starts = [not np.array_equal(observation, float64_observation(state)) for observation, state
                      in zip(GOLDEN["reset_observations"].reshape(-1, 6), GOLDEN["reset_states"].reshape(-1, 4))]
    assert sum(float32_starts) >= 4  # starts whose observation is wrong unless computed in float32


def test_golden_edge_states_are_ones_where_pow_and_multiplication_round_apart(monkeypatch):
    """What the edge steps are for: each of the first eight steps changes if x*x replaces pow(x, 2)."""
    with_pow = [next_state(state.copy(), torque) for state, torque in
                zip(GOLDEN["edge_before"][:8], envs.acrobot.TORQUES[GOLDEN["edge_action"][:8]])]
    monkeypatch.setattr(envs.acrobot, "square", squaring_by_multiplication)
    for state, torque, expected in zip(GOLDEN["edge_before"][:8], envs.acrobot.TORQUES[GOLDEN["edge_action"][:8]],
                                       with_pow):
        assert not np.array_equal(next_state(state.copy(), torque), expected)


def assert_step_matches(outcome, i, prefix=""):
    observation, reward, terminated = outcome[:3]
    np.testing.assert_array_equal(observation.astype(np.float32), GOLDEN[prefix + "observation"][i])
    assert (reward, terminated) == (GOLDEN[prefix + "reward"][i], GOLDEN[prefix + "terminated"][i])


@pytest.mark.parametrize("episode", EPISODES)
def test_every_step_matches_gymnasium(episode):
    env = AcrobotEnv()
    env.reset(seed=0)
    for i in episode_steps(episode):
        env.state = GOLDEN["before"][i]
        outcome = env.step(int(GOLDEN["action"][i]))
        np.testing.assert_array_equal(env.state, GOLDEN["after"][i])
        assert_step_matches(outcome, i)
        assert outcome[3] == GOLDEN["truncated"][i]


@pytest.mark.parametrize("episode", EPISODES)
def test_whole_episodes_match_gymnasium_bit_for_bit(episode):
    """Open loop from reset(seed=s) and the unseeded resets after it; a start set by hand is set again."""
    env = AcrobotEnv()
    steps = episode_steps(episode)
    observation, _ = env.reset(seed=int(GOLDEN["episode_seed"][episode]))
    for _ in range(GOLDEN["episode_resets"][episode]):
        observation, _ = env.reset()
    np.testing.assert_array_equal(observation.astype(np.float32), GOLDEN["episode_reset_observation"][episode])
    if GOLDEN["episode_set"][episode]:
        env.state = GOLDEN["before"][steps[0]]
    states = [env.state]
    for i in steps:
        outcome = env.step(int(GOLDEN["action"][i]))
        states.append(env.state)
        assert_step_matches(outcome, i)
        assert outcome[3] == GOLDEN["truncated"][i]
    np.testing.assert_array_equal(states[:-1], GOLDEN["before"][steps])
    np.testing.assert_array_equal(states[1:], GOLDEN["after"][steps])


def test_golden_edge_states_far_off_range_are_ones_where_wrapping_at_once_rounds_apart(monkeypatch):
    """The last four edge steps start 6 to 15 turns from [-pi, pi]: wrapping all the turns at once (angle - 2 pi k)
    gives other bits than Gymnasium's one turn at a time."""
    far = slice(len(GOLDEN["edge_action"]) - 4, None)
    assert np.all(np.abs(GOLDEN["edge_before"][far, :2]).max(axis=1) > 6 * 2 * math.pi)
    pairs = list(zip(GOLDEN["edge_before"][far], envs.acrobot.TORQUES[GOLDEN["edge_action"][far]]))
    turn_by_turn = [next_state(state.copy(), torque) for state, torque in pairs]
    monkeypatch.setattr(envs.acrobot, "wrap", wrapping_all_turns_at_once)
    for (state, torque), expected in zip(pairs, turn_by_turn):
        assert not np.array_equal(next_state(state.copy(), torque), expected)


def gymnasium_wrap(x, m=-math.pi, big_m=math.pi):
    """Gymnasium's acrobot wrap, written out: x - 2 pi while x > pi, then x + 2 pi while x < -pi."""
    diff = big_m - m
    while x > big_m:
        x = x - diff
    while x < m:
        x = x + diff
    return x


def test_wrap_leaves_exactly_plus_minus_pi_where_they_are_as_gymnasium_s_wrap_does():
    """[-pi, pi] is closed at both ends: an angle at exactly -pi or +pi stays. Run in a thread with a time limit: a
    wrap that loops while an angle is at -pi, but moves it only when below, would never return."""
    below, above = np.nextafter(-math.pi, -np.inf), np.nextafter(math.pi, np.inf)
    angles = np.array([[-math.pi, math.pi, -3 * math.pi, 3 * math.pi, below, above, -7.0, 0.0],
                       [math.pi, -math.pi, 0.5, -0.5, above, below, 7.0, -math.pi]])  # t1, t2 as next_state has them
    wrapped = []
    thread = threading.Thread(target=lambda: wrapped.append(envs.acrobot.wrap(angles)), daemon=True)
    thread.start()
    thread.join(timeout=10.0)
    assert not thread.is_alive(), "wrap did not return within 10 s"
    np.testing.assert_array_equal(wrapped[0], [[gymnasium_wrap(float(x)) for x in row] for row in angles])
    assert wrapped[0][0, 0] == -math.pi and wrapped[0][0, 1] == math.pi


@pytest.mark.parametrize("k", range(len(GOLDEN["edge_action"])))
def test_edge_steps_match_gymnasium_to_the_last_bit(k):
    """States where x*x instead of pow(x, 2) changes a last bit, and states whose angles wrap by 1 to 15 turns."""
    env = AcrobotEnv()
    env.reset(seed=0)
    env.state = GOLDEN["edge_before"][k]
    outcome = env.step(int(GOLDEN["edge_action"][k]))
    np.testing.assert_array_equal(env.state, GOLDEN["edge_after"][k])
    assert_step_matches(outcome, k, "edge_")


def test_reset_reproduces_gymnasium_seeding():
    """reset(seed) and two unseeded resets after it: the float32 start state and its float32 observation."""
    env = AcrobotEnv()
    for seed, states, observations in zip(GOLDEN["reset_seeds"], GOLDEN["reset_states"], GOLDEN["reset_observations"]):
        for k in range(3):
            observation, _ = env.reset(seed=int(seed)) if k == 0 else env.reset()
            np.testing.assert_array_equal(env.state, states[k])
            np.testing.assert_array_equal(observation.astype(np.float32), observations[k])


def test_start_state_is_float32_and_its_observation_float32_arithmetic():
    """Seed 835 (a golden reset seed): its start observation's float32 cos/sin differs from the float64 one rounded
    to float32, and reset returns the float32 one, widened exactly."""
    env = AcrobotEnv()
    observation, _ = env.reset(seed=835)
    state32 = env.state.astype(np.float32)
    np.testing.assert_array_equal(state32.astype(np.float64), env.state)  # the start is a float32 state
    t1, t2, dt1, dt2 = state32
    in_float32 = np.array([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), dt1, dt2], dtype=np.float32)
    np.testing.assert_array_equal(observation, in_float32.astype(np.float64))
    assert observation.dtype == np.float64
    assert not np.array_equal(in_float32, float64_observation(env.state))


def test_reset_is_uniform_on_plus_minus_01():
    """4,000 resets: all inside [-0.1, 0.1]; each coordinate's mean within 4 standard errors
    (0.1 / sqrt(3) / sqrt(4000) = 9.1e-4) of 0, and its variance within 5% of 0.1^2 / 3
    (the sample variance's relative standard error is sqrt(0.8 / 4000) = 1.4%)."""
    env = AcrobotEnv()
    env.reset(seed=123)
    starts = []
    for _ in range(4000):
        env.reset()
        starts.append(env.state)
    starts = np.array(starts)
    assert np.all(np.abs(starts) <= 0.1)
    assert np.all(np.abs(starts.mean(axis=0)) < 4 * 0.1 / np.sqrt(3) / np.sqrt(4000))
    np.testing.assert_allclose(starts.var(axis=0), 0.1**2 / 3, rtol=0.05)


def test_equations_of_motion_are_the_lagrangian_ones():
    """ds/dt against the manipulator form M(q) q'' + h(q, q') + phi(q) = [0, tau], solved by np.linalg.solve:
    M = [[d11, d12], [d12, d22]] with d11 = m1 lc1^2 + m2 (l1^2 + lc2^2 + 2 l1 lc2 cos t2) + I1 + I2,
    d12 = m2 (lc2^2 + l1 lc2 cos t2) + I2, d22 = m2 lc2^2 + I2; h = m2 l1 lc2 sin t2 [-dt2^2 - 2 dt1 dt2, dt1^2];
    phi = [(m1 lc1 + m2 l1) g sin t1 + m2 lc2 g sin(t1 + t2), m2 lc2 g sin(t1 + t2)] (Spong's two-link arm)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        t1, t2, dt1, dt2 = rng.uniform(-1, 1, size=4) * [math.pi, math.pi, 4 * math.pi, 9 * math.pi]
        tau = rng.choice([-1.0, 0.0, 1.0])
        d11 = 0.25 + (1.0 + 0.25 + math.cos(t2)) + 2.0
        d12 = 0.25 + 0.5 * math.cos(t2) + 1.0
        h = 0.5 * math.sin(t2) * np.array([-dt2**2 - 2 * dt1 * dt2, dt1**2])
        phi = 9.8 * np.array([1.5 * math.sin(t1) + 0.5 * math.sin(t1 + t2), 0.5 * math.sin(t1 + t2)])
        accelerations = np.linalg.solve([[d11, d12], [d12, 1.25]], np.array([0.0, tau]) - h - phi)
        derivatives = envs.acrobot.dsdt(np.array([t1, t2, dt1, dt2]), tau)
        np.testing.assert_allclose(derivatives, [dt1, dt2, *accelerations], rtol=1e-12, atol=1e-12)


def test_observation_is_cos_sin_of_both_angles_then_both_velocities():
    env = AcrobotEnv()
    env.reset(seed=3)
    observation, *_ = env.step(2)
    t1, t2, dt1, dt2 = env.state
    np.testing.assert_array_equal(observation, [np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), dt1, dt2])
    assert observation.dtype == np.float64 and observation.shape == (6,)
    observation[4] = 99.0
    assert env.state[2] != 99.0


def test_reaching_the_goal_ends_the_episode_with_reward_0_and_every_other_step_costs_1():
    """Upright (t1 = pi, t2 = 0) the tip is two links above the pivot: the next step ends there with reward 0."""
    env = AcrobotEnv()
    env.reset(seed=0)
    assert env.step(1)[1:4] == (-1.0, False, False)
    env.state = [math.pi, 0.0, 0.0, 0.0]
    assert env.step(1)[1:4] == (0.0, True, False)


def test_a_tip_exactly_one_link_above_the_pivot_has_not_reached_the_goal():
    """Gymnasium's test is strict, -cos t1 - cos(t1 + t2) > 1: a state whose tip height is exactly 1.0 (found by the
    mutation probe) is short of the goal; the same state with t1 one float higher (a height 4 ulps over) is on it."""
    t1, t2 = 2.5395734275277406, -0.7920524291661819
    assert -math.cos(t1) - math.cos(t1 + t2) == 1.0
    higher = float(np.nextafter(t1, np.inf))
    assert 1.0 < -math.cos(higher) - math.cos(higher + t2) < 1.0 + 1e-15
    assert not envs.acrobot.reached_goal(np.array([t1, t2, 0.0, 0.0]))
    assert envs.acrobot.reached_goal(np.array([higher, t2, 0.0, 0.0]))


def swung_up_at_step_500(env_step, set_state):
    """499 steps without torque from the seeded start (the acrobot barely moves), then the state set upright: the
    500th step reaches the goal and meets the time limit."""
    for _ in range(499):
        assert env_step(1)[2:4] == (False, False)
    set_state([math.pi, 0.0, 0.0, 0.0])
    return env_step(1)


def test_the_500th_step_can_be_terminated_and_truncated_at_once():
    env = AcrobotEnv()
    env.reset(seed=0)
    _, reward, terminated, truncated, _ = swung_up_at_step_500(env.step, lambda state: setattr(env, "state", state))
    assert (reward, terminated, truncated) == (0.0, True, True)


def test_zero_torque_is_truncated_at_500_steps():
    env = AcrobotEnv()
    env.reset(seed=1)
    flags = [env.step(1)[2:4] for _ in range(500)]
    assert flags[:499] == [(False, False)] * 499 and flags[499] == (False, True)


@pytest.mark.parametrize("action", [3, -1, 1.0, True, np.array([1]), "1"])
def test_bad_action_names_the_problem(action):
    env = AcrobotEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"is outside Discrete\(3\)"):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = AcrobotEnv()
    env.reset(seed=0)
    start = env.state.copy()
    after_numpy = env.step(np.int64(2))[0]
    env.state = start
    np.testing.assert_array_equal(env.step(2)[0], after_numpy)


def test_step_before_reset_is_refused():
    with pytest.raises(ValueError, match=r"step\(\) called before reset\(\)"):
        AcrobotEnv().step(1)


def test_step_after_the_episode_ended_is_refused():
    env = AcrobotEnv()
    env.reset(seed=0)
    env.state = [math.pi, 0.0, 0.0, 0.0]
    assert env.step(1)[2]
    with pytest.raises(ValueError, match="episode ended; call reset"):
        env.step(1)
    env.reset()
    env.step(1)  # a reset starts a new episode


@pytest.mark.parametrize("state", [[0.0, 1.0], np.zeros((1, 4)), [0.0, np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0, 0.0],
                                   [0.0, -1000.5, 0.0, 0.0], [1e20, 0.0, 0.0, 0.0]])
def test_bad_state_is_refused(state):
    """Far angles too: Gymnasium's wrap, one turn at a time, would take forever from 1e20."""
    message = r"state must be 4 finite numbers \[t1, t2, dt1, dt2\] with \|t1\|, \|t2\| <= 1000"
    with pytest.raises(ValueError, match=message):
        AcrobotEnv().state = state


def test_setting_the_state_copies_it():
    assert_state_setter_copies(AcrobotEnv(), [0.1, -0.2, 0.3, 0.4])


def test_action_space_attributes():
    env = envs.make("acrobot")
    assert isinstance(env, AcrobotEnv)
    assert (env.observation_dim, env.n_actions, env.max_episode_steps) == (6, 3, 500)
    assert not hasattr(env, "action_dim")


def spun_states(rng, n):
    """Fast spins, which reach the goal within a few steps: rows that end (and restart) early in a test."""
    return rng.uniform(-1, 1, size=(n, 4)) * [0.3, math.pi, 4 * math.pi, 9 * math.pi]


def test_vector_twin_steps_every_row_as_the_single_env():
    """AcrobotVector row i equals AcrobotEnv stepped alone from the same seed with the same actions: rows that end stay
    put with reward 0, and a restarted row starts where the single env's unseeded reset does, its first observation
    in float32 arithmetic. The rows' seeds include the golden seeds whose start observation needs float32; half the
    rows start from fast spins, so that rows end, restart and run on during the test."""
    rng = np.random.default_rng(5)
    n = 64
    seeds = [int(seed) for seed in GOLDEN["reset_seeds"]] + list(range(1000, 1000 + n - len(GOLDEN["reset_seeds"])))
    vector = AcrobotVector(n)
    observations = vector.reset(seeds)
    singles = [AcrobotEnv() for _ in range(n)]
    for i, (env, seed) in enumerate(zip(singles, seeds)):
        np.testing.assert_array_equal(env.reset(seed=seed)[0], observations[i])
        np.testing.assert_array_equal(env.state, vector.states[i])
    spun = np.arange(n) % 2 == 1
    states = vector.states.copy()
    states[spun] = spun_states(rng, spun.sum())
    vector.states = states
    for i in np.flatnonzero(spun):
        singles[i].state = states[i]
    ended, restarted, frozen_steps = np.zeros(n, dtype=bool), [], 0
    for step in range(40):
        actions = rng.integers(3, size=n)
        before = vector.states.copy()
        observations, rewards, terminated, truncated = vector.step(actions)
        np.testing.assert_array_equal(vector.observations(), observations)
        for i, env in enumerate(singles):
            if ended[i]:
                np.testing.assert_array_equal(vector.states[i], before[i])
                assert rewards[i] == 0.0 and not (terminated[i] or truncated[i])
                frozen_steps += 1
                continue
            observation, reward, done, cut, _ = env.step(int(actions[i]))
            np.testing.assert_array_equal(observations[i], observation)
            np.testing.assert_array_equal(vector.states[i], env.state)
            assert (rewards[i], terminated[i], truncated[i]) == (reward, done, cut)
            ended[i] = done
        if step == 20:  # restart the rows that have ended by now; the others stay ended until the test's end
            rows = np.flatnonzero(ended)
            started = vector.restart(rows)
            starts = vector.observations()
            for i, start in zip(rows, started):
                np.testing.assert_array_equal(starts[i], singles[i].reset()[0])
                np.testing.assert_array_equal(start, starts[i])
                np.testing.assert_array_equal(vector.states[i], singles[i].state)
            assert not vector.done[rows].any() and not vector.steps[rows].any()
            ended[rows] = False
            restarted = rows
    assert len(restarted) > 8 and frozen_steps > 100  # rows ended, waited, restarted and ran on


def test_vector_restart_gives_float64_observations_as_the_single_env_s_reset():
    """Seeds 835 and 1506 (golden seeds) start where float32 arithmetic matters: the float32 observation widened."""
    vector, singles = AcrobotVector(3), [AcrobotEnv() for _ in range(3)]
    vector.reset([835, 1506, 7])
    for env, seed in zip(singles, [835, 1506, 7]):
        env.reset(seed=seed)
    for rows in ([0, 2], [1], [2, 1, 0]):
        started = vector.restart(rows)
        expected = np.array([singles[r].reset()[0] for r in rows])
        assert started.dtype == expected.dtype == np.float64
        np.testing.assert_array_equal(started, expected)


def test_vector_rows_are_cut_at_their_own_500th_step_and_can_end_both_ways_at_once():
    """Without torque no row reaches the goal: row 0 from reset is truncated at step 500, row 1 restarted at step
    100 at step 600; row 2, set upright before its 500th step, is terminated and truncated at once (reward 0)."""
    vector = AcrobotVector(3)
    vector.reset([0, 1, 2])
    cut = []
    for step in range(1, 701):
        if step == 101:
            vector.restart([1])
        if step == 500:
            states = vector.states.copy()
            states[2] = [math.pi, 0.0, 0.0, 0.0]
            vector.states = states
        _, rewards, terminated, truncated = vector.step(np.ones(3, dtype=int))
        if step == 500:
            assert (terminated[2], truncated[2], rewards[2]) == (True, True, 0.0)
        cut += [(step, row) for row in np.flatnonzero(truncated)]
    assert cut == [(500, 0), (500, 2), (600, 1)]


def test_a_vector_row_that_ended_keeps_its_step_count_while_the_others_count_on():
    """Row 0, set upright, reaches the goal on its first step, as AcrobotEnv alone does; row 1 is truncated at 500;
    row 2, restarted at step 100, counts on to 420 at step 520. Ended rows are not restarted and keep their counts."""
    env = AcrobotEnv()
    env.reset(seed=0)
    env.state = [math.pi, 0.0, 0.0, 0.0]
    length, done = 0, False
    while not done:
        done = any(env.step(1)[2:4])
        length += 1
    vector = AcrobotVector(3)
    vector.reset([0, 1, 2])
    states = vector.states.copy()
    states[0] = [math.pi, 0.0, 0.0, 0.0]
    vector.states = states
    for step in range(1, 521):
        if step == 101:
            vector.restart([2])
        vector.step(np.ones(3, dtype=int))
        since_start = step - 100 if step > 100 else step
        np.testing.assert_array_equal(vector.steps, [min(step, length), min(step, 500), since_start])
    assert list(vector.done) == [True, True, False]


@pytest.mark.parametrize("actions", [np.array([0, 1, 3]), np.array([0, 1]), np.array([0.0, 1.0, 2.0]),
                                     np.array([-1, 0, 0]), np.array([True, False, True])])
def test_vector_refuses_bad_actions(actions):
    vector = AcrobotVector(3)
    vector.reset([0, 1, 2])
    with pytest.raises(ValueError, match=r"actions must be 3 integers in \{0, 1, 2\}"):
        vector.step(actions)


def test_vector_states_are_read_only_and_set_whole():
    """A state set by hand is float64 and so is its observation (only a reset's start is observed in float32)."""
    vector = AcrobotVector(2)
    vector.reset([835, 1506])  # golden seeds whose start observations need float32 arithmetic
    states = [[0.1, -0.2, 0.3, 0.4], [0.05, 0.02, -0.01, 0.03]]
    vector.states = states
    np.testing.assert_array_equal(vector.observations(), [[np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2),
                                                           dt1, dt2] for t1, t2, dt1, dt2 in states])
    with pytest.raises(ValueError, match="read-only"):
        vector.states[0, 0] = 1.0
    with pytest.raises(ValueError, match=r"states must be 2 rows of 4 finite numbers"):
        vector.states = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"states must be 2 rows of 4 finite numbers"):
        vector.states = [[0.0, 0.0, np.nan, 0.0], [0.0, 0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match=r"with \|t1\|, \|t2\| <= 1000"):
        vector.states = [[0.0, 0.0, 0.0, 0.0], [0.0, 2000.0, 0.0, 0.0]]


def test_make_vector_builds_the_acrobot_twin():
    vector = envs.make_vector("acrobot", 5)
    assert isinstance(vector, AcrobotVector)
    assert (vector.n, vector.observation_dim, vector.n_actions, vector.max_episode_steps) == (5, 6, 3, 500)
    observations = vector.reset(range(5))
    assert observations.shape == (5, 6) and observations.flags["C_CONTIGUOUS"]  # rows laid out as a batch's rows


# Live against Gymnasium, where it is installed (never a dependency of minipg).

def gymnasium_acrobot():
    gymnasium = pytest.importorskip("gymnasium")
    return gymnasium.make("Acrobot-v1")


def pumping(state):
    return 2 if state[2] + 0.3 * state[3] > 0 else 0


def assert_same_step(theirs, ours, their_state, our_state):
    np.testing.assert_array_equal(our_state, np.asarray(their_state, dtype=np.float64))
    np.testing.assert_array_equal(ours[0].astype(np.float32), theirs[0])
    assert ours[1:4] == (theirs[1], theirs[2], theirs[3])


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_live_episodes_match_gymnasium(seed):
    """From reset(seed) and two unseeded resets after it: random torques, then pumping, then a fast spin set by hand;
    every step's state, float32 observation, reward and flags compared."""
    gym_env, env = gymnasium_acrobot(), AcrobotEnv()
    rng = np.random.default_rng(seed)
    for k, controller in enumerate([lambda state: int(rng.integers(3)), pumping, pumping]):
        theirs, ours = (gym_env.reset(seed=seed), env.reset(seed=seed)) if k == 0 else (gym_env.reset(), env.reset())
        np.testing.assert_array_equal(ours[0].astype(np.float32), theirs[0])
        if k == 2:
            env.state = gym_env.unwrapped.state = spun_states(rng, 1)[0]
        done = False
        while not done:
            action = controller(env.state)
            theirs, ours = gym_env.step(action), env.step(action)
            assert_same_step(theirs, ours, gym_env.unwrapped.state, env.state)
            done = ours[2] or ours[3]


def test_live_500th_step_is_terminated_and_truncated_at_once_in_gymnasium_too():
    gym_env, env = gymnasium_acrobot(), AcrobotEnv()
    gym_env.reset(seed=0)
    env.reset(seed=0)

    def both_step(action):
        theirs, ours = gym_env.step(action), env.step(action)
        assert_same_step(theirs, ours, gym_env.unwrapped.state, env.state)
        return ours

    def both_set(state):
        env.state = gym_env.unwrapped.state = np.array(state)

    assert swung_up_at_step_500(both_step, both_set)[1:4] == (0.0, True, True)
