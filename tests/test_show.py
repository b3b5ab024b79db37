"""python -m minipg.lab.show: the frames are drawn where the state says, the GIF has a frame per step, the grid
picture's arrows and visits agree with the policy and the oracle, and bad input writes nothing."""
import copy
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.quiver import Quiver
from PIL import Image

import envs
from envs.acrobot import observation as acrobot_observation
from minipg import exact
from minipg.lab import frames, show
from minipg.io.checkpoint import save_checkpoint
from minipg.io.cli import MAX_BYTES, run_cli
from minipg.io.figures import new_figure
from minipg.policies import SoftmaxPolicy
from minipg.rollout import sample_paths
from minipg.train import ModeOf, make_policy
from minipg.train import main as train_main
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
    """The (state, torque, caption) of every frame drawn from now on, GIF and filmstrip alike, in the order drawn."""
    drawn, frame = [], frames.Film.frame
    monkeypatch.setattr(frames.Film, "frame", lambda film, background, state, torque, caption: drawn.append(
        (state, torque, caption)) or frame(film, background, state, torque, caption))
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
    gif_states = np.array([state for state, _, _ in drawn[:-show.FILMSTRIP_FRAMES]])  # then the filmstrip's frames
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


MEASURED_FRAME_BYTES = 246_763  # peak RSS grew this much a 600 x 400 frame from 250 to 450 (Pillow 13, Linux)


def test_the_memory_check_counts_at_least_what_a_frame_was_measured_to_take():
    """A palette frame is 600 x 400 bytes and Pillow's bookkeeping, together at least the 246.8 kB measured, and an
    episode has up to 501 of them; 1 GiB holds 8 episodes."""
    env = envs.make("cartpole")
    assert 2 * 501 * MEASURED_FRAME_BYTES <= show.memory_bytes(env, 2) <= 2 * 501 * 1.1 * MEASURED_FRAME_BYTES
    assert show.memory_bytes(env, 8) <= MAX_BYTES < show.memory_bytes(env, 9)


# ---- acrobot and pendulum ----

# Gymnasium's Acrobot-v1 and Pendulum-v1 renders: 500 x 500 px, y up and flipped at the end, +-2.2 m across, so
# 500 / 4.4 = 113.6 px per metre, the pivot at (250, 250); links and rod 0.2 m wide. Their colours, and the torque's.
SIZE, SCALE = 500, 500 / 4.4
LINK, JOINT, ROD, TORQUE = (0, 204, 204), (204, 204, 0), (204, 77, 77), (64, 64, 64)


def pixels_drawn(film, state, torque=np.nan):
    """The film's frame of that state and torque, as RGB pixels, row 0 at the top."""
    frame = film.frame(film.background(), state, torque, "")
    assert frame.size == (SIZE, SIZE)
    return np.asarray(frame.convert("RGB")).astype(int)


def pixel(pixels, column, row):
    """The colour of the pixel holding the point (column, row) of the image."""
    return tuple(pixels[int(np.floor(row)), int(np.floor(column))])


def gymnasium_acrobot_points(t1, t2):
    """The pivot, elbow and tip as Gymnasium's render computes them, in pixels of the flipped image (column, row):
    p1 = (-l1 cos t1, l1 sin t1) scale, swapped to (x, y), and each link turned by t - pi/2 from the x axis."""
    p1 = np.array([-np.cos(t1) * SCALE, np.sin(t1) * SCALE])[::-1] + 250
    tip = p1 + SCALE * np.array([np.cos(t1 + t2 - np.pi / 2), np.sin(t1 + t2 - np.pi / 2)])
    return [(x, SIZE - y) for x, y in (np.array([250.0, 250.0]), p1, tip)]


ACROBOT_STATES = [(0.0, 0.0), (np.pi / 2, 0.0), (0.7, -1.9), (-2.5, 1.2), (np.pi, 0.0), (2.0, 1.5)]


