"""python -m minipg.lab.show: the frames are drawn where the state says, the GIF has a frame per step, the grid
picture's arrows and visits agree with the policy and the oracle, and bad input writes nothing."""
import copy
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import envs
from minipg import exact
from minipg.lab import frames, show
from minipg.io.checkpoint import save_checkpoint
from minipg.io.cli import MAX_BYTES, run_cli
from minipg.io.figures import plt
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_paths
from tests.helpers import POSIX_SIGNALS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Gymnasium's CartPole-v1 render: 600 x 400 px, 125 px per metre, cart 50 x 30 px centred at height 100,
# the pole's axle 7.5 px above the cart's centre, the pole 10 px wide reaching 120 px beyond the axle.
STATES = [(0.0, 0.0), (1.0, 0.2), (-2.0, -0.15), (2.4, 0.21)]


@pytest.mark.parametrize("x, theta", STATES)
def test_cart_and_pole_are_drawn_where_the_state_says(x, theta):
    cart = frames.cart_corners(x)
    np.testing.assert_allclose(cart.mean(axis=0), [300 + 125 * x, 100])
    np.testing.assert_allclose(np.ptp(cart, axis=0), [50, 30])
    pole = frames.pole_corners(x, theta)
    axle = np.array([300 + 125 * x, 107.5])
    np.testing.assert_allclose(frames.pivot(x), axle)
    top_middle = (pole[1] + pole[2]) / 2  # corners: bottom-left, top-left, top-right, bottom-right
    np.testing.assert_allclose(top_middle, axle + 120 * np.array([np.sin(theta), np.cos(theta)]), atol=1e-9)
    assert np.linalg.norm(pole[2] - pole[1]) == pytest.approx(10)
    assert (top_middle[0] > axle[0]) == (theta > 0) or theta == 0  # a positive angle leans right


# Gymnasium's colours, and where its y-up heights land among the image's rows, which grow downwards.
WHITE, BLACK, POLE, AXLE = (255, 255, 255), (0, 0, 0), (202, 152, 101), (129, 132, 203)
TRACK_ROW = 400 - 100


def drawn(x, theta):
    """The frame of the state [x, 0, theta, 0], as RGB pixels, shape (400, 600, 3), row 0 at the top."""
    frame = frames.CARTPOLE.frame(frames.track_image(), [x, 0.0, theta, 0.0], np.nan, "")
    assert frame.size == (600, 400)
    return np.asarray(frame.convert("RGB")).astype(int)


def pixels_of(pixels, colour):
    """(rows, columns) of the pixels of that colour."""
    return np.nonzero(np.all(pixels == colour, axis=-1))


def cart_pixels(pixels):
    """(rows, columns) of the black pixels within 40 rows of the track, off its line: the cart's (not the caption's)."""
    rows, columns = pixels_of(pixels, BLACK)
    cart = (abs(rows - TRACK_ROW) < 40) & (rows != TRACK_ROW)
    return rows[cart], columns[cart]


@pytest.mark.parametrize("x", [-1.0, 0.0, 1.3])
def test_the_cart_occupies_the_pixel_columns_of_its_position(x):
    pixels = drawn(x, 0.0)
    row = pixels[400 - 90]  # 10 px below the cart's centre: the cart, nothing else, is black there
    dark = np.flatnonzero(row.max(axis=1) < 60)
    centre = 300 + 125 * x
    assert abs(dark.min() - (centre - 25)) <= 1 and abs(dark.max() - (centre + 25)) <= 1
    assert len(dark) == dark.max() - dark.min() + 1  # one solid block


@pytest.mark.parametrize("x, theta", [(1.0, 0.3), (-0.5, -0.2)])
def test_the_cart_is_50_by_30_px_at_125_px_per_metre_its_centre_100_px_up(x, theta):
    rows, columns = cart_pixels(drawn(x, theta))
    centre = 300 + 125 * x
    assert abs(columns.min() - (centre - 25)) <= 1 and abs(columns.max() - (centre + 25)) <= 1
    assert abs(rows.min() - (TRACK_ROW - 15)) <= 1 and abs(rows.max() - (TRACK_ROW + 15)) <= 1


