"""Sanity orderings of the classic schedulers over 1,000 paired learners (issue: classic leaderboard).

Run on Review-v0 as the classic suite runs it (``REVIEW_SUITE_OVERRIDES``: a binding study budget).
Paired: every policy meets the same learners with the same random streams, so the test is on the
learner-by-learner difference and its bootstrap CI, not on two noisy means.
"""

import pytest

from studygym.harness import evaluate, summarize
from studygym.suites import REVIEW_SUITE_OVERRIDES

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


@pytest.mark.parametrize("n_learners", [
    200, pytest.param(LEARNERS, marks=pytest.mark.slow)])  # the oracle simulates every item each step
def test_oracle_beats_the_strongest_classic_schedulers_on_final_knowledge(n_learners):
    df = evaluate("oracle_greedy,round_robin,threshold", "Review-v0", n_learners=n_learners, seed=2,
                  **REVIEW_SUITE_OVERRIDES)
    s = paired(df, "oracle_greedy", "knowledge_final")
    for other in ("round_robin", "threshold"):
        assert s.loc[other, "knowledge_final_diff_hi"] < 0, s.loc[other]


@pytest.mark.slow
def test_oracle_beats_every_classic_scheduler_on_final_knowledge():
    df = evaluate("all", "Review-v0", n_learners=LEARNERS, seed=3, **REVIEW_SUITE_OVERRIDES)
    assert not df["failed"].any()
    s = paired(df, "oracle_greedy", "knowledge_final")
    for other in s.index.drop("oracle_greedy"):
        assert s.loc[other, "knowledge_final_diff_hi"] < 0, s.loc[other]
