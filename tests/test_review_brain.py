"""Review-v0 on the brain learner: nights at the right time, delayed retention over nights, presets
by name, and the harness, classic schedulers and PPO running on it unchanged."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.agents.schedulers import make_policy
from studygym.evaluation.harness import evaluate, learner_keys, make_episode_fn

SMALL = dict(learner="brain", n_items=12, slots_per_day=4, n_days=8)


def test_nights_fall_sleep_hours_before_the_first_slot_and_the_delay_sleeps_its_nights():
    """Each night starts ``sleep_hours`` before the next day's first slot and lasts min(trait,
    ``sleep_hours``); the delayed test sleeps ``delay_days`` nights at the same clock time."""
    env, params = studygym.make("Review-v0", **SMALL)
    step = jax.jit(env.step)
    day_start = float(env.time(4, params))
    cases = [(8.0, 8.0, "lab_novice"), (8.0, 5.0, "sleep_deprived"), (6.0, 6.0, "lab_novice")]
    for sleep_hours, slept, preset in cases:
        _, p = studygym.make("Review-v0", **SMALL, sleep_hours=sleep_hours, preset=preset)
        obs, state = env.reset(jax.random.key(0), p)
        for t in range(4):
            assert float(state.learner.last_sleep) < 0  # no night during the first day's session
            obs, state, *_ = step(jax.random.key(t), state, t, p)
        bedtime = day_start - sleep_hours / 24.0
        assert float(state.learner.last_sleep) == pytest.approx(bedtime, abs=1e-5)
        assert float(state.learner.awake_since) == pytest.approx(bedtime + slept / 24.0, abs=1e-5)
    # The last case to the end: the delay's nights, by the learner protocol step by step.
    for t in range(4, env.max_steps):
        obs, state, reward, terminated, truncated, info = step(jax.random.key(t), state, t % 12, p)
    learner, night = env.learner, p.learner.replace(sleep_duration_hours=jnp.float32(6.0))
    end = float(env.time(env.max_steps, p))
    memory = state.learner
    for day in range(env.config.delay_days):
        bedtime = end + 1.0 + day - 6.0 / 24.0
        memory = learner.sleep(learner.elapse(memory, bedtime, night), bedtime, night)
        assert float(memory.awake_since) == pytest.approx(end + 1.0 + day, abs=1e-4)
    later = end + env.config.delay_days
    expected = jnp.mean(learner.recall_prob(learner.elapse(memory, later, night), later, night))
    assert bool(terminated)
    assert float(info["retention_delayed"]) == pytest.approx(float(expected), abs=1e-5)


def paired_retention(policy_name: str, variants: dict, n_learners: int = 128, **config) -> dict:
    """retention_delayed per learner for each params variant: the harness's episode on the same
    learners (same keys), compiled once with the params as an argument."""
    env, params = studygym.make("Review-v0", **config)
    policy = make_policy(policy_name, env)
    run = jax.jit(jax.vmap(lambda key, p: make_episode_fn(env, p, policy)(key)[0]["retention_delayed"],
                           in_axes=(0, None)))
    keys = learner_keys(0, np.arange(n_learners))
    out = {}
    for name, overrides in variants.items():
        _, p = studygym.make("Review-v0", **config, **overrides)
        out[name] = np.asarray(run(keys, p))
    return out


def test_sleep_and_presets_move_retention_in_the_documented_direction():
    """Paired learners under FSRS scheduling: shorter nights lower delayed retention (sleep
    restriction, Crowley et al. 2024); older adults (Spencer et al. 2007) and sleep-deprived
    learners retain less than lab novices; experienced Anki users (FSRS-6's flatter curve) more."""
    config = dict(learner="brain", n_items=20, slots_per_day=5, n_days=10)
    r = paired_retention("fsrs", {"default": {}, "short_nights": dict(sleep_hours=3.0),
                                  "sleep_deprived": dict(preset="sleep_deprived"),
                                  "older_adult": dict(preset="older_adult"),
                                  "anki_like": dict(preset="anki_like")}, **config)

    def effect(a, b):
        diff = r[a] - r[b]
        return diff.mean(), diff.mean() / diff.std(ddof=1)

    for worse in ("short_nights", "sleep_deprived", "older_adult"):
        gain, dz = effect("default", worse)
        assert gain > 0.02 and dz > 0.5, worse
    gain, dz = effect("anki_like", "default")
    assert gain > 0.02 and dz > 0.5


def test_harness_runs_classic_schedulers_on_brain_review_with_a_preset():
    df = evaluate(["fsrs", "random"], "Review-v0", n_learners=4, seed=0, curves=False,
                  learner="brain", preset="older_adult", n_items=6, slots_per_day=3, n_days=3)
    assert not df["failed"].any()
    assert df["retention_delayed"].between(0.0, 1.0).all() and (df["retention_delayed"] > 0).all()


@pytest.mark.parametrize("override, message", [
    (dict(learner="brain", preset="olderadult"), "older_adult"),
    (dict(preset="older_adult"), "brain"),
    (dict(learner="brain", preset="anki_like", sleep_hours=30.0), "sleep_hours"),
])
def test_bad_preset_input_raises_clearly(override, message):
    with pytest.raises(ValueError, match=message):
        studygym.make("Review-v0", **override)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ["Review-v0", "Curriculum-v0"])
