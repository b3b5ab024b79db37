"""The tabular envs: their models are proper distributions, and the simulator samples from exactly them."""
import numpy as np
import pytest

from envs.gridworld import GridWorld, ShortCorridor, TwoRooms

UP, RIGHT, DOWN, LEFT = range(4)

OPEN = """
...
.S.
..G
"""


def state_at(env, cell):
    return env.cells.index(cell)


@pytest.mark.parametrize("env", [GridWorld(), GridWorld(slip=0.0), GridWorld(slip=1.0), ShortCorridor()],
                         ids=["slip", "no-slip", "all-slip", "corridor"])
def test_transition_rows_are_distributions(env):
    assert env.P.shape == (env.n_states, env.n_actions, env.n_states) and env.P.dtype == np.float64
    assert np.all(env.P >= 0.0)
    np.testing.assert_allclose(env.P.sum(axis=2), 1.0, rtol=0, atol=1e-15)


def test_start_distribution_is_one_hot_at_the_start():
    grid, corridor = GridWorld(), ShortCorridor()
    np.testing.assert_array_equal(grid.start, np.eye(grid.n_states)[state_at(grid, (2, 0))])
    np.testing.assert_array_equal(corridor.start, [1.0, 0.0, 0.0, 0.0])
    grid.reset(seed=0)
    assert grid.cells[grid.state] == (2, 0)


@pytest.mark.parametrize("slip", [0.2, 0.5])
def test_slip_moves_sideways_with_the_documented_probabilities(slip):
    env = GridWorld(OPEN, slip=slip)
    centre = state_at(env, (1, 1))
    neighbour = {UP: (0, 1), RIGHT: (1, 2), DOWN: (2, 1), LEFT: (1, 0)}
    perpendicular = {UP: (LEFT, RIGHT), RIGHT: (UP, DOWN), DOWN: (LEFT, RIGHT), LEFT: (UP, DOWN)}
    for action in range(4):
        expected = np.zeros(env.n_states)
        expected[state_at(env, neighbour[action])] = 1.0 - slip
        for side in perpendicular[action]:
            expected[state_at(env, neighbour[side])] = slip / 2
        np.testing.assert_array_equal(env.P[centre, action], expected)


def test_no_slip_is_deterministic():
    P = GridWorld(slip=0.0).P
    assert np.all(np.count_nonzero(P, axis=2) == 1) and np.all(P.max(axis=2) == 1.0)


def test_simulator_samples_the_model():
    """10,000 steps per action from the centre of OPEN: every next-state frequency within 4 standard
    errors sqrt(p (1 - p) / n) of P (so a next state of probability 0 must never be drawn), and every
    sampled reward is r(s, u, s') of the table."""
    env = GridWorld(OPEN, slip=0.2)
    centre = state_at(env, (1, 1))
    env.reset(seed=7)
    n = 10_000
    for action in range(4):
        counts = np.zeros(env.n_states)
        for _ in range(n):
            env.reset()
            _, reward, _, _, _ = env.step(action)
            counts[env.state] += 1
            assert reward == env.rewards[centre, action, env.state]
        p = env.P[centre, action]
        assert np.all(np.abs(counts / n - p) <= 4 * np.sqrt(p * (1 - p) / n))


def test_walls_and_edges_block():
    env = GridWorld(".#G\nS..", slip=0.0)
    start, corner = state_at(env, (1, 0)), state_at(env, (0, 0))
    assert env.P[start, UP, corner] == 1.0  # free
    assert env.P[start, LEFT, start] == 1.0  # edge
    assert env.P[start, DOWN, start] == 1.0  # edge
    assert env.P[corner, RIGHT, corner] == 1.0  # wall
    assert env.P[corner, UP, corner] == 1.0  # edge


def test_terminal_states_absorb_with_zero_reward():
    env = GridWorld()
    assert [env.cells[s] for s in np.flatnonzero(env.terminal)] == [(2, 4), (3, 2)]  # goal, pit
    for s in np.flatnonzero(env.terminal):
        np.testing.assert_array_equal(env.P[s, :, s], 1.0)
        np.testing.assert_array_equal(env.rewards[s], 0.0)
        np.testing.assert_array_equal(env.R[s], 0.0)