@pytest.mark.parametrize("t1, t2", ACROBOT_STATES)
def test_the_acrobots_tip_is_at_the_pixel_gymnasiums_geometry_gives(t1, t2):
    env = envs.make("acrobot")
    env.reset(seed=0)
    env.state = [t1, t2, 0.3, -0.2]
    pixels = pixels_drawn(frames.ACROBOT, env.state)
    pivot, elbow, tip = (np.array(point) for point in gymnasium_acrobot_points(t1, t2))
    down_the_link = (tip - elbow) / np.linalg.norm(tip - elbow)
    assert pixel(pixels, *tip - 3 * down_the_link) == LINK
    assert pixel(pixels, *tip + 3 * down_the_link) == WHITE  # past the tip
    assert pixel(pixels, *(elbow + pivot) / 2) in (LINK, JOINT)  # the first link, or the pivot's disc over it
    assert pixel(pixels, *elbow) == JOINT and pixel(pixels, *pivot) in (JOINT, LINK)
    assert width_across(pixels, (elbow + tip) / 2, down_the_link, LINK) == pytest.approx(0.2 * SCALE, abs=1.5)
    rows, columns = pixels_of(pixels, LINK)
    from_elbow = np.column_stack([columns, rows]) - elbow
    on_the_line = np.abs(from_elbow @ [-down_the_link[1], down_the_link[0]]) < 5
    assert (from_elbow[on_the_line] @ down_the_link).max() == pytest.approx(SCALE, abs=1.5)  # 1 m, to the tip


def test_the_acrobots_goal_line_crosses_the_image_one_link_above_the_pivot():
    pixels = pixels_drawn(frames.ACROBOT, [0.0, 0.0, 0.0, 0.0])
    rows, columns = pixels_of(pixels, BLACK)
    assert set(rows) == {round(250 - SCALE)} and len(columns) == SIZE  # 113.6 px above the centre, every column


@pytest.mark.parametrize("th, direction", [(0.0, (0, -1)), (np.pi, (0, 1)), (np.pi / 2, (-1, 0)), (-0.6, None),
                                           (7.0, None)])
def test_the_pendulum_stands_upright_at_0_hangs_at_pi_and_turns_counterclockwise_as_th_grows(th, direction):
    """Gymnasium turns the rod (0..l along x) by th + pi/2: its end at l (-sin th, cos th), y up, so th > 0 leans
    left. `direction` is the rod's (column, row) direction on the image, whose rows grow downwards."""
    env = envs.make("pendulum")
    env.reset(seed=0)
    env.state = [th, 1.5]
    pixels = pixels_drawn(frames.PENDULUM, env.state)
    along = np.array([-np.sin(th), -np.cos(th)]) if direction is None else np.array(direction)
    np.testing.assert_allclose(along, [-np.sin(th), -np.cos(th)], atol=1e-12)
    centre = np.array([250.0, 250.0])
    for distance in (20, 60, 100, 118):
        assert pixel(pixels, *centre + distance * along) == ROD, distance
        assert pixel(pixels, *centre - distance * along) == WHITE, distance  # nothing on the other side
    assert pixel(pixels, *centre + 128 * along) == WHITE  # past the end's disc of 11 px
    assert width_across(pixels, centre + 60 * along, along, ROD) == pytest.approx(0.2 * SCALE, abs=1.5)  # 0.2 m
    assert pixel(pixels, *centre) == BLACK  # the axle
    rows, columns = pixels_of(pixels, ROD)
    assert np.hypot(columns - 250, rows - 250).max() == pytest.approx(SCALE + 11, abs=1.5)
    assert len(pixels_of(pixels, BLACK)[0]) == pytest.approx(np.pi * 5**2, rel=0.3)


def width_across(pixels, point, along, colour):
    """How many px of colour lie on the line through point across the direction along, 0.1 px at a time, over 40 px."""
    across = np.array([-along[1], along[0]])
    return 0.1 * sum(pixel(pixels, *point + offset * across) == colour for offset in np.arange(-20, 20, 0.1))


