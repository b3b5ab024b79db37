"""`python -m minipg.lab.show CHECKPOINT`: watch a saved policy act.

Cart-pole (both variants): one episode of pi_theta drawn frame by frame from the simulator's state with
Gymnasium's geometry, by Pillow straight into a palette image (no figure per frame, no ffmpeg, no display),
written as an animated GIF, and a filmstrip PNG of eight evenly spaced frames. Gridworld and corridor: pi(u|s)
as arrows over the expected visits to each state, the exact U(theta) in the title, beside the same picture at
theta = 0.
"""
import dataclasses
import os
import sys
import time

import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import envs
from envs.cartpole import HALF_LENGTH, TAU, X_THRESHOLD
from envs.gridworld import MOVES, GridWorld, ShortCorridor
from minipg import exact
from minipg.estimators import path_return
from minipg.io.checkpoint import load_checkpoint
from minipg.io.cli import Parser, check_memory, non_negative_int, positive_int, run_cli
from minipg.io.files import check_output_dir, write_atomically, writing_together
from minipg.io.figures import plt, save_figure
from minipg.rollout import sample_paths
from minipg.settings import POLICIES
from minipg.train import ModeOf, acting_finitely, fitting_theta, make_policy, network_of

# Gymnasium's CartPole render geometry, in pixels of a 600 x 400 image with y pointing up.
SCREEN_WIDTH, SCREEN_HEIGHT = 600, 400
SCALE = SCREEN_WIDTH / (2 * X_THRESHOLD)  # 125 px per metre: the track from -2.4 m to 2.4 m fills the width
CART_WIDTH, CART_HEIGHT = 50.0, 30.0
CART_Y = 100.0  # height of the cart's centre line, which is also the track
AXLE_OFFSET = CART_HEIGHT / 4.0
POLE_WIDTH = 10.0
POLE_LENGTH = SCALE * 2 * HALF_LENGTH  # 125 px: the whole pole, 1 m
AXLE_RADIUS = POLE_WIDTH / 2
FRAMES_PER_SECOND = round(1 / TAU)  # 50: one frame per simulator step of 0.02 s
# The frames' palette, one entry per thing drawn (index = position); Gymnasium's colours for cart, pole and axle.
COLOURS = {"background": (255, 255, 255), "cart": (0, 0, 0), "pole": (202, 152, 101), "axle": (129, 132, 203),
           "track": (0, 0, 0), "scale": (102, 102, 102), "track end": (214, 39, 40), "caption": (0, 0, 0)}
INK = {name: index for index, name in enumerate(COLOURS)}
FILMSTRIP_FRAMES = 8
FRAME_BYTES = SCREEN_WIDTH * SCREEN_HEIGHT  # a byte a pixel (palette); the GIF writer holds every frame until the end


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


def on_image(points):
    """Points (x, y) of the y-up geometry above as the image's (column, row): its rows grow downwards."""
    return [(column, SCREEN_HEIGHT - y) for column, y in np.atleast_2d(points)]


# ---- cart-pole: drawing ----

