"""What the shared figures draw, read back from the Figure as it is saved: the error bars' reach, the covariance
ellipses' axes, and the judged line of a learning curve with gaps."""
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import Ellipse

from minipg.io import figures


@pytest.fixture
def drawn(monkeypatch):
    """Every Figure the module saves from now on, in order, and nothing written."""
    saved = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: saved.append(fig))
    return saved


def test_the_variance_figures_bias_bars_reach_two_standard_errors_either_side(drawn):
    biases, errors = np.array([0.3, 0.05, 0.12]), np.array([0.02, 0.01, 0.04])
    figures.plot_variance(["a", "b", "c"], [1.0, 0.5, 0.2], biases, errors, [0.01, 0.1], [0.9, 0.5], [0.1, 1.0],
                          "unused.png")
    (fig,) = drawn
    (bars,) = [collection for ax in fig.axes for collection in ax.collections if isinstance(collection, LineCollection)]
    segments = np.array(bars.get_segments())  # one per row: [(bias - 2 SE, row), (bias + 2 SE, row)]
    np.testing.assert_allclose(segments[:, 0, 0], biases - 2 * errors)
    np.testing.assert_allclose(segments[:, 1, 0], biases + 2 * errors)
    np.testing.assert_array_equal(segments[:, :, 1], [[0, 0], [1, 1], [2, 2]])


def test_each_cloud_has_the_ellipse_of_two_standard_deviations_along_its_principal_axes(drawn):
    """For a 2 x 2 covariance [[a, b], [b, c]] (ddof 1, summed by hand), the eigenvalues are
    (a + c) / 2 +- sqrt(((a - c) / 2)^2 + b^2); the ellipse's full axes are 2 x 2 sqrt(lambda), centred on the mean,
    the width along the larger."""
    rng = np.random.default_rng(0)
    cloud = rng.standard_normal((400, 2)) @ [[2.0, 0.0], [1.2, 0.5]] + [1.0, -3.0]
    grid = np.linspace(-1.0, 1.0, 3)
    vectors = np.ones((3, 3, 2))
    figures.plot_gradient_field(grid, np.arange(9.0).reshape(3, 3), grid, vectors, vectors, (0.0, 0.0),
                                np.zeros(2), {"cloud": cloud}, 50, "unused.png")
    (fig,) = drawn
    (ellipse,) = [patch for ax in fig.axes for patch in ax.patches if isinstance(patch, Ellipse)]
    centred = cloud - cloud.sum(axis=0) / len(cloud)
    a, b, c = (np.sum(centred[:, i] * centred[:, j]) / (len(cloud) - 1) for i, j in ((0, 0), (0, 1), (1, 1)))
    larger = (a + c) / 2 + np.sqrt(((a - c) / 2) ** 2 + b**2)
    smaller = (a + c) / 2 - np.sqrt(((a - c) / 2) ** 2 + b**2)
    np.testing.assert_allclose(ellipse.center, cloud.mean(axis=0), rtol=1e-12)
    assert ellipse.width == pytest.approx(4 * np.sqrt(larger), rel=1e-10)
    assert ellipse.height == pytest.approx(4 * np.sqrt(smaller), rel=1e-10)


def test_a_judged_line_with_gaps_is_drawn_where_it_has_values(drawn):
    """Evaluations every other iteration leave NaN between them: the line is drawn, with its NaNs, not dropped."""
    judged = np.array([np.nan, 5.0, np.nan, 7.0])
    figures.plot_learning_curve([10, 20, 30, 40], [1.0, 2.0, 3.0, 4.0], [0.0] * 4, [5.0] * 4, "unused.png", "title",
                                judged=judged, judged_label="evaluation")
    (fig,) = drawn
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "evaluation"]
    np.testing.assert_array_equal(line.get_xdata(), [10, 20, 30, 40])
    np.testing.assert_array_equal(line.get_ydata(), judged)


def test_a_judged_line_of_only_nans_is_not_drawn(drawn):
    figures.plot_learning_curve([10, 20], [1.0, 2.0], [0.0] * 2, [5.0] * 2, "unused.png", "title",
                                judged=np.full(2, np.nan), judged_label="evaluation")
    (fig,) = drawn
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["mean return of the batch"]
