"""`python -m minipg.lab.show CHECKPOINT`: watch a saved policy act.

Cart-pole (both variants), acrobot and pendulum: one episode of pi_theta filmed frame by frame from the simulator's
state in the geometry of Gymnasium's render (minipg.lab.frames draws each frame), written as an animated GIF at the
env's own time step, and a filmstrip PNG of eight evenly spaced frames; a line per episode says what it did.
Gridworld and corridor: pi(u|s) as arrows over the expected visits to each state, the exact U(theta) in the title,
beside the same picture at theta = 0.
"""
import dataclasses
import os
import sys
import time

import numpy as np

import envs
from envs.acrobot import GOAL_HEIGHT
from envs.gridworld import MOVES, GridWorld, ShortCorridor
from envs.pendulum import angle_normalize
from minipg import exact
from minipg.estimators import path_return
from minipg.io.checkpoint import load_checkpoint
from minipg.io.cli import Parser, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir, write_atomically, writing_together
from minipg.io.figures import new_figure, save_figure
from minipg.lab.frames import acrobot_joints, film_of
from minipg.rollout import sample_paths
from minipg.settings import POLICIES
from minipg.train import ModeOf, acting_finitely, fitting_theta, make_policy, network_of

FILMSTRIP_FRAMES = 8


# ---- cart-pole, acrobot, pendulum: the episodes filmed ----

@dataclasses.dataclass
class Episode:
    """One episode filmed: the simulator's states s_0..s_T (T + 1 rows), the torque u_{t-1} that brought each state
    (NaN at s_0, and at every state of an env whose film shows no torque), and the return so far at each,
    r_0 + ... + r_{t-1}."""

    states: np.ndarray
    torques: np.ndarray
    returns: np.ndarray


class Filming:
    """env, keeping its state after the reset and after each step: the frames are drawn from the simulator's state,
    which an observation (the acrobot's cosines and sines of its angles) need not spell out."""

    def __init__(self, env):
        self.env = env
        self.states = []

    def reset(self, seed=None):
        reset = self.env.reset(seed=seed)
        self.states = [self.env.state.copy()]
        return reset

    def step(self, action):
        step = self.env.step(action)
        self.states.append(self.env.state.copy())
        return step

    def __getattr__(self, name):
        return getattr(self.env, name)


def episode_frames(env, policy, theta, rng):
    """One episode of pi_theta, filmed: its states, the torque of each step, the return so far."""
    filming = Filming(env)
    path = sample_paths(filming, policy, theta, 1, rng)[0]
    torques = ([env.torque(action) for action in path.actions] if film_of(env).max_torque is not None
               else np.full(len(path), np.nan))
    return Episode(np.array(filming.states), np.concatenate([[np.nan], torques]),
                   np.concatenate([[0.0], np.cumsum(path.rewards)]))


def caption(episode, episodes, step, dt, return_so_far):
    """The line atop each frame of the GIF: which episode, which step and time, the return so far."""
    return f"episode {episode + 1} of {episodes}   step {step}   t = {step * dt:.2f} s   return {return_so_far:g}"


def gif_frames(film, episodes):
    """The frames of every episode in turn, drawn as the GIF writer asks for them."""
    background = film.background()
    total, done, last_print = sum(len(episode.states) for episode in episodes), 0, time.perf_counter()
    for k, episode in enumerate(episodes):
        for step, (state, torque, return_so_far) in enumerate(zip(episode.states, episode.torques, episode.returns)):
            yield film.frame(background, state, torque, caption(k, len(episodes), step, film.dt, return_so_far))
            done += 1
            if time.perf_counter() - last_print > 2.0:
                last_print = time.perf_counter()
                print(f"frame {done:5d} of {total}", flush=True)