def pillow_font(size):
    """Pillow's own font, which needs no font file: `size` px tall, or its one bitmap size before Pillow 10.1."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError):  # a Pillow before 10.1, or one built without FreeType
        return ImageFont.load_default()


CAPTION_FONT, SCALE_FONT = pillow_font(14), pillow_font(10)


def track_image():
    """What every frame shares: the track, a scale every metre, and red marks at its ends, +-2.4 m."""
    image = Image.new("P", (SCREEN_WIDTH, SCREEN_HEIGHT), INK["background"])
    image.putpalette([level for colour in COLOURS.values() for level in colour])
    draw = ImageDraw.Draw(image)
    ((_, track_row),) = on_image(cart_centre(0.0))
    draw.line([(0, track_row), (SCREEN_WIDTH, track_row)], fill=INK["track"])
    for metres in range(-2, 3):
        column = cart_centre(metres)[0]
        label = f"{metres:g} m"
        draw.line([(column, track_row + 16), (column, track_row + 22)], fill=INK["scale"])
        draw.text((column - draw.textlength(label, font=SCALE_FONT) / 2, track_row + 26), label,
                  fill=INK["scale"], font=SCALE_FONT)
    for left in (0, SCREEN_WIDTH - 4):
        draw.rectangle([left, track_row - 12, left + 3, track_row + 11], fill=INK["track end"])
    return image


def draw_frame(track, state, caption):
    """A copy of track with the cart, pole and axle where state = [x, x_dot, theta, theta_dot] puts them."""
    x, theta = state[0], state[2]
    image = track.copy()
    draw = ImageDraw.Draw(image)
    draw.polygon(on_image(cart_corners(x)), fill=INK["cart"])
    draw.polygon(on_image(pole_corners(x, theta)), fill=INK["pole"])
    ((column, row),) = on_image(pivot(x))
    draw.ellipse([column - AXLE_RADIUS, row - AXLE_RADIUS, column + AXLE_RADIUS, row + AXLE_RADIUS],
                 fill=INK["axle"])
    draw.text((10, 10), caption, fill=INK["caption"], font=CAPTION_FONT)
    return image


def caption(episode, episodes, step, return_so_far):
    """The line atop each frame of the GIF: which episode, which step and time, the return so far."""
    return f"episode {episode + 1} of {episodes}   step {step}   t = {step * TAU:.2f} s   return {return_so_far:g}"


def episode_frames(env, policy, theta, rng):
    """One episode of pi_theta: the states s_0..s_T, shape (T + 1, 4), and the return so far at each."""
    path = sample_paths(env, policy, theta, 1, rng)[0]
    states = np.vstack([path.observations, path.final_observation])
    return states, np.concatenate([[0.0], np.cumsum(path.rewards)])


def gif_frames(episodes):
    """The frames of every (states, returns) episode in turn, drawn as the GIF writer asks for them."""
    track = track_image()
    total, done, last_print = sum(len(states) for states, _ in episodes), 0, time.perf_counter()
    for k, (states, returns) in enumerate(episodes):
        for step, (state, return_so_far) in enumerate(zip(states, returns)):
            yield draw_frame(track, state, caption(k, len(episodes), step, return_so_far))
            done += 1
            if time.perf_counter() - last_print > 2.0:
                last_print = time.perf_counter()
                print(f"frame {done:5d} of {total}", flush=True)


def write_gif(path, episodes):
    """Every frame of every (states, returns) episode, one after the other, at 50 frames per second.

    Pillow merges equal consecutive frames into one (no option stops it); each caption names its episode and
    step, so no two are equal and the GIF has one frame per step. optimize=False: Pillow's optimizing would make
    the file a fifth smaller and its writing half again slower.
    """
    frames = gif_frames(episodes)
    first = next(frames)
    write_atomically(path, lambda temporary: first.save(
        temporary, format="GIF", save_all=True, append_images=frames, duration=1000 // FRAMES_PER_SECOND, loop=0,
        optimize=False))


def write_filmstrip(path, states, returns, title):
    """FILMSTRIP_FRAMES evenly spaced frames of one episode, each on axes in metres."""
    track = track_image()
    steps = np.unique(np.linspace(0, len(states) - 1, FILMSTRIP_FRAMES).round().astype(int))
    images = [np.asarray(draw_frame(track, states[step], f"step {step}   return {returns[step]:g}").convert("RGB"))
              for step in steps]
    columns = 4
    rows = -(-len(steps) // columns)
    height = 2.7 * rows + 0.8  # inches
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, height), squeeze=False)
    extent = (-X_THRESHOLD, X_THRESHOLD, -CART_Y / SCALE, (SCREEN_HEIGHT - CART_Y) / SCALE)  # metres, 0 = track
    for ax in axes.flat[len(steps):]:
        ax.set_visible(False)
    for ax, step, image in zip(axes.flat, steps, images):
        ax.imshow(image, extent=extent)
        ax.set_title(f"t = {step * TAU:.2f} s (step {step})", fontsize=9)
        ax.set_xlabel("cart position (m)", fontsize=8)
        ax.set_ylabel("height (m)", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [matplotlib.patches.Patch(color=rgb("cart"), label="cart (0.4 x 0.24 m)"),
               matplotlib.patches.Patch(color=rgb("pole"), label="pole (1 m)"),
               matplotlib.lines.Line2D([], [], color=rgb("track end"), linewidth=2,
                                       label="track ends at ±2.4 m (episode over)")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(title)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=1.0 / height, top=1 - 0.7 / height, wspace=0.3, hspace=0.45)
    save_figure(fig, path)


def rgb(name):
    """A palette colour as matplotlib takes it, each level in [0, 1]."""
    return tuple(level / 255 for level in COLOURS[name])


def show_cartpole(env_name, env, recorded, out):
    """The GIF of the recorded (states, returns) episodes and the filmstrip of the first; returns the paths written."""
    for k, (states, returns) in enumerate(recorded):
        print(f"episode {k + 1}: return {returns[-1]:g} in {len(states) - 1} steps; the pole within "
              f"{np.degrees(np.abs(states[:, 2]).max()):.1f}° of upright, the cart within "
              f"{np.abs(states[:, 0]).max():.2f} m of the centre ({states[-1, 0]:+.2f} m at the end)")
    gif, filmstrip = (os.path.join(out, name) for name in output_names(env_name, env))
    states, returns = recorded[0]
    with writing_together([gif, filmstrip], interruptible=True):  # minutes for many episodes: a signal stops it
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


def memory_bytes(env, episodes):
    """At most what --episodes asks of memory: every frame of the GIF (an episode has up to H + 1), or a
    tabular env's return per sampled episode (a Python float in a list). Measured (Pillow 13, Linux): a GIF's peak
    memory grows by 246 kB a frame, its 240,000 pixels and Pillow's bookkeeping."""
    return episodes * (32 if hasattr(env, "P") else (env.max_episode_steps + 1) * FRAME_BYTES)


def output_names(env_name, env):
    """The files show writes: a tabular env's policy picture, or cart-pole's GIF and filmstrip."""
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
                        help="cart-pole: episodes filmed one after another (default 1); gridworld, corridor: "
                             "episodes sampled to compare their mean return with the exact U (default 1000)")
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
        written = show_cartpole(env_name, env, recorded, args.out)
    print("wrote " + ", ".join(written))


if __name__ == "__main__":
    sys.exit(run_cli(main))
