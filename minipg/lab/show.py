"""`python -m minipg.lab.show CHECKPOINT`: watch a saved policy act.

Cart-pole (both variants): one episode of pi_theta drawn frame by frame from the simulator's state with
Gymnasium's geometry, written as an animated GIF through matplotlib's Pillow writer (no ffmpeg, no
display), and a filmstrip PNG of eight evenly spaced frames. Gridworld and corridor: pi(u|s) as arrows
over the expected visits to each state, the exact U(theta) in the title, beside the same picture at theta = 0.
"""
import dataclasses
import os
import sys
import time

import matplotlib.animation
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import numpy as np

import envs
from envs.cartpole import HALF_LENGTH, TAU, X_THRESHOLD
from envs.gridworld import MOVES, GridWorld, ShortCorridor
from minipg import exact
from minipg.io.checkpoint import load_checkpoint
from minipg.io.cli import Parser, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir, write_atomically, writing_together
from minipg.io.figures import plt, save_figure
from minipg.rollout import sample_paths
from minipg.train import make_policy

# Gymnasium's CartPole render geometry, in pixels of a 600 x 400 image with y pointing up.
SCREEN_WIDTH, SCREEN_HEIGHT = 600, 400
SCALE = SCREEN_WIDTH / (2 * X_THRESHOLD)  # 125 px per metre: the track from -2.4 m to 2.4 m fills the width
CART_WIDTH, CART_HEIGHT = 50.0, 30.0
CART_Y = 100.0  # height of the cart's centre line, which is also the track
AXLE_OFFSET = CART_HEIGHT / 4.0
POLE_WIDTH = 10.0
POLE_LENGTH = SCALE * 2 * HALF_LENGTH  # 125 px: the whole pole, 1 m
FRAMES_PER_SECOND = round(1 / TAU)  # 50: one frame per simulator step of 0.02 s
CART_COLOUR, POLE_COLOUR, AXLE_COLOUR = "black", (202 / 255, 152 / 255, 101 / 255), (129 / 255, 132 / 255, 203 / 255)
FILMSTRIP_FRAMES = 8
FRAME_BYTES = SCREEN_WIDTH * SCREEN_HEIGHT * 4  # one RGBA frame; the GIF writer keeps every frame until the end


# ---- cart-pole: geometry ----

def cart_centre(x):
    """Pixel coordinates of the cart's centre for cart position x (metres)."""
    return x * SCALE + SCREEN_WIDTH / 2.0, CART_Y


def cart_corners(x):
    """The cart's rectangle: 50 x 30 px centred on cart_centre(x)."""
    centre_x, centre_y = cart_centre(x)
    left, right, bottom, top = -CART_WIDTH / 2, CART_WIDTH / 2, -CART_HEIGHT / 2, CART_HEIGHT / 2
    return np.array([(left, bottom), (left, top), (right, top), (right, bottom)]) + (centre_x, centre_y)


def pivot(x):
    """The axle the pole turns on: a quarter of the cart's height above its centre."""
    centre_x, centre_y = cart_centre(x)
    return np.array([centre_x, centre_y + AXLE_OFFSET])


def pole_corners(x, theta):
    """The pole's 10 x 125 px rectangle, upright then turned by -theta about the axle: theta > 0 leans right."""
    left, right, bottom, top = -POLE_WIDTH / 2, POLE_WIDTH / 2, -POLE_WIDTH / 2, POLE_LENGTH - POLE_WIDTH / 2
    upright = np.array([(left, bottom), (left, top), (right, top), (right, bottom)])
    turn = np.array([[np.cos(-theta), -np.sin(-theta)], [np.sin(-theta), np.cos(-theta)]])
    return upright @ turn.T + pivot(x)


# ---- cart-pole: drawing ----

class CartPoleFrame:
    """A 600 x 400 px figure whose cart, pole and caption are moved to each state in turn."""

    def __init__(self):
        self.fig = plt.figure(figsize=(SCREEN_WIDTH / 100, SCREEN_HEIGHT / 100), dpi=100)
        ax = self.fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, SCREEN_WIDTH)
        ax.set_ylim(0, SCREEN_HEIGHT)
        ax.axis("off")
        ax.axhline(CART_Y, color="black", linewidth=1)
        for metres in np.arange(-2, 3):  # a scale along the track, every metre
            ax.plot([cart_centre(metres)[0]] * 2, [CART_Y - 22, CART_Y - 16], color="0.4", linewidth=1)
            ax.text(cart_centre(metres)[0], CART_Y - 26, f"{metres:g} m", ha="center", va="top", fontsize=8,
                    color="0.4")
        for edge in (0, SCREEN_WIDTH - 4):  # the image's edges are +-2.4 m, where the episode ends
            ax.add_patch(matplotlib.patches.Rectangle((edge, CART_Y - 12), 4, 24, color="C3"))
        self.cart = ax.add_patch(matplotlib.patches.Polygon(cart_corners(0.0), closed=True, color=CART_COLOUR))
        self.pole = ax.add_patch(matplotlib.patches.Polygon(pole_corners(0.0, 0.0), closed=True, color=POLE_COLOUR))
        self.axle = ax.add_patch(matplotlib.patches.Circle(pivot(0.0), POLE_WIDTH / 2, color=AXLE_COLOUR))
        self.caption = ax.text(10, SCREEN_HEIGHT - 10, "", ha="left", va="top", fontsize=11, family="monospace")

    def draw(self, state, caption):
        """Move the artists to state = [x, x_dot, theta, theta_dot] and write the caption."""
        x, theta = state[0], state[2]
        self.cart.set_xy(cart_corners(x))
        self.pole.set_xy(pole_corners(x, theta))
        self.axle.set_center(pivot(x))
        self.caption.set_text(caption)

    def pixels(self):
        """The frame as an RGBA array, shape (400, 600, 4), row 0 at the top."""
        self.fig.canvas.draw()
        return np.asarray(self.fig.canvas.buffer_rgba()).copy()


