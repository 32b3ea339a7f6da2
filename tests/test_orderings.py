"""Sanity orderings of the classic schedulers over 1,000 paired learners (issue: classic leaderboard).

Run on Review-v0 as the classic suite runs it (``REVIEW_SUITE_OVERRIDES``: a binding study budget).
Paired: every policy meets the same learners with the same random streams, so the test is on the
learner-by-learner difference and its bootstrap CI, not on two noisy means.
"""

import pytest

from studygym.evaluation.harness import evaluate, summarize
from studygym.evaluation.suites import REVIEW_SUITE_OVERRIDES

LEARNERS = 1000


def paired(df, reference, metric):
    return summarize(df, reference=reference, metrics=[metric], n_boot=500).set_index("policy")


def test_fsrs_beats_random_and_massed_on_delayed_retention():
    df = evaluate("fsrs,random,massed", "Review-v0", n_learners=LEARNERS, seed=1, **REVIEW_SUITE_OVERRIDES)
    assert not df["failed"].any()
    s = paired(df, "fsrs", "retention_delayed")
    for other in ("random", "massed"):
        # policy - fsrs < 0 with the whole 95% CI below zero
        assert s.loc[other, "retention_delayed_diff_hi"] < 0, s.loc[other]


# The privileged upper reference is the planner, on the env's objective (the episode return).
# oracle_greedy is myopic and ignores study cost: tuned THRESHOLD / HLR beat it, so it is no bound.
STRONGEST_TUNED = {"hlr": {"threshold": 0.1}, "threshold": {"threshold": 0.9}}  # results/tuning (60 items)


@pytest.mark.parametrize("n_learners", [
    100, pytest.param(LEARNERS, marks=pytest.mark.slow)])  # the planner rolls the true env forward
def test_planner_beats_the_strongest_tuned_classics_on_the_objective(n_learners):
    import studygym
    from studygym.agents.schedulers import make_policy

    env, _ = studygym.make("Review-v0", **REVIEW_SUITE_OVERRIDES)
    policies = [make_policy("planner", env)]
    for name, settings in STRONGEST_TUNED.items():
        policy = make_policy(name, env, **settings)
        policy.name = f"{name}_tuned"
        policies.append(policy)
    df = evaluate(policies, "Review-v0", n_learners=n_learners, seed=2, curves=False, **REVIEW_SUITE_OVERRIDES)
    assert not df["failed"].any()
    s = paired(df, "planner", "episode_return")
    for other in ("hlr_tuned", "threshold_tuned"):
        assert s.loc[other, "episode_return_diff_hi"] < 0, s.loc[other]
