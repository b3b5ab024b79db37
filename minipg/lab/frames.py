"""The frames `show` films: each env's bodies where its simulator's state puts them, in the geometry of Gymnasium's
render, drawn by Pillow straight into a palette image (no figure per frame, no ffmpeg, no display).

Gymnasium draws on a surface whose y axis points up and flips it at the end: every geometry function here returns
those y-up pixel coordinates (or metres, which a scale and an origin turn into them), and on_image turns them into
the image's (column, row), its rows growing downwards. One section per env, its geometry beside its drawing; then
the Film of each, all that `show` needs to know of it.
"""
import dataclasses
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from envs.acrobot import DT as ACROBOT_DT
from envs.acrobot import GOAL_HEIGHT, LINK_LENGTH_1, TORQUES, AcrobotEnv
from envs.cartpole import HALF_LENGTH, TAU, X_THRESHOLD, CartPoleEnv
from envs.pendulum import DT as PENDULUM_DT
from envs.pendulum import LENGTH, MAX_TORQUE, PendulumEnv

# ---- shared: palettes, fonts, bars, discs, the torque's arc ----

def pillow_font(size):
    """Pillow's own font, which needs no font file: `size` px tall, or its one bitmap size before Pillow 10.1."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError):  # a Pillow before 10.1, or one built without FreeType
        return ImageFont.load_default()


CAPTION_FONT, SCALE_FONT = pillow_font(14), pillow_font(10)


def ink_of(colours):
    """Each colour's index in the palette made of `colours`, in their order: the background first."""
    return {name: index for index, name in enumerate(colours)}


def palette_image(size, colours):
    """A blank palette image of size (width, height) px, filled with the first colour, the background."""
    image = Image.new("P", size, 0)
    image.putpalette([level for colour in colours.values() for level in colour])
    return image


def on_image(points, height):
    """Points (x, y) of the y-up geometry as the image's (column, row): row = height - y, as Gymnasium's flip."""
    return [(column, height - y) for column, y in np.atleast_2d(points)]


def bar_corners(start, end, width):
    """The rectangle from start to end, `width` wide: Gymnasium's (0, -w/2), (0, w/2), (l, w/2), (l, -w/2) turned
    to the bar's direction and moved to its start."""
    along = (end - start) / np.linalg.norm(end - start)
    across = width / 2 * np.array([-along[1], along[0]])  # along, turned a quarter counterclockwise
    return np.array([start - across, start + across, end + across, end - across])


def draw_disc(draw, centre, radius, fill, height):
    """A filled circle of `radius` px about the y-up point centre."""
    ((column, row),) = on_image(centre, height)
    draw.ellipse([column - radius, row - radius, column + radius, row + radius], fill=fill)


TORQUE_SWEEP = 270.0  # degrees of arc at the env's largest torque, as far round as Gymnasium's arrow goes
TORQUE_RADIUS = 0.35  # m, about the joint the torque turns
TORQUE_WIDTH = 4  # px
ARROWHEAD = 12.0  # px, the arrowhead's length and width


def torque_arc(centre, torque, max_torque, radius):
    """Points of the arc about centre from 12 o'clock through 270 |u| / max|u| degrees, counterclockwise for u > 0,
    the way a positive torque turns the angle, and the triangle of its arrowhead (y-up px)."""
    angles = np.pi / 2 + np.radians(TORQUE_SWEEP * torque / max_torque) * np.linspace(0.0, 1.0, 91)
    arc = centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])
    outwards = np.array([np.cos(angles[-1]), np.sin(angles[-1])])
    ahead = np.sign(torque) * np.array([-outwards[1], outwards[0]])  # the arc's tangent, in the direction it turns
    end = arc[-1]
    return arc, np.array([end + ARROWHEAD / 2 * outwards, end + ARROWHEAD * ahead, end - ARROWHEAD / 2 * outwards])


def draw_torque(draw, centre, torque, max_torque, radius, fill, height):
    """The torque u as its arc and arrowhead about centre; nothing for u = 0, or NaN (no step taken yet)."""
    if np.isnan(torque) or torque == 0:
        return
    arc, head = torque_arc(centre, torque, max_torque, radius)
    draw.line(on_image(arc, height), fill=fill, width=TORQUE_WIDTH, joint="curve")
    draw.polygon(on_image(head, height), fill=fill)


