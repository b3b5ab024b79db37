"""Each row of a vector env starts its episodes from its own generator, drawn a block at a time."""
import numpy as np


class RowStarts:
    """Row r's start states: what default_rng(seeds[r]) gives one reset at a time, draw(generator) after draw(generator).

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
        if used_up.any():
            for r in rows[used_up]:
                self.starts[r] = self.draw(self.generators[r], (self.block,))
            place[used_up] = 0
        self.position[rows] = place + 1
        return self.starts[rows, place]