@pytest.mark.parametrize("x, theta", [(1.0, 0.3), (1.0, -0.3), (-1.5, 0.1)])
def test_the_pole_reaches_120_px_beyond_the_axle_at_the_angle_theta_leaning_right_when_positive(x, theta):
    pixels = drawn(x, theta)
    axle = np.array([300 + 125 * x, TRACK_ROW - 7.5])  # (column, row)
    up_the_pole = np.array([np.sin(theta), -np.cos(theta)])  # theta from upright, clockwise; rows grow down
    for distance in (15, 60, 110, 117):
        column, row = np.floor(axle + distance * up_the_pole).astype(int)
        assert tuple(pixels[row, column]) == POLE, distance
    column, row = np.floor(axle + 124 * up_the_pole).astype(int)
    assert tuple(pixels[row, column]) == WHITE  # past the tip
    column, row = np.floor(axle + 100 * up_the_pole * [-1, 1]).astype(int)
    assert tuple(pixels[row, column]) == WHITE  # the mirror image, leaning the other way
    rows, columns = pixels_of(pixels, POLE)
    assert np.hypot(columns - axle[0], rows - axle[1]).max() == pytest.approx(np.hypot(120, 5), abs=1.5)
    assert np.sign(columns.mean() - axle[0]) == np.sign(theta)


def test_the_axle_is_a_circle_of_radius_5_centred_7_5_px_above_the_carts_centre():
    pixels = drawn(1.0, 0.3)
    rows, columns = pixels_of(pixels, AXLE)
    cart_rows, cart_columns = cart_pixels(pixels)
    cart_centre = (cart_columns.min() + cart_columns.max()) / 2, (cart_rows.min() + cart_rows.max()) / 2
    assert np.ptp(columns) == pytest.approx(10, abs=1) and np.ptp(rows) == pytest.approx(10, abs=1)
    assert len(rows) == pytest.approx(np.pi * 5**2, rel=0.3)
    assert columns.mean() == pytest.approx(cart_centre[0], abs=1)
    assert cart_centre[1] - rows.mean() == pytest.approx(7.5, abs=1)


@pytest.mark.parametrize("x, edge", [(-2.4, 0), (2.4, 599)])
def test_at_the_track_ends_the_carts_centre_is_on_the_images_edge(x, edge):
    rows, columns = cart_pixels(drawn(x, 0.0))
    inner = columns.max() if edge == 0 else columns.min()
    assert edge in columns and abs(inner - edge) == pytest.approx(25, abs=1)  # half the cart is off the image


def cartpole_checkpoint(tmp_path, name="cartpole"):
    path = tmp_path / "cartpole.npz"
    theta = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0])  # pushes right more often: short episodes
    save_checkpoint(path, theta, name, "softmax", {"gamma": 0.99})
    return path, theta


@pytest.mark.parametrize("episodes", [1, 2])
def test_the_gif_has_one_frame_per_step_plus_the_first(tmp_path, episodes):
    checkpoint, theta = cartpole_checkpoint(tmp_path)
    out = tmp_path / "out"
    assert show.main([str(checkpoint), "--out", str(out), "--seed", "4", "--episodes", str(episodes)]) is None
    env = envs.make("cartpole")
    policy = SoftmaxPolicy(4, 2)
    rng = np.random.default_rng(4)  # the command's episodes, replayed
    lengths = [len(path) for path in sample_paths(env, policy, theta, episodes, rng)]
    with Image.open(out / "cartpole.gif") as gif:
        assert gif.n_frames == sum(length + 1 for length in lengths)
        assert gif.size == (600, 400) and gif.info["duration"] == 20  # 50 frames per second
    with Image.open(out / "cartpole_filmstrip.png") as filmstrip:
        assert filmstrip.format == "PNG"


