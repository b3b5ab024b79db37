"""Figures for the README, written as PNG under plots/ (or wherever the caller says)."""
import numpy as np

from minipg.io.files import write_atomically


def new_figure(*grid, figsize=None, layout=None, **options):
    """A matplotlib Figure and its axes, Figure.subplots(*grid, **options), through the object-oriented API alone
    (no pyplot, no global figure to close): matplotlib is imported here, when a figure is first drawn, not when a
    command starts."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(*grid, **options)


def save_figure(fig, path):
    """Write fig as a PNG file atomically."""
    write_atomically(path, lambda temporary: fig.savefig(temporary, format="png", dpi=120))


def plot_learning_curve(env_steps, mean_returns, low_returns, high_returns, path, title, threshold=None,
                        judged=None, judged_label=None, batch="the batch"):
    """Mean episode return per iteration against env steps, with the batch's lowest-to-highest band, and
    how each iteration was judged (an evaluation's mean return, or the exact U(theta); nan where none)."""
    fig, ax = new_figure(figsize=(9.5, 4), layout="constrained")
    ax.plot(env_steps, mean_returns, color="C0", label=f"mean return of {batch}")
    ax.fill_between(env_steps, low_returns, high_returns, color="C0", alpha=0.25,
                    label=f"lowest to highest return in {batch}")
    if judged is not None and not np.isnan(judged).all():
        ax.plot(env_steps, judged, "o-", color="C1", markersize=3, label=judged_label)
    if threshold is not None:
        ax.axhline(threshold, color="C3", linestyle="--", label=f"solved threshold ({threshold:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return (sum of rewards)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def plot_variance(names, variance_ratios, biases, bias_errors, kls, ess_fractions, weight_variances, path):
    """Left: per-path variance of each estimator relative to REINFORCE, and its bias.
    Right: importance weights as theta leaves theta_old: ESS / m and Var(w) against KL."""
    fig, (left, right) = new_figure(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1.3, 1]})
    rows = np.arange(len(names))
    left.barh(rows, variance_ratios, color="C0", label="total variance / REINFORCE's")
    left.set_xscale("log")
    left.set_yticks(rows, names, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("trace of per-path covariance, relative to REINFORCE (log scale)")
    twin = left.twiny()
    twin.errorbar(biases, rows, xerr=2 * np.asarray(bias_errors), fmt="o", color="C3",
                  label="bias |mean - exact| (± 2 SE)")
    twin.set_xlabel("bias: norm of mean minus exact gradient", color="C3")
    handles = left.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="lower right", fontsize=8)
    left.set_title("Gradient estimators on the gridworld")

    right.plot(kls, ess_fractions, "o-", color="C0", label="effective sample size / m")
    right.set_xscale("log")
    right.set_xlabel("mean KL(π_θold ‖ π_θ) over visited states (nats, log scale)")
    right.set_ylabel("ESS / m", color="C0")
    weights_axis = right.twinx()
    weights_axis.plot(kls, weight_variances, "s--", color="C1", label="Var(w) of path weights")
    weights_axis.set_yscale("log")
    weights_axis.set_ylabel("variance of importance weights (log scale)", color="C1")
    handles = right.get_legend_handles_labels()[0] + weights_axis.get_legend_handles_labels()[0]
    right.legend(handles, [h.get_label() for h in handles], loc="center left", fontsize=8)
    right.set_title("Importance sampling as θ leaves θ_old")
    right.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def plot_bench(curves, threshold, path, title):
    """One panel per configuration: evaluation mean return against training env steps, one line per seed."""
    from matplotlib.ticker import FuncFormatter

    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    fig, axes = new_figure(rows, columns, figsize=(4.5 * columns, 3.6 * rows), sharey=True, squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    for ax, (name, seeds) in zip(axes.flat, curves.items()):
        for seed, curve in enumerate(seeds):
            if curve:
                steps, returns = zip(*curve)
                ax.plot(steps, returns, linewidth=1, alpha=0.7, label="one line per seed" if seed == 0 else None)
        ax.axhline(threshold, color="C3", linestyle="--", label=f"solved ({threshold:g})")
        ax.set_title(name)
        ax.set_xlabel("training env steps (thousands)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}"))
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("evaluation: mean return\nof 100 episodes")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_gradient_field(grid, values, arrow_grid, gradients, naturals, point, exact_gradient, clouds, batch, path):
    """Left: contours of U on the slice of the two preferences, unit arrows along grad U and along the natural
    gradient, and the theta of the clouds. Right: single-batch estimates of grad U at that theta, on the slice."""
    fig, (field, cloud) = new_figure(1, 2, figsize=(14, 6.5), gridspec_kw={"width_ratios": [1.15, 1]})
    filled = field.contourf(grid, grid, values, levels=20, cmap="viridis")
    field.contour(grid, grid, values, levels=20, colors="white", linewidths=0.4, alpha=0.5)
    fig.colorbar(filled, ax=field, label="U(θ): expected return (sum of rewards)")
    x, y = np.meshgrid(arrow_grid, arrow_grid)
    for vectors, colour, label in [(gradients, "white", "∇U (direction)"),
                                   (naturals, "C1", "natural gradient F⁺∇U (direction)")]:
        unit = vectors / np.linalg.norm(vectors, axis=2, keepdims=True)
        field.quiver(x, y, unit[..., 0], unit[..., 1], color=colour, angles="xy", scale_units="xy", scale=2.2,
                     width=0.005, edgecolor="black", linewidth=0.4, label=label)
    field.plot(*point, marker="*", markersize=16, color="C3", markeredgecolor="black", linestyle="none",
               label="θ of the estimates (right)")
    field.set_xlabel("x_A = log π(go|A) − log π(wait|A)  (nats)")
    field.set_ylabel("x_B = log π(exit|B) − log π(back|B)  (nats)")
    field.set_title("U(θ) of TwoRooms, H = 4: it depends on θ through x_A and x_B only")
    field.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, fontsize=8, facecolor="0.85")
    field.set_aspect("equal")

    for k, (name, estimates) in enumerate(clouds.items()):
        spread = np.sqrt(np.mean(np.sum((estimates - exact_gradient) ** 2, axis=1)))
        cloud.scatter(estimates[:, 0], estimates[:, 1], s=7, alpha=0.35, color=f"C{k}",
                      label=f"{name}: rms distance {spread:.3f}")
        _covariance_ellipse(cloud, estimates, f"C{k}")
    cloud.plot(*exact_gradient, marker="X", markersize=12, color="black", linestyle="none",
               label="exact ∇U at ★, Eq. (12)")
    cloud.plot([], [], color="0.3", label="ellipses: 2 standard deviations")
    cloud.set_xlabel("∂U/∂x_A  (return per nat)")
    cloud.set_ylabel("∂U/∂x_B  (return per nat)")
    cloud.set_title(f"{len(next(iter(clouds.values())))} single-batch estimates of m = {batch} paths each, at ★")
    cloud.legend(loc="upper left", fontsize=8)
    cloud.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, path)


