"""The tanh layers' hand-written backward and tangent passes, and the network policies built on them, against
central finite differences; the twins (one row or a batch, one step or a path) to rounding; the init.

Tolerances. Central differences with h = 1e-5 carry an error of order h^2 |f'''| + 1e-16 / h, about 1e-10 here,
so the checks allow a relative error of 1e-6. A network's layers multiply with `@`, which may add the terms of a
row's sums in another order for a batch than for that row alone: the twins then differ by rounding, at most
about n eps max|term| for sums of n <= 65 terms (~1e-14 at these sizes), and are held to 1e-12.
"""
import sys

import numpy as np
import pytest

from minipg import networks
from minipg.networks import TanhBody, tanh_layer, tanh_layer_backward, tanh_layer_tangent
from minipg.policies import GaussianPolicy, SoftmaxPolicy
from tests.helpers import central_difference, relative_error

TWIN = dict(rtol=1e-12, atol=1e-12)


def layer_problem(seed, saturated=False):
    """W (4, 3), b, inputs x (6, 3) and an upstream gradient g (6, 4); saturated: the first two units' pre-activations
    are beyond +-3 in every row (tanh' < 0.01 there), the others near 0."""
    rng = np.random.default_rng(seed)
    weights, bias = rng.standard_normal((4, 3)), rng.standard_normal(4)
    inputs, grad_outputs = rng.standard_normal((6, 3)), rng.standard_normal((6, 4))
    if saturated:
        inputs = np.abs(inputs) + 1.0
        weights[:2] = 3.0 * np.abs(weights[:2]) + 2.0   # a_1, a_2 >= 6: saturated high
        weights[2:] *= 0.1
        bias[2:] = 0.0
    return weights, bias, inputs, grad_outputs


@pytest.mark.parametrize("saturated", [False, True], ids=["moderate", "saturated"])
def test_layer_backward_matches_finite_differences(saturated):
    """dL/dW, dL/db and dL/dx of L = sum_t g_t . tanh(x_t W^T + b), row by row, against central differences."""
    weights, bias, inputs, grad_outputs = layer_problem(0, saturated)
    outputs = tanh_layer(weights, bias, inputs)
    if saturated:
        assert np.all(np.abs(np.arctanh(outputs[:, :2])) > 3.0)
    grad_weights, grad_bias, grad_inputs = tanh_layer_backward(weights, inputs, outputs, grad_outputs)
    for t in range(len(inputs)):
        def loss(w, b, x):
            return grad_outputs[t] @ tanh_layer(w.reshape(4, 3), b, x[None])[0]
        numeric_w = central_difference(lambda w: loss(w, bias, inputs[t]), weights.ravel())
        numeric_b = central_difference(lambda b: loss(weights.ravel(), b, inputs[t]), bias)
        numeric_x = central_difference(lambda x: loss(weights.ravel(), bias, x), inputs[t])
        assert relative_error(grad_weights[t].ravel(), numeric_w) < 1e-6
        assert relative_error(grad_bias[t], numeric_b) < 1e-6
        assert relative_error(grad_inputs[t], numeric_x) < 1e-6
    if saturated:  # the saturated units pass almost nothing back: their bias gradient is tiny, not 0
        assert np.all(np.abs(grad_bias[:, :2]) < 0.01 * np.abs(grad_outputs[:, :2]))
        assert np.all(grad_bias[:, :2] != 0.0)


def test_layer_backward_summed_over_rows_is_the_sum_of_the_rows():
    """per_row=False (two matrix products) against the per-row gradients summed here."""
    weights, bias, inputs, grad_outputs = layer_problem(1)
    outputs = tanh_layer(weights, bias, inputs)
    rows = tanh_layer_backward(weights, inputs, outputs, grad_outputs)
    summed = tanh_layer_backward(weights, inputs, outputs, grad_outputs, per_row=False)
    np.testing.assert_allclose(summed[0], rows[0].sum(axis=0), **TWIN)
    np.testing.assert_allclose(summed[1], rows[1].sum(axis=0), **TWIN)
    np.testing.assert_array_equal(summed[2], rows[2])