def test_ppo_trains_on_brain_learners(env_id):
    from studygym.agents import ppo

    overrides = dict(n_items=6, slots_per_day=3, n_days=3)
    if env_id == "Review-v0":
        overrides["learner"] = "brain"
    else:
        overrides["n_clusters"] = 2
    trained = ppo.train(env_id, 2 * 8 * 9, seed=0, overrides=overrides, n_learners=8, n_steps=9, hidden=8)
    df = evaluate([trained.policy()], env_id, n_learners=4, seed=1, curves=False, **overrides)
    assert not df["failed"].any()


@pytest.mark.parametrize("preset", ["lab_novice", "calibrated"])
def test_practice_and_restudy_at_item_n_leave_the_brain_state_unchanged(preset):
    """Review-v0 rests at item ``n_items`` (out_of_range_item_rests): after exposures that leave dopamine,
    tags, captured salience and labile traces behind, practice and restudy there change nothing, bit for bit,
    while practice at a real item does change the state."""
    env, params = studygym.make("Review-v0", **SMALL, preset=preset)
    learner, p = env.learner, params.learner
    assert learner.out_of_range_item_rests
    state = learner.init(jax.random.key(0), p, 12)
    for t, item in enumerate([0, 1, 0, 2, 1, 0]):
        _, state = learner.practice(jax.random.key(t), state, item, 0.01 * t, p)
    assert float(state.pool) > 0 and float(jnp.max(state.captured)) > 0 and float(jnp.max(state.labile)) > 0
    now = 0.07
    _, rested = jax.jit(learner.practice)(jax.random.key(9), state, 12, now, p)
    restudied = jax.jit(learner.restudy)(state, 12, now, p)
    for after in (rested, restudied):
        for old, new in zip(jax.tree.leaves(state), jax.tree.leaves(after)):
            np.testing.assert_array_equal(np.asarray(new), np.asarray(old))
    _, practiced = jax.jit(learner.practice)(jax.random.key(9), state, 3, now, p)
    assert bool(practiced.seen[3]) and not bool(state.seen[3])
    # The reviewed item's time, seen flag and tag are written (a5084b5 computes these writes from the captured
    # dopamine, for XLA's ordering): exactly now, True and a positive tag; every other item keeps its values.
    assert float(practiced.last_review[3]) == np.float32(now) and float(practiced.tag[3]) > 0
    others = np.arange(12) != 3
    for name in ("last_review", "seen", "tag"):
        np.testing.assert_array_equal(np.asarray(getattr(practiced, name))[others], np.asarray(getattr(state, name))[others])
