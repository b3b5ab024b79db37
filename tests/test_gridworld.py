"""The tabular envs: their models are proper distributions, and the simulator samples from exactly them."""
import numpy as np
import pytest

import envs
from envs.gridworld import GridWorld, ShortCorridor

OPEN = """
...
.S.
..G
"""


def state_at(env, cell):
    return env.cells.index(cell)


@pytest.mark.parametrize("env", [GridWorld(), GridWorld(slip=0.0), ShortCorridor()], ids=["slip", "no-slip", "corridor"])
def test_transition_rows_are_distributions(env):
    assert np.all(env.P >= 0.0)
    np.testing.assert_allclose(env.P.sum(axis=2), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(env.R, np.einsum("sut,sut->su", env.P, env.rewards))


def test_slip_moves_sideways_with_the_documented_probabilities():
    env = GridWorld(OPEN, slip=0.2)
    centre = state_at(env, (1, 1))
    for action, (intended, left_of, right_of) in {
        0: ((0, 1), (1, 0), (1, 2)),  # up: slips go left or right
        1: ((1, 2), (0, 1), (2, 1)),  # right: slips go up or down
    }.items():
        row = env.P[centre, action]
        assert row[state_at(env, intended)] == pytest.approx(0.8)
        assert row[state_at(env, left_of)] == pytest.approx(0.1)
        assert row[state_at(env, right_of)] == pytest.approx(0.1)
    assert np.count_nonzero(GridWorld(OPEN, slip=0.0).P[centre]) == 4  # deterministic: one next state per action


def test_simulator_samples_the_model():
    """20,000 steps up from the centre: each next-state frequency within 4 standard errors of P."""
    env = GridWorld(OPEN, slip=0.2)
    centre = state_at(env, (1, 1))
    env.reset(seed=7)
    counts = np.zeros(env.n_states)
    n = 20_000
    for _ in range(n):
        env.reset()
        counts[env.step(0)[0].argmax()] += 1
    p = env.P[centre, 0]
    assert np.all(np.abs(counts / n - p) <= 4 * np.sqrt(p * (1 - p) / n))


def test_walls_and_edges_block():
    env = GridWorld(".#G\nS..", slip=0.0)
    start = state_at(env, (1, 0))
    assert env.P[start, 0, state_at(env, (0, 0))] == 1.0  # up: free
    assert env.P[start, 3, start] == 1.0  # left: edge
    assert env.P[state_at(env, (0, 0)), 1, state_at(env, (0, 0))] == 1.0  # right into the wall


def test_terminal_states_absorb_with_zero_reward():
    env = GridWorld()
    for s in np.flatnonzero(env.terminal):
        np.testing.assert_array_equal(env.P[s, :, s], 1.0)
        np.testing.assert_array_equal(env.R[s], 0.0)


def test_rewards_on_entering_goal_and_pit():
    env = GridWorld("SGP", slip=0.0, step_reward=-0.1)
    env.reset(seed=0)
    assert env.step(1)[1:3] == (pytest.approx(0.9), True)
    assert env.R[state_at(env, (0, 0)), 3] == pytest.approx(-0.1)  # bump into the edge: step cost only
    pit = GridWorld("GSP", slip=0.0, step_reward=-0.1)
    pit.reset(seed=0)
    assert pit.step(1)[1:3] == (pytest.approx(-1.1), True)


def test_observations_are_one_hot_and_reset_is_reproducible():
    env = GridWorld(slip=0.5)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (env.n_states,) and obs.sum() == 1.0 and obs[env.state] == 1.0
    first = [env.step(3)[0].argmax() for _ in range(10)]  # left along column 0: slips, never ends
    env.reset(seed=3)
    assert [env.step(3)[0].argmax() for _ in range(10)] == first
    assert len(set(first)) > 1  # the slips did happen, so the seed mattered


def test_truncation_at_max_episode_steps():
    env = GridWorld(OPEN, slip=0.0, max_episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(3)[2:4] for _ in range(3)]  # walk into the left edge: never terminates
    assert flags == [(False, False), (False, False), (False, True)]


def test_corridor_reverses_actions_in_the_second_state():
    env = ShortCorridor()
    np.testing.assert_array_equal(env.P[:3, 1].argmax(axis=1), [1, 0, 3])  # right
    np.testing.assert_array_equal(env.P[:3, 0].argmax(axis=1), [0, 2, 1])  # left
    np.testing.assert_array_equal(env.R[:3], -1.0)
    assert np.all(env.state_observations == 1.0)
    env.reset(seed=0)
    outcomes = [env.step(action)[1:3] for action in (1, 0, 1)]
    assert outcomes == [(-1.0, False), (-1.0, False), (-1.0, True)]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"layout": "S.\n.G."}, "same length"), ({"layout": "S.X\n..G"}, "unknown characters"),
     ({"layout": "..\n.G"}, "exactly one start"), ({"layout": "S.\n.."}, "terminal cell"),
     ({"slip": 1.5}, "slip must be in"), ({"max_episode_steps": 0}, "max_episode_steps")],
)
def test_bad_construction_names_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(**kwargs)


def test_bad_action_and_stepping_outside_an_episode_are_refused():
    env = envs.make("gridworld")
    with pytest.raises(ValueError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 4 is outside Discrete\(4\)"):
        env.step(4)
    corridor = envs.make("corridor")
    corridor.reset(seed=0)
    for action in (1, 0, 1):
        corridor.step(action)
    with pytest.raises(ValueError, match="call reset"):
        corridor.step(1)