# ---- cart-pole: geometry ----

# Gymnasium's CartPole render geometry, in pixels of a 600 x 400 image with y pointing up.
CARTPOLE_SIZE = CARTPOLE_WIDTH, CARTPOLE_HEIGHT = 600, 400
CARTPOLE_SCALE = CARTPOLE_WIDTH / (2 * X_THRESHOLD)  # 125 px per metre: the track from -2.4 m to 2.4 m fills the width
CART_WIDTH, CART_HEIGHT = 50.0, 30.0
CART_Y = 100.0  # height of the cart's centre line, which is also the track
AXLE_OFFSET = CART_HEIGHT / 4.0
POLE_WIDTH = 10.0
POLE_LENGTH = CARTPOLE_SCALE * 2 * HALF_LENGTH  # 125 px: the whole pole, 1 m
AXLE_RADIUS = POLE_WIDTH / 2
# The frames' palette, one entry per thing drawn (index = position); Gymnasium's colours for cart, pole and axle.
CARTPOLE_COLOURS = {"background": (255, 255, 255), "cart": (0, 0, 0), "pole": (202, 152, 101),
                    "axle": (129, 132, 203), "track": (0, 0, 0), "scale": (102, 102, 102), "track end": (214, 39, 40),
                    "caption": (0, 0, 0)}
CARTPOLE_INK = ink_of(CARTPOLE_COLOURS)


def cart_centre(x):
    """Pixel coordinates of the cart's centre for cart position x (metres)."""
    return x * CARTPOLE_SCALE + CARTPOLE_WIDTH / 2.0, CART_Y


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

def track_image():
    """What every frame shares: the track, a scale every metre, and red marks at its ends, +-2.4 m."""
    image = palette_image(CARTPOLE_SIZE, CARTPOLE_COLOURS)
    draw = ImageDraw.Draw(image)
    ((_, track_row),) = on_image(cart_centre(0.0), CARTPOLE_HEIGHT)
    draw.line([(0, track_row), (CARTPOLE_WIDTH, track_row)], fill=CARTPOLE_INK["track"])
    for metres in range(-2, 3):
        column = cart_centre(metres)[0]
        label = f"{metres:g} m"
        draw.line([(column, track_row + 16), (column, track_row + 22)], fill=CARTPOLE_INK["scale"])
        draw.text((column - draw.textlength(label, font=SCALE_FONT) / 2, track_row + 26), label,
                  fill=CARTPOLE_INK["scale"], font=SCALE_FONT)
    for left in (0, CARTPOLE_WIDTH - 4):
        draw.rectangle([left, track_row - 12, left + 3, track_row + 11], fill=CARTPOLE_INK["track end"])
    return image


def draw_cartpole(draw, state):
    """The cart, pole and axle where state = [x, x_dot, theta, theta_dot] puts them."""
    x, theta = state[0], state[2]
    draw.polygon(on_image(cart_corners(x), CARTPOLE_HEIGHT), fill=CARTPOLE_INK["cart"])
    draw.polygon(on_image(pole_corners(x, theta), CARTPOLE_HEIGHT), fill=CARTPOLE_INK["pole"])
    draw_disc(draw, pivot(x), AXLE_RADIUS, CARTPOLE_INK["axle"], CARTPOLE_HEIGHT)


# ---- acrobot: geometry ----

# Gymnasium's Acrobot render geometry: a 500 x 500 image, y up, the pivot at its centre.
ACROBOT_SIZE = 500
LINK_LENGTH_2 = 1.0  # m: Gymnasium draws the second link 1 m long (its dynamics never read that length)
ACROBOT_SCALE = ACROBOT_SIZE / (2 * (LINK_LENGTH_1 + LINK_LENGTH_2 + 0.2))  # 113.6 px per metre: +-2.2 m fill it
ACROBOT_PIVOT = np.array([ACROBOT_SIZE / 2, ACROBOT_SIZE / 2])
LINK_WIDTH = 0.2 * ACROBOT_SCALE  # 22.7 px
JOINT_RADIUS = int(0.1 * ACROBOT_SCALE)  # 11 px, the whole pixels Gymnasium's circles take
ACROBOT_COLOURS = {"background": (255, 255, 255), "link": (0, 204, 204), "joint": (204, 204, 0),
                   "goal": (0, 0, 0), "torque": (64, 64, 64), "caption": (0, 0, 0)}
