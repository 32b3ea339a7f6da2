"""The planner as the upper reference: policy improvement over its base on the true learner."""

import numpy as np
import pytest

import studygym
from studygym.agents.schedulers import make_policy
from studygym.evaluation.harness import evaluate

SMALL = {"n_items": 6, "n_days": 3}


def test_planner_improves_on_its_base_policy_paired():
    env, _ = studygym.make("Review-v0", **SMALL)
    planner = make_policy("planner", env, base="hlr", base_settings={"threshold": 0.5}, window=None,
                          n_samples=4, n_candidates=2)
    base = make_policy("hlr", env, threshold=0.5)
    df = evaluate([planner, base], "Review-v0", n_learners=16, seed=11, curves=False, **SMALL)
    table = df.pivot_table(index="learner", columns="policy", values="episode_return")
    gain = (table["planner"] - table["hlr"]).to_numpy()
    assert not df["failed"].any()
    assert bool(df.loc[df["policy"] == "planner", "privileged"].all())
    assert gain.mean() > 0.0, gain


def test_planner_on_deck_plans_over_whole_policies_and_its_item_rule_refuses_it():
    """Deck-v0's action is a retention, not an item: the one 'planner' name gives the policy-level
    planner there, and the item planner's true-recall rule refuses the env by name."""
    from studygym.agents.schedulers.planner import PortfolioPlanner, RecallRule

    env, _ = studygym.make("Deck-v0", deck_size=20, n_days=5)
    assert isinstance(make_policy("planner", env), PortfolioPlanner)
    with pytest.raises(ValueError, match="recall_rule does not support env 'Deck-v0'"):
        RecallRule(env)