def test_layer_tangent_is_the_directional_derivative():
    """dh along (dx, dW, db) against (h(p + e v) - h(p - e v)) / 2e, e = 1e-6."""
    weights, bias, inputs, _ = layer_problem(2)
    rng = np.random.default_rng(3)
    d_inputs, d_weights, d_bias = rng.standard_normal(inputs.shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    step = 1e-6
    numeric = (tanh_layer(weights + step * d_weights, bias + step * d_bias, inputs + step * d_inputs)
               - tanh_layer(weights - step * d_weights, bias - step * d_bias, inputs - step * d_inputs)) / (2 * step)
    tangent = tanh_layer_tangent(weights, inputs, tanh_layer(weights, bias, inputs), d_inputs, d_weights, d_bias)
    assert relative_error(tangent, numeric) < 1e-6


@pytest.fixture
def body_problem():
    """A body of two layers (5, 4) on 3 inputs scaled by (1, 2, 4), its params, observations and an upstream g."""
    body = TanhBody(3, (5, 4), input_scale=[1.0, 2.0, 4.0])
    rng = np.random.default_rng(4)
    params = body.initial_params(rng) + 0.3 * rng.standard_normal(body.n_params)
    return body, params, 3.0 * rng.standard_normal((6, 3)), rng.standard_normal((6, 4))


def test_body_backward_matches_finite_differences_in_every_layer(body_problem):
    """Each row's dL/dparams, L = g_t . h_L(x_t), block by block (W_1, b_1, W_2, b_2), against central differences."""
    body, params, observations, grad_last = body_problem
    scores = body.backward(params, body.forward(params, observations), grad_last)
    assert scores.shape == (6, body.n_params) == (6, 5 * 3 + 5 + 4 * 5 + 4)
    blocks = np.split(np.arange(body.n_params), np.cumsum([15, 5, 20]))
    for t in range(len(observations)):
        numeric = central_difference(lambda p: grad_last[t] @ body.forward(p, observations[t : t + 1])[-1][0], params)
        for block in blocks:
            assert relative_error(scores[t, block], numeric[block]) < 1e-6
            assert np.abs(numeric[block]).max() > 1e-3
    summed = body.backward(params, body.forward(params, observations), grad_last, per_row=False)
    np.testing.assert_allclose(summed, scores.sum(axis=0), **TWIN)


def test_body_tangent_is_the_directional_derivative(body_problem):
    body, params, observations, _ = body_problem
    direction = np.random.default_rng(5).standard_normal(body.n_params)
    step = 1e-6
    numeric = (body.forward(params + step * direction, observations)[-1]
               - body.forward(params - step * direction, observations)[-1]) / (2 * step)
    assert relative_error(body.tangent(params, body.forward(params, observations), direction), numeric) < 1e-6


def test_body_divides_the_observations_by_the_input_scale(body_problem):
    body, params, observations, _ = body_problem
    unscaled = TanhBody(3, (5, 4))
    np.testing.assert_array_equal(body.forward(params, observations)[-1],
                                  unscaled.forward(params, observations / np.array([1.0, 2.0, 4.0]))[-1])


def test_orthogonal_init_has_orthonormal_columns_or_rows_times_the_gain():
    rng = np.random.default_rng(6)
    tall, wide = networks.orthogonal(rng, 7, 3, 2.0), networks.orthogonal(rng, 3, 7, 0.5)
    np.testing.assert_allclose(tall.T @ tall, 4.0 * np.eye(3), atol=1e-13)
    np.testing.assert_allclose(wide @ wide.T, 0.25 * np.eye(3), atol=1e-13)


NETWORKS = {
    "softmax": lambda: SoftmaxPolicy(3, 4, hidden=(5, 4)),
    "gaussian": lambda: GaussianPolicy(3, 2, hidden=(5, 4), input_scale=[1.0, 2.0, 4.0]),
}


def network_theta(policy, seed, scale=0.5):
    """The policy's init moved by N(0, scale^2): every block of the score far from 0."""
    rng = np.random.default_rng(seed)
    return policy.initial_theta(rng) + scale * rng.standard_normal(policy.n_params)


def theta_blocks(policy):
    """Index arrays of theta's blocks: each layer's W and b, the head's W, and log sigma for the Gaussian."""
    sizes = [size for n_out, n_in in policy.body.shapes for size in (n_out * n_in, n_out)]
    head_outputs = policy.n_actions if isinstance(policy, SoftmaxPolicy) else policy.action_dim
    return np.split(np.arange(policy.n_params), np.cumsum(sizes + [head_outputs * (policy.n_last + 1)]))


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("scale", [0.5, 4.0], ids=["moderate", "saturating"])
def test_network_score_matches_finite_differences_in_every_block(name, scale):
    """grad log pi(u|s) by the head's formula and the body's backward pass, block by block, against central
    differences of log pi; at scale 4 several tanh units saturate (|a| > 3)."""
    policy = NETWORKS[name]()
    rng = np.random.default_rng(7)
    saturated = 0
    for draw in range(5):
        theta = network_theta(policy, draw, scale)
        obs = 2.0 * rng.standard_normal(3)
        action = policy.act(theta, obs, rng)
        analytic = policy.grad_log_prob(theta, obs, action)
        numeric = central_difference(lambda th: policy.log_prob(th, obs, action), theta)
        for block in theta_blocks(policy):
            assert relative_error(analytic[block], numeric[block]) < 1e-6
            assert scale > 1.0 or len(block) == 0 or np.abs(numeric[block]).max() > 1e-3  # every block moves log pi
        activations = policy.body.forward(theta[: policy.n_body_params], obs[None])
        saturated += sum(np.count_nonzero(np.abs(h) > np.tanh(3.0)) for h in activations[1:])
    assert (saturated >= 5) == (scale == 4.0)


def test_network_entropy_gradient_matches_finite_differences():
    """grad sum_t H(pi(.|s_t)) of the softmax network: the head's formula and the body's backward pass, against central
    differences of the entropies; the Gaussian's entropy depends on log sigma alone, so its body's part is 0."""
    policy = NETWORKS["softmax"]()
    observations = np.random.default_rng(8).standard_normal((6, 3))
    for draw in range(3):
        theta = network_theta(policy, draw)
        analytic = policy.path_entropy_gradients(theta, observations).sum(axis=0)
        numeric = central_difference(lambda th: policy.path_entropies(th, observations).sum(), theta)
        for block in theta_blocks(policy)[:-1]:
            assert relative_error(analytic[block], numeric[block]) < 1e-6 and np.abs(numeric[block]).max() > 1e-3
    gaussian = NETWORKS["gaussian"]()
    theta = network_theta(gaussian, 0)
    numeric = central_difference(lambda th: gaussian.path_entropies(th, observations).sum(), theta)
    analytic = gaussian.path_entropy_gradients(theta, observations).sum(axis=0)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-9, atol=0)
    np.testing.assert_array_equal(analytic[: gaussian.n_mean_params], 0.0)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_path_twins_equal_step_by_step_to_rounding(name):
    """path_log_probs / path_scores / path_kls / path_entropies row t is log_prob / grad_log_prob / kl of step t
    alone, to TWIN."""
    policy = NETWORKS[name]()
    rng = np.random.default_rng(9)
    theta, other = network_theta(policy, 0), network_theta(policy, 1)
    observations = 2.0 * rng.standard_normal((30, 3))
    actions = np.array([policy.act(theta, obs, rng) for obs in observations])
    np.testing.assert_allclose(policy.path_log_probs(theta, observations, actions),
                               [policy.log_prob(theta, obs, u) for obs, u in zip(observations, actions)], **TWIN)
    np.testing.assert_allclose(policy.path_scores(theta, observations, actions),
                               [policy.grad_log_prob(theta, obs, u) for obs, u in zip(observations, actions)], **TWIN)
    np.testing.assert_allclose(policy.path_kls(theta, other, observations),
                               [policy.kl(theta, other, obs) for obs in observations], **TWIN)
    assert np.all(policy.path_kls(theta, other, observations) > 1e-3)


