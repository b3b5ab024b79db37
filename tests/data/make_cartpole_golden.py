"""Record golden cart-pole transitions from Gymnasium's CartPole-v1 (run by hand, never by the tests).

Recorded with gymnasium 1.4.0 and numpy 2.4.6 (Python 3.11, x86-64). To record again, in a throwaway
environment outside the repository (gymnasium is not a dependency of minipg):

    python -m venv /tmp/gymvenv && /tmp/gymvenv/bin/pip install gymnasium numpy
    /tmp/gymvenv/bin/python tests/data/make_cartpole_golden.py

Every seed s starts three episodes from reset(seed=s), each driven by one controller:
  random       uniform random pushes: the pole falls (|theta| > 12 degrees) within tens of steps;
  stabilising  a linear controller that balances the pole until the 500-step truncation;
  leaning      balances the pole leaning about 3 degrees right, so the cart accelerates until it
               leaves the track (|x| > 2.4) after 150-190 steps (seed 0 survives to truncation).
Every step stores the float64 state before and after (env.unwrapped.state), the action, the reward
and both flags; episode_seeds holds the seed each episode was reset with. The file also holds, per seed,
the seeded reset state and two unseeded resets after it, and single steps from edge states (edge_*):
states where squaring with pow instead of np.square would change a last bit, and states on and one
float past the termination thresholds. Last, single steps of the continuous variant (continuous_*):
Gymnasium's step with force_mag set to 10 a and action 1 pushes with the force a * 10, exactly the
continuous variant's clip(a, -1, 1) * force_mag for |a| <= 1.
"""
import pathlib

import gymnasium
import numpy as np

SEEDS = range(8)
OUT = pathlib.Path(__file__).with_name("cartpole_golden.npz")
# (state, action) pairs whose next state changes in a last bit if costheta**2 (pow) replaces
# np.square(costheta), or (the last two) if theta_dot**2 replaces np.square(theta_dot)
POW_SENSITIVE = [
    ([-0.060901, -0.001458, 0.171067, -0.04909], 1), ([0.165465, -0.123317, -0.088715, 0.005643], 1),
    ([-0.169431, 0.158781, -0.187354, 0.042721], 1), ([-0.060901, -0.001458, 0.171067, -0.04909], 0),
    ([0.013314, 0.086237, 0.05506, 0.085845], 0), ([0.165465, -0.123317, -0.088715, 0.005643], 0),
    ([0.921329, 0.0, -0.08725, 1.316197], 1), ([0.239481, 0.0, 0.194022, -2.570598], 0),
]
# (state, continuous action a): with no push, theta_dot**2 (pow) instead of np.square changes a last bit
POW_SENSITIVE_UNPUSHED = [
    ([-1.571171, 0.0, -0.119237, 2.306698], 0.0), ([-0.173341, 0.0, -0.095241, 2.379795], 0.0),
    ([0.032101, 0.0, 0.194764, -1.603457], 0.0), ([-0.283358, 0.0, 0.018963, 2.479807], 0.0),
]


def stabilising_action(state):
    """Push towards where the pole is falling, with a little cart centring."""
    x, x_dot, theta, theta_dot = state
    return int(theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot > 0)


def leaning_action(state):
    """Hold theta + 0.5 theta_dot near 0.05 rad: a pole kept leaning drags the cart off the track."""
    _, _, theta, theta_dot = state
    return int(theta + 0.5 * theta_dot > 0.05)


def record_episode(env, seed, controller, rng):
    """(state before, action, state after, reward, terminated, truncated) for each step of one episode."""
    env.reset(seed=seed)
    rows = []
    done = False
    while not done:
        before = np.array(env.unwrapped.state, dtype=np.float64)
        action = controller(before) if controller else int(rng.integers(2))
        _, reward, terminated, truncated, _ = env.step(action)
        after = np.array(env.unwrapped.state, dtype=np.float64)
        rows.append((before, action, after, reward, terminated, truncated))
        done = terminated or truncated
    return rows


