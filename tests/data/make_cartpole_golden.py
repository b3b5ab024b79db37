"""Record golden cart-pole transitions from Gymnasium's CartPole-v1 (run by hand, never by the tests).

Recorded with gymnasium 1.4.0 and numpy 2.4.6. To record again, in a throwaway environment:

    python -m venv /tmp/gymvenv && /tmp/gymvenv/bin/pip install gymnasium numpy
    /tmp/gymvenv/bin/python tests/data/make_cartpole_golden.py

Each episode starts from reset(seed=s) and is driven either by random actions (which terminate
within tens of steps) or by a stabilising linear controller (which survives to the 500-step
truncation). Every step stores the float64 state before and after, the action, the reward and
both flags. The file also holds, per seed, the seeded reset state and two unseeded resets after it.
"""
import pathlib

import gymnasium
import numpy as np

SEEDS = range(8)
OUT = pathlib.Path(__file__).with_name("cartpole_golden.npz")


def stabilising_action(state):
    """Push towards where the pole is falling, with a little cart centring."""
    x, x_dot, theta, theta_dot = state
    return int(theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot > 0)


def record_episode(env, seed, controller, rng):
    env.reset(seed=seed)
    rows = []
    done = False
    while not done:
        before = np.array(env.unwrapped.state, dtype=np.float64)
        action = stabilising_action(before) if controller == "stabilising" else int(rng.integers(2))
        _, reward, terminated, truncated, _ = env.step(action)
        after = np.array(env.unwrapped.state, dtype=np.float64)
        rows.append((before, action, after, reward, terminated, truncated))
        done = terminated or truncated
    return rows


def main():
    env = gymnasium.make("CartPole-v1")
    rng = np.random.default_rng(2024)
    episode, before, action, after, reward, terminated, truncated = [], [], [], [], [], [], []
    resets = []
    for seed in SEEDS:
        env.reset(seed=seed)
        seeded = np.array(env.unwrapped.state)
        env.reset()
        second = np.array(env.unwrapped.state)
        env.reset()
        resets.append([seeded, second, np.array(env.unwrapped.state)])
        for controller in ("random", "stabilising"):
            episode_index = len(set(episode))
            for row in record_episode(env, seed, controller, rng):
                episode.append(episode_index)
                for column, value in zip((before, action, after, reward, terminated, truncated), row):
                    column.append(value)
    np.savez_compressed(
        OUT, seeds=np.array(SEEDS), resets=np.array(resets), episode=np.array(episode), before=np.array(before),
        action=np.array(action), after=np.array(after), reward=np.array(reward),
        terminated=np.array(terminated), truncated=np.array(truncated),
    )
    print(f"wrote {OUT}: {len(before)} steps in {len(set(episode))} episodes")


if __name__ == "__main__":
    main()