ACROBOT_INK = ink_of(ACROBOT_COLOURS)


def acrobot_joints(state):
    """The pivot, the elbow and the tip in metres from the pivot, y up, for state = [t1, t2, dt1, dt2]:
    elbow = l1 (sin t1, -cos t1), tip = elbow + l2 (sin(t1 + t2), -cos(t1 + t2)); t1 = t2 = 0 hangs straight down,
    and a positive angle turns counterclockwise."""
    t1, t2 = state[0], state[1]
    elbow = LINK_LENGTH_1 * np.array([np.sin(t1), -np.cos(t1)])
    return np.array([(0.0, 0.0), elbow, elbow + LINK_LENGTH_2 * np.array([np.sin(t1 + t2), -np.cos(t1 + t2)])])


def acrobot_pixels(metres):
    """y-up pixel coordinates of points in metres from the pivot."""
    return ACROBOT_PIVOT + ACROBOT_SCALE * np.asarray(metres)


# ---- acrobot: drawing ----

def goal_image():
    """What every frame shares: the goal line, one link above the pivot, across the whole image."""
    image = palette_image((ACROBOT_SIZE, ACROBOT_SIZE), ACROBOT_COLOURS)
    ((_, goal_row),) = on_image(acrobot_pixels((0.0, GOAL_HEIGHT)), ACROBOT_SIZE)
    ImageDraw.Draw(image).line([(0, goal_row), (ACROBOT_SIZE, goal_row)], fill=ACROBOT_INK["goal"])
    return image


def draw_acrobot(draw, state, torque):
    """Each link from its joint, the joint's disc over it, as Gymnasium orders them; then the torque on the elbow."""
    pivot_px, elbow, tip = acrobot_pixels(acrobot_joints(state))
    for start, end in ((pivot_px, elbow), (elbow, tip)):
        draw.polygon(on_image(bar_corners(start, end, LINK_WIDTH), ACROBOT_SIZE), fill=ACROBOT_INK["link"])
        draw_disc(draw, start, JOINT_RADIUS, ACROBOT_INK["joint"], ACROBOT_SIZE)
    draw_torque(draw, elbow, torque, np.max(TORQUES), TORQUE_RADIUS * ACROBOT_SCALE, ACROBOT_INK["torque"],
                ACROBOT_SIZE)


# ---- pendulum: geometry ----

