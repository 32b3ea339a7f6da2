"""Sleep-v0: the night mechanics, the reward identity, the cram fact on the env, bad input.

Gymnasium's and SB3's env checkers run on every registered env in tests/test_gym.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.agents.schedulers import CLASSIC
from studygym.agents.schedulers.tutoring import cram, spaced_sleep, tutoring_baseline
from studygym.envs.core import scripted_rollout
from studygym.evaluation.harness import evaluate
from conftest import assert_classic_schedulers_run_unchanged

ENV, PARAMS = studygym.make("Sleep-v0")
N = ENV.config.n_items
SPD = ENV.config.slots_per_day  # 96 slots of 15 min from 08:00
REST, SLEEP = N, N + 1


ROLLOUT = jax.jit(lambda keys, params, actions: scripted_rollout(ENV, keys, params, actions))  # one compile


def rollout(actions, params=PARAMS, n_learners=4):
    actions = jnp.asarray(np.broadcast_to(actions, (ENV.max_steps,)), jnp.int32)
    return ROLLOUT(jax.random.split(jax.random.key(0), n_learners), params, actions)


def hour_step(day, hour):
    """Step of ``hour`` o'clock on ``day`` (days run from 08:00 to 08:00)."""
    return day * SPD + int(round((hour - 8.0) % 24 * SPD / 24))


def evening_study():
    """Round-robin over the items from 18:00 to 23:00 each day, rest (hence bed at 23:00) otherwise."""
    actions = np.full(ENV.max_steps, REST)
    for day in range(ENV.config.exam_day):
        start = hour_step(day, 18)
        actions[start:start + 20] = np.arange(20) % N
    return actions


def test_night_mechanics():
    # Always rest: the learner goes to bed at 23:00 (rest at night) and wakes at 08:00.
    state, (_, _, _, info) = rollout(REST)
    fell = np.flatnonzero(np.asarray(info["fell_asleep"][0]))
    assert list(fell) == [hour_step(d, 23) for d in range(ENV.config.exam_day)]
    asleep = np.asarray(info["asleep"][0])
    assert asleep[hour_step(0, 23) + 1:SPD].all() and not asleep[SPD] and not asleep[:hour_step(0, 23) + 1].any()
    assert not np.asarray(info["involuntary_sleep"]).any() and int(state.nights[0]) == ENV.config.exam_day

    # Choosing sleep at 08:00: asleep until 08:00 the next day, whatever the actions meanwhile.
    actions = np.zeros(ENV.max_steps, int)
    actions[0] = SLEEP
    state, (_, _, _, info) = rollout(actions)
    assert np.asarray(info["asleep"][0, 1:SPD]).all() and int(info["reviews"][0, SPD - 1]) == 0
    assert int(info["reviews"][0, SPD]) == 1  # awake again: item 0 is studied

    # Never rest, never sleep (item 0 every slot): awake from 07:00, asleep after 26 h awake at 09:00
    # on day 1 (involuntarily), until 08:00 on day 2; the actions while asleep are ignored.
    state, (_, _, _, info) = rollout(0)
    fell = np.flatnonzero(np.asarray(info["fell_asleep"][0]))
    assert fell[0] == hour_step(1, 9) and np.asarray(info["involuntary_sleep"][0, fell]).all()
    reviews = np.asarray(info["reviews"][0])
    assert reviews[2 * SPD - 1] == reviews[fell[0]] and reviews[2 * SPD] == reviews[fell[0]] + 1
    assert not np.asarray(info["invalid_action"]).any()


def test_invalid_actions_rest_and_are_flagged():
    _, (_, _, _, info) = rollout(N + 2)
    assert np.asarray(info["invalid_action"]).all() and int(info["reviews"][0, -1]) == 0


def test_return_equals_the_documented_objective():
    params = PARAMS.replace(exam_weight=jnp.float32(2.0), retention_weight=jnp.float32(0.5),
                            cost_per_minute=jnp.float32(0.01))
    _, (_, reward, terminated, info) = rollout(evening_study(), params)
    assert np.asarray(terminated[:, -1]).all() and not np.asarray(terminated[:, :-1]).any()
    exam, retention = np.asarray(info["exam_score"][:, -1]), np.asarray(info["retention_delayed"][:, -1])
    minutes = np.asarray(info["study_minutes"][:, -1])
    objective = 2.0 * exam + 0.5 * retention - 0.01 * minutes
    np.testing.assert_allclose(np.asarray(reward).sum(1), objective, atol=1e-4)
    assert (exam > 0.5).all() and (retention > 0.3).all() and (minutes > 5).all()
    np.testing.assert_array_equal(exam, np.asarray(info["knowledge_final"][:, -1]))


