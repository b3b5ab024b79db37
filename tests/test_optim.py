"""The optimizers take the steps their equations say, ascend, and find the top of a concave quadratic."""
import numpy as np
import pytest

from minipg.optim import OPTIMIZER_NAMES, SGD, Adam, make_optimizer


def test_sgd_step_is_theta_plus_lr_g():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    # theta + lr g = [1 + 0.1 * 0.5, -2 + 0.1 * 4]
    np.testing.assert_allclose(SGD(lr=0.1).step(theta, g), [1.05, -1.6], rtol=1e-15)


def test_sgd_momentum_accumulates_velocity():
    optimizer, theta = SGD(lr=0.1, momentum=0.5), np.array([1.0])
    trajectory = [optimizer.step(theta, np.array([2.0]))]
    trajectory.append(optimizer.step(trajectory[-1], np.array([1.0])))
    trajectory.append(optimizer.step(trajectory[-1], np.array([-3.0])))
    # v1 = 0.5 * 0 + 2  =  2,   theta1 = 1.0 + 0.1 * 2    = 1.2
    # v2 = 0.5 * 2 + 1  =  2,   theta2 = 1.2 + 0.1 * 2    = 1.4   (plain SGD would give 1.3)
    # v3 = 0.5 * 2 - 3  = -2,   theta3 = 1.4 + 0.1 * (-2) = 1.2   (plain SGD would give 1.0)
    np.testing.assert_allclose(np.concatenate(trajectory), [1.2, 1.4, 1.2], rtol=1e-14)


def test_adam_first_step_is_lr_times_sign_of_g():
    """After bias correction m^ = g and v^ = g^2, so the first step is lr g / |g|, whatever |g| is."""
    theta = np.array([5.0, 5.0, 5.0])
    step = Adam(lr=0.01).step(theta, np.array([3.0, -0.2, 1e-3])) - theta
    np.testing.assert_allclose(step, [0.01, -0.01, 0.01], rtol=1e-4)  # eps / |g| <= 1e-5


def test_adam_second_step_by_hand():
    optimizer = Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-300)  # eps negligible: the hand sum is exact
    theta = optimizer.step(np.zeros(1), np.array([1.0]))
    theta = optimizer.step(theta, np.array([3.0]))
    # k = 1, g = 1:  m = 0.1 * 1 = 0.1,             v = 0.001 * 1 = 0.001,                 theta = 0 + 0.1 * 1 / 1
    # k = 2, g = 3:  m = 0.9 * 0.1 + 0.1 * 3 = 0.39, v = 0.999 * 0.001 + 0.001 * 9 = 0.009999
    m_hat = 0.39 / (1 - 0.9**2)          # = 0.39 / 0.19
    v_hat = 0.009999 / (1 - 0.999**2)    # = 0.009999 / 0.001999
    assert theta[0] == pytest.approx(0.1 + 0.1 * m_hat / np.sqrt(v_hat), rel=1e-12)
    assert theta[0] == pytest.approx(0.19178, abs=1e-5)


def test_reset_forgets_the_moments():
    optimizer = Adam(lr=0.01)
    optimizer.step(np.zeros(2), np.array([1.0, 1.0]))
    optimizer.reset()
    step = optimizer.step(np.zeros(3), np.array([-4.0, 4.0, 0.5]))  # a new shape is allowed after reset
    np.testing.assert_allclose(step, [-0.01, 0.01, 0.01], rtol=1e-6)  # a first step again: lr sign(g)


CENTRE = np.array([1.0, -2.0, 0.5])
A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])  # symmetric, not diagonal


def quadratic_value(theta):
    """U = -1/2 (theta - c)^T A (theta - c): concave, with its maximum at c."""
    return -0.5 * (theta - CENTRE) @ A @ (theta - CENTRE)


def quadratic_gradient(theta):
    """grad U = -A (theta - c)."""
    return -A @ (theta - CENTRE)


def test_the_quadratic_is_concave_and_its_gradient_is_right():
    assert np.all(np.linalg.eigvalsh(A) > 0)  # A positive definite, so U is strictly concave
    theta, h = np.array([0.3, 0.7, -1.1]), 1e-6
    numeric = [(quadratic_value(theta + h * e) - quadratic_value(theta - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(quadratic_gradient(theta), numeric, rtol=1e-7)


@pytest.mark.parametrize(
    "make, max_steps",
    [(lambda: SGD(0.2), 200), (lambda: SGD(0.05, momentum=0.9), 500), (lambda: Adam(0.05), 500)],
    ids=["sgd", "momentum", "adam"],
)
def test_optimizers_climb_to_the_top_of_a_concave_quadratic(make, max_steps):
    optimizer, theta = make(), np.zeros(3)
    for _ in range(max_steps):
        theta = optimizer.step(theta, quadratic_gradient(theta))
    np.testing.assert_allclose(theta, CENTRE, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_a_step_ascends_and_leaves_its_input_alone(name):
    theta = np.zeros(3)
    before = theta.copy()
    after = make_optimizer(name, 0.01).step(theta, quadratic_gradient(theta))
    assert quadratic_value(after) > quadratic_value(before)  # ascent: U goes up, not down
    np.testing.assert_array_equal(theta, before)
    assert after is not theta and after.dtype == np.float64


def test_make_optimizer_passes_its_settings_on():
    sgd, adam = make_optimizer("sgd", 0.1, momentum=0.5), make_optimizer("adam", 0.2, beta1=0.8)
    assert (type(sgd), sgd.lr, sgd.momentum) == (SGD, 0.1, 0.5)
    assert (type(adam), adam.lr, adam.beta1, adam.beta2) == (Adam, 0.2, 0.8, 0.999)


@pytest.mark.parametrize(
    "build, message",
    [(lambda: SGD(0.0), "lr must be finite and > 0"), (lambda: Adam(-1.0), "lr must be finite and > 0"),
     (lambda: SGD(np.nan), "lr must be finite and > 0"), (lambda: Adam(np.inf), "lr must be finite and > 0"),
     (lambda: SGD(0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
     (lambda: SGD(0.1, momentum=-0.1), r"momentum must be in \[0, 1\)"),
     (lambda: Adam(0.1, beta1=1.0), r"beta1 must be in \[0, 1\)"),
     (lambda: Adam(0.1, beta2=-0.1), r"beta2 must be in \[0, 1\)"),
     (lambda: Adam(0.1, eps=0.0), "eps must be > 0"), (lambda: Adam(0.1, eps=-1e-8), "eps must be > 0"),
     (lambda: make_optimizer("rmsprop", 0.1), "known optimizers: sgd, adam")],
)
def test_bad_settings_name_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Adam(0.1)], ids=["sgd", "adam"])
def test_bad_gradients_are_refused(make):
    optimizer = make()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\), theta has shape \(2,\)"):
        optimizer.step(np.zeros(2), np.zeros(3))
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="gradient contains NaN or inf"):
            optimizer.step(np.zeros(2), np.array([bad, 0.0]))
    optimizer.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match=r"gradient shape changed from \(2,\) to \(3,\)"):
        optimizer.step(np.zeros(3), np.ones(3))