def record_resets(env, seed):
    """The state after reset(seed=seed), then after two resets without a seed."""
    env.reset(seed=seed)
    seeded = np.array(env.unwrapped.state, dtype=np.float64)
    env.reset()
    second = np.array(env.unwrapped.state, dtype=np.float64)
    env.reset()
    return [seeded, second, np.array(env.unwrapped.state, dtype=np.float64)]


def threshold_states(env):
    """At rest, exactly on each termination threshold (does not end) and one float beyond it (ends)."""
    theta, x = env.unwrapped.theta_threshold_radians, env.unwrapped.x_threshold
    angles = [sign * angle for angle in (theta, np.nextafter(theta, np.inf)) for sign in (1, -1)]
    positions = [sign * position for position in (x, np.nextafter(x, np.inf)) for sign in (1, -1)]
    return [[0.0, 0.0, angle, 0.0] for angle in angles] + [[position, 0.0, 0.0, 0.0] for position in positions]


def record_edge_steps(env):
    """(state before, action, state after, terminated) for one step from each edge state."""
    rows = []
    for state, action in POW_SENSITIVE + [(state, 1) for state in threshold_states(env)]:
        env.reset(seed=0)
        env.unwrapped.state = np.array(state, dtype=np.float64)
        _, _, terminated, _, _ = env.step(action)
        rows.append((np.array(state, dtype=np.float64), action, np.array(env.unwrapped.state), terminated))
    return rows


def record_continuous_steps(env, rng, n_random=16):
    """(state before, a, state after) for one push of a * 10 newtons from each state: the unpushed edge
    states, then random states with random a in [-1, 1]."""
    random_pairs = [(rng.uniform(-1, 1, size=4) * [2.0, 2.0, 0.2, 2.0], rng.uniform(-1, 1)) for _ in range(n_random)]
    rows = []
    for state, a in POW_SENSITIVE_UNPUSHED + random_pairs:
        env.reset(seed=0)
        env.unwrapped.force_mag = 10.0 * a  # Gymnasium's action 1 pushes with +force_mag
        env.unwrapped.state = np.array(state, dtype=np.float64)
        env.step(1)
        rows.append((np.array(state, dtype=np.float64), a, np.array(env.unwrapped.state)))
    env.unwrapped.force_mag = 10.0
    return rows


def main():
    env = gymnasium.make("CartPole-v1")
    rng = np.random.default_rng(2024)  # the random controller's pushes
    resets, episodes, episode_seeds = [], [], []
    for seed in SEEDS:
        resets.append(record_resets(env, seed))
        for controller in (None, stabilising_action, leaning_action):
            episodes.append(record_episode(env, seed, controller, rng))
            episode_seeds.append(seed)
    rows = [row for episode in episodes for row in episode]
    before, action, after, reward, terminated, truncated = map(np.array, zip(*rows))
    episode = np.repeat(np.arange(len(episodes)), [len(steps) for steps in episodes])
    edge_before, edge_action, edge_after, edge_terminated = map(np.array, zip(*record_edge_steps(env)))
    continuous_before, continuous_action, continuous_after = map(np.array, zip(*record_continuous_steps(env, rng)))
    np.savez_compressed(
        OUT, seeds=np.array(SEEDS), resets=np.array(resets), episode_seeds=np.array(episode_seeds), episode=episode,
        before=before, action=action, after=after, reward=reward, terminated=terminated, truncated=truncated,
        edge_before=edge_before, edge_action=edge_action, edge_after=edge_after, edge_terminated=edge_terminated,
        continuous_before=continuous_before, continuous_action=continuous_action, continuous_after=continuous_after,
    )
    print(f"wrote {OUT}: {len(rows)} steps in {len(episodes)} episodes, "
          f"{int(terminated.sum())} terminated, {int(truncated.sum())} truncated")


if __name__ == "__main__":
    main()