def write_gif(path, film, episodes):
    """Every frame of every episode, one after the other, each shown for the env's time step dt.

    Pillow takes the duration in milliseconds and the GIF keeps hundredths of a second: 20, 200 and 50 ms for
    cart-pole, acrobot and pendulum, each exact. Pillow merges equal consecutive frames into one (no option stops
    it); each caption names its episode and step, so no two are equal and the GIF has one frame per step.
    optimize=False: Pillow's optimizing would make the file a fifth smaller and its writing half again slower.
    """
    frames = gif_frames(film, episodes)
    first = next(frames)
    write_atomically(path, lambda temporary: first.save(
        temporary, format="GIF", save_all=True, append_images=frames, duration=round(1000 * film.dt), loop=0,
        optimize=False))


def write_filmstrip(path, film, episode, title):
    """FILMSTRIP_FRAMES evenly spaced frames of one episode, each on axes in metres."""
    background = film.background()
    steps = np.unique(np.linspace(0, len(episode.states) - 1, FILMSTRIP_FRAMES).round().astype(int))
    images = [np.asarray(film.frame(background, episode.states[step], episode.torques[step],
                                    f"step {step}   return {episode.returns[step]:g}").convert("RGB"))
              for step in steps]
    columns = 4
    rows = -(-len(steps) // columns)
    height = 2.7 * rows + 0.8  # inches
    fig, axes = new_figure(rows, columns, figsize=(3.6 * columns, height), squeeze=False)
    for ax in axes.flat[len(steps):]:
        ax.set_visible(False)
    for ax, step, image in zip(axes.flat, steps, images):
        ax.imshow(image, extent=film.extent)
        ax.set_title(f"t = {step * film.dt:.2f} s (step {step})", fontsize=9)
        ax.set_xlabel(film.labels[0], fontsize=8)
        ax.set_ylabel(film.labels[1], fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(handles=[legend_handle(film, *entry) for entry in film.legend], loc="lower center",
               ncol=len(film.legend), fontsize=9)
    fig.suptitle(title)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=1.0 / height, top=1 - 0.7 / height, wspace=0.3, hspace=0.45)
    save_figure(fig, path)


def legend_handle(film, colour, label, kind):
    """A patch or a line of one of the film's palette colours, for the filmstrip's legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    rgb = tuple(level / 255 for level in film.colours[colour])
    if kind == "patch":
        return Patch(color=rgb, label=label)
    return Line2D([], [], color=rgb, linewidth=2, label=label)


def cartpole_summary(episode):
    """Return and steps, the largest |theta| (degrees), the largest |x| and the last x (metres)."""
    states, returns = episode.states, episode.returns
    return (f"return {returns[-1]:g} in {len(states) - 1} steps; the pole within "
            f"{np.degrees(np.abs(states[:, 2]).max()):.1f}° of upright, the cart within "
            f"{np.abs(states[:, 0]).max():.2f} m of the centre ({states[-1, 0]:+.2f} m at the end)")


def acrobot_summary(episode):
    """Return and steps, the first step whose tip is above the goal line (height -cos t1 - cos(t1 + t2) > 1), and
    the tip's greatest height above the pivot (metres), over every state filmed."""
    heights = np.array([acrobot_joints(state)[2, 1] for state in episode.states])
    above = np.flatnonzero(heights > GOAL_HEIGHT)
    crossed = f"crossed the goal line at step {above[0]}" if len(above) else "never crossed the goal line"
    highest = heights.max()
    return (f"return {episode.returns[-1]:g} in {len(heights) - 1} steps; the tip {crossed}, its highest "
            f"{abs(highest):.2f} m {'above' if highest >= 0 else 'below'} the pivot")


def pendulum_summary(episode):
    """Return and steps, the largest |th| from upright (th normalised into [-pi, pi), degrees) over the states of
    the last half, s_t for t >= T // 2, and the largest |u| of the torques applied."""
    steps = len(episode.states) - 1
    last_half = episode.states[steps // 2:, 0]
    return (f"return {episode.returns[-1]:g} in {steps} steps; at most "
            f"{np.degrees(np.abs(angle_normalize(last_half)).max()):.1f}° from upright over its last half "
            f"(steps {steps // 2}-{steps}); torques up to |u| = {np.abs(episode.torques[1:]).max():.2f} N m")


SUMMARIES = {"cart-pole": cartpole_summary, "acrobot": acrobot_summary, "pendulum": pendulum_summary}


def show_film(env_name, env, recorded, out):
    """A line per recorded episode, the GIF of them all and the filmstrip of the first; returns the paths written."""
    film = film_of(env)
    for k, episode in enumerate(recorded):
        print(f"episode {k + 1}: {SUMMARIES[film.name](episode)}")
    gif, filmstrip = (os.path.join(out, name) for name in output_names(env_name, env))
    with writing_together([gif, filmstrip], interruptible=True):  # minutes for many episodes: a signal stops it
        write_gif(gif, film, recorded)
        write_filmstrip(filmstrip, film, recorded[0],
                        f"minipg: the saved policy on {env_name}, one episode (return {recorded[0].returns[-1]:g})")
    return [gif, filmstrip]


# ---- gridworld and corridor ----

@dataclasses.dataclass
class GridLayout:
    """Where to draw a tabular env: the (row, column) of each state, the wall cells, each action's
    (row, column) step, the name of each terminal state, and a note under chosen states."""

    cells: list
    walls: list
    directions: dict
    terminal_names: dict
    notes: dict


def grid_layout(env):
    if isinstance(env, GridWorld):
        walls = [(r, c) for r, row in enumerate(env.rows) for c, char in enumerate(row) if char == "#"]
        names = {s: {"G": "goal", "P": "pit"}[env.rows[r][c]] for s, (r, c) in enumerate(env.cells) if env.terminal[s]}
        return GridLayout(env.cells, walls, MOVES, names, {})
    if isinstance(env, ShortCorridor):
        cells = [(0, s) for s in range(env.n_states)]
        names = {s: "goal" for s in range(env.n_states) if env.terminal[s]}
        return GridLayout(cells, [], {0: (0, -1), 1: (0, 1)}, names, {1: "moves\nreversed"})
    raise ValueError(f"no grid picture for {type(env).__name__}")


def expected_visits(env, pi, horizon):
    """sum_{t < H} d_t(s): the expected number of decisions taken in each non-terminal state s per episode."""
    return exact.state_distributions(env, pi, horizon).sum(axis=0) * ~env.terminal


def draw_policy(ax, env, pi, visits, vmax, title):
    """Heat map of the visits, walls, start, goal and pit marked, and pi(u|s) as arrows of length 0.45 pi."""
    from matplotlib.colors import PowerNorm
    from matplotlib.patches import Rectangle
    layout = grid_layout(env)
    height = max(r for r, _ in layout.cells + layout.walls) + 1
    width = max(c for _, c in layout.cells + layout.walls) + 1
    heat = np.full((height, width), np.nan)
    for s, (r, c) in enumerate(layout.cells):
        heat[r, c] = visits[s]
    image = ax.imshow(heat, cmap="YlGnBu", norm=PowerNorm(0.5, vmin=0.0, vmax=vmax))
    for r, c in layout.walls:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="0.25"))
    for s, name in layout.terminal_names.items():
        r, c = layout.cells[s]
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="C2" if name == "goal" else "C3"))
        ax.text(c, r, name, ha="center", va="center", color="white", fontsize=9)
    for s, note in layout.notes.items():
        ax.text(layout.cells[s][1], layout.cells[s][0] + 0.45, note, ha="center", va="bottom", fontsize=7)
    start_row, start_column = layout.cells[int(np.argmax(env.start))]
    ax.text(start_column - 0.45, start_row - 0.45, "start", ha="left", va="top", fontsize=7,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    x, y, u, v = arrows(env, pi, layout.cells, layout.directions)
    ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1, units="xy", width=0.04, headwidth=3,
              headlength=3, headaxislength=2.7, color="C1")
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(title, fontsize=10)
    return image