def test_each_gif_frame_shows_the_cart_and_pole_of_its_step(tmp_path):
    checkpoint, theta = cartpole_checkpoint(tmp_path)
    assert show.main([str(checkpoint), "--out", str(tmp_path / "out"), "--seed", "5"]) is None
    (path,) = sample_paths(envs.make("cartpole"), SoftmaxPolicy(4, 2), theta, 1, np.random.default_rng(5))
    states = np.vstack([path.observations, path.final_observation])
    with Image.open(tmp_path / "out" / "cartpole.gif") as gif:
        for step, (x, _, theta_t, _) in enumerate(states):
            gif.seek(step)
            pixels = np.asarray(gif.convert("RGB")).astype(int)
            _, columns = cart_pixels(pixels)
            assert abs((columns.min() + columns.max()) / 2 - (300 + 125 * x)) <= 1, step
            _, pole_columns = pixels_of(pixels, POLE)
            assert pole_columns.mean() - (300 + 125 * x) == pytest.approx(57.5 * np.sin(theta_t), abs=1.5), step


def record_frames(monkeypatch):
    """The (state, torque) of every frame drawn from now on, GIF and filmstrip alike, in the order drawn."""
    drawn, frame = [], frames.Film.frame
    monkeypatch.setattr(frames.Film, "frame", lambda film, background, state, torque, caption: drawn.append(
        (state, torque)) or frame(film, background, state, torque, caption))
    return drawn


BALANCING = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 20.0, 5.0, 0.0])  # pushes against the lean: 500 steps


def test_the_printed_lean_and_drift_are_those_of_the_states_filmed(tmp_path, capsys, monkeypatch):
    """Every state drawn into the GIF is recorded as it is drawn; each episode's line gives its return, its steps,
    the largest |theta| in degrees, the largest |x| and the last x in metres, of exactly those states."""
    save_checkpoint(tmp_path / "c.npz", np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0]), "cartpole",
                    "softmax", {"gamma": 0.99})
    drawn = record_frames(monkeypatch)
    assert show.main([str(tmp_path / "c.npz"), "--out", str(tmp_path / "out"), "--episodes", "3"]) is None
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode")]
    gif_states = np.array([state for state, _ in drawn[:-show.FILMSTRIP_FRAMES]])  # then the filmstrip's frames
    assert len(lines) == 3
    for line in lines:
        steps = int(line.split(" in ")[1].split(" steps")[0])
        episode, gif_states = gif_states[:steps + 1], gif_states[steps + 1:]
        assert line == (f"{line.split(':')[0]}: return {steps:g} in {steps} steps; the pole within "
                        f"{np.max(np.abs(episode[:, 2])) * 180 / np.pi:.1f}° of upright, the cart within "
                        f"{np.max(np.abs(episode[:, 0])):.2f} m of the centre ({episode[-1, 0]:+.2f} m at the end)")
    assert len(gif_states) == 0