@pytest.mark.parametrize("name", NETWORKS)
def test_a_networks_score_sum_is_psi_times_its_step_by_step_scores(name):
    """score_sum's one backward pass from sum_t psi_t dlog pi/dz_t against sum_t psi_t grad_log_prob(s_t, u_t), each
    score on its own, psi of both signs: the same vector to TWIN, in every block."""
    policy = NETWORKS[name]()
    rng = np.random.default_rng(10)
    theta, observations = network_theta(policy, 2), 2.0 * rng.standard_normal((25, 3))
    actions = np.array([policy.act(theta, obs, rng) for obs in observations])
    psi = rng.standard_normal(25)
    expected = sum(w * policy.grad_log_prob(theta, obs, u) for w, obs, u in zip(psi, observations, actions))
    np.testing.assert_allclose(policy.score_sum(theta, observations, actions, psi), expected, **TWIN)
    assert all(np.abs(expected[block]).max() > 1e-3 for block in theta_blocks(policy) if len(block))
    with pytest.raises(ValueError, match=r"psi must have one weight per step, shape \(25,\)"):
        policy.score_sum(theta, observations, actions, psi[:-1])


@pytest.mark.parametrize("name", NETWORKS)
def test_network_act_batch_draws_what_act_draws_row_by_row(name):
    """The same uniform (or normal) numbers in the same order: the same actions, to TWIN for the Gaussian's means,
    exactly for the softmax's (a draw would change only for a uniform within ~1e-16 of a cumulative probability)."""
    policy = NETWORKS[name]()
    theta, observations = network_theta(policy, 2), np.random.default_rng(10).standard_normal((500, 3))
    rng = np.random.default_rng(11)
    one_by_one = np.array([policy.act(theta, obs, rng) for obs in observations])
    together = policy.act_batch(theta, observations, np.random.default_rng(11))
    if name == "softmax":
        np.testing.assert_array_equal(together, one_by_one)
        assert len(set(together)) == 4
    else:
        np.testing.assert_allclose(together, one_by_one, **TWIN)


