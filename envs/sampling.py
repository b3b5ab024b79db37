"""A categorical draw by inverse CDF, shared by the tabular simulators and the softmax policy."""
import numpy as np


def inverse_cdf(probabilities, uniforms, axis=-1):
    """The i with F(i-1) <= v < F(i), F = cumsum(p) along the last axis, v = u F(n-1), for each u ~ U[0, 1).

    Scaling u by F(n-1), which rounding may leave a hair off 1, keeps the index on an entry of positive
    probability. probabilities (..., n) and uniforms (...) broadcast row by row; with axis=0, probabilities (n, m)
    hold one distribution per column, for m uniforms.
    """
    cumulative = np.asarray(probabilities).cumsum(axis=axis)
    if axis == 0:
        return (cumulative <= uniforms * cumulative[-1]).sum(axis=0)
    scaled = uniforms * cumulative[..., -1]
    return (cumulative <= scaled[..., None]).sum(axis=-1)