def legend_handles(env):
    """The arrow, and the kinds of cell this env has."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    layout = grid_layout(env)
    handles = [Line2D([], [], color="C1", marker=">", label="action u: arrow of length ∝ π(u|s)")]
    if layout.walls:
        handles.append(Patch(color="0.25", label="wall"))
    for name, colour in (("goal", "C2"), ("pit", "C3")):
        if name in layout.terminal_names.values():
            handles.append(Patch(color=colour, label=f"{name} (terminal)"))
    return handles


def arrows(env, pi, cells, directions):
    """Quiver data: from the centre of every non-terminal state, one arrow per action, 0.45 pi(u|s) long."""
    x, y, u, v = [], [], [], []
    for s, (r, c) in enumerate(cells):
        if env.terminal[s]:
            continue
        for action, (d_row, d_column) in directions.items():
            x.append(c)
            y.append(r)
            u.append(0.45 * pi[s, action] * d_column)
            v.append(0.45 * pi[s, action] * d_row)  # the image's rows grow downwards, like y on these axes
    return np.array(x), np.array(y), np.array(u), np.array(v)


def show_tabular(env_name, env, policy, theta, episodes, rng, gamma, out):
    """The policy picture at theta = 0 and at the checkpoint's theta; returns the path written."""
    horizon = env.max_episode_steps
    thetas = {"θ = 0, before training": np.zeros(policy.n_params), "the checkpoint's θ": theta}
    tables = {name: exact.policy_table(env, policy, value) for name, value in thetas.items()}
    visits = {name: expected_visits(env, pi, horizon) for name, pi in tables.items()}
    vmax = max(v.max() for v in visits.values())
    wide = isinstance(env, ShortCorridor)
    fig, axes = new_figure(2 if wide else 1, 1 if wide else 2, figsize=(9, 6) if wide else (12, 6.2))
    fig.subplots_adjust(left=0.06, right=0.86, bottom=0.16, top=0.82, wspace=0.2, hspace=0.7)
    for ax, (name, value) in zip(axes, thetas.items()):
        value_of_theta = exact.expected_return(env, policy, value, horizon, gamma)
        pi = tables[name]
        choice = f", π(right) = {pi[0, 1]:.3f}" if wide else ""
        image = draw_policy(ax, env, pi, visits[name], vmax,
                            f"{name}{choice}\nexact U(θ) = {value_of_theta:.3f} (H = {horizon}, γ = {gamma:g}), "
                            f"{visits[name].sum():.1f} steps per episode")
        if wide:
            ax.set_yticks([])
            ax.set_ylabel("")
    fig.colorbar(image, cax=fig.add_axes((0.89, 0.2, 0.015, 0.58)),
                 label="expected visits per episode (square-root scale)")
    fig.legend(handles=legend_handles(env), loc="lower center", ncol=4, fontsize=9)
    fig.suptitle(f"minipg: the saved policy on the {env_name}, before and after")
    picture = os.path.join(out, output_names(env_name, env)[0])
    save_figure(fig, picture)
    returns = [path_return(path, gamma) for path in sample_paths(env, policy, theta, episodes, rng, horizon)]  # Eq. (1)
    error = np.std(returns, ddof=1) / np.sqrt(episodes) if episodes > 1 else float("nan")
    print(f"{env_name}: exact U(θ) = {exact.expected_return(env, policy, theta, horizon, gamma):.3f}; "
          f"mean return of {episodes} sampled episodes {np.mean(returns):.3f} ± {error:.3f} (standard error)")
    return [picture]