def torque_pixels_at(pixels, centre, angles):
    """Whether the torque's colour is at each angle (degrees counterclockwise from 12 o'clock) 0.35 m from centre
    (column, row)."""
    radius = 0.35 * SCALE
    return [pixel(pixels, centre[0] - radius * np.sin(np.radians(a)), centre[1] - radius * np.cos(np.radians(a)))
            == TORQUE for a in angles]


@pytest.mark.parametrize("u, drawn, bare", [
    (2.0, (20, 90, 180, 230, 255), (300, 320, 340)),  # 270° counterclockwise from 12 o'clock, over the rod below
    (-2.0, (340, 270, 180, 130, 105), (60, 40, 20)),  # the mirror image, clockwise
    (1.0, (20, 60, 100, 125), (225, 270, 320)),  # half the largest torque, half the arc: 135°
    (-0.5, (340, 310), (250, 90, 40)),  # a quarter: 67.5° clockwise
    (0.0, (), (0, 45, 90, 135, 225, 270, 315)),
    (np.nan, (), (0, 45, 90, 135, 225, 270, 315)),  # the first frame: no step taken yet
])
def test_the_pendulums_torque_is_an_arc_turning_its_way_through_135_degrees_per_newton_metre(u, drawn, bare):
    pixels = pixels_drawn(frames.PENDULUM, [np.pi, 0.0], u)
    assert all(torque_pixels_at(pixels, (250, 250), drawn)) and not any(torque_pixels_at(pixels, (250, 250), bare))
    rows, columns = pixels_of(pixels, TORQUE)
    if len(rows):
        assert np.hypot(columns - 250, rows - 250).max() <= 0.35 * SCALE + 8  # the arc and its arrowhead alone


@pytest.mark.parametrize("u", [2.0, 0.5, -0.5, -2.0])
def test_the_torques_arrowhead_points_on_round_the_arc_the_way_the_torque_turns(u):
    """The arc ends at 12 o'clock + 135 u degrees about its centre; the arrowhead's tip lies a head's length (12 px)
    along the tangent there, onward: counterclockwise for u > 0, clockwise for u < 0, its angle about the centre past
    the arc's end by the sign of u."""
    centre, radius = np.array([250.0, 250.0]), 87.5
    arc, (_, tip, _) = frames.torque_arc(centre, u, 2.0, radius)
    end_angle = np.pi / 2 + np.radians(135.0 * u)
    np.testing.assert_allclose(arc[-1], centre + radius * np.array([np.cos(end_angle), np.sin(end_angle)]), atol=1e-9)
    onward = np.sign(u) * np.array([-np.sin(end_angle), np.cos(end_angle)])  # d/d(angle) of the arc, times sign u
    np.testing.assert_allclose(tip, arc[-1] + 12.0 * onward, atol=1e-9)
    past = np.angle(complex(*(tip - centre)) / complex(*(arc[-1] - centre)))
    assert np.sign(past) == np.sign(u)


@pytest.mark.parametrize("u, drawn, bare", [(1.0, (135, 225), (315,)), (-1.0, (225, 135), (45,)),
                                            (0.0, (), (135, 225))])
def test_the_acrobots_torque_is_an_arc_about_the_elbow(u, drawn, bare):
    """Link 1 runs right from the pivot, link 2 up from the elbow (t1 = t2 = pi/2)."""
    pixels = pixels_drawn(frames.ACROBOT, [np.pi / 2, np.pi / 2, 0.0, 0.0], u)
    elbow = gymnasium_acrobot_points(np.pi / 2, np.pi / 2)[1]
    assert all(torque_pixels_at(pixels, elbow, drawn)) and not any(torque_pixels_at(pixels, elbow, bare))


PUMPING = np.zeros((3, 7))
PUMPING[[0, 2], 5] = -10.0, 10.0  # the torque turns the way the elbow already turns (sign of dt2): 70-100 steps


def saved(tmp_path, env_name, theta):
    policy = "gaussian" if env_name == "pendulum" else "softmax"
    save_checkpoint(tmp_path / f"{env_name}.npz", np.ravel(theta), env_name, policy, {"gamma": 0.99})
    return str(tmp_path / f"{env_name}.npz")


