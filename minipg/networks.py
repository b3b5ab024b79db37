"""A tanh network's layers, each forward pass with the passes that differentiate it right beside it: the hidden
layers of the network policies (`policies.py`, `hidden=(64, 64)`) and of the network critic (`critics.py`).

A body of L tanh layers maps observations x, one per row of (T, d), to its last hidden layer h_L, (T, n_L):

    h_0 = x / input_scale,        a_l = h_{l-1} W_l^T + b_l,        h_l = tanh(a_l),        l = 1..L

Its parameters are one flat float64 vector, layer by layer, [W_1.ravel(), b_1, W_2.ravel(), b_2, ...], each W_l of
shape (n_l, n_{l-1}) stored row by row. Every derivative is written out by hand, in two directions (the backward
pass is Eq. (22)):

    backward, from g_L = dL/dh_L:   d_l = g_l (1 - h_l^2),  dL/dW_l = d_l^T h_{l-1},  dL/db_l = d_l,  g_{l-1} = d_l W_l
                                    for l = L, ..., 1: each row's parameter gradient (a policy's scores), or their sum
    tangent, along a direction v:   dh_0 = 0,  dh_l = (1 - h_l^2) (dh_{l-1} W_l^T + h_{l-1} dW_l^T + db_l)
                                    for l = 1, ..., L, with v = [dW_1.ravel(), db_1, ...]: the product J v

The two together give the Fisher product F v = J^T M J v without forming J or F. The layers multiply with `@`
(BLAS): a row's bits may depend on the rows beside it and on the machine, unlike the linear policies' term by
term sums, so a network's twins (one row or a batch) agree to rounding, not bit for bit.
"""
import numpy as np

HIDDEN_GAIN = np.sqrt(2.0)      # the scale of the orthogonal init of a hidden layer


def tanh_layer(weights, bias, inputs):
    """h = tanh(x W^T + b) for every row x of inputs: (T, n_in) -> (T, n_out)."""
    return np.tanh(inputs @ weights.T + bias)


def tanh_layer_backward(weights, inputs, outputs, grad_outputs, per_row=True):
    """From g = dL/dh: d = g (1 - h^2) = dL/da, then dL/dW = d x^T, dL/db = d and dL/dx = d W.

    Returns (dL/dW, dL/db, dL/dx): the parameters' gradients for every row, (T, n_out, n_in) and (T, n_out), or
    with per_row=False their sums over the rows, (n_out, n_in) and (n_out,); dL/dx is always per row, (T, n_in).
    """
    grad_pre = grad_outputs * (1.0 - outputs**2)  # tanh'(a) = 1 - tanh(a)^2
    if per_row:
        grad_weights, grad_bias = grad_pre[:, :, None] * inputs[:, None, :], grad_pre
    else:
        grad_weights, grad_bias = grad_pre.T @ inputs, grad_pre.sum(axis=0)
    return grad_weights, grad_bias, grad_pre @ weights


def tanh_layer_tangent(weights, inputs, outputs, tangent_inputs, tangent_weights, tangent_bias):
    """dh = (1 - h^2) (dx W^T + x dW^T + db): how h = tanh(x W^T + b) moves as x, W and b move along dx, dW, db."""
    return (1.0 - outputs**2) * (tangent_inputs @ weights.T + inputs @ tangent_weights.T + tangent_bias)


def orthogonal(rng, n_out, n_in, gain):
    """gain Q, Q of shape (n_out, n_in) with orthonormal columns (or rows, whichever are fewer), uniformly drawn:
    the Q of the QR factorisation of a standard normal matrix, each column's sign that of R's diagonal."""
    q, r = np.linalg.qr(rng.standard_normal((max(n_out, n_in), min(n_out, n_in))))
    q = q * np.sign(np.diag(r))
    return gain * (q if n_out >= n_in else q.T)


def checked_input_scale(input_scale, n_inputs):
    """input_scale as n_inputs finite numbers > 0 (one per observation feature), or None for no scaling."""
    if input_scale is None:
        return None
    scale = np.asarray(input_scale, dtype=np.float64)
    if scale.shape != (n_inputs,) or not (np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"input_scale must be {n_inputs} finite numbers > 0, one per observation feature, "
                         f"or None; got {input_scale!r}")
    return scale


class TanhBody:
    """x -> h_L through tanh layers of the widths in `hidden` (positive integers, checked by the policy or critic
    that builds it), observations first divided by the fixed per-feature input_scale, if given."""

    def __init__(self, n_inputs, hidden, input_scale=None):
        self.widths = (n_inputs,) + tuple(hidden)
        self.shapes = list(zip(self.widths[1:], self.widths[:-1]))  # W_l is (n_l, n_{l-1})
        self.n_params = sum(n_out * n_in + n_out for n_out, n_in in self.shapes)
        self.input_scale = checked_input_scale(input_scale, n_inputs)

    def layers(self, params):
        """[(W_1, b_1), ..., (W_L, b_L)]: views of the flat vector params, in its order (of each row of params (T,
        n_params), with a leading row axis)."""
        layers, start, rows = [], 0, params.shape[:-1]
        for n_out, n_in in self.shapes:
            weights = params[..., start : start + n_out * n_in].reshape(rows + (n_out, n_in))
            start += n_out * n_in
            layers.append((weights, params[..., start : start + n_out]))
            start += n_out
        return layers

    def forward(self, params, observations):
        """[h_0, h_1, ..., h_L] for the rows of observations (T, d): h_0 = x / input_scale, h_l = tanh(a_l)."""
        activations = [observations if self.input_scale is None else observations / self.input_scale]
        for weights, bias in self.layers(params):
            activations.append(tanh_layer(weights, bias, activations[-1]))
        return activations

    def backward(self, params, activations, grad_last, per_row=True, out=None):
        """dL/dparams from g_L = dL/dh_L (T, n_L), the layers taken from the last to the first: each row's gradient,
        (T, n_params), or with per_row=False their sum, (n_params,); written into `out` if given (the body's columns
        of a policy's scores, filled in place of a copy)."""
        if out is None:
            out = np.empty((len(grad_last), self.n_params) if per_row else self.n_params)
        grad = grad_last
        for (weights, _), (grad_weights, grad_bias), inputs, outputs in reversed(list(zip(
                self.layers(params), self.layers(out), activations, activations[1:]))):
            grad_weights[...], grad_bias[...], grad = tanh_layer_backward(weights, inputs, outputs, grad, per_row)
        return out

    def tangent(self, params, activations, direction):
        """dh_L = J v for every row: how the last layer moves as params move along direction v, layer by layer from
        the first (forward mode)."""
        tangent = np.zeros_like(activations[0])  # the observations do not move
        for (weights, _), (d_weights, d_bias), inputs, outputs in zip(self.layers(params), self.layers(direction),
                                                                       activations, activations[1:]):
            tangent = tanh_layer_tangent(weights, inputs, outputs, tangent, d_weights, d_bias)
        return tangent

    def initial_params(self, rng):
        """Each W_l = sqrt(2) Q_l (orthogonal, drawn from rng layer by layer), each b_l = 0."""
        return np.concatenate([np.concatenate([orthogonal(rng, n_out, n_in, HIDDEN_GAIN).ravel(), np.zeros(n_out)])
                               for n_out, n_in in self.shapes])