def test_expected_reward_is_the_table_averaged_over_P():
    """R(s,u) = sum_s' P(s'|s,u) r(s,u,s'), checked by hand on the default grid (slip 0.1, step -0.1)."""
    env = GridWorld()
    np.testing.assert_allclose(env.R, np.einsum("sut,sut->su", env.P, env.rewards), rtol=0, atol=1e-15)
    beside_goal, above_pit = state_at(env, (2, 3)), state_at(env, (2, 2))
    # right: 0.9 into G (0.9), slips up and down hit walls and stay (-0.1)
    assert env.R[beside_goal, RIGHT] == pytest.approx(0.9 * 0.9 + 0.1 * -0.1, abs=1e-15)
    # right: 0.9 along the row (-0.1), 0.05 up (-0.1), 0.05 down into P (-1.1)
    assert env.P[above_pit, RIGHT, state_at(env, (3, 2))] == pytest.approx(0.05, abs=1e-15)
    assert env.R[above_pit, RIGHT] == pytest.approx(0.95 * -0.1 + 0.05 * -1.1, abs=1e-15)


def test_rewards_on_entering_goal_and_pit():
    goal = GridWorld("SGP", slip=0.0, step_reward=-0.1)
    goal.reset(seed=0)
    assert goal.step(RIGHT)[1:4] == (pytest.approx(0.9, abs=1e-15), True, False)
    assert goal.R[state_at(goal, (0, 0)), LEFT] == -0.1  # bump into the edge: step cost only
    pit = GridWorld("GSP", slip=0.0, step_reward=-0.1)
    pit.reset(seed=0)
    assert pit.step(RIGHT)[1:4] == (pytest.approx(-1.1, abs=1e-15), True, False)


def test_observations_are_one_hot_and_reset_is_reproducible():
    env = GridWorld(slip=0.5)
    np.testing.assert_array_equal(env.state_observations, np.eye(env.n_states))
    assert env.observation_dim == env.n_states and env.n_actions == 4
    obs, info = env.reset(seed=3)
    assert info == {} and obs.dtype == np.float64
    np.testing.assert_array_equal(obs, np.eye(env.n_states)[env.state])
    first = [env.step(LEFT)[0].argmax() for _ in range(10)]  # along column 0: slips, never ends
    env.reset(seed=3)
    assert [env.step(LEFT)[0].argmax() for _ in range(10)] == first
    assert len(set(first)) > 1  # the slips did happen, so the seed mattered
    env.reset()  # no seed: the stream continues, it does not restart
    assert [env.step(LEFT)[0].argmax() for _ in range(10)] != first


def test_unseeded_reset_continues_the_seeded_stream():
    twins = [GridWorld(slip=0.5), GridWorld(slip=0.5)]
    episodes = []
    for env in twins:
        env.reset(seed=3)
        env.step(LEFT)
        env.reset()  # no seed: continues from where the seeded stream is, in both twins alike
        episodes.append([env.step(LEFT)[0].argmax() for _ in range(20)])
    assert episodes[0] == episodes[1]


def test_returned_observation_is_a_copy():
    env = GridWorld()
    obs, _ = env.reset(seed=0)
    obs[:] = 7.0
    assert env.state_observations.max() == 1.0


def test_truncation_at_max_episode_steps():
    env = GridWorld(OPEN, slip=0.0, max_episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(LEFT)[2:4] for _ in range(3)]  # walk into the left edge: never terminates
    assert flags == [(False, False), (False, False), (False, True)]
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step(LEFT)


def test_render_draws_the_agent():
    env = GridWorld("S.\n#G", slip=0.0)
    assert env.render() == "S.\n#G"
    env.reset(seed=0)
    env.step(RIGHT)
    assert env.render() == "SA\n#G"


def test_corridor_reverses_actions_in_the_second_state():
    env = ShortCorridor()
    assert (env.n_states, env.n_actions, env.observation_dim) == (4, 2, 1)
    np.testing.assert_array_equal(env.P[:3, 1].argmax(axis=1), [1, 0, 3])  # right
    np.testing.assert_array_equal(env.P[:3, 0].argmax(axis=1), [0, 2, 1])  # left
    np.testing.assert_array_equal(env.R, [[-1.0, -1.0]] * 3 + [[0.0, 0.0]])
    np.testing.assert_array_equal(env.P[3, :, 3], 1.0)
    np.testing.assert_array_equal(env.terminal, [False, False, False, True])
    np.testing.assert_array_equal(env.state_observations, np.ones((4, 1)))


