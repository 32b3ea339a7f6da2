"""The planner on Deck-v0, Practice-v0 and SSPMMC-DHP-v0 (PortfolioPlanner): the upper reference of
each leaderboard, paired on the same learners, on small configurations (seconds each in CI)."""

import functools

import numpy as np
import pytest

import studygym
from studygym.agents.schedulers import make_policy
from studygym.agents.schedulers.planner import ClusteredOracle, PortfolioPlanner, TrueDHPScheduler
from studygym.agents.schedulers.practice import OracleTarget
from studygym.evaluation.harness import evaluate
from studygym.evaluation.suites import all_policies

SMALL = {
    "Deck-v0": {"deck_size": 200, "n_days": 90},
    "Practice-v0": {"n_days": 3, "trials_per_day": 20},
    "SSPMMC-DHP-v0": {"deck_size": 300, "n_days": 250, "day_cost_limit": 30.0},
}


#: The strongest rows of each leaderboard (measured at the committed results): the default test
#: pairs the planner with these; the slow test with every row of ``all_policies``.
STRONGEST = {
    "Deck-v0": ("fsrs_dr_0.95", "fsrs_dr_0.90", "anki_sm2"),
    "Practice-v0": ("oracle_85", "staircase_2down1up", "adaptive_85"),
    "SSPMMC-DHP-v0": ("sspmmc", "dhp_threshold"),
}


@functools.lru_cache(maxsize=None)  # each env's leaderboard is evaluated once per test session
def paired_gaps(env_id: str, n_learners: int, every: bool = False, seed: int = 3) -> dict:
    """Per policy of the env's leaderboard (all_policies; only :data:`STRONGEST` unless ``every``):
    the paired difference planner - policy in episode_return, per learner."""
    overrides = SMALL[env_id]
    env, _ = studygym.make(env_id, **overrides)
    policies = all_policies(env)
    assert [p.name for p in policies].count("planner") == 1
    if not every:
        policies = [p for p in policies if p.name in STRONGEST[env_id] + ("planner",)]
        assert len(policies) == len(STRONGEST[env_id]) + 1
    df = evaluate(policies, env_id, n_learners=n_learners, seed=seed, curves=False, **overrides)
    assert not df["failed"].any(), df.loc[df["failed"], "failure"].tolist()
    table = df.pivot_table(index="learner", columns="policy", values="episode_return")
    return {name: (table["planner"] - table[name]).to_numpy() for name in table.columns if name != "planner"}


@pytest.mark.parametrize("env_id", list(SMALL))
def test_planner_is_listed_and_privileged_on_every_portfolio_env(env_id):
    env, _ = studygym.make(env_id, **SMALL[env_id])
    planner = make_policy("planner", env)
    assert isinstance(planner, PortfolioPlanner)
    assert planner.privileged
    assert planner.names[planner.base_index] in planner.names


@pytest.mark.parametrize("env_id", list(SMALL))
def test_planner_scores_at_least_the_strongest_policies_paired(env_id):
    # SSPMMC-DHP-v0's small deck: with 2 futures the planner lost 2 words on 1 of 8 learners to sspmmc
    # (whole-word returns: two futures agreeing exactly pass the paired test on noise); the futures now
    # fill a word-day budget (SSPMMC_ROLLOUT_WORD_DAYS), 8 on this deck.
    gaps = paired_gaps(env_id, n_learners=8)
    means = {name: float(gap.mean()) for name, gap in gaps.items()}
    assert min(means.values()) >= 0.0, means


@pytest.mark.slow
@pytest.mark.parametrize("env_id", list(SMALL))
def test_planner_scores_at_least_every_leaderboard_policy_paired(env_id):
    gaps = paired_gaps(env_id, n_learners=32, every=True)
    means = {name: float(gap.mean()) for name, gap in gaps.items()}
    assert min(means.values()) >= 0.0, means


def test_deck_planner_beats_the_best_fixed_retention_paired():
    """On Deck-v0 the replanned retention is strictly better than any one retention for the run."""
    gaps = paired_gaps("Deck-v0", n_learners=8)
    fixed = {name: gap for name, gap in gaps.items() if name.startswith("fsrs_dr_")}
    best = min(fixed, key=lambda name: fixed[name].mean())
    gap = fixed[best]
    assert gap.mean() > 2.0 * gap.std(ddof=1) / np.sqrt(gap.size), (best, gap.mean())


def test_practice_clustered_order_beats_oracle_85_paired():
    env_id = "Practice-v0"
    env, _ = studygym.make(env_id, **SMALL[env_id])
    df = evaluate([ClusteredOracle(env, 0.85), OracleTarget(env, 0.85)], env_id, n_learners=8, seed=5,
                  curves=False, **SMALL[env_id])
    table = df.pivot_table(index="learner", columns="policy", values="episode_return")
    gap = (table["oracle_85_clustered"] - table["oracle_85"]).to_numpy()
    assert gap.mean() > 2.0 * gap.std(ddof=1) / np.sqrt(gap.size), gap


def test_true_dhp_scheduler_matches_sspmmc_at_the_registered_default():
    """At forget_sd = 0 with the app's coefficients equal to the learner's, the privileged DP on the
    true memory gives the same intervals as SSP-MMC on the app's estimates (same episode)."""
    env_id = "SSPMMC-DHP-v0"
    env, _ = studygym.make(env_id, **SMALL[env_id])
    from studygym.agents.schedulers.sspmmc import SSPMMCScheduler

    df = evaluate([TrueDHPScheduler(env), SSPMMCScheduler(env)], env_id, n_learners=4, seed=2, curves=False,
                  **SMALL[env_id])
    table = df.pivot_table(index="learner", columns="policy", values="episode_return")
    np.testing.assert_allclose(table["dhp_true"], table["sspmmc"])


def test_portfolio_planner_rejects_item_planner_settings_and_unknown_bases():
    env, _ = studygym.make("Deck-v0", **SMALL["Deck-v0"])
    with pytest.raises(ValueError, match="n_candidates"):
        make_policy("planner", env, n_candidates=2)
    with pytest.raises(ValueError, match="base must be one of"):
        make_policy("planner", env, base="fsrs_dr_0.42")
    review, _ = studygym.make("Review-v0", n_items=6, n_days=3)
    with pytest.raises(ValueError, match="candidates"):
        make_policy("planner", review, candidates=["hlr"])


def test_sspmmc_futures_fill_the_word_day_budget():
    """Small decks get more futures (8 on the test deck); the papers' 10,000-word deck keeps the floor
    of 2, so results/papers/ssp-mmc's planner row is unchanged."""
    from studygym.agents.schedulers.planner import portfolio_defaults

    small, _ = studygym.make("SSPMMC-DHP-v0", **SMALL["SSPMMC-DHP-v0"])
    default, _ = studygym.make("SSPMMC-DHP-v0")
    assert portfolio_defaults(small)["n_samples"] == 8
    assert portfolio_defaults(default)["n_samples"] == 2
    assert PortfolioPlanner(small).n_samples == 8