# ---- the command ----

def load(path):
    """(env name, env, policy, theta, gamma) of a checkpoint, or ValueError naming the file and what does not fit."""
    checkpoint = load_checkpoint(path)
    if envs.is_gymnasium(checkpoint.env):
        raise ValueError(f"checkpoint {path}: its env {checkpoint.env!r} is a Gymnasium env; show films minipg's own "
                         f"envs: {', '.join(envs.ENV_NAMES)}")
    if checkpoint.env not in envs.ENV_NAMES:
        raise ValueError(f"checkpoint {path}: its env {checkpoint.env!r} is none of minipg's: "
                         f"{', '.join(envs.ENV_NAMES)}")
    if checkpoint.policy not in POLICIES:
        raise ValueError(f"checkpoint {path}: its policy {checkpoint.policy!r} is none of minipg's: "
                         f"{', '.join(POLICIES)}")
    env, hidden = envs.make(checkpoint.env), network_of(checkpoint, path, {})["hidden"]
    try:
        policy = make_policy(env, checkpoint.policy, hidden)
    except ValueError as error:
        raise ValueError(f"checkpoint {path}: {error}") from None
    theta = fitting_theta(checkpoint, path, env, policy)
    gamma = checkpoint.config.get("gamma", 1.0)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0.0 < gamma <= 1.0:
        raise ValueError(f"checkpoint {path}: its config's gamma must be a number in (0, 1], got {gamma!r}")
    return checkpoint.env, env, policy, theta, float(gamma)


