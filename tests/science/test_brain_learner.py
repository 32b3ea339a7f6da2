"""The brain learner as a learner: protocol, jit/vmap, presets, validation, Review-v0 integration."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.envs.learners import LEARNERS, get_learner
from studygym.envs.learners.brain import BRAIN, PRESETS, BrainParams, brain_preset, reward_event

from cohort import Cohort, _elapse, _recall, at


def test_registered_and_default_is_lab_novice():
    assert get_learner("brain") is BRAIN and "brain" in LEARNERS
    default = BRAIN.default_params()
    lab = brain_preset("lab_novice")
    assert all(np.array_equal(np.asarray(a), np.asarray(b))
               for a, b in zip(jax.tree.leaves(default), jax.tree.leaves(lab)))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_params(name):
    params = brain_preset(name)
    assert isinstance(params, BrainParams)
    BRAIN.validate_params(params)


def test_presets_differ_where_documented():
    lab, old, tired, anki = (brain_preset(n) for n in ("lab_novice", "older_adult", "sleep_deprived", "anki_like"))
    assert float(old.age_factor) > float(lab.age_factor)
    assert float(tired.sleep_duration_hours) < float(lab.sleep_duration_hours)
    assert float(anki.w[20]) < float(lab.w[20])  # Anki's flatter forgetting curve


def test_unknown_preset_names_near_ones():
    with pytest.raises(ValueError, match="older_adult"):
        brain_preset("older_adlut")
    with pytest.raises(ValueError, match="unknown BrainParams field"):
        brain_preset("lab_novice", sleep_trasnfer=2.0)


@pytest.mark.parametrize("field, value", [
    ("sleep_retention", 1.5), ("labile_tau_days", 0.0), ("attention", -0.1), ("interference", float("nan")),
    ("cluster_size", 0.5), ("sleep_capacity", 0.0), ("tag_tau_hours", -1.0), ("age_factor", 2.0),
])
def test_bad_params_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"learner\.{field} must"):
        BRAIN.validate_params(brain_preset("lab_novice", **{field: value}))


def test_bad_params_through_make_name_the_field():
    with pytest.raises(ValueError, match=r"learner\.sleep_quality"):
        studygym.make("Review-v0", learner="brain", sleep_quality=3.0)
    with pytest.raises(ValueError, match=r"learner\.w\[20\]"):
        studygym.make("Review-v0", learner="brain", w=list(np.asarray(brain_preset("lab_novice").w[:20])) + [5.0])


def _episode(env, params, key):
    """A whole Review-v0 episode under a fixed cyclic policy (each slot reviews the next item)."""
    n = env.config.n_items

    def body(state, step_key):
        action = state.step % (n + 1)
        _, state, reward, terminated, _, info = env.step(step_key, state, action, params)
        return state, (reward, info["knowledge"], info["retention_delayed"], terminated)

    _, state = env.reset(key, params)
    return jax.lax.scan(body, state, jax.random.split(key, env.max_steps))


SMALL = dict(n_items=6, n_days=3, slots_per_day=6)
ENV, PARAMS = studygym.make("Review-v0", learner="brain", **SMALL)
#: Episodes vmapped over keys; params are traced, so other param values reuse the compilation.
N_EPISODES = 32
RUN = jax.jit(jax.vmap(lambda key, params: _episode(ENV, params, key), in_axes=(0, None)))


def test_review_env_runs_with_brain_finite_and_deterministic():
    keys = jax.random.split(jax.random.key(0), N_EPISODES)
    keys = keys.at[1].set(keys[0])
    state, (reward, knowledge, retention, terminated) = RUN(keys, PARAMS)
    reward, knowledge, retention = np.asarray(reward), np.asarray(knowledge), np.asarray(retention)
    assert np.all(np.isfinite(reward)) and np.all(np.isfinite(knowledge))
    assert np.array_equal(reward[0], reward[1]) and not np.array_equal(reward[0], reward[2])
    assert bool(terminated[0, -1]) and np.all((retention[:, -1] > 0.0) & (retention[:, -1] <= 1.0))
    assert np.all((knowledge[:, -1] > 0.0) & (knowledge[:, -1] <= 1.0))
    leaves = jax.tree.leaves(state.learner)
    assert all(np.all(np.isfinite(np.asarray(x, np.float64))) for x in leaves if jnp.issubdtype(x.dtype, jnp.floating))


def test_learner_overrides_through_make_reach_the_brain():
    env, no_sleep = studygym.make("Review-v0", learner="brain", sleep_transfer=0.0, attention=0.5, **SMALL)
    assert env.config == ENV.config
    assert float(no_sleep.learner.sleep_transfer) == 0.0 and float(no_sleep.learner.attention) == 0.5
    # Without sleep transfer (attention restored) the delayed retention of the same episodes is lower.
    no_sleep = no_sleep.replace(learner=no_sleep.learner.replace(attention=PARAMS.learner.attention))
    keys = jax.random.split(jax.random.key(1), N_EPISODES)
    with_sleep_retention = float(RUN(keys, PARAMS)[1][2][:, -1].mean())
    no_sleep_retention = float(RUN(keys, no_sleep)[1][2][:, -1].mean())
    assert with_sleep_retention > no_sleep_retention + 0.02


def test_protocol_functions_jit_and_vmap_over_learners_and_params():
    params = brain_preset("lab_novice")
    # A population that varies in attention: vmap over params as well as keys.
    population = jax.tree.map(lambda x: jnp.stack([x] * 4), params).replace(
        attention=jnp.array([1.0, 0.8, 0.6, 0.4], jnp.float32))

    def life(key, params):
        state = BRAIN.init(key, params, 5)
        grade, state = BRAIN.practice(key, state, jnp.int32(2), jnp.float32(0.3), params)
        state = reward_event(state, jnp.float32(0.32), params, 1.0)
        state = BRAIN.elapse(state, jnp.float32(0.95), params)
        state = BRAIN.sleep(state, jnp.float32(0.95), params)
        return grade, BRAIN.recall_prob(state, jnp.float32(1.3), params)

    grade, recall = jax.jit(jax.vmap(life))(jax.random.split(jax.random.key(0), 4), population)
    grade, recall = np.asarray(grade), np.asarray(recall)
    assert grade.shape == (4,) and np.all((grade >= 1) & (grade <= 4))
    assert recall.shape == (4, 5)
    assert np.all(recall[:, [0, 1, 3, 4]] == 0.0)  # unseen items
    assert np.all((recall[:, 2] > 0.0) & (recall[:, 2] < 1.0))
    # Lower attention at encoding -> lower later recall (Craik et al. 1996), learner by learner
    # (the learners differ in traits too, so compare each with itself at full attention).
    full = jax.jit(jax.vmap(life, in_axes=(0, None)))(jax.random.split(jax.random.key(0), 4), params)[1]
    assert np.all(recall[1:, 2] < np.asarray(full)[1:, 2])


def test_elapse_is_free_and_recall_decays_in_closed_form():
    """Wake time passing needs no state update: reading recall later gives the decayed value."""
    cohort = Cohort().practice(0.4, [0])
    state = cohort.state
    later = _elapse(state, jnp.float32(0.6), cohort.params)
    r1 = np.asarray(_recall(later, jnp.float32(0.6), cohort.params))
    r2 = np.asarray(_recall(state, jnp.float32(0.6), cohort.params))
    assert np.array_equal(r1, r2)
    assert np.all(np.asarray(_recall(state, jnp.float32(0.45), cohort.params))[:, 0] > r1[:, 0])


def test_sleep_stabilises_recall_and_slows_forgetting():
    """Declarative sleep effects are reduced loss, not overnight gains (science.md s10; Berres &
    Erdfelder 2021): recall just after a night equals recall at bedtime, later forgetting is slower
    than without the night, and an item with no labile trace left is untouched by sleep."""
    base = Cohort().practice(at(0, 9), [0, 1])
    bedtime, next_evening = at(0, 23), at(1, 21)
    slept = base.fork().sleep(bedtime)
    awake = base.fork()
    np.testing.assert_allclose(slept.recall(bedtime, [0, 1]), awake.recall(bedtime, [0, 1]), atol=2e-4)
    assert np.all(slept.recall(next_evening, [0, 1]) > awake.recall(next_evening, [0, 1]))
    # An old, consolidated item: many nights later its labile trace is ~0; one more night changes
    # neither its stability nor its recall.
    old = base.fork().until(at(40, 9))
    before_s, before_r = old.stability([0]), old.recall(at(40, 22), [0])
    old.sleep(at(40, 23))
    np.testing.assert_allclose(old.stability([0]), before_s, rtol=1e-3)
    np.testing.assert_allclose(old.recall(at(40, 23.5), [0]), before_r, atol=2e-3)


def test_every_param_is_documented_and_validated():
    """Each BrainParams field carries a comment (unit, default, source or rationale) and a range."""
    import dataclasses
    import inspect

    from studygym.envs.learners import brain

    source = inspect.getsource(brain.BrainParams)
    validated = {name for name, *_ in brain._RANGES} | {"w", "success_grade_probs", "first_grade_probs"}
    for field in dataclasses.fields(BrainParams):
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{field.name}:"))
        assert "#" in line and len(line.split("#", 1)[1]) > 40, field.name
        assert field.name in validated, field.name
