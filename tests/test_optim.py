"""The optimizers take the steps their equations say, ascend, and find the top of a concave quadratic."""
import numpy as np
import pytest

from minipg.optim import SGD, Adam, make_optimizer


def test_sgd_step_is_theta_plus_lr_g():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    np.testing.assert_array_equal(SGD(lr=0.1).step(theta, g), [1.05, -1.6])


def test_sgd_momentum_accumulates_velocity():
    """g = 1 each step, momentum 0.5: v = 1, 1.5, 1.75, so theta = 0.1, 0.25, 0.425 with lr 0.1."""
    optimizer, theta = SGD(lr=0.1, momentum=0.5), np.zeros(1)
    trajectory = []
    for _ in range(3):
        theta = optimizer.step(theta, np.ones(1))
        trajectory.append(theta[0])
    np.testing.assert_allclose(trajectory, [0.1, 0.25, 0.425], rtol=1e-15)


def test_adam_first_step_is_lr_times_sign_of_g():
    """After bias correction m^ = g and v^ = g^2, so the first step is lr g / |g| (up to eps)."""
    step = Adam(lr=0.01).step(np.zeros(3), np.array([3.0, -0.2, 1e-3])) - np.zeros(3)
    np.testing.assert_allclose(step, [0.01, -0.01, 0.01], rtol=1e-4)


def test_adam_second_step_by_hand():
    """g1 = 1, g2 = 3 with b1 = 0.9, b2 = 0.999:
    m = 0.9 * 0.1 + 0.1 * 3 = 0.39, m^ = 0.39 / 0.19;  v = 0.999 * 0.001 + 0.001 * 9 = 0.009999, v^ = v / 0.001999."""
    optimizer = Adam(lr=0.1, eps=1e-300)  # eps negligible, so the hand computation is exact
    theta = optimizer.step(np.zeros(1), np.ones(1))
    theta = optimizer.step(theta, np.array([3.0]))
    expected = 0.1 + 0.1 * (0.39 / 0.19) / np.sqrt(0.009999 / 0.001999)
    assert theta[0] == pytest.approx(expected, rel=1e-12)


CENTRE = np.array([1.0, -2.0, 0.5])
A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])  # positive definite, not diagonal


def quadratic_value(theta):
    """U = -1/2 (theta - c)^T A (theta - c): concave, with its maximum at c."""
    return -0.5 * (theta - CENTRE) @ A @ (theta - CENTRE)


def quadratic_gradient(theta):
    """grad U = -A (theta - c)."""
    return -A @ (theta - CENTRE)


@pytest.mark.parametrize("optimizer", [SGD(0.2), SGD(0.05, momentum=0.9), Adam(0.05)], ids=["sgd", "momentum", "adam"])
def test_optimizers_climb_to_the_top_of_a_concave_quadratic(optimizer):
    theta = np.zeros(3)
    for _ in range(3000):
        theta = optimizer.step(theta, quadratic_gradient(theta))
    np.testing.assert_allclose(theta, CENTRE, atol=1e-6)


@pytest.mark.parametrize("optimizer", [SGD(0.01), Adam(0.01)], ids=["sgd", "adam"])
def test_a_step_ascends_and_leaves_its_input_alone(optimizer):
    theta = np.zeros(3)
    before = theta.copy()
    after = optimizer.step(theta, quadratic_gradient(theta))
    assert quadratic_value(after) > quadratic_value(before)
    np.testing.assert_array_equal(theta, before)


@pytest.mark.parametrize(
    "build, message",
    [(lambda: SGD(0.0), "lr must be a positive number"), (lambda: Adam(-1.0), "lr must be a positive number"),
     (lambda: SGD(0.1, momentum=1.0), "momentum must be in"), (lambda: Adam(0.1, beta1=1.0), "beta1 must be in"),
     (lambda: Adam(0.1, beta2=-0.1), "beta2 must be in"), (lambda: Adam(0.1, eps=0.0), "eps must be > 0"),
     (lambda: make_optimizer("rmsprop", 0.1), "known optimizers: sgd, adam")],
)
def test_bad_settings_name_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_gradients_are_refused():
    optimizer = Adam(0.1)
    with pytest.raises(ValueError, match="gradient has shape"):
        optimizer.step(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        optimizer.step(np.zeros(2), np.array([np.nan, 0.0]))
    optimizer.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="shape changed"):
        optimizer.step(np.zeros(3), np.ones(3))
