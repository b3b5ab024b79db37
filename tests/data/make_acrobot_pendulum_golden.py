"""Record golden Acrobot-v1 and Pendulum-v1 transitions from Gymnasium (run by hand, never by the tests).

Recorded with gymnasium 1.4.0 and numpy 2.4.6 (Python 3.11, x86-64). To record again, in a throwaway
environment outside the repository (gymnasium is not a dependency of minipg):

    python -m venv /tmp/gymvenv && /tmp/gymvenv/bin/pip install gymnasium numpy
    /tmp/gymvenv/bin/python tests/data/make_acrobot_pendulum_golden.py

One script for both envs: recording an episode (reset, read env.unwrapped.state, step, keep both flags and the
float32 observation) is the same code for both; each env gets its own file, acrobot_golden.npz and
pendulum_golden.npz, so each test loads only its own. Every step stores the float64 state before and after
(env.unwrapped.state), the action, the reward, both flags and the float32 observation Gymnasium returned; every
episode stores the seed of its reset, how many unseeded resets followed that seeded one before it began
(episode_resets: 0 for reset(seed=s), 1 for the reset() after that episode, ...), whether its start state was set
by hand through env.unwrapped.state (episode_set), and the float32 observation its reset returned.

Acrobot, for each seed s, six episodes, one after another in the same env, so that all but the first start from
unseeded resets:
  random   uniform random torques from reset(seed=s): the tip never rises high enough, truncated at 500 steps;
  pumping  torque with the sign of dt1 + 0.3 dt2, which pumps energy in: the tip reaches the goal after
           100-250 steps, the second link wrapping past +-pi on the way;
  spun     three episodes whose start state is set to a fast spin (|dt1| near 4 pi, |dt2| near 9 pi, the signs
           taking turns), torque with the sign of dt2: in most of them the velocity bounds clip, and the tip
           reaches the goal within 1-20 steps (so fast an acrobot has energy to spare);
  whirl    the start set to both links hanging, the second whirling at about 8 pi, no torque: dt2 is clipped
           and the tip reaches the goal within a few steps.
Then single steps from edge states (edge_*): states where squaring with x*x instead of Gymnasium's pow(x, 2) changes
a last bit of the next state (found by stepping random states both ways with minipg's envs.acrobot), and states set
outside [-pi, pi] that wrap by 1 to 15 turns, the farthest ones where subtracting all the turns at once would round
apart from Gymnasium's turn by turn (found the same way). Last, resets: for each of reset_seeds, the start state and
float32 observation of reset(seed), then of two unseeded resets after it; the seeds are 0-7 and the first seeds after
those whose seeded start observation, computed in float32 as Gymnasium computes it, differs from the float64
observation rounded to float32.

Pendulum, for each seed s, four episodes of 200 steps (truncated), from reset(seed=s) and three unseeded resets:
  random     actions uniform in [-4, 4], so half of them are clipped to +-2;
  pumping    a = 3 sign(thdot) (applied as +-2): the pole swings up and spins, thdot is clipped at 8 (or -8) and
             th runs on past +-pi, by many turns;
  backwards  a = 3 sign(thdot - 1): pumping biased the other way, so that the spins and the clip at -8 come too;
  holding    a = -(10 normalize(th) + thdot): pushes towards upright, saturating far from it.
Then single steps from edge states (edge_*) where pow(x, 2) and x*x round apart in one term of the reward: thdot
alone, normalize(th) alone, and the torque alone; and resets for seeds 0-7 as for acrobot.
"""
import math
import pathlib

import gymnasium
import numpy as np

HERE = pathlib.Path(__file__).parent
ACROBOT_SEEDS = range(4)
PENDULUM_SEEDS = range(4)
SPIN_SIGNS = [(1, 1), (-1, -1), (1, -1), (-1, 1)]  # signs of (dt1, dt2) of the spun starts, in turn
# (state, action): x*x in place of pow(x, 2) changes a last bit of the next state
ACROBOT_POW_SENSITIVE = [
    ([0.267518, -1.617677, -11.746973, 24.643707], 0), ([-1.12277, -0.603832, 10.92762, -22.071503], 2),
    ([1.432655, 0.774384, -3.320465, 4.423931], 0), ([-1.510431, 2.661499, 1.11965, -16.544861], 2),
    ([-0.261083, 2.974753, 12.387851, -13.789094], 1), ([2.321981, 0.637225, 0.367972, 7.383351], 0),
    ([-0.972939, -1.09034, -10.977794, 21.511645], 2), ([-1.690281, -2.958445, -8.746845, -5.63898], 0),
]
# (state, action): angles outside [-pi, pi] before the step, wrapped by whole turns after it; in the last four, 6 to 15
# turns away, subtracting all the turns at once would round apart from wrapping turn by turn
ACROBOT_OFF_RANGE = [([7.0, -0.2, 0.0, 0.0], 1), ([-13.0, 3.5, 0.5, -1.0], 0), ([0.3, 19.0, 0.0, 2.0], 2),
                     ([-3.3, -9.6, -1.0, 0.0], 1), ([-82.9, -52.6, 1.8, 0.5], 0), ([47.6, 91.3, -1.3, 0.9], 1),
                     ([-37.2, 78.3, 0.5, -0.2], 0), ([54.7, -93.9, 1.2, -0.8], 0)]