def test_cram_scores_near_spaced_on_the_exam_but_far_worse_a_week_later_and_overall():
    """An all-nighter before the exam (cram: 56 reviews from 18:00 to the morning) scores near
    spaced study with sleep (60 reviews, evening sessions, bed at 23:00) on the exam, far worse a
    week later, and worse on the combined reward (Cousins et al. 2019, Sleep 42:zsy207: cramming ~
    a nap at 30 min, only the nap's advantage left at a week; Newbury et al. 2021, Psych Bull:
    sleep deprivation after learning g = 0.28). 128 paired learners (common random numbers)."""
    df = evaluate([cram(ENV), spaced_sleep(ENV)], "Sleep-v0", n_learners=128, curves=False)
    assert not df["failed"].any()
    by = {p: part.set_index("learner") for p, part in df.groupby("policy")}
    spaced, crammed = by["spaced+sleep"], by["cram"]
    assert abs(crammed["reviews"].mean() - spaced["reviews"].mean()) <= 6  # equal effort, give or take

    def combined(part):
        return part["knowledge_final"] + part["retention_delayed"] - float(PARAMS.cost_per_minute) * part["study_minutes"]

    exam_gap = (spaced["knowledge_final"] - crammed["knowledge_final"]).mean()
    week = spaced["retention_delayed"] - crammed["retention_delayed"]
    total = combined(spaced) - combined(crammed)
    assert crammed["knowledge_final"].mean() > 0.85 and abs(exam_gap) < 0.08
    assert week.mean() > 0.2 and week.mean() / week.std() > 1.0 and week.mean() > 4 * abs(exam_gap)
    assert total.mean() > 0.2 and total.mean() / total.std() > 1.0


def test_a_classic_scheduler_runs_unchanged():
    """FSRS, written for Review-v0, on Sleep-v0 as is (it rests when nothing is due: bed at 23:00).
    The Bedtime and Cram wrappers run round robin unchanged inside (test above); every classic
    scheduler: the slow test below."""
    df = evaluate(["fsrs"], "Sleep-v0", n_learners=8, curves=False)
    assert not df["failed"].any() and (df["invalid_actions"] == 0).all()
    assert (df["reviews"] >= N).all() and (df["retention_delayed"] > 0.2).all()


def test_baselines_by_name():
    assert tutoring_baseline("threshold+bed22", ENV).name == "threshold+bed22"
    assert tutoring_baseline("cram", ENV).name == "cram" and tutoring_baseline("fsrs", ENV) is None
    from studygym.evaluation.suites import all_policies, policy_by_name

    names = [p.name for p in all_policies(ENV)]
    assert {"cram", "spaced+sleep", "fsrs+bed23", "round_robin+bed23", "threshold+bed23"} <= set(names)
    assert set(CLASSIC) <= set(names) and policy_by_name("spaced+sleep", ENV).name == "spaced+sleep"


def test_every_classic_scheduler_runs_unchanged():
    """README: classic schedulers run on Sleep-v0 unchanged (default CI: all of them, 2 learners)."""
    assert_classic_schedulers_run_unchanged("Sleep-v0")


@pytest.mark.parametrize("override, name", [
    (dict(slots_per_day=7), "slots_per_day"), (dict(exam_day=0), "exam_day"),
    (dict(retention_delay_days=-1), "retention_delay_days"), (dict(wake_hour=25.0), "wake_hour"),
    (dict(bed_hour=8.0), "bed_hour"), (dict(max_awake_hours=0.0), "max_awake_hours"),
    (dict(exam_delay_hours=30.0), "exam_delay_hours"), (dict(exam_weight=-1.0), "exam_weight"),
    (dict(sleep_duration_hours=30.0), "sleep_duration_hours"),
])
def test_bad_input_raises_value_error_naming_it(override, name):
    with pytest.raises(ValueError, match=name):
        studygym.make("Sleep-v0", **override)


def test_bad_wrapper_settings_raise():
    from studygym.agents.schedulers import make_policy
    from studygym.agents.schedulers.tutoring import Bedtime

    with pytest.raises(ValueError, match="study_from_hour"):
        Bedtime(ENV, make_policy("fsrs", ENV), bed_hour=20.0, study_from_hour=21.0)
    review, _ = studygym.make("Review-v0")
    with pytest.raises(ValueError, match="Sleep-v0"):
        Bedtime(review, make_policy("fsrs", review))


@pytest.mark.parametrize("env_id", ["Sleep-v0", "Tagging-v0"])
def test_brain_presets_through_make(env_id):
    _, params = studygym.make(env_id, preset="older_adult")
    assert float(params.learner.age_factor) == 1.0
    with pytest.raises(ValueError, match="older_adult"):
        studygym.make(env_id, preset="older_adlt")
