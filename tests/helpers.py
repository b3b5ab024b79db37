"""Numerical tools shared by the tests: the finite differences every analytic gradient is checked against."""
import numpy as np


def central_difference(f, theta, step=1e-6):
    """(f(theta + h e_j) - f(theta - h e_j)) / 2h for every coordinate j; error O(h^2)."""
    gradient = np.zeros_like(theta)
    for j in range(len(theta)):
        shift = np.zeros_like(theta)
        shift[j] = step
        gradient[j] = (f(theta + shift) - f(theta - shift)) / (2.0 * step)
    return gradient


def central_hessian(f, theta, step=1e-4):
    """[f(+h e_j + h e_k) - f(+h e_j - h e_k) - f(-h e_j + h e_k) + f(-h e_j - h e_k)] / 4h^2; error O(h^2)."""
    n = len(theta)
    hessian = np.zeros((n, n))
    for j in range(n):
        for k in range(j, n):
            e_j, e_k = step * np.eye(n)[j], step * np.eye(n)[k]
            hessian[j, k] = hessian[k, j] = (f(theta + e_j + e_k) - f(theta + e_j - e_k)
                                             - f(theta - e_j + e_k) + f(theta - e_j - e_k)) / (4.0 * step**2)
    return hessian


def relative_error(analytic, numeric):
    """||a - n|| / max(||a|| + ||n||, 1): relative for large gradients, absolute near zero."""
    return np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1.0)