@pytest.mark.parametrize("policy", [SoftmaxPolicy(3, 4), GaussianPolicy(3, 2), NETWORKS["softmax"](),
                                    NETWORKS["gaussian"]()], ids=["softmax", "gaussian", "softmax-net", "gaussian-net"])
def test_deterministic_action_is_the_mode(policy):
    """argmax_u of probs for the softmax, mean for the Gaussian, one row at a time; the batch twin row by row (bit for
    bit when linear, to TWIN for a network)."""
    rng = np.random.default_rng(12)
    theta = rng.standard_normal(policy.n_params) if policy.body is None else network_theta(policy, 3)
    observations = rng.standard_normal((40, 3))
    one_by_one = [policy.deterministic_action(theta, obs) for obs in observations]
    if isinstance(policy, SoftmaxPolicy):
        assert one_by_one == [int(np.argmax(policy.probs(theta, obs))) for obs in observations]
        assert len(set(one_by_one)) > 1
        np.testing.assert_array_equal(policy.deterministic_action_batch(theta, observations), one_by_one)
    else:
        np.testing.assert_allclose(one_by_one, [policy.mean(theta, obs) for obs in observations], **TWIN)
        batch = policy.deterministic_action_batch(theta, observations)
        if policy.body is None:
            np.testing.assert_array_equal(batch, one_by_one)
        else:
            np.testing.assert_allclose(batch, one_by_one, **TWIN)


def test_linear_initial_theta_is_zeros_and_draws_nothing():
    for policy in (SoftmaxPolicy(4, 2), GaussianPolicy(3, 1)):
        rng = np.random.default_rng(13)
        np.testing.assert_array_equal(policy.initial_theta(rng), np.zeros(policy.n_params))
        assert rng.random() == np.random.default_rng(13).random()


@pytest.mark.parametrize("name", NETWORKS)
def test_network_initial_theta_is_the_scaled_orthogonal_init(name):
    """Hidden layers sqrt(2) Q, biases 0; the head 0.01 Q with a zero bias column; log sigma 0. Same rng, same theta."""
    policy = NETWORKS[name]()
    theta = policy.initial_theta(np.random.default_rng(14))
    np.testing.assert_array_equal(theta, policy.initial_theta(np.random.default_rng(14)))
    blocks = [theta[block] for block in theta_blocks(policy)]
    for (n_out, n_in), weights, bias in zip(policy.body.shapes, blocks[0:-2:2], blocks[1:-1:2]):
        weights = weights.reshape(n_out, n_in)
        gram = weights.T @ weights if n_out >= n_in else weights @ weights.T
        np.testing.assert_allclose(gram, 2.0 * np.eye(min(n_out, n_in)), atol=1e-13)
        np.testing.assert_array_equal(bias, 0.0)
    head = blocks[-2].reshape(-1, policy.n_last + 1)
    np.testing.assert_array_equal(head[:, -1], 0.0)
    np.testing.assert_allclose(head[:, :-1] @ head[:, :-1].T, 1e-4 * np.eye(len(head)), atol=1e-16)
    np.testing.assert_array_equal(blocks[-1], 0.0)  # log sigma, or nothing for the softmax