def record_episode(env, controller, rng, start=None):
    """Rows (state before, action, state after, float32 observation, reward, terminated, truncated) of one
    episode from the env's current reset, its start state first set to `start` if given."""
    if start is not None:
        env.unwrapped.state = np.array(start, dtype=np.float64)
    rows, done = [], False
    while not done:
        before = np.array(env.unwrapped.state, dtype=np.float64)
        action = controller(before, rng)
        observation, reward, terminated, truncated, _ = env.step(action)
        rows.append((before, action, np.array(env.unwrapped.state, dtype=np.float64), observation, reward,
                     terminated, truncated))
        done = terminated or truncated
    return rows


def record_episodes(env, seeds, plan):
    """Per seed, one episode per (controller, start) of the plan: the first from reset(seed=s), the others from
    unseeded resets. start(s, rng) is the state the episode starts from, or None for the reset's own."""
    rng = np.random.default_rng(2024)  # the random controllers' draws and the set start states
    episodes, meta = [], []
    for seed in seeds:
        for k, (controller, start_of) in enumerate(plan):
            reset_observation, _ = env.reset(seed=seed) if k == 0 else env.reset()
            start = start_of(seed + k, rng)
            episodes.append(record_episode(env, controller, rng, start))
            meta.append((seed, k, start is not None, reset_observation))
    return episodes, meta


def record_resets(env, seeds):
    """(start state, float32 observation) of reset(seed=s) and of two unseeded resets after it, per seed."""
    states, observations = [], []
    for seed in seeds:
        for k in range(3):
            observation, _ = env.reset(seed=seed) if k == 0 else env.reset()
            states.append(np.array(env.unwrapped.state, dtype=np.float64))
            observations.append(observation)
    n = len(seeds)
    return np.array(states).reshape(n, 3, -1), np.array(observations).reshape(n, 3, -1)


def record_edge_steps(env, pairs):
    """(state before, action, state after, float32 observation, reward, terminated) of one step from each state."""
    rows = []
    for state, action in pairs:
        env.reset(seed=0)
        env.unwrapped.state = np.array(state, dtype=np.float64)
        observation, reward, terminated, _, _ = env.step(action)
        rows.append((np.array(state, dtype=np.float64), action, np.array(env.unwrapped.state, dtype=np.float64),
                     observation, reward, terminated))
    return rows


def arrays(episodes, meta, action_dtype):
    """The episodes' steps as one array per field, and each episode's fields, ready for savez."""
    rows = [row for episode in episodes for row in episode]
    before, action, after, observation, reward, terminated, truncated = map(np.array, zip(*rows))
    seeds, resets, set_start, reset_observation = map(np.array, zip(*meta))
    return dict(
        episode=np.repeat(np.arange(len(episodes)), [len(e) for e in episodes]).astype(np.int16),
        before=before, action=action.astype(action_dtype), after=after, observation=observation, reward=reward,
        terminated=terminated, truncated=truncated, episode_seed=seeds, episode_resets=resets,
        episode_set=set_start, episode_reset_observation=reset_observation)


def edge_arrays(rows, action_dtype):
    before, action, after, observation, reward, terminated = map(np.array, zip(*rows))
    return dict(edge_before=before, edge_action=action.astype(action_dtype), edge_after=after,
                edge_observation=observation, edge_reward=reward, edge_terminated=terminated)


def acrobot_random(state, rng):
    return int(rng.integers(3))


def acrobot_pumping(state, rng):
    return 2 if state[2] + 0.3 * state[3] > 0 else 0


def acrobot_spinning(state, rng):
    return 2 if state[3] > 0 else 0


def acrobot_zero(state, rng):
    return 1


def acrobot_spun_start(index, rng):
    """t1 near 0, t2 anywhere, |dt1| in [0.9, 1] 4 pi and |dt2| in [0.9, 1] 9 pi, with signs varying with index."""
    sign_1, sign_2 = SPIN_SIGNS[index % len(SPIN_SIGNS)]
    return [rng.uniform(-0.3, 0.3), rng.uniform(-math.pi, math.pi), sign_1 * 4 * math.pi * rng.uniform(0.9, 1.0),
            sign_2 * 9 * math.pi * rng.uniform(0.9, 1.0)]