# Gymnasium's Pendulum render geometry: a 500 x 500 image, y up, the pivot at its centre.
PENDULUM_SIZE = 500
PENDULUM_SCALE = PENDULUM_SIZE / (2 * 2.2)  # 113.6 px per metre: +-2.2 m fill the image
PENDULUM_PIVOT = np.array([PENDULUM_SIZE // 2, PENDULUM_SIZE // 2], dtype=np.float64)
ROD_WIDTH = 0.2 * PENDULUM_SCALE  # 22.7 px
ROD_END_RADIUS = int(ROD_WIDTH / 2)  # 11 px: the rod's round ends
PENDULUM_AXLE_RADIUS = int(0.05 * PENDULUM_SCALE)  # 5 px
PENDULUM_COLOURS = {"background": (255, 255, 255), "rod": (204, 77, 77), "axle": (0, 0, 0),
                    "torque": (64, 64, 64), "caption": (0, 0, 0)}
PENDULUM_INK = ink_of(PENDULUM_COLOURS)


def rod_end(th):
    """The rod's free end in metres from the pivot, y up: l (-sin th, cos th); th = 0 is upright, th > 0 turns it
    counterclockwise."""
    return LENGTH * np.array([-np.sin(th), np.cos(th)])


# ---- pendulum: drawing ----

def blank_pendulum_image():
    """What every frame shares: nothing but the background."""
    return palette_image((PENDULUM_SIZE, PENDULUM_SIZE), PENDULUM_COLOURS)


def draw_pendulum(draw, state, torque):
    """The rod from the pivot to l (-sin th, cos th) with round ends, the torque about the pivot over it, as
    Gymnasium lays its arrow's image, and the axle."""
    end = PENDULUM_PIVOT + PENDULUM_SCALE * rod_end(state[0])
    draw.polygon(on_image(bar_corners(PENDULUM_PIVOT, end, ROD_WIDTH), PENDULUM_SIZE), fill=PENDULUM_INK["rod"])
    for centre in (PENDULUM_PIVOT, end):
        draw_disc(draw, centre, ROD_END_RADIUS, PENDULUM_INK["rod"], PENDULUM_SIZE)
    draw_torque(draw, PENDULUM_PIVOT, torque, MAX_TORQUE, TORQUE_RADIUS * PENDULUM_SCALE, PENDULUM_INK["torque"],
                PENDULUM_SIZE)
    draw_disc(draw, PENDULUM_PIVOT, PENDULUM_AXLE_RADIUS, PENDULUM_INK["axle"], PENDULUM_SIZE)


# ---- the films ----

@dataclasses.dataclass(frozen=True)
class Film:
    """How `show` films one env: its frames' size (px), one frame per simulator step of dt seconds, the palette,
    what every frame shares (`background()`), the bodies drawn from a state and the torque u_{t-1} that brought it
    there (`bodies(draw, state, torque)`), the largest torque (None: no torque filmed), and the filmstrip's axes:
    the image's extent in metres, the axes' labels, the legend's (colour, label, "patch" or "line")."""

    name: str
    size: tuple[int, int]
    dt: float
    colours: dict
    background: Callable
    bodies: Callable
    max_torque: float | None
    extent: tuple
    labels: tuple
    legend: tuple

    def frame(self, background, state, torque, caption):
        """A copy of background with the bodies where state puts them, and the caption atop."""
        image = background.copy()
        draw = ImageDraw.Draw(image)
        self.bodies(draw, state, torque)
        draw.text((10, 10), caption, fill=ink_of(self.colours)["caption"], font=CAPTION_FONT)
        return image


def centred_extent(size, scale):
    """(left, right, bottom, top) in metres of a square image of `size` px at `scale` px per metre, 0 at its centre."""
    half = size / 2 / scale
    return -half, half, -half, half


def torque_legend(where, max_torque):
    """The legend's entry for the torque's arc."""
    return ("torque", f"torque on the {where} over the step before: {TORQUE_SWEEP:g}° of arc at ±{max_torque:g} N m, "
            "counterclockwise for u > 0", "line")


CARTPOLE = Film(
    "cart-pole", CARTPOLE_SIZE, TAU, CARTPOLE_COLOURS, track_image,
    lambda draw, state, torque: draw_cartpole(draw, state), None,  # Gymnasium draws no force on the cart
    (-X_THRESHOLD, X_THRESHOLD, -CART_Y / CARTPOLE_SCALE, (CARTPOLE_HEIGHT - CART_Y) / CARTPOLE_SCALE),
    ("cart position (m)", "height (m)"),
    (("cart", "cart (0.4 x 0.24 m)", "patch"), ("pole", "pole (1 m)", "patch"),
     ("track end", "track ends at ±2.4 m (episode over)", "line")))
SWING_LABELS = ("distance right of the pivot (m)", "height above the pivot (m)")
ACROBOT = Film(
    "acrobot", (ACROBOT_SIZE, ACROBOT_SIZE), ACROBOT_DT, ACROBOT_COLOURS, goal_image, draw_acrobot,
    float(np.max(TORQUES)), centred_extent(ACROBOT_SIZE, ACROBOT_SCALE), SWING_LABELS,
    (("link", "links (1 m each)", "patch"), ("joint", "pivot and elbow", "patch"),
     ("goal", f"goal line {GOAL_HEIGHT:g} m up (the tip above it ends the episode)", "line"),
     torque_legend("elbow", np.max(TORQUES))))
PENDULUM = Film(
    "pendulum", (PENDULUM_SIZE, PENDULUM_SIZE), PENDULUM_DT, PENDULUM_COLOURS, blank_pendulum_image, draw_pendulum,
    MAX_TORQUE, centred_extent(PENDULUM_SIZE, PENDULUM_SCALE), SWING_LABELS,
    (("rod", f"rod ({LENGTH:g} m)", "patch"), torque_legend("pivot", MAX_TORQUE)))


def film_of(env):
    """The Film of a cart-pole (either variant), acrobot or pendulum env."""
    for kind, film in ((CartPoleEnv, CARTPOLE), (AcrobotEnv, ACROBOT), (PendulumEnv, PENDULUM)):
        if isinstance(env, kind):
            return film
    raise ValueError(f"env {type(env).__name__} has no film: only cart-pole, acrobot and pendulum are filmed")