@pytest.mark.parametrize("hidden", [(0,), (64.0,), 64, "64", (True,), None, (8, -1)])
def test_bad_hidden_is_refused_by_name(hidden):
    for make in (SoftmaxPolicy, GaussianPolicy):
        with pytest.raises(ValueError, match="hidden must be a tuple of integers >= 1"):
            make(3, 2, hidden=hidden)


@pytest.mark.parametrize("scale, message", [([1.0, 2.0], "input_scale must be 3 finite numbers > 0"),
                                            ([1.0, 0.0, 2.0], "input_scale must be 3 finite"),
                                            ([1.0, np.inf, 2.0], "input_scale must be 3 finite")])
def test_bad_input_scale_is_refused_by_name(scale, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxPolicy(3, 2, hidden=(4,), input_scale=scale)


def test_a_linear_policy_takes_no_input_scale():
    with pytest.raises(ValueError, match=r"input_scale divides a network's inputs: a linear policy \(hidden=\(\)\)"):
        GaussianPolicy(3, 1, input_scale=[1.0, 1.0, 1.0])


def calls_into_networks(run):
    """How many Python calls run() makes into functions of minipg/networks.py."""
    calls = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == networks.__file__:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return len(calls)


@pytest.mark.parametrize("make", [lambda **k: SoftmaxPolicy(3, 2, **k), lambda **k: GaussianPolicy(3, 2, **k)],
                         ids=["softmax", "gaussian"])
def test_a_linear_policy_runs_no_code_of_networks(make):
    """Every method of the policy API, on a linear policy: not one call into networks.py (the file-count rule: a
    linear iteration runs in the files it ran in before networks.py existed). A network makes many."""
    rng = np.random.default_rng(15)
    observations = rng.standard_normal((5, 3))

    def use(policy):
        theta = policy.initial_theta(rng) + 0.1
        actions = policy.act_batch(theta, observations, rng)
        policy.act(theta, observations[0], rng)
        policy.log_prob(theta, observations[0], actions[0])
        policy.grad_log_prob(theta, observations[0], actions[0])
        policy.path_log_probs(theta, observations, actions)
        policy.path_scores(theta, observations, actions)
        policy.kl(theta, 2 * theta, observations[0])
        policy.path_kls(theta, 2 * theta, observations)
        policy.path_entropies(theta, observations)
        policy.path_entropy_gradients(theta, observations)
        policy.path_fisher(theta, observations)
        policy.path_fisher_product(theta, observations, theta)
        policy.deterministic_action(theta, observations[0])
        policy.deterministic_action_batch(theta, observations)

    assert calls_into_networks(lambda: use(make())) == 0
    assert calls_into_networks(lambda: use(make(hidden=(4,)))) > 20


def test_network_lock_step_samples_what_its_loop_twin_samples():
    """8 cart-poles stepped together by a softmax network against 8 stepped one at a time, the same streams per env:
    the same actions and so the same states exactly, the recorded log pi to TWIN (one batch's product against each
    path's own)."""
    from envs.cartpole import CartPoleEnv, CartPoleVector
    from minipg.rollout import LockStep, OneByOne

    policy = SoftmaxPolicy(4, 2, hidden=(16, 16))
    theta = network_theta(policy, 4, scale=0.3)
    together, alone = LockStep(CartPoleVector(8), seed=7), OneByOne(CartPoleEnv, 8, seed=7)
    for _ in range(3):
        for p, q in zip(together.sample(policy, theta, 40), alone.sample(policy, theta, 40), strict=True):
            np.testing.assert_array_equal(p.actions, q.actions)
            np.testing.assert_array_equal(p.observations, q.observations)
            np.testing.assert_allclose(p.log_probs, q.log_probs, **TWIN)
            assert (p.terminated, p.first_step) == (q.terminated, q.first_step)
