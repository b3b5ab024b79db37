"""One definition of solved: the evaluation's early stop changes its cost, never its verdict."""
import numpy as np
import pytest

import envs
from minipg.train import evaluate_solved
from minipg.policies import SoftmaxPolicy

BALANCING = np.array([-0.1, -0.5, -1.0, -1.0, 0.0, 0.1, 0.5, 1.0, 1.0, 0.0])  # pushes against the fall and the drift


@pytest.mark.parametrize("scale", [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 10.0])
def test_stopping_early_gives_the_same_verdict_for_fewer_steps(scale):
    """From theta = 0 (falls in ~20 steps) to a policy that balances: the same 100 episodes, cut or not."""
    policy, theta = SoftmaxPolicy(4, 2), scale * BALANCING
    full = evaluate_solved(envs.make_vector("cartpole", 100), 475.0, policy, theta, np.random.default_rng(3), False)
    early = evaluate_solved(envs.make_vector("cartpole", 100), 475.0, policy, theta, np.random.default_rng(3), True)
    assert early[0] == full[0] and early[2] <= full[2]
    if full[0]:
        assert early[1] == full[1] >= 475.0
    else:
        assert full[1] < 475.0 and (np.isnan(early[1]) or early[1] == full[1])


def test_a_balancing_policy_is_solved_and_a_random_one_stops_within_a_few_dozen_steps():
    policy, vector = SoftmaxPolicy(4, 2), envs.make_vector("cartpole", 100)
    assert evaluate_solved(vector, 475.0, policy, 100.0 * BALANCING, np.random.default_rng(0))[0]
    solved, _, steps = evaluate_solved(vector, 475.0, policy, np.zeros(10), np.random.default_rng(0))
    assert not solved and steps < 100 * 50


@pytest.mark.parametrize("stop_early", [False, True])
def test_a_mean_return_exactly_at_the_threshold_solves(stop_early):
    """Solved means a mean of at least the threshold: at threshold = the mean itself (64 episodes, so mean x 64 is
    the sum exactly), solved with that mean; and the early stop, whose bound an episode running to its end meets with
    equality, does not stop it."""
    policy, theta = SoftmaxPolicy(4, 2), 2.0 * BALANCING

    def judged(threshold, stop_early):
        return evaluate_solved(envs.make_vector("cartpole", 64), threshold, policy, theta, np.random.default_rng(3),
                               stop_early)

    _, mean, _ = judged(475.0, False)
    assert 20.0 < mean < 475.0  # neither all at the time limit nor all falling in their first steps
    assert judged(mean, stop_early)[:2] == (True, mean)
    assert not judged(np.nextafter(mean, np.inf), stop_early)[0]