def test_corridor_episode_reaches_the_goal():
    env = ShortCorridor()
    env.reset(seed=0)
    visited = []
    for action in (0, 1, 0, 1):  # left stays in 0, right to 1, reversed left to 2, right to the goal
        obs, reward, terminated, truncated, _ = env.step(action)
        visited.append((env.state, reward, terminated, truncated))
        np.testing.assert_array_equal(obs, np.ones(1))
    assert visited == [(0, -1.0, False, False), (1, -1.0, False, False), (2, -1.0, False, False),
                       (3, -1.0, True, False)]
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step(1)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"layout": "S.\n.G."}, "same length"), ({"layout": "S.X\n..G"}, "unknown characters"),
     ({"layout": "S .\n..G"}, "unknown characters"), ({"layout": "\n  \n"}, "layout is empty"),
     ({"layout": "..\n.G"}, "exactly one start S, found 0"), ({"layout": "SS\n.G"}, "exactly one start S, found 2"),
     ({"layout": "S.\n.P"}, "at least one goal G"),
     ({"slip": 1.5}, r"slip must be in \[0, 1\]"), ({"slip": -0.1}, r"slip must be in \[0, 1\]"),
     ({"slip": float("nan")}, r"slip must be in \[0, 1\]"),
     ({"max_episode_steps": 0}, "max_episode_steps must be a positive integer"),
     ({"max_episode_steps": 2.5}, "max_episode_steps must be a positive integer")],
)
def test_bad_construction_names_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(**kwargs)


def test_corridor_refuses_a_bad_episode_length():
    with pytest.raises(ValueError, match="max_episode_steps must be a positive integer"):
        ShortCorridor(max_episode_steps=0)
    assert ShortCorridor(max_episode_steps=np.int64(5)).max_episode_steps == 5


@pytest.mark.parametrize("action", [4, -1, 1.0, True, "1", np.array([1])])
def test_actions_outside_the_action_space_are_refused(action):
    env = GridWorld()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"is outside Discrete\(4\)"):
        env.step(action)


def test_numpy_integer_actions_are_accepted():
    env = ShortCorridor()
    env.reset(seed=0)
    assert env.step(np.int64(1))[1] == -1.0 and env.state == 1


def test_step_before_reset_is_refused():
    with pytest.raises(ValueError, match=r"step\(\) called before reset\(\)"):
        GridWorld().step(0)


def test_terminating_on_the_last_allowed_step_is_not_truncated():
    """An episode that enters a terminal state on its max_episode_steps-th step has terminated and is not truncated
    ("truncated after max_episode_steps steps without termination"), in the gridworld and in the corridor."""
    env = GridWorld("SG", slip=0.0, max_episode_steps=1)
    env.reset(seed=0)
    assert env.step(RIGHT)[2:4] == (True, False)
    corridor = ShortCorridor(max_episode_steps=4)
    corridor.reset(seed=0)
    assert [corridor.step(action)[2:4] for action in (0, 1, 0, 1)] == [(False, False)] * 3 + [(True, False)]


def test_two_rooms_tables_are_its_docstring_written_out():
    """TwoRooms' defaults (slip 0.2, wait 0.2, exit 1, start in A 0.75) by hand, row [s][u] = P(. | s, u) over
    (A, B, exit): wait stays in A; go reaches B or slips and stays in A; back returns to A; exit leaves, or slides
    back to A (not B) with nothing; the exit absorbs."""
    env = TwoRooms()
    P = [[[1.0, 0.0, 0.0], [0.2, 0.8, 0.0]],   # A: wait, go
         [[1.0, 0.0, 0.0], [0.2, 0.0, 0.8]],   # B: back, exit
         [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]]   # exit
    np.testing.assert_allclose(env.P, P, rtol=0, atol=1e-15)
    np.testing.assert_allclose(env.R, [[0.2, 0.0], [0.0, 0.8], [0.0, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(env.start, [0.75, 0.25, 0.0])
    np.testing.assert_array_equal(env.terminal, [False, False, True])
