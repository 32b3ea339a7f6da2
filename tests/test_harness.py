"""The harness: paired (common random numbers), batch-invariant, failures reported, honest CIs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from studygym.agents.policy import Constant
from studygym.evaluation.harness import bootstrap_ci, evaluate, leaderboard_markdown, summarize

SMALL = dict(n_items=6, slots_per_day=4, n_days=6)


class RoundRobin:
    """Shows item t mod N at step t (a plain observation-only policy for harness tests)."""

    privileged = False

    def __init__(self, n_items, name="cycle"):
        self.n_items, self.name = n_items, name

    def init(self, key, env_params):
        return jnp.int32(0)

    def act(self, key, pstate, obs):
        return pstate % self.n_items, pstate + 1


class RandomItem:
    privileged = False
    name = "random_item"

    def init(self, key, env_params):
        return ()

    def act(self, key, pstate, obs):
        return jax.random.randint(key, (), 0, SMALL["n_items"]), pstate


class Crashes:
    privileged = False
    name = "crashes"

    def init(self, key, env_params):
        return ()

    def act(self, key, pstate, obs):
        raise RuntimeError("policy bug")


def test_common_random_numbers_pair_identical_policies():
    df = evaluate([RoundRobin(6, "a"), RoundRobin(6, "b"), Constant(6, "rest")], "Review-v0", n_learners=8,
                  seed=3, **SMALL)
    a, b = df[df.policy == "a"].reset_index(), df[df.policy == "b"].reset_index()
    for metric in ("knowledge_final", "retention_delayed", "reviews", "study_minutes", "success_rate"):
        np.testing.assert_array_equal(a[metric], b[metric])
    assert a["knowledge_final"].nunique() > 1  # learners differ from one another
    rest = df[df.policy == "rest"]
    assert (rest["reviews"] == 0).all() and (rest["knowledge_final"] == 0).all()
    assert not df["failed"].any()
    assert set(df.attrs["curves"]["policy"]) == {"a", "b", "rest"}


def test_results_do_not_depend_on_n_learners_or_chunking():
    small = evaluate([RandomItem()], "Review-v0", n_learners=3, seed=5, **SMALL)
    large = evaluate([RandomItem()], "Review-v0", n_learners=7, seed=5, chunk_size=2, **SMALL)
    np.testing.assert_array_equal(small["knowledge_final"], large["knowledge_final"][:3])
    np.testing.assert_array_equal(small["reviews"], large["reviews"][:3])
    other_seed = evaluate([RandomItem()], "Review-v0", n_learners=3, seed=6, **SMALL)
    assert not np.array_equal(small["knowledge_final"], other_seed["knowledge_final"])


def test_failed_policies_are_reported_not_dropped():
    df = evaluate([Constant(99, "out_of_range"), Crashes(), RoundRobin(6)], "Review-v0", n_learners=4,
                  **SMALL)
    summary = summarize(df)
    by_name = summary.set_index("policy")
    assert by_name.loc["out_of_range", "failed"] and "invalid actions" in by_name.loc["out_of_range", "failure"]
    assert by_name.loc["crashes", "failed"] and "policy bug" in by_name.loc["crashes", "failure"]
    assert not by_name.loc["cycle", "failed"]
    board = leaderboard_markdown(summary)
    assert "| failed | crashes |" in board and "| 1 | cycle |" in board


def test_summary_cis_and_paired_differences():
    df = evaluate([RoundRobin(6, "a"), RoundRobin(6, "b"), RandomItem()], "Review-v0", n_learners=16,
                  **SMALL)
    summary = summarize(df, reference="a").set_index("policy")
    for policy in summary.index:
        assert summary.loc[policy, "knowledge_final_lo"] <= summary.loc[policy, "knowledge_final"] \
            <= summary.loc[policy, "knowledge_final_hi"]
    assert summary.loc["b", "knowledge_final_diff"] == 0.0
    assert summary.loc["b", "knowledge_final_diff_lo"] == summary.loc["b", "knowledge_final_diff_hi"] == 0.0
    with pytest.raises(ValueError, match="reference"):
        summarize(df, reference="nope")


def test_bootstrap_ci_covers_the_mean_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = sum(lo <= 0.0 <= hi for lo, hi in (bootstrap_ci(rng.normal(0, 1, 50), 500, s) for s in range(200)))
    assert 0.88 <= covered / 200 <= 0.99


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_learners"):
        evaluate([RandomItem()], "Review-v0", n_learners=0)
    with pytest.raises(ValueError, match="Review-v0"):
        evaluate([RandomItem()], "Reviw-v0")
    with pytest.raises(ValueError, match="unique"):
        evaluate([RoundRobin(6), RoundRobin(6)], "Review-v0", **SMALL)


def _episodes(means: dict, privileged=("planner",), n=40, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    learner = rng.normal(0, 0.05, n)  # shared per-learner effect: the pairing matters
    rows = [{"policy": p, "learner": j, "episode_return": mu + learner[j] + rng.normal(0, 0.005),
             "privileged": p in privileged, "failed": False, "failure": "", "invalid_actions": 0}
            for p, mu in means.items() for j in range(n)]
    return pd.DataFrame(rows)


def test_planner_margin_is_paired_against_the_best_other_policy():
    """The leaderboard's upper-reference line: planner minus the best other policy (privileged and
    learned ones included), with a paired CI, and a plain verdict when the planner is below."""
    from studygym.evaluation.report import planner_margin, planner_margin_markdown

    df = _episodes({"fsrs": 0.80, "hlr_tuned": 0.84, "oracle_greedy": 0.83, "planner": 0.85})
    margin = planner_margin(df, summarize(df, metrics=("episode_return",)))
    assert margin["best"] == "hlr_tuned"
    assert margin["margin"] == pytest.approx(0.01, abs=0.003)
    assert 0 < margin["lo"] < margin["margin"] < margin["hi"] < 0.02  # paired: the learner effect cancels
    assert "at least as good as" in planner_margin_markdown(margin)
    below = _episodes({"ppo": 0.86, "planner": 0.85}, privileged=("planner",))
    low = planner_margin(below, summarize(below, metrics=("episode_return",)))
    assert low["best"] == "ppo" and low["hi"] < 0 and "below" in planner_margin_markdown(low)
    no_planner = _episodes({"fsrs": 0.8}, privileged=())
    assert planner_margin(no_planner, summarize(no_planner, metrics=("episode_return",))) is None
    assert planner_margin_markdown(None) == ""
