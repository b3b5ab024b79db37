"""A categorical draw by inverse CDF, shared by the tabular simulators and the softmax policy, the start states of a
vector env's rows, each row from its own generator, and the vectors' states kept as columns."""
import numpy as np


def inverse_cdf(probabilities, uniforms, axis=-1):
    """The i with F(i-1) <= v < F(i), F = cumsum(p) along the last axis, v = u F(n-1), for each u ~ U[0, 1).

    Scaling u by F(n-1), which rounding may leave a hair off 1, keeps the index on an entry of positive
    probability. probabilities (..., n) and uniforms (...) broadcast row by row; with axis=0, probabilities (n, m)
    hold one distribution per column, for m uniforms.
    """
    if axis == 0:
        cumulative = np.array(probabilities)
        for i in range(1, len(cumulative)):  # cumsum's sums, a row of all columns at a time
            cumulative[i] += cumulative[i - 1]
        return (cumulative <= uniforms * cumulative[-1]).sum(axis=0)
    cumulative = np.asarray(probabilities).cumsum(axis=-1)
    scaled = uniforms * cumulative[..., -1]
    if cumulative.ndim == 1:  # F never decreases, so the count of F(i) <= v is where v would be inserted
        return cumulative.searchsorted(scaled, side="right")
    return (cumulative <= scaled[..., None]).sum(axis=-1)


class RowStarts:
    """Row r's start states: what default_rng(seeds[r]) gives one reset at a time, draw(generator) after draw.

    After each row's first start, drawn alone, a row's starts are drawn `block` at a time, draw(generator, (block,)):
    a Generator reads its stream in order whatever the size asked of it, so row r sees exactly the starts of a single
    env reset again and again, and restarting any set of rows costs a few array operations, not a call per row. A
    vector that never restarts a row (an evaluation) draws no block. draw(generator, size=()) returns the start
    states of shape size + (state dimension,).
    """

    def __init__(self, seeds, draw, block=64):
        self.generators = [np.random.default_rng(seed) for seed in seeds]
        self.draw, self.block = draw, block
        self.first = np.array([draw(generator) for generator in self.generators])
        self.starts = np.empty((len(self.generators), block) + self.first.shape[1:], dtype=self.first.dtype)
        self.position = np.full(len(self.generators), block)  # all used: a row's first restart draws its block

    def next(self, rows):
        """The next start state of each of `rows` (distinct row numbers), shape (len(rows), state dimension)."""
        rows = np.asarray(rows, dtype=np.intp)
        place = self.position[rows]
        used_up = place == self.block
        if np.count_nonzero(used_up):
            for r in rows[used_up]:
                self.starts[r] = self.draw(self.generators[r], (self.block,))
            place[used_up] = 0
        self.position[rows] = place + 1
        return self.starts[rows, place]


def state_rows(columns):
    """A vector's states, kept as (d, n) columns (row r's state in column r), as a read-only (n, d) view."""
    view = columns.T
    view.flags.writeable = False
    return view


def state_columns(states, n, names, settable=None, limits=""):
    """The (d, n) columns of `states`, n rows of the len(names) numbers `names`, all finite (and settable(columns)
    where given); else a ValueError naming them and their `limits`."""
    states = np.array(states, dtype=np.float64)
    columns = np.ascontiguousarray(states.T)
    if states.shape != (n, len(names)) or not np.all(np.isfinite(states)) or (settable and not settable(columns)):
        raise ValueError(f"states must be {n} rows of {len(names)} finite numbers [{', '.join(names)}]{limits}, "
                         f"got shape {states.shape}")
    return columns