def replayed(env_name, theta, seed, episodes=1, deterministic=False):
    """The command's episodes, sampled again from its seed."""
    env = envs.make(env_name)
    policy = make_policy(env, "gaussian" if env_name == "pendulum" else "softmax", ())
    return sample_paths(env, ModeOf(policy) if deterministic else policy, np.ravel(theta), episodes,
                        np.random.default_rng(seed))


def gif_pixels(gif, step):
    gif.seek(step)
    return np.asarray(gif.convert("RGB")).astype(int)


def without_filmstrip(monkeypatch):
    """The command as it is but for the filmstrip (tested on its own below): every frame drawn is then the GIF's."""
    monkeypatch.setattr(show, "write_filmstrip", lambda path, film, episode, title: None)


def test_each_acrobot_frame_shows_the_links_of_its_step(tmp_path, monkeypatch):
    """Each frame against its step's observation [cos t1, sin t1, cos t2, sin t2, dt1, dt2] (not the state filmed)."""
    without_filmstrip(monkeypatch)
    assert show.main([saved(tmp_path, "acrobot", PUMPING), "--out", str(tmp_path / "out"), "--seed", "3"]) is None
    (path,) = replayed("acrobot", PUMPING, 3)
    observations = np.vstack([path.observations, path.final_observation])
    with Image.open(tmp_path / "out" / "acrobot.gif") as gif:
        assert gif.n_frames == len(path) + 1 and gif.size == (500, 500)
        assert gif.info["duration"] == 200  # dt = 0.2 s
        for step, (cos_t1, sin_t1, cos_t2, sin_t2, _, _) in enumerate(observations):
            pixels = gif_pixels(gif, step)
            t1, t2 = np.arctan2(sin_t1, cos_t1), np.arctan2(sin_t2, cos_t2)
            _, elbow, tip = (np.array(point) for point in gymnasium_acrobot_points(t1, t2))
            assert pixel(pixels, *elbow) == JOINT, step
            assert pixel(pixels, *0.9 * tip + 0.1 * elbow) in (LINK, JOINT), step  # or the pivot's disc, folded
            assert any(torque_pixels_at(pixels, elbow, range(0, 360, 10))) == (step > 0 and path.actions[step - 1] != 1)
    assert path.terminated and len(path) < 120


def test_each_pendulum_frame_shows_the_rod_of_its_step(tmp_path, monkeypatch):
    without_filmstrip(monkeypatch)
    theta = np.array([-3.0, -1.0, -0.5, 0.0, -1.0])  # mean and log sigma: swings, often at the torque limit
    assert show.main([saved(tmp_path, "pendulum", theta), "--out", str(tmp_path / "out"), "--seed", "2"]) is None
    (path,) = replayed("pendulum", theta, 2)
    observations = np.vstack([path.observations, path.final_observation])
    with Image.open(tmp_path / "out" / "pendulum.gif") as gif:
        assert gif.n_frames == 201 == len(path) + 1 and gif.size == (500, 500)
        assert gif.info["duration"] == 50  # dt = 0.05 s
        for step, (cos_th, sin_th, _) in enumerate(observations):
            pixels = gif_pixels(gif, step)
            along = np.array([-sin_th, -cos_th])  # (column, row): rows grow downwards
            assert pixel(pixels, *250 + 90 * along) == ROD, step
            assert pixel(pixels, *250 - 90 * along) == WHITE, step


