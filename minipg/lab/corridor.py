"""`python -m minipg.lab.corridor`: Sutton & Barto's Figures 13.1 and 13.2, REINFORCE on the short corridor.

Example 13.1: every state looks the same, so a policy can only pick one probability p of 'right'.
The value of the start state is v(p) = (2p - 4) / (p (1 - p)), best at p* = 2 - sqrt(2), v(p*) = -11.66.
The book's settings: gamma = 1, 1,000 episodes, 100 runs, each run from the epsilon-greedy-left policy
(p = 0.05); Figure 13.1 is REINFORCE at alpha = 2^-12, 2^-13, 2^-14, Figure 13.2 REINFORCE at 2^-13
against REINFORCE with a learned baseline v(s, w) = w at alpha^theta = 2^-9, alpha^w = 2^-6.

The book's policy has two parameters, one preference per action: h(a) = theta_a. Ours is the softmax on
the corridor's one constant feature with a bias, h(a) = W[a, 0] * 1 + W[a, 1]: the same score
1[a = u] - pi(a) enters both W[a, 0] and W[a, 1], so a step of alpha moves h(a) by 2 alpha times
what the book's step of alpha moves theta_a by. Our alpha = the book's alpha / 2, from W[a, 0] = W[a, 1]
= theta_a / 2, reproduces the book's preferences step for step (tests/test_corridor.py).

Plain softmax REINFORCE can diverge here: a long early episode makes a large step, p(right) runs to 0
or 1, and the episodes never end. The book does not say what its runs did; Zhang's Python reproduction
floors pi at 0.05 and the Julia notebook cuts episodes at 300 steps, both changing the algorithm. We
stop a run when an episode reaches EPISODE_LIMIT = 10,000 steps, which from any p in [0.01, 0.99] has
probability below 1e-12, and average the curves over the runs that never diverged; the command prints
how many did.
"""
import dataclasses
import math
import os
import sys
import time

import numpy as np

import envs
from minipg.io.cli import Parser, Progress, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir, write_csv, writing_together
from minipg.io.figures import new_figure, save_figure
from envs.sampling import inverse_cdf
from minipg.policies import SoftmaxPolicy, linear, log_softmax
from minipg.returns import discounted_cumsum
from minipg.rollout import DRAW_BLOCK, RowStreams, sample_path

GAMMA = 1.0
START_P_RIGHT = 0.05
EPISODE_LIMIT = 10_000
RIGHT = 1  # actions: 0 = left, 1 = right


@dataclasses.dataclass(frozen=True)
class Setting:
    """One curve of the book: the book's step sizes, alpha_w None for REINFORCE without a baseline."""

    name: str
    alpha_theta: float
    alpha_w: float = None


SETTINGS = (
    Setting("REINFORCE, α = 2^-12", 2.0**-12),
    Setting("REINFORCE, α = 2^-13", 2.0**-13),
    Setting("REINFORCE, α = 2^-14", 2.0**-14),
    Setting("REINFORCE with baseline, α^θ = 2^-9, α^w = 2^-6", 2.0**-9, 2.0**-6),
)
FIGURE_13_1 = SETTINGS[:3]
FIGURE_13_2 = (SETTINGS[1], SETTINGS[3])


def true_value(p):
    """v(p) = (2p - 4) / (p (1 - p)): the start state's value when 'right' has probability p (S&B Example 13.1)."""
    return (2.0 * p - 4.0) / (p * (1.0 - p))


def best_p_right():
    """p* = 2 - sqrt(2), where dv/dp = 0."""
    return 2.0 - math.sqrt(2.0)


def our_alpha(book_alpha):
    """The step on our four parameters W that moves h(a) as the book's step moves theta_a."""
    return book_alpha / 2.0


def start_theta(p_right=START_P_RIGHT):
    """W with pi(right) = p_right: the book's theta = (0, log(p / (1 - p))), halved into weight and bias."""
    book_theta = np.array([0.0, math.log(p_right / (1.0 - p_right))])  # (left, right)
    return np.repeat(book_theta / 2.0, 2)  # W = [[h_left/2, h_left/2], [h_right/2, h_right/2]], flattened