def caption(episode, episodes, step, return_so_far):
    return (f"episode {episode + 1} of {episodes}   step {step:3d}   t = {step * TAU:5.2f} s   "
            f"return {return_so_far:g}")


def episode_frames(env, policy, theta, rng):
    """One episode of pi_theta: the states s_0..s_T, shape (T + 1, 4), and the return so far at each."""
    path = sample_paths(env, policy, theta, 1, rng)[0]
    states = np.vstack([path.observations, path.final_observation])
    return states, np.concatenate([[0.0], np.cumsum(path.rewards)])


def write_gif(path, episodes):
    """Every frame of every (states, returns) episode, one after the other, at 50 frames per second."""
    frame = CartPoleFrame()
    writer = matplotlib.animation.PillowWriter(fps=FRAMES_PER_SECOND)
    total, done, last_print = sum(len(states) for states, _ in episodes), 0, time.perf_counter()

    def write(temporary):
        nonlocal done, last_print
        with writer.saving(frame.fig, temporary, dpi=100):
            for k, (states, returns) in enumerate(episodes):
                for step, (state, return_so_far) in enumerate(zip(states, returns)):
                    frame.draw(state, caption(k, len(episodes), step, return_so_far))
                    writer.grab_frame()
                    done += 1
                    if time.perf_counter() - last_print > 2.0:
                        last_print = time.perf_counter()
                        print(f"frame {done:5d} of {total}", flush=True)

    try:
        write_atomically(path, write)
    finally:
        plt.close(frame.fig)