def test_the_acrobots_lines_are_those_of_the_states_filmed(tmp_path, capsys, monkeypatch):
    """Each line's return, steps, the step the tip first rose above the goal line and its highest, against the
    states drawn: the tip's height -cos t1 - cos(t1 + t2), a reward of -1 for every step into a state below the
    line; and each frame's caption, its time t dt with dt = 0.2 s. Those states are the env's: their observations
    are the replayed episodes'."""
    without_filmstrip(monkeypatch)
    drawn = record_frames(monkeypatch)
    assert show.main([saved(tmp_path, "acrobot", PUMPING), "--out", str(tmp_path / "out"), "--episodes", "2"]) is None
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode")]
    states, captions = np.array([state for state, _, _ in drawn]), [caption for _, _, caption in drawn]
    for k, (line, path) in enumerate(zip(lines, replayed("acrobot", PUMPING, 0, 2))):
        episode, states = states[:len(path) + 1], states[len(path) + 1:]
        episode_captions, captions = captions[:len(path) + 1], captions[len(path) + 1:]
        np.testing.assert_allclose([acrobot_observation(state) for state in episode],
                                   np.vstack([path.observations, path.final_observation]), rtol=0, atol=1e-7)
        height = -np.cos(episode[:, 0]) - np.cos(episode[:, 0] + episode[:, 1])
        crossed = np.flatnonzero(height > 1)[0]
        assert crossed == len(path)  # it ends the episode
        returns = float(-np.sum(height[1:] <= 1))
        assert episode_captions == [f"episode {k + 1} of 2   step {t}   t = {0.2 * t:.2f} s   return "
                                    f"{float(-np.sum(height[1:t + 1] <= 1)):g}" for t in range(len(path) + 1)]
        assert line == (f"episode {k + 1}: return {returns:g} in {len(path)} steps; the tip crossed the goal line at "
                        f"step {crossed}, its highest {height.max():.2f} m above the pivot")
    assert len(states) == 0 and len(lines) == 2


def test_an_acrobot_that_hangs_still_never_crosses_and_stays_two_links_below():
    hanging = show.Episode(np.zeros((4, 4)), np.array([np.nan, 0.0, 0.0, 0.0]), np.array([0.0, -1.0, -2.0, -3.0]))
    assert show.acrobot_summary(hanging) == ("return -3 in 3 steps; the tip never crossed the goal line, its highest "
                                             "2.00 m below the pivot")


def test_the_pendulums_lines_are_those_of_the_states_and_torques_filmed(tmp_path, capsys, monkeypatch):
    """Each line's return is -sum_t (normalize(th_t)^2 + 0.1 thdot_t^2 + 0.001 u_t^2) of the states and torques
    drawn (frame t shows the torque u_{t-1} that brought s_t), its largest |angle from upright| over s_100..s_200,
    and its largest |u|; the torques are the replayed actions, clipped to +-2."""
    theta = np.array([-3.0, -1.0, -0.5, 0.0, -1.0])
    without_filmstrip(monkeypatch)
    filmed = record_frames(monkeypatch)
    assert show.main([saved(tmp_path, "pendulum", theta), "--out", str(tmp_path / "out"), "--seed", "5"]) is None
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode")]
    for k, (line, path) in enumerate(zip(lines, replayed("pendulum", theta, 5))):
        episode, filmed = filmed[:201], filmed[201:]
        th, thdot = np.array([state for state, _, _ in episode]).T
        u = np.array([torque for _, torque, _ in episode])
        assert np.isnan(u[0]) and np.array_equal(u[1:], np.clip(path.actions[:, 0], -2, 2))
        upright = np.arctan2(np.sin(th), np.cos(th))  # th from upright, in (-pi, pi]
        returns = -np.sum(upright[:-1]**2 + 0.1 * thdot[:-1]**2 + 0.001 * u[1:]**2)
        head, tail = line.split(" in 200 steps; ")
        assert head.startswith(f"episode {k + 1}: return ") and float(head.split()[-1]) == pytest.approx(returns,
                                                                                                         rel=1e-5)
        assert tail == (f"at most {np.max(np.abs(upright[100:])) * 180 / np.pi:.1f}° from upright over its last half "
                        f"(steps 100-200); torques up to |u| = {np.max(np.abs(u[1:])):.2f} N m")
    assert len(filmed) == 0 and len(lines) == 1


