"""scripts/run_agents.py's summary table (the README's agents section)."""

from conftest import load_script

RUN_AGENTS = load_script("run_agents")

LINE = {"setting": "review-fsrs", "env": "Review-v0", "overrides": {"n_items": 60}, "train_steps": 3_006_464,
        "train_seconds": 1.0, "learners": 250, "ppo": 0.80, "best_baseline": "hlr_tuned", "best": 0.85,
        "rank": 5, "n_baselines": 20, "diff": -0.05, "diff_lo": -0.06, "diff_hi": -0.04,
        "planner": 0.86, "planner_diff": 0.01, "planner_diff_lo": 0.005, "planner_diff_hi": 0.015,
        "planner_is_max": True, "headroom": -5.0, "headroom_lo": -6.0, "headroom_hi": -4.0}


def test_summary_states_the_held_out_learner_count_of_each_setting():
    text = RUN_AGENTS.summary_markdown([LINE, {**LINE, "setting": "sleep", "learners": 1000}])
    header, _, row_fsrs, row_sleep = text.splitlines()[:4]
    column = header.split("|").index(" held-out learners ")
    assert row_fsrs.split("|")[column].strip() == "250"
    assert row_sleep.split("|")[column].strip() == "1,000"


def test_summary_verdicts_follow_the_confidence_intervals():
    text = RUN_AGENTS.summary_markdown([LINE, {**LINE, "setting": "tie", "diff_lo": -0.01, "diff_hi": 0.01,
                                               "planner_is_max": False}])
    assert "PPO does NOT beat the best tuned classic (hlr_tuned): it is worse by 0.0500" in text
    assert "the planner scores highest of all policies" in text
    assert "**tie**: PPO and the best tuned classic (hlr_tuned) are tied" in text
    assert "the planner is NOT the highest-scoring policy here" in text


def _episodes(rows):
    import pandas as pd

    return pd.DataFrame([{"policy": p, "learner": j, "episode_return": r} for p, j, r in rows])


def test_add_replaces_the_named_rows_after_the_check_policy_reproduces():
    saved = _episodes([("fixed", 0, 0.5), ("fixed", 1, 0.6), ("ebisu", 0, 0.1), ("ebisu", 1, 0.1),
                       ("hlr", 0, 0.7), ("hlr", 1, 0.8)])
    fresh = _episodes([("fixed", 1, 0.6), ("fixed", 0, 0.5), ("ebisu", 0, 0.3), ("ebisu", 1, 0.4),
                       ("ebisu_tuned", 0, 0.9), ("ebisu_tuned", 1, 0.9)])
    df = RUN_AGENTS.add_to_saved(saved, fresh, ["ebisu", "ebisu_tuned"])
    means = df.groupby("policy")["episode_return"].mean().round(6).to_dict()
    assert means == {"fixed": 0.55, "hlr": 0.75, "ebisu": 0.35, "ebisu_tuned": 0.9}
    assert len(df) == 8


def test_add_refuses_saved_episodes_that_do_not_reproduce():
    import pytest

    saved = _episodes([("fixed", 0, 0.5), ("fixed", 1, 0.6)])
    fresh = _episodes([("fixed", 0, 0.5), ("fixed", 1, 0.61), ("ebisu", 0, 0.3), ("ebisu", 1, 0.4)])
    with pytest.raises(SystemExit, match="do not reproduce"):
        RUN_AGENTS.add_to_saved(saved, fresh, ["ebisu"])