def make_corridor():
    return envs.make("corridor", max_episode_steps=EPISODE_LIMIT)


# ---- the loop twin: the book's boxed algorithms, one episode and one step t at a time ----

def reinforce_update(policy, theta, observations, actions, rewards, alpha, gamma):
    """For t = 0..T-1:  G <- sum_{k=t+1}^T gamma^(k-t-1) R_k;  theta <- theta + alpha gamma^t G grad ln pi(A_t|S_t).

    grad ln pi is taken at the theta of the moment: the book's box updates theta inside the loop over t.
    """
    returns = discounted_cumsum(rewards, gamma)
    for t in range(len(actions)):
        theta = theta + alpha * gamma**t * returns[t] * policy.grad_log_prob(theta, observations[t], actions[t])
    return theta


def reinforce_with_baseline_update(policy, theta, w, observations, actions, rewards, alpha_theta, alpha_w, gamma):
    """For t = 0..T-1:  delta <- G - v(S_t, w);  w <- w + alpha^w delta grad v(S_t, w);
    theta <- theta + alpha^theta gamma^t delta grad ln pi(A_t|S_t, theta).   v(s, w) = w . x(s), x(s) = [1]."""
    returns = discounted_cumsum(rewards, gamma)
    for t in range(len(actions)):
        delta = returns[t] - w @ observations[t]
        w = w + alpha_w * delta * observations[t]
        theta = theta + alpha_theta * gamma**t * delta * policy.grad_log_prob(theta, observations[t], actions[t])
    return theta, w


def run_loop(setting, episodes, seed, gamma=GAMMA):
    """One run of `setting`: the return of every episode (NaN from a diverged episode on), theta and w at the end.

    An episode that reaches EPISODE_LIMIT means p(right) has left [0.01, 0.99]: the run has diverged
    and stops there, without an update from the cut episode.
    """
    env = make_corridor()
    env.reset(seed=seed)  # the corridor's start and moves are deterministic: its own draws change nothing
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    rng = np.random.default_rng(seed)
    theta, w = start_theta(), np.zeros(env.observation_dim)
    returns = np.full(episodes, np.nan)
    for episode in range(episodes):
        path = sample_path(env, policy, theta, rng, env.max_episode_steps)  # S_0, A_0, R_1, ... following pi
        if path.truncated:
            break
        if setting.alpha_w is None:
            theta = reinforce_update(policy, theta, path.observations, path.actions, path.rewards,
                                     our_alpha(setting.alpha_theta), gamma)
        else:
            theta, w = reinforce_with_baseline_update(policy, theta, w, path.observations, path.actions, path.rewards,
                                                      our_alpha(setting.alpha_theta), setting.alpha_w, gamma)
        returns[episode] = path.rewards.sum()
    return returns, theta, w


# ---- the vectorised twin: many runs, each with its own seed, stepped together ----

def corridor_tables(env):
    """s' and r(s, u, s') of every (s, u) as tables, the terminal flags and s_0, after checking that the
    start and the moves are deterministic (then the env's own draws choose nothing)."""
    if not np.all(env.P.max(axis=2) == 1.0) or env.start.max() != 1.0:
        raise ValueError("the vectorised twin needs a deterministic start and deterministic moves")
    next_state = env.P.argmax(axis=2)
    rewards = np.take_along_axis(env.rewards, next_state[:, :, None], axis=2)[:, :, 0]
    return next_state, rewards, env.terminal, int(env.start.argmax())


def policy_probs(thetas, features):
    """pi(.|s) for every row's W, shape (R, A): softmax(W phi~), computed as SoftmaxPolicy computes it."""
    return np.exp(log_softmax(thetas.reshape(len(thetas), -1, len(features)) @ features))


def scores(thetas, features, actions):
    """grad ln pi(u|s) for every row: (1[a = u] - pi(a|s)) phi~(s), flattened like W, shape (R, n_params)."""
    probs = policy_probs(thetas, features)
    indicator = np.eye(probs.shape[1])[actions]
    return ((indicator - probs)[:, :, None] * features[None, None, :]).reshape(len(thetas), -1)