@POSIX_SIGNALS
def test_sigterm_while_the_gif_is_drawn_stops_at_once_and_writes_nothing(tmp_path):
    """Eight balanced episodes are 4,008 frames, about ten seconds of drawing: SIGTERM at the first progress line
    ends the command there with 143, and neither the GIF, the filmstrip nor a temporary of them appears. (Holding
    the signal until the files were written, as a checkpoint's save does, would have drawn every frame.)"""
    save_checkpoint(tmp_path / "c.npz", BALANCING, "cartpole", "softmax", {"gamma": 0.99})
    process = subprocess.Popen([sys.executable, "-m", "minipg.lab.show", str(tmp_path / "c.npz"), "--episodes", "8",
                                "--out", str(tmp_path / "out")], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"})
    while not process.stdout.readline().startswith("frame"):  # the episodes' lines come first
        assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and stderr == "interrupted\n" and "wrote" not in stdout
    assert os.listdir(tmp_path / "out") == []


def test_a_state_held_still_is_still_one_frame_per_step(tmp_path):
    """Pillow merges equal consecutive frames; the caption's step keeps them apart."""
    show.write_gif(tmp_path / "still.gif", frames.CARTPOLE, [show.Episode(np.zeros((3, 4)), np.full(3, np.nan),
                                                                          np.zeros(3))])
    with Image.open(tmp_path / "still.gif") as gif:
        assert gif.n_frames == 3


def test_the_memory_check_counts_a_byte_for_each_pixel_of_every_frame():
    """A palette frame is 600 x 400 bytes, and an episode has up to 501 of them; 1 GiB holds 8 episodes."""
    env = envs.make("cartpole")
    assert show.memory_bytes(env, 2) == 2 * 501 * 600 * 400
    assert show.memory_bytes(env, 8) <= MAX_BYTES < show.memory_bytes(env, 9)


def random_theta(policy, seed):
    return np.random.default_rng(seed).normal(scale=2.0, size=policy.n_params)


@pytest.mark.parametrize("env_name", ["gridworld", "corridor"])
def test_arrows_point_to_the_most_likely_action_with_length_proportional_to_pi(env_name):
    env = envs.make(env_name)
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = random_theta(policy, 1)
    pi = exact.policy_table(env, policy, theta)
    fig, ax = plt.subplots()
    show.draw_policy(ax, env, pi, show.expected_visits(env, pi, env.max_episode_steps), 1.0, "title")
    (quiver,) = [artist for artist in ax.get_children() if isinstance(artist, plt.matplotlib.quiver.Quiver)]
    layout = show.grid_layout(env)
    starts, steps = quiver.XY, np.column_stack([quiver.U, quiver.V])  # V runs down the rows, like the image
    plt.close(fig)
    drawn = 0
    for s, (row, column) in enumerate(layout.cells):
        here = (starts[:, 0] == column) & (starts[:, 1] == row)
        if env.terminal[s]:
            assert not here.any()
            continue
        arrows = steps[here]
        best = int(np.argmax(policy.probs(theta, env.state_observations[s])))
        longest = arrows[np.argmax(np.linalg.norm(arrows, axis=1))]
        d_row, d_column = layout.directions[best]
        np.testing.assert_allclose(longest / np.linalg.norm(longest), [d_column, d_row])
        np.testing.assert_allclose(np.sort(np.linalg.norm(arrows, axis=1)), np.sort(0.45 * pi[s]))
        drawn += 1
    assert drawn == np.sum(~env.terminal)


def test_the_gridworld_layout_matches_the_env():
    env = envs.make("gridworld")
    layout = show.grid_layout(env)
    assert layout.cells[int(np.argmax(env.start))] == (2, 0)
    assert sorted(layout.terminal_names.values()) == ["goal", "pit"]
    assert len(layout.walls) == 4 and len(layout.cells) == 21


@pytest.mark.parametrize("env_name", ["gridworld", "corridor"])
def test_visits_sum_to_the_expected_episode_length(env_name):
    """E[T] = U(theta) of the same env paying 1 per step, from the oracle's backward recursion."""
    env = envs.make(env_name)
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = random_theta(policy, 2)
    one_per_step = copy.copy(env)
    one_per_step.R = np.ones_like(env.R)
    expected_length = exact.expected_return(one_per_step, policy, theta, env.max_episode_steps)
    visits = show.expected_visits(env, exact.policy_table(env, policy, theta), env.max_episode_steps)
    assert visits.sum() == pytest.approx(expected_length, rel=1e-12)
    assert np.all(visits[env.terminal] == 0) and 1 < expected_length < env.max_episode_steps


def test_the_grid_command_writes_the_before_and_after_picture(tmp_path):
    env = envs.make("gridworld")
    theta = random_theta(SoftmaxPolicy(env.observation_dim, env.n_actions), 3)
    save_checkpoint(tmp_path / "grid.npz", theta, "gridworld", "softmax", {"gamma": 1.0})
    result = subprocess.run([sys.executable, "-m", "minipg.lab.show", str(tmp_path / "grid.npz"), "--out",
                             str(tmp_path / "out"), "--episodes", "50"], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path / "out") == ["gridworld_policy.png"]
    exact_value = exact.expected_return(env, SoftmaxPolicy(env.observation_dim, env.n_actions), theta, 50)
    assert f"exact U(θ) = {exact_value:.3f}" in result.stdout


def test_the_sampled_mean_return_is_the_mean_of_sum_gamma_t_r_t_over_the_same_episodes(tmp_path, capsys):
    env = envs.make("corridor")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = np.zeros(policy.n_params)  # pi(right) = 1/2 everywhere: episodes of 3 to 36 steps at seed 7
    save_checkpoint(tmp_path / "corridor.npz", theta, "corridor", "softmax", {"gamma": 0.9})
    assert show.main([str(tmp_path / "corridor.npz"), "--out", str(tmp_path / "out"), "--seed", "7",
                      "--episodes", "20"]) is None
    paths = sample_paths(env, policy, theta, 20, np.random.default_rng(7), env.max_episode_steps)
    returns = [sum(0.9**t * r for t, r in enumerate(path.rewards)) for path in paths]  # Eq. (1), by hand
    assert f"mean return of 20 sampled episodes {np.mean(returns):.3f} ± " in capsys.readouterr().out


def bad_checkpoints(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    save_checkpoint(tmp_path / "pong.npz", np.zeros(4), "pong", "softmax", {})
    save_checkpoint(tmp_path / "short.npz", np.zeros(3), "cartpole", "softmax", {})
    save_checkpoint(tmp_path / "magic.npz", np.zeros(10), "cartpole", "magic", {})
    save_checkpoint(tmp_path / "gauss.npz", np.zeros(22), "gridworld", "gaussian", {})
    save_checkpoint(tmp_path / "huge.npz", np.resize([1e308, -1e308], 10), "cartpole", "softmax", {})
    save_checkpoint(tmp_path / "huge-grid.npz", np.resize([1e308, -1e308, 1e308], 88), "gridworld", "softmax", {})
    save_checkpoint(tmp_path / "nan.npz", np.full(10, np.nan), "cartpole", "softmax", {})
    save_checkpoint(tmp_path / "good.npz", np.zeros(10), "cartpole", "softmax", {})


@pytest.mark.parametrize("args, message", [
    (["missing.npz"], "missing.npz does not exist"),
    (["junk.npz"], "is not a minipg checkpoint"),
    (["pong.npz"], "checkpoint pong.npz: its env 'pong' is none of minipg's: cartpole,"),
    (["magic.npz"], "checkpoint magic.npz: its policy 'magic' is none of minipg's: softmax, gaussian"),
    (["short.npz"], "theta has shape (3,)"),
    (["gauss.npz"], "checkpoint gauss.npz: policy 'gaussian' does not fit"),
    (["huge.npz"], "checkpoint huge.npz: its theta (largest |theta_i| = 1e+308) makes the policy overflow"),
    (["huge-grid.npz"], "checkpoint huge-grid.npz: its theta (largest |theta_i| = 1e+308) makes the policy overflow"),
    (["nan.npz"], "theta contains NaN or inf"),
    (["short.npz", "--episodes", "0"], "--episodes: expected a positive integer"),
    (["good.npz", "--out", "file/plots"], "--out: cannot write into"),
    ([], "the following arguments are required: checkpoint"),
])
def test_bad_input_prints_one_line_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, message):
    bad_checkpoints(tmp_path)
    (tmp_path / "file").write_text("")
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    out = ["--out", "out"] if "--out" not in args else []
    assert run_cli(show.main, [*args, *out]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err and captured.out == ""
    assert sorted(os.listdir(tmp_path)) == before