def _covariance_ellipse(ax, points, colour):
    """The ellipse (p - mean)^T Cov^-1 (p - mean) = 4 of a 2-D point cloud: 2 standard deviations along each axis."""
    from matplotlib.patches import Ellipse

    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(points.T))
    angle = np.degrees(np.arctan2(eigenvectors[1, 1], eigenvectors[0, 1]))
    width, height = 4.0 * np.sqrt(eigenvalues[::-1])
    ax.add_patch(Ellipse(points.mean(axis=0), width, height, angle=angle, fill=False,
                                            edgecolor=colour, linewidth=2))


def plot_error_against_m(sizes, errors, predicted, path):
    """Root-mean-square error of each estimator against the number of paths m, with sqrt(trace Cov / m)."""
    fig, ax = new_figure(figsize=(7, 4.5))
    for k, name in enumerate(errors):
        ax.plot(sizes, errors[name], "o-", color=f"C{k}", label=f"{name}: measured")
        ax.plot(sizes, predicted[name], "--", color=f"C{k}", alpha=0.7, label=f"{name}: √(tr Cov / m)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("paths per batch m (log scale)")
    ax.set_ylabel("rms error |ĝ − ∇U(θ)| over batches\n(return per unit of θ, log scale)")
    ax.set_title("Sampled estimators converge to the exact gradient as 1/√m")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    save_figure(fig, path)