def generate_episodes(thetas, streams, tables, features, limit, running):
    """One episode for every `running` row, all stepped together: actions, rewards (T_max, R), lengths (R,)
    and which rows the limit cut (R,).

    A row whose episode has ended takes no more uniforms, as its loop twin would not.
    """
    next_state, reward_table, terminal, start = tables
    logits = linear(thetas.reshape(len(thetas), -1, len(features)), features[:-1])  # theta is fixed in an episode
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))  # pi up to its normaliser, as policy.act draws
    states = np.full(len(thetas), start)
    running = running.copy()
    lengths = np.zeros(len(thetas), dtype=int)
    actions, rewards = [], []
    while running.any() and len(actions) < limit:
        rows = np.flatnonzero(running)
        action = np.zeros(len(thetas), dtype=int)
        action[rows] = inverse_cdf(weights[rows], streams.random_at(rows))
        reward = np.where(running, reward_table[states, action], 0.0)
        states = np.where(running, next_state[states, action], states)
        actions.append(action)
        rewards.append(reward)
        lengths += running
        running &= ~terminal[states]
    return np.array(actions), np.array(rewards), lengths, running


def run_vectorised(settings, episodes, seeds, gamma=GAMMA, progress=None):
    """Every setting on every seed, all rows stepped together: returns (settings, seeds, episodes), thetas and w.

    Row (i, j) is run_loop(settings[i], episodes, seeds[j]), NaN returns from a diverged episode on
    included. REINFORCE is the baseline's update with alpha^w = 0 and w = 0, where delta = G - 0 = G exactly.
    """
    env = make_corridor()
    tables = corridor_tables(env)
    features = np.append(env.state_observations[0], 1.0)  # phi~(s) = [1, 1] in every state
    n = len(settings) * len(seeds)
    alpha_theta = np.repeat([our_alpha(s.alpha_theta) for s in settings], len(seeds))
    alpha_w = np.repeat([s.alpha_w or 0.0 for s in settings], len(seeds))
    streams = RowStreams(list(seeds) * len(settings))
    thetas = np.tile(start_theta(), (n, 1))
    w = np.zeros(n)
    returns = np.full((n, episodes), np.nan)
    diverged = np.zeros(n, dtype=bool)
    for episode in range(episodes):
        actions, rewards, lengths, cut = generate_episodes(thetas, streams, tables, features, env.max_episode_steps,
                                                           ~diverged)
        diverged |= cut
        updated = lengths * ~diverged  # steps t = 0..T-1 of the rows that learn from this episode
        to_go = discounted_cumsum(rewards, gamma)  # G_t of every row, rows padded with zeros after their end
        for t in range(updated.max(initial=0)):
            delta = np.where(t < updated, to_go[t] - w, 0.0)  # v(S_t, w) = w . x(S_t) = w, as x(s) = [1]
            w = w + alpha_w * delta  # grad v(S_t, w) = x(S_t) = [1]
            thetas = thetas + (alpha_theta * gamma**t * delta)[:, None] * scores(thetas, features, actions[t])
        returns[~diverged, episode] = rewards.sum(axis=0)[~diverged]
        if progress:
            progress(episode + 1, episodes)
    shape = (len(settings), len(seeds))
    return returns.reshape(*shape, episodes), thetas.reshape(*shape, -1), w.reshape(shape)


# ---- the command: files, flags, printing ----

def mean_curves(returns):
    """Per setting: the mean return of each episode over the runs that never diverged, and how many diverged."""
    diverged = np.isnan(returns).any(axis=2)
    curves = np.array([runs[~lost].mean(axis=0) if (~lost).any() else np.full(returns.shape[2], np.nan)
                       for runs, lost in zip(returns, diverged)])
    return curves, diverged.sum(axis=1)


