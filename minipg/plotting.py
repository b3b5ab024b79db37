"""Figures for the README, written as PNG under plots/ (or wherever the caller says)."""
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from minipg.cli import write_atomically  # noqa: E402


def save_figure(fig, path):
    """Write fig as a PNG file atomically, then free it."""
    try:
        write_atomically(path, lambda temporary: fig.savefig(temporary, format="png", dpi=120))
    finally:
        plt.close(fig)


def plot_learning_curve(env_steps, mean_returns, low_returns, high_returns, path, title, threshold=None):
    """Mean episode return per iteration against env steps, with the batch's lowest-to-highest band."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(env_steps, mean_returns, color="C0", label="mean return of the batch")
    ax.fill_between(env_steps, low_returns, high_returns, color="C0", alpha=0.25,
                    label="lowest to highest return in the batch")
    if threshold is not None:
        ax.axhline(threshold, color="C3", linestyle="--", label=f"solved threshold ({threshold:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return (sum of rewards)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def plot_variance(names, variance_ratios, biases, bias_errors, kls, ess_fractions, weight_variances, path):
    """Left: per-path variance of each estimator relative to REINFORCE, and its bias.
    Right: importance weights as theta leaves theta_old: ESS / m and Var(w) against KL."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1.3, 1]})
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
    columns = min(3, len(curves))
    rows = -(-len(curves) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.6 * rows), sharey=True, squeeze=False)
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
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x / 1000:g}"))
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("evaluation: mean return\nof 100 episodes")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