def test_the_pendulums_line_reads_the_angle_over_the_last_half_only_and_from_upright_by_whole_turns():
    """T = 6: the last half is s_3..s_6, at most 0.5 rad (28.6°) from upright at s_3 (2 pi + 0.3 is 0.3 rad from it,
    -4 pi upright), whatever came before."""
    th = [np.pi, 2.5, -3.0, -0.5, 2 * np.pi + 0.3, -0.1, -4 * np.pi]
    swinging_up = show.Episode(np.column_stack([th, np.zeros(7)]), np.array([np.nan, 2.0, -1.5, 0.5, 0.0, 0.1, 0.0]),
                               np.array([0.0, -9.9, -16.2, -25.2, -25.3, -25.4, -25.4]))
    assert show.pendulum_summary(swinging_up) == ("return -25.4 in 6 steps; at most 28.6° from upright over its last "
                                                  "half (steps 3-6); torques up to |u| = 2.00 N m")


@pytest.mark.parametrize("env_name", ["acrobot", "pendulum"])
def test_deterministic_films_the_mode_argmax_pi_or_the_mean_action(tmp_path, monkeypatch, env_name):
    """Every torque filmed is the mode's at the state before it: TORQUES[argmax_u pi(u|s)], or clip(mu(s), -2, 2)."""
    theta = PUMPING if env_name == "acrobot" else np.array([-3.0, -1.0, -0.5, 0.0, 0.0])
    filmed = []
    monkeypatch.setattr(show, "show_film", lambda env_name, env, recorded, out: filmed.extend(recorded) or [])
    assert show.main([saved(tmp_path, env_name, theta), "--out", str(tmp_path / "out"), "--deterministic"]) is None
    env = envs.make(env_name)
    policy = make_policy(env, "gaussian" if env_name == "pendulum" else "softmax", ())
    ((states, torques, _),) = [(episode.states, episode.torques, episode.returns) for episode in filmed]
    for state, torque in zip(states[1:-1], torques[2:]):  # from s_1 on: acrobot's first observation is float32's
        if env_name == "acrobot":
            assert torque == [-1.0, 0.0, 1.0][int(np.argmax(policy.probs(np.ravel(theta), acrobot_observation(state))))]
        else:
            assert torque == np.clip(policy.mean(theta, [np.cos(state[0]), np.sin(state[0]), state[1]])[0], -2, 2)
    assert len(set(torques[1:])) > 1 and len(states) == len(replayed(env_name, theta, 0, deterministic=True)[0]) + 1


@pytest.mark.parametrize("env_name, steps", [("acrobot", 500), ("pendulum", 200)])
def test_the_memory_check_counts_a_byte_for_each_of_the_500_by_500_pixels_of_every_frame(env_name, steps):
    """Each frame its 500 x 500 bytes and Pillow's bookkeeping: at least the 6.8 kB measured (246.8 kB for 600 x 400,
    less its pixels), at most 8 kB; 1 GiB holds 8 acrobot episodes of up to 501 frames, 20 pendulum episodes of 201."""
    env = envs.make(env_name)
    pixels = 2 * (steps + 1) * 500 * 500
    assert pixels + 2 * (steps + 1) * (MEASURED_FRAME_BYTES - 600 * 400) <= show.memory_bytes(env, 2) \
        <= pixels + 2 * (steps + 1) * 8192
    most = {"acrobot": 8, "pendulum": 20}[env_name]
    assert show.memory_bytes(env, most) <= MAX_BYTES < show.memory_bytes(env, most + 1)