def plot_figure(settings, curves, diverged, runs, path, title):
    """Mean return per episode of each setting, and v(p*) dashed, in the book's axes."""
    fig, ax = new_figure(figsize=(7, 4.5))
    episodes = np.arange(1, curves.shape[1] + 1)
    for k, (setting, curve, lost) in enumerate(zip(settings, curves, diverged)):
        note = f" ({lost} of {runs} runs diverged, left out)" if lost else ""
        ax.plot(episodes, curve, color=f"C{k}", linewidth=1, label=setting.name + note)
    optimum = true_value(best_p_right())
    ax.axhline(optimum, color="k", linestyle="--", linewidth=1, label=f"v(p*) = {optimum:.2f}, the best p(right)")
    ax.set_ylim(-90, -10)
    ax.set_xlabel("episode")
    kept = "the runs that never diverged" if diverged.any() else f"{runs} runs"
    ax.set_ylabel(f"total reward on episode\n(mean over {kept})")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def write_curves(path, settings, curves):
    """One row per setting and episode: the mean return of that episode."""
    write_csv(path, ("setting", "episode", "mean_return"),
              [(setting.name, episode + 1, float(value)) for setting, curve in zip(settings, curves)
               for episode, value in enumerate(curve)])


def print_summary(settings, returns, thetas, curves, diverged):
    runs = returns.shape[1]
    print(f"{'setting':<52} {'diverged':>8} {'first 10':>9} {'last 100':>9} {'p(right)':>9}")
    for setting, curve, lost, theta, run_returns in zip(settings, curves, diverged, thetas, returns):
        kept = ~np.isnan(run_returns).any(axis=1)
        p_right = policy_probs(theta[kept], np.ones(2))[:, RIGHT].mean() if kept.any() else np.nan
        print(f"{setting.name:<52} {f'{lost}/{runs}':>8} {np.mean(curve[:10]):9.2f} {np.mean(curve[-100:]):9.2f} "
              f"{p_right:9.3f}")
    print(f"{'v(p*) at p* = 2 - sqrt(2) = ' + format(best_p_right(), '.3f'):<52} {'':>8} {'':>9} "
          f"{true_value(best_p_right()):9.2f} {best_p_right():9.3f}")


FILES = ("corridor_13_1.png", "corridor_13_2.png", "corridor_13.csv")  # not corridor.csv, which train writes


def memory_bytes(runs, episodes):
    """At most what run_vectorised holds for every setting and run (float64): a return per episode, a block of
    uniforms, and an episode's actions, rewards and returns-to-go, about 5 arrays of up to EPISODE_LIMIT steps."""
    return 8 * len(SETTINGS) * runs * (episodes + DRAW_BLOCK + 5 * EPISODE_LIMIT)


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.corridor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=positive_int, default=100, help="independent runs averaged (default 100)")
    parser.add_argument("--episodes", type=positive_int, default=1000, help="episodes per run (default 1000)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="run j draws from default_rng([seed, j]) (default 0)")
    parser.add_argument("--out", default="plots", help="output directory (default plots)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_memory("--runs and --episodes", memory_bytes(args.runs, args.episodes))
    check_output_dir("--out", args.out, FILES)
    seeds = [[args.seed, j] for j in range(args.runs)]
    print(f"{len(SETTINGS)} settings x {args.runs} runs x {args.episodes} episodes, stepped together")
    printer, start = Progress(5.0), time.perf_counter()
    returns, thetas, _ = run_vectorised(SETTINGS, args.episodes, seeds, progress=lambda episode, episodes: printer.show(
        time.perf_counter() - start, f"episode {episode:5d} of {episodes}  {time.perf_counter() - start:6.1f} s",
        last=episode == episodes))
    curves, diverged = mean_curves(returns)
    print_summary(SETTINGS, returns, thetas, curves, diverged)
    index = {setting: k for k, setting in enumerate(SETTINGS)}
    figures = (("corridor_13_1.png", FIGURE_13_1, "Sutton & Barto Figure 13.1: REINFORCE on the short corridor"),
               ("corridor_13_2.png", FIGURE_13_2, "Sutton & Barto Figure 13.2: REINFORCE with a baseline"))
    written = [os.path.join(args.out, name) for name in FILES]
    with writing_together(written):
        for (name, settings, title), path in zip(figures, written):
            rows = [index[setting] for setting in settings]
            plot_figure(settings, curves[rows], diverged[rows], args.runs, path, title)
        write_curves(written[2], SETTINGS, curves)
    print(f"wrote {', '.join(written)}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