def acrobot_whirl_start(index, rng):
    """Both links near straight down, the second whirling at about 8 pi, its sign varying with index."""
    return [rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 0.0, (-1) ** index * 8 * math.pi * rng.uniform(0.95, 1.0)]


def reset_start(index, rng):
    return None


def float32_start_seeds(env, count, first=8):
    """The first `count` seeds from `first` on whose seeded start observation Gymnasium computes in float32 with a
    different last bit from the float64 observation rounded to float32."""
    seeds, seed = [], first
    while len(seeds) < count:
        observation, _ = env.reset(seed=seed)
        t1, t2, dt1, dt2 = np.array(env.unwrapped.state, dtype=np.float64)
        in_float64 = np.array([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), dt1, dt2]).astype(np.float32)
        if not np.array_equal(observation, in_float64):
            seeds.append(seed)
        seed += 1
    return seeds


def record_acrobot():
    env = gymnasium.make("Acrobot-v1")
    spun = (acrobot_spinning, acrobot_spun_start)
    plan = [(acrobot_random, reset_start), (acrobot_pumping, reset_start), spun, spun, spun,
            (acrobot_zero, acrobot_whirl_start)]
    episodes, meta = record_episodes(env, ACROBOT_SEEDS, plan)
    reset_seeds = list(range(8)) + float32_start_seeds(env, 4)
    reset_states, reset_observations = record_resets(env, reset_seeds)
    data = arrays(episodes, meta, np.int8)
    data.update(edge_arrays(record_edge_steps(env, ACROBOT_POW_SENSITIVE + ACROBOT_OFF_RANGE), np.int8))
    out = HERE / "acrobot_golden.npz"
    np.savez_compressed(out, reset_seeds=np.array(reset_seeds), reset_states=reset_states,
                        reset_observations=reset_observations, **data)
    print(f"wrote {out}: {len(data['episode'])} steps in {len(episodes)} episodes, "
          f"{int(data['terminated'].sum())} terminated, {int(data['truncated'].sum())} truncated")


def normalize(th):
    return ((th + np.pi) % (2 * np.pi)) - np.pi


def pendulum_random(state, rng):
    return np.array([rng.uniform(-4.0, 4.0)])


def pendulum_pumping(state, rng):
    return np.array([3.0 * np.sign(state[1])])


def pendulum_pumping_backwards(state, rng):
    return np.array([3.0 * np.sign(state[1] - 1.0)])


def pendulum_holding(state, rng):
    return np.array([-(10.0 * normalize(state[0]) + state[1])])


def pow_sensitive(rng, weight, low, high, term=lambda v: v, count=4):
    """`count` values v in [low, high] with weight * pow(w, 2) != weight * (w * w), w = term(v)."""
    values = []
    while len(values) < count:
        v = float(rng.uniform(low, high))
        w = float(term(v))
        if weight * math.pow(w, 2) != weight * (w * w):
            values.append(v)
    return values


def pendulum_edge_pairs(rng):
    """(state, action) pairs whose reward is one term of the cost: thdot, normalize(th) or the torque alone."""
    return ([([0.0, v], np.array([0.0])) for v in pow_sensitive(rng, 0.1, -8.0, 8.0)]
            + [([v, 0.0], np.array([0.0])) for v in pow_sensitive(rng, 1.0, -math.pi, math.pi, normalize)]
            + [([0.0, 0.0], np.array([v])) for v in pow_sensitive(rng, 0.001, -2.0, 2.0)])


def record_pendulum():
    env = gymnasium.make("Pendulum-v1")
    plan = [(pendulum_random, reset_start), (pendulum_pumping, reset_start), (pendulum_pumping_backwards, reset_start),
            (pendulum_holding, reset_start)]
    episodes, meta = record_episodes(env, PENDULUM_SEEDS, plan)
    reset_seeds = list(range(8))
    reset_states, reset_observations = record_resets(env, reset_seeds)
    data = arrays(episodes, meta, np.float64)
    data["action"] = data["action"][:, 0]
    data.update(edge_arrays(record_edge_steps(env, pendulum_edge_pairs(np.random.default_rng(3))), np.float64))
    data["edge_action"] = data["edge_action"][:, 0]
    out = HERE / "pendulum_golden.npz"
    np.savez_compressed(out, reset_seeds=np.array(reset_seeds), reset_states=reset_states,
                        reset_observations=reset_observations, **data)
    print(f"wrote {out}: {len(data['episode'])} steps in {len(episodes)} episodes, "
          f"{int(data['truncated'].sum())} truncated")


def main():
    record_acrobot()
    record_pendulum()


if __name__ == "__main__":
    main()