FRAME_BOOKKEEPING = 8192  # bytes Pillow holds a GIF frame beside its pixels: 6.8 kB measured, rounded up


def memory_bytes(env, episodes):
    """At most what --episodes asks of memory: every frame of the GIF (an episode has up to H + 1, a byte a pixel in
    a palette image and FRAME_BOOKKEEPING, which the GIF writer holds until the end), or a tabular env's return per
    sampled episode (a Python float in a list). Measured (Pillow 13, Linux): a GIF's peak memory grows by 246.8 kB
    a 600 x 400 frame, its 240,000 pixels and Pillow's bookkeeping."""
    if hasattr(env, "P"):
        return episodes * 32
    width, height = film_of(env).size
    return episodes * (env.max_episode_steps + 1) * (width * height + FRAME_BOOKKEEPING)


def output_names(env_name, env):
    """The files show writes: a tabular env's policy picture, or a filmed env's GIF and filmstrip."""
    return [f"{env_name}_policy.png"] if hasattr(env, "P") else [f"{env_name}.gif", f"{env_name}_filmstrip.png"]


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.show", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a .npz written by python -m minipg.train")
    parser.add_argument("--out", default="plots", help="output directory (default plots)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the episodes shown (default 0)")
    parser.add_argument("--deterministic", action="store_true",
                        help="act by the mode (argmax pi, or the mean action), not by sampling; not on a tabular env, "
                             "whose picture is pi itself")
    parser.add_argument("--episodes", type=positive_int, default=None,
                        help="cart-pole, acrobot, pendulum: episodes filmed one after another (default 1); gridworld, "
                             "corridor: episodes sampled to compare their mean return with the exact U (default 1000)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    env_name, env, policy, theta, gamma = load(args.checkpoint)
    if args.deterministic and hasattr(env, "P"):
        raise ValueError(f"--deterministic: the {env_name}'s picture is pi itself, and its sampled episodes check the "
                         "exact U of pi")
    episodes = args.episodes or (1000 if hasattr(env, "P") else 1)
    check_memory("--episodes", memory_bytes(env, episodes))
    check_output_dir("--out", args.out, output_names(env_name, env))
    rng = np.random.default_rng(args.seed)
    if hasattr(env, "P"):
        written = show_tabular(env_name, env, policy, theta, episodes, rng, gamma, args.out)
    else:
        with acting_finitely(args.checkpoint, theta):
            acting = ModeOf(policy) if args.deterministic else policy
            recorded = [episode_frames(env, acting, theta, rng) for _ in range(episodes)]
        written = show_film(env_name, env, recorded, args.out)
    print("wrote " + ", ".join(written))


if __name__ == "__main__":
    sys.exit(run_cli(main))