@pytest.mark.parametrize("film, legend", [
    (frames.CARTPOLE, ["cart (0.4 x 0.24 m)", "pole (1 m)", "track ends at ±2.4 m (episode over)"]),
    (frames.ACROBOT, ["links (1 m each)", "pivot and elbow", "goal line 1 m up (the tip above it ends the episode)",
                      "torque on the elbow over the step before: 270° of arc at ±1 N m, counterclockwise for u > 0"]),
    (frames.PENDULUM, ["rod (1 m)", "torque on the pivot over the step before: 270° of arc at ±2 N m, "
                                    "counterclockwise for u > 0"]),
])
def test_the_filmstrip_shows_eight_frames_on_axes_in_metres_with_a_legend(tmp_path, monkeypatch, film, legend):
    """The image's extent is its pixels over the scale: 600 px / 125 = 4.8 m by 400 / 125 = 3.2 m with the track
    100 px up; 500 / 113.6 = 4.4 m either way about the pivot."""
    figures = []
    monkeypatch.setattr(show, "save_figure", lambda fig, path: figures.append(fig))
    steps = 30
    state_size = {"cart-pole": 4, "acrobot": 4, "pendulum": 2}[film.name]
    episode = show.Episode(np.zeros((steps + 1, state_size)), np.full(steps + 1, np.nan), -np.arange(steps + 1.0))
    show.write_filmstrip(tmp_path / "strip.png", film, episode, "title")
    (fig,) = figures
    axes = [ax for ax in fig.axes if ax.get_visible()]
    expected = {"cart-pole": (-2.4, 2.4, -0.8, 2.4)}.get(film.name, (-250 / SCALE, 250 / SCALE) * 2)
    assert len(axes) == 8 and [ax.get_title() for ax in axes][-1] == f"t = {30 * film.dt:.2f} s (step 30)"
    for ax in axes:
        np.testing.assert_allclose(ax.get_images()[0].get_extent(), expected)
        assert ax.get_xlabel().endswith("(m)") and ax.get_ylabel().endswith("(m)")
    assert [text.get_text() for text in fig.legends[0].get_texts()] == legend


