"""inverse_cdf, the categorical draw of the tabular simulators and the softmax policy: i with F(i-1) <= v < F(i),
v = u F(n-1), in each of its three branches (one distribution, a batch of rows, distributions as columns), against
that rule written out as a loop, at the boundaries where <= and < part."""
import numpy as np
import pytest

from envs.sampling import inverse_cdf

DISTRIBUTIONS = [  # dyadic, so that every F(i) and every v = u F(n-1) below is exact
    [0.25, 0.75],
    [0.0, 1.0],
    [0.25, 0.0, 0.5, 0.25],
    [1.0, 0.0, 2.0, 1.0],  # unnormalised: F(n-1) = 4 scales u
    [0.5, 0.5, 0.0],
]
UNIFORMS = [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, np.nextafter(0.25, 0.0), np.nextafter(0.75, 1.0),
            np.nextafter(1.0, 0.0)]  # the boundaries F(i) / F(n-1), a hair either side, and the largest u below 1


IDS = ["/".join(f"{p:g}" for p in probabilities) for probabilities in DISTRIBUTIONS]


def first_past(probabilities, u):
    """The smallest i with v < F(i), F(i) = p_0 + ... + p_i summed one at a time, v = u F(n-1)."""
    cumulative, total = [], 0.0
    for p in probabilities:
        total += p
        cumulative.append(total)
    v = u * cumulative[-1]
    return next(i for i, f in enumerate(cumulative) if v < f)


@pytest.mark.parametrize("probabilities", DISTRIBUTIONS, ids=IDS)
def test_one_distribution_draws_the_first_outcome_whose_cdf_exceeds_v(probabilities):
    expected = [first_past(probabilities, u) for u in UNIFORMS]
    assert [int(inverse_cdf(probabilities, u)) for u in UNIFORMS] == expected
    assert inverse_cdf(np.array(probabilities), np.array(UNIFORMS)).tolist() == expected


@pytest.mark.parametrize("probabilities", DISTRIBUTIONS, ids=IDS)
def test_rows_of_distributions_draw_as_the_loop_does_row_by_row(probabilities):
    rows = np.tile(probabilities, (len(UNIFORMS), 1))  # (m, n): row j drawn with UNIFORMS[j]
    assert inverse_cdf(rows, np.array(UNIFORMS)).tolist() == [first_past(probabilities, u) for u in UNIFORMS]


@pytest.mark.parametrize("probabilities", DISTRIBUTIONS, ids=IDS)
def test_columns_of_distributions_draw_as_the_loop_does_column_by_column(probabilities):
    columns = np.tile(probabilities, (len(UNIFORMS), 1)).T  # (n, m): column j drawn with UNIFORMS[j]
    assert inverse_cdf(columns, np.array(UNIFORMS), axis=0).tolist() == [first_past(probabilities, u) for u in UNIFORMS]


def test_v_at_a_boundary_draws_the_next_outcome_and_u_0_never_an_outcome_of_probability_0():
    """F(0) <= v: at v = F(0) = 0.25 the draw is 1; with p = [0, 1], u = 0 gives v = 0 = F(0), so outcome 1."""
    assert inverse_cdf([0.25, 0.75], 0.25) == 1 and inverse_cdf([0.0, 1.0], 0.0) == 1
    assert inverse_cdf(np.array([[0.25, 0.75]]), np.array([0.25])).tolist() == [1]
    assert inverse_cdf(np.array([[0.0, 1.0]]), np.array([0.0])).tolist() == [1]
    assert inverse_cdf(np.array([[0.25], [0.75]]), np.array([0.25]), axis=0).tolist() == [1]
    assert inverse_cdf(np.array([[0.0], [1.0]]), np.array([0.0]), axis=0).tolist() == [1]
