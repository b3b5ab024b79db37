"""The one backward recursion behind every discounted sum of the derivation.

    y_t = x_t + c y_{t+1},  y_T = final     so     y_t = sum_{k>=t} c^(k-t) x_k + c^(T-t) final

With x = rewards and c = gamma it is the return-to-go G_t of Eq. (10) (bootstrapped by final = V(s_T)
in Eq. 15); with x = TD errors and c = gamma lambda the GAE advantage of Eq. (13); with
x_k = w_{0:k} gamma^k r_k and c = 1 the per-decision importance sum of Eq. (8).
"""
import numpy as np


def discounted_cumsum(values, discount, final=0.0):
    """y_t = sum_{k>=t} c^(k-t) x_k + c^(T-t) y_T, by the recursion y_t = x_t + c y_{t+1}.

    values (T,), or (T, R) for R sequences summed together along t.
    """
    if not 0.0 <= discount <= 1.0:
        raise ValueError(f"discount (gamma, or gamma * lambda) must be in [0, 1], got {discount}")
    sums = np.zeros(np.shape(values))
    future = final
    for t in reversed(range(len(values))):
        future = values[t] + discount * future
        sums[t] = future
    return sums