@pytest.mark.parametrize("env_name, frames_at_most", [("acrobot", 501), ("pendulum", 201)])
def test_train_then_show_writes_the_gif_and_the_filmstrip(tmp_path, capsys, env_name, frames_at_most):
    assert train_main(["--env", env_name, "--iterations", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert show.main([str(tmp_path / f"{env_name}.npz"), "--out", str(tmp_path / "out"), "--seed", "1"]) is None
    assert sorted(os.listdir(tmp_path / "out")) == [f"{env_name}.gif", f"{env_name}_filmstrip.png"]
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode")]
    steps = int(line.split(" in ")[1].split(" steps")[0])
    with Image.open(tmp_path / "out" / f"{env_name}.gif") as gif:
        assert gif.n_frames == steps + 1 <= frames_at_most
    with Image.open(tmp_path / "out" / f"{env_name}_filmstrip.png") as filmstrip:
        assert filmstrip.format == "PNG"

def random_theta(policy, seed):
    return np.random.default_rng(seed).normal(scale=2.0, size=policy.n_params)


@pytest.mark.parametrize("env_name", ["gridworld", "corridor"])
def test_arrows_point_to_the_most_likely_action_with_length_proportional_to_pi(env_name):
    env = envs.make(env_name)
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = random_theta(policy, 1)
    pi = exact.policy_table(env, policy, theta)
    fig, ax = new_figure()
    show.draw_policy(ax, env, pi, show.expected_visits(env, pi, env.max_episode_steps), 1.0, "title")
    (quiver,) = [artist for artist in ax.get_children() if isinstance(artist, Quiver)]
    layout = show.grid_layout(env)
    starts, steps = quiver.XY, np.column_stack([quiver.U, quiver.V])  # V runs down the rows, like the image
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


def test_the_tabular_line_gives_the_exact_discounted_u_and_the_standard_error_with_ddof_1(tmp_path, capsys,
                                                                                           monkeypatch):
    """The checkpoint's gamma 0.9 is in the exact U (the oracle at gamma 0.9, not 1), and the ± is the sample
    standard deviation of the 20 returns, divided by n - 1 inside the root, over sqrt(20)."""
    monkeypatch.setattr(show, "save_figure", lambda fig, path: None)
    env = envs.make("corridor")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = np.zeros(policy.n_params)
    save_checkpoint(tmp_path / "corridor.npz", theta, "corridor", "softmax", {"gamma": 0.9})
    assert show.main([str(tmp_path / "corridor.npz"), "--out", str(tmp_path / "out"), "--seed", "7",
                      "--episodes", "20"]) is None
    paths = sample_paths(env, policy, theta, 20, np.random.default_rng(7), env.max_episode_steps)
    returns = np.array([sum(0.9**t * r for t, r in enumerate(path.rewards)) for path in paths])
    error = np.sqrt(np.sum((returns - returns.mean()) ** 2) / 19) / np.sqrt(20)
    value = exact.expected_return(env, policy, theta, env.max_episode_steps, 0.9)
    assert abs(value - exact.expected_return(env, policy, theta, env.max_episode_steps, 1.0)) > 1  # gamma matters
    assert capsys.readouterr().out.splitlines()[0] == (
        f"corridor: exact U(θ) = {value:.3f}; mean return of 20 sampled episodes {returns.mean():.3f} ± {error:.3f} "
        "(standard error)")


@pytest.mark.parametrize("p_right, seed", [(2 - np.sqrt(2), None), (None, 1)], ids=["before-is-busier",
                                                                                   "after-is-busier"])
def test_both_policy_pictures_share_one_colour_scale_up_to_the_most_visited_cell_of_either(
        tmp_path, monkeypatch, p_right, seed):
    """theta = 0 visits the corridor's first cell 6.0 times an episode; p* = 2 - sqrt(2) only 5.8, a random theta
    60: whichever panel is busier, both heat maps' norms end at the larger of the two images' largest values."""
    from minipg.lab.corridor import start_theta

    drawn = []
    monkeypatch.setattr(show, "save_figure", lambda fig, path: drawn.append(fig))
    env = envs.make("corridor")
    policy = SoftmaxPolicy(env.observation_dim, env.n_actions)
    theta = start_theta(p_right) if seed is None else random_theta(policy, seed)
    save_checkpoint(tmp_path / "corridor.npz", theta, "corridor", "softmax", {"gamma": 1.0})
    assert show.main([str(tmp_path / "corridor.npz"), "--out", str(tmp_path / "out"), "--episodes", "2"]) is None
    (fig,) = drawn
    images = [image for ax in fig.axes for image in ax.get_images()]
    assert len(images) == 2
    before, after = (np.nanmax(np.ma.filled(image.get_array(), np.nan)) for image in images)
    assert (before > after) == (seed is None) and abs(before - after) > 0.1
    for image in images:
        assert image.norm.vmin == 0.0 and image.norm.vmax == max(before, after)


def test_each_filmstrip_frame_is_its_steps_state_torque_and_return_so_far(tmp_path, monkeypatch):
    """An episode of 30 steps whose x, torque and return differ at every step; eight frames at steps
    round(30 k / 7) = 0, 4, 9, 13, 17, 21, 26, 30, each drawn from that step's state and captioned with the
    return up to that step."""
    monkeypatch.setattr(show, "save_figure", lambda fig, path: None)
    drawn = record_frames(monkeypatch)
    states = np.zeros((31, 4))
    states[:, 0] = np.linspace(-1.0, 1.0, 31)
    torques, returns = np.arange(31.0) / 10, np.arange(31.0) ** 2
    show.write_filmstrip(tmp_path / "strip.png", frames.CARTPOLE, show.Episode(states, torques, returns), "title")
    steps = [0, 4, 9, 13, 17, 21, 26, 30]
    assert len(drawn) == 8
    for step, (state, torque, caption) in zip(steps, drawn):
        np.testing.assert_array_equal(state, [-1.0 + step / 15, 0.0, 0.0, 0.0])
        assert torque == step / 10 and caption == f"step {step}   return {step**2}"


@pytest.mark.parametrize("env_name", ["gridworld", "corridor"])
def test_the_tabular_memory_check_counts_a_python_float_and_its_list_slot_per_episode(env_name):
    """A return is a float object (sys.getsizeof: 24 bytes) the list points at with 8 more."""
    assert show.memory_bytes(envs.make(env_name), 1000) == 1000 * (sys.getsizeof(0.5) + 8)