def write_filmstrip(path, states, returns, title):
    """FILMSTRIP_FRAMES evenly spaced frames of one episode, each on axes in metres."""
    frame = CartPoleFrame()
    steps = np.unique(np.linspace(0, len(states) - 1, FILMSTRIP_FRAMES).round().astype(int))
    images = []
    for step in steps:
        frame.draw(states[step], f"step {step}   return {returns[step]:g}")
        images.append(frame.pixels())
    plt.close(frame.fig)
    columns = 4
    rows = -(-len(steps) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.7 * rows + 0.8), squeeze=False)
    extent = (-X_THRESHOLD, X_THRESHOLD, -CART_Y / SCALE, (SCREEN_HEIGHT - CART_Y) / SCALE)  # metres, 0 = track
    for ax in axes.flat[len(steps):]:
        ax.set_visible(False)
    for ax, step, image in zip(axes.flat, steps, images):
        ax.imshow(image, extent=extent)
        ax.set_title(f"t = {step * TAU:.2f} s (step {step})", fontsize=9)
        ax.set_xlabel("cart position (m)", fontsize=8)
        ax.set_ylabel("height (m)", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [matplotlib.patches.Patch(color=CART_COLOUR, label="cart (0.4 x 0.24 m)"),
               matplotlib.patches.Patch(color=POLE_COLOUR, label="pole (1 m)"),
               matplotlib.lines.Line2D([], [], color="C3", linewidth=2, label="track ends at ±2.4 m (episode over)")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    save_figure(fig, path)


def show_cartpole(env_name, env, policy, theta, episodes, rng, out):
    """The GIF of `episodes` episodes and the filmstrip of the first; returns the paths written."""
    recorded = [episode_frames(env, policy, theta, rng) for _ in range(episodes)]
    for k, (states, returns) in enumerate(recorded):
        print(f"episode {k + 1}: return {returns[-1]:g} in {len(states) - 1} steps")
    gif, filmstrip = (os.path.join(out, name) for name in output_names(env_name, env))
    states, returns = recorded[0]
    with writing_together([gif, filmstrip]):
        write_gif(gif, recorded)
        write_filmstrip(filmstrip, states, returns,
                        f"minipg: the saved policy on {env_name}, one episode (return {returns[-1]:g})")
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
    layout = grid_layout(env)
    height = max(r for r, _ in layout.cells + layout.walls) + 1
    width = max(c for _, c in layout.cells + layout.walls) + 1
    heat = np.full((height, width), np.nan)
    for s, (r, c) in enumerate(layout.cells):
        heat[r, c] = visits[s]
    image = ax.imshow(heat, cmap="YlGnBu", norm=matplotlib.colors.PowerNorm(0.5, vmin=0.0, vmax=vmax))
    for r, c in layout.walls:
        ax.add_patch(matplotlib.patches.Rectangle((c - 0.5, r - 0.5), 1, 1, color="0.25"))
    for s, name in layout.terminal_names.items():
        r, c = layout.cells[s]
        ax.add_patch(matplotlib.patches.Rectangle((c - 0.5, r - 0.5), 1, 1, color="C2" if name == "goal" else "C3"))
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
    layout = grid_layout(env)
    handles = [matplotlib.lines.Line2D([], [], color="C1", marker=">", label="action u: arrow of length ∝ π(u|s)")]
    if layout.walls:
        handles.append(matplotlib.patches.Patch(color="0.25", label="wall"))
    for name, colour in (("goal", "C2"), ("pit", "C3")):
        if name in layout.terminal_names.values():
            handles.append(matplotlib.patches.Patch(color=colour, label=f"{name} (terminal)"))
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
    fig, axes = plt.subplots(2 if wide else 1, 1 if wide else 2, figsize=(9, 6) if wide else (12, 6.2))
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
    path = os.path.join(out, output_names(env_name, env)[0])
    save_figure(fig, path)
    returns = [discounted_return(path.rewards, gamma) for path in sample_paths(env, policy, theta, episodes, rng, horizon)]
    error = np.std(returns, ddof=1) / np.sqrt(episodes) if episodes > 1 else float("nan")
    print(f"{env_name}: exact U(θ) = {exact.expected_return(env, policy, theta, horizon, gamma):.3f}; "
          f"mean return of {episodes} sampled episodes {np.mean(returns):.3f} ± {error:.3f} (standard error)")
    return [path]


def discounted_return(rewards, gamma):
    """R(tau) = sum_t gamma^t r_t, Eq. (1)."""
    return float(rewards @ gamma ** np.arange(len(rewards)))


# ---- the command ----

def load(path):
    """(env name, env, policy, theta, gamma) of a checkpoint, or ValueError naming what does not fit."""
    checkpoint = load_checkpoint(path)
    env = envs.make(checkpoint.env)
    policy = make_policy(env, checkpoint.policy)
    if checkpoint.theta.shape != (policy.n_params,):
        raise ValueError(f"checkpoint {path}: theta has shape {checkpoint.theta.shape}, the {checkpoint.policy} "
                         f"policy on {checkpoint.env} needs ({policy.n_params},)")
    gamma = checkpoint.config.get("gamma", 1.0)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0.0 < gamma <= 1.0:
        raise ValueError(f"checkpoint {path}: its config's gamma must be a number in (0, 1], got {gamma!r}")
    return checkpoint.env, env, policy, checkpoint.theta, float(gamma)


def memory_bytes(env, episodes):
    """At most what --episodes asks of memory: every frame of the GIF (an episode has up to H + 1), or a
    tabular env's return per sampled episode (a Python float in a list)."""
    return episodes * (32 if hasattr(env, "P") else (env.max_episode_steps + 1) * FRAME_BYTES)


def output_names(env_name, env):
    """The files show writes: a tabular env's policy picture, or cart-pole's GIF and filmstrip."""
    return [f"{env_name}_policy.png"] if hasattr(env, "P") else [f"{env_name}.gif", f"{env_name}_filmstrip.png"]


def parse_args(argv):
    parser = Parser(prog="python -m minipg.lab.show", description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="a .npz written by python -m minipg.train")
    parser.add_argument("--out", default="plots", help="output directory (default plots)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the episodes shown (default 0)")
    parser.add_argument("--episodes", type=positive_int, default=None,
                        help="cart-pole: episodes filmed one after another (default 1); gridworld, corridor: "
                             "episodes sampled to compare their mean return with the exact U (default 1000)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    env_name, env, policy, theta, gamma = load(args.checkpoint)
    episodes = args.episodes or (1000 if hasattr(env, "P") else 1)
    check_memory("--episodes", memory_bytes(env, episodes))
    check_output_dir("--out", args.out, output_names(env_name, env))
    rng = np.random.default_rng(args.seed)
    if hasattr(env, "P"):
        written = show_tabular(env_name, env, policy, theta, episodes, rng, gamma, args.out)
    else:
        written = show_cartpole(env_name, env, policy, theta, episodes, rng, args.out)
    print("wrote " + ", ".join(written))


if __name__ == "__main__":
    sys.exit(run_cli(main))
