"""Tagging-v0: rewards tag recent study (delayed, not immediate, benefit), the budget, baselines, bad input.

Gymnasium's and SB3's env checkers run on every registered env in tests/test_gym.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.agents.schedulers.tutoring import RewardRule, tutoring_baseline
from studygym.envs.core import scripted_rollout
from studygym.evaluation.harness import evaluate
from conftest import assert_classic_schedulers_run_unchanged

# Two days of ten 30-minute slots; items 0..9 are studied on day 0 and retrieved on day 1.
SMALL = dict(n_items=10, slots_per_day=10, n_days=2, reward_budget=3)
ENV, PARAMS = studygym.make("Tagging-v0", **SMALL)
N = ENV.config.n_items
REWARD = N + 1  # block 1: deliver an event, then do the block-0 action


ROLLOUT = jax.jit(lambda keys, params, actions: scripted_rollout(ENV, keys, params, actions))


def rollout(actions, n_learners=128):
    return ROLLOUT(jax.random.split(jax.random.key(0), n_learners), PARAMS, jnp.asarray(actions, jnp.int32))


def study_then_retrieve(rewarded_slots=()):
    actions = np.concatenate([np.arange(N), np.arange(N)])
    actions[list(rewarded_slots)] += REWARD
    return actions


def test_rewards_after_study_help_delayed_not_immediate_recall():
    """Events delivered during day 0's first studies are captured by the items tagged then (studied
    within ~1.5 h before, or while the dopamine lasts) and consolidated at that night's sleep: the
    same learners recall more a week later, and exactly as much before the night (Murayama &
    Kuhbandner 2011, Cognition 119:120; behavioural tagging, Wang, Redondo & Morris 2010, PNAS
    107:19537). Events during day 1's retrievals help less (the items are already consolidated, and a
    success's own surprise is dopamine too) but still help. Same actions and random streams in all
    arms; only the events differ. Measured: +0.026 (d_z 1.8) and +0.011 (d_z 2.0)."""
    _, (_, _, _, plain) = rollout(study_then_retrieve())
    _, (_, _, _, at_study) = rollout(study_then_retrieve(rewarded_slots=(3, 6, 9)))
    _, (_, _, _, at_retrieval) = rollout(study_then_retrieve(rewarded_slots=(13, 16, 19)))
    assert int(at_study["events_used"][0, -1]) == 3 and int(plain["events_used"][0, -1]) == 0
    before_night = N - 2  # knowledge at the last slot of day 0, before the night
    np.testing.assert_allclose(at_study["knowledge"][:, before_night], plain["knowledge"][:, before_night],
                               atol=1e-6)
    study_gain = np.asarray(at_study["retention_delayed"][:, -1] - plain["retention_delayed"][:, -1])
    retrieval_gain = np.asarray(at_retrieval["retention_delayed"][:, -1] - plain["retention_delayed"][:, -1])
    assert study_gain.mean() > 0.015 and study_gain.mean() / study_gain.std() > 1.0 and (study_gain > 0).all()
    assert retrieval_gain.mean() > 0.005 and retrieval_gain.mean() / retrieval_gain.std() > 1.0
    assert study_gain.mean() > retrieval_gain.mean()


def test_budget_is_enforced():
    actions = study_then_retrieve(rewarded_slots=range(2 * N))  # ask for an event at every step
    _, (obs, _, _, info) = rollout(actions)
    delivered = np.asarray(info["reward_event"][0])
    assert delivered.sum() == 3 and delivered[:3].all()
    assert np.asarray(info["reward_denied"][0, 3:]).all() and not np.asarray(info["reward_denied"][0, :3]).any()
    assert int(info["budget_left"][0, -1]) == 0 and int(info["events_used"][0, -1]) == 3
    budget_column = N * 5 + 4
    np.testing.assert_allclose(obs[0, :4, budget_column], [2 / 3, 1 / 3, 0, 0], atol=1e-6)
    assert int(info["reviews"][0, -1]) == 2 * N  # the block-1 action still reviews
    assert not np.asarray(info["invalid_action"]).any()


def test_invalid_actions_rest_and_are_flagged():
    _, (_, _, _, info) = rollout(np.full(2 * N, 2 * (N + 1)))
    assert np.asarray(info["invalid_action"]).all() and int(info["reviews"][0, -1]) == 0
    assert int(info["events_used"][0, -1]) == 0


def test_classic_scheduler_runs_unchanged_and_rewards_do_not_hurt():
    """FSRS as on Review-v0 (block 0 only) and FSRS rewarding every success, same learners."""
    df = evaluate(["fsrs", "fsrs+reward_every_success"], "Tagging-v0", n_learners=32, curves=False, **SMALL)
    assert not df["failed"].any() and (df["invalid_actions"] == 0).all()
    by = {p: part.set_index("learner") for p, part in df.groupby("policy")}
    gain = by["fsrs+reward_every_success"]["retention_delayed"] - by["fsrs"]["retention_delayed"]
    assert gain.mean() > 0.0


@pytest.mark.slow
def test_reward_rules_and_classic_scheduler_run_unchanged():
    """The three reward rules over FSRS and FSRS itself (block 0 only, as on Review-v0) on the same
    learners: never spends nothing; every success spends the budget; the surprise rule spends no
    more than every success; rewards never cost retention."""
    policies = ["fsrs"] + [f"fsrs+reward_{rule}" for rule in ("never", "every_success", "surprise")]
    df = evaluate(policies, "Tagging-v0", n_learners=32, curves=False, **SMALL)
    assert not df["failed"].any() and (df["invalid_actions"] == 0).all()
    by = {p: part.set_index("learner") for p, part in df.groupby("policy")}
    np.testing.assert_allclose(by["fsrs"]["retention_delayed"], by["fsrs+reward_never"]["retention_delayed"])
    for rule in ("every_success", "surprise"):
        gain = by[f"fsrs+reward_{rule}"]["retention_delayed"] - by["fsrs+reward_never"]["retention_delayed"]
        assert gain.mean() >= 0.0


def test_every_classic_scheduler_runs_unchanged():
    """README: classic schedulers run on Tagging-v0 unchanged (default CI: all of them, 2 learners)."""
    assert_classic_schedulers_run_unchanged("Tagging-v0", **SMALL)


def test_baselines_by_name_and_bad_rules():
    from studygym.agents.schedulers import make_policy
    from studygym.evaluation.suites import all_policies

    names = {p.name for p in all_policies(ENV)}
    assert {f"{s}+reward_{r}" for s in ("fsrs", "threshold") for r in ("never", "every_success", "surprise")} <= names
    assert tutoring_baseline("round_robin+reward_every_success", ENV).name == "round_robin+reward_every_success"
    with pytest.raises(ValueError, match="surprise"):
        RewardRule(ENV, make_policy("round_robin", ENV), "surprise")  # no recall estimate to be surprised by
    with pytest.raises(ValueError, match="rule"):
        RewardRule(ENV, make_policy("fsrs", ENV), "sometimes")


@pytest.mark.parametrize("override, name", [
    (dict(reward_budget=-1), "reward_budget"), (dict(learner="fsrs"), "learner"),
    (dict(reward_magnitude=-1.0), "reward_magnitude"), (dict(retention_weight=-0.5), "retention_weight"),
    (dict(n_items=0), "n_items"), (dict(tag_tau_hours=0.0), "tag_tau_hours"),
])
def test_bad_input_raises_value_error_naming_it(override, name):
    with pytest.raises(ValueError, match=name):
        studygym.make("Tagging-v0", **override)
