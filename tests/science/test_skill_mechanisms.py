"""The skill learner's discrimination (strategy choice) and sleep-dependent motor speed-up (issue 18).

Directional tests over paired simulated learners (the same learners and random streams in every arm): with the
``calibrated`` preset, sleep after practice speeds a skill up more than the same time awake (Walker et al. 2002,
Neuron 35:205; Fischer et al. 2002, PNAS 99:11987), and interleaved practice beats blocked practice on a delayed
mixed test (Rohrer, Dedrick & Burgess 2014, Psychon Bull Rev 21:1323); with the mechanisms off the learner is the
one without them, draw for draw.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from studygym.envs.learners.skill import DEFAULTS, PRESETS, SKILL, practice_session, skill_params, skill_preset

N_LEARNERS = 128
N_SKILLS = 4
HOUR = 1.0 / 24.0
MINUTE = HOUR / 60.0

_init = jax.jit(jax.vmap(SKILL.init, in_axes=(0, None, None)), static_argnums=2)
_session = jax.jit(jax.vmap(practice_session, in_axes=(0, 0, None, None, None, None, None)))
_elapse = jax.jit(jax.vmap(SKILL.elapse, in_axes=(0, None, None)))
_sleep = jax.jit(jax.vmap(SKILL.sleep, in_axes=(0, None, None)))
_rt = jax.jit(jax.vmap(SKILL.expected_rt, in_axes=(0, None)))
_test = jax.jit(jax.vmap(SKILL.test_prob, in_axes=(0, None, None)))
_mixed = jax.jit(jax.vmap(SKILL.mixed_test_prob, in_axes=(0, None, None)))
_choice = jax.jit(jax.vmap(SKILL.choice_prob, in_axes=(0, None)))


def cohort(params, seed=0):
    keys = jax.random.split(jax.random.key(seed), N_LEARNERS)
    return _init(keys, params, N_SKILLS), keys


def session(states, keys, params, skills, difficulty, start):
    return _session(keys, states, params, jnp.asarray(skills, jnp.int32), jnp.float32(np.nan),
                    jnp.float32(difficulty), jnp.float32(start))


def dz(diff):
    diff = np.asarray(diff, np.float64)
    return diff.mean() / diff.std(ddof=1)


def test_presets_and_validation():
    assert set(PRESETS) >= {"default", "calibrated"}
    assert DEFAULTS["choice_error"] == 0.0 and DEFAULTS["motor_sleep_gain"] == 0.0  # off in Practice-v0's learner
    calibrated = skill_preset("calibrated")
    assert float(calibrated.choice_error) > 0 and float(calibrated.motor_sleep_gain) > 0
    SKILL.validate_params(calibrated)
    with pytest.raises(ValueError, match="unknown skill preset"):
        skill_preset("calibratd")
    with pytest.raises(ValueError, match="choice_error"):
        SKILL.validate_params(skill_params(choice_error=1.5))
    with pytest.raises(ValueError, match="motor_sleep_gain"):
        SKILL.validate_params(skill_params(motor_sleep_gain=1.0))


def _trajectory(params, seed=5):
    """Practice (interleaved then blocked), a night, more practice: everything a protocol sees."""
    states, keys = cohort(params, seed)
    states, (s1, rt1, x1) = session(states, keys, params, np.tile([0, 1, 2, 3], 10), -0.5, 21 * HOUR)
    states = _sleep(_elapse(states, jnp.float32(23 * HOUR), params), jnp.float32(23 * HOUR), params)
    states, (s2, rt2, x2) = session(states, keys, params, np.repeat([0, 2], 20), -0.5, 1 + 9 * HOUR)
    return [np.asarray(a) for a in (s1, rt1, x1, s2, rt2, x2, _rt(states, params), _test(states, 0.0, params),
                                    _mixed(states, 0.0, params))]


def test_mechanisms_off_reproduce_the_learner_without_them():
    """choice_error = 0 and motor_sleep_gain = 0: the other new parameters change nothing, draw for draw, and the
    mixed test equals the per-skill test; the traits drawn before the mechanisms existed are unchanged when they
    are on (the choice error has its own random stream)."""
    base = _trajectory(skill_params())
    other = _trajectory(skill_params(choice_error_sd=1.5, discrimination_trials=3.0, motor_sleep_trials=5.0))
    for a, b in zip(base, other):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(base[-1], base[-2])
    off, _ = cohort(skill_params())
    on, _ = cohort(skill_preset("calibrated"))
    for field in ("x_init", "learn_mult", "rt_floor", "rt_range", "rt_tau"):
        np.testing.assert_array_equal(np.asarray(getattr(off, field)), np.asarray(getattr(on, field)))
    assert np.all(np.asarray(off.choice_error) == 0) and np.asarray(on.choice_error).std() > 0


def _speed_change(params, start, nights, n_trials=120):
    """Relative speed change (success / RT at difficulty 0) from the end of a session at ``start`` to 12 h later."""
    states, keys = cohort(params, seed=6)
    states, _ = session(states, keys, params, np.zeros(n_trials), 0.0, start)
    end = start + n_trials * 0.1 * MINUTE
    before = np.asarray(_test(_elapse(states, jnp.float32(end), params), 0.0, params))[:, 0] \
        / np.asarray(_rt(states, params))[:, 0]
    if nights:
        states = _sleep(_elapse(states, jnp.float32(23 * HOUR), params), jnp.float32(23 * HOUR), params)
    after = np.asarray(_test(_elapse(states, jnp.float32(start + 0.5), params), 0.0, params))[:, 0] \
        / np.asarray(_rt(states, params))[:, 0]
    return after / before - 1.0


def test_sleep_after_practice_speeds_a_skill_up_and_wake_does_not():
    """Walker et al. 2002: a night after practice speeds the sequence up (+20%), 12 h awake gives no gain;
    Fischer et al. 2002: sleep beats wake. Without the mechanism the night gives (almost) nothing."""
    params = skill_preset("calibrated")
    sleep = _speed_change(params, 21 * HOUR, nights=1)
    wake = _speed_change(params, 9 * HOUR, nights=0)
    assert sleep.mean() > 0.1 and dz(sleep - wake) > 1.0, (sleep.mean(), wake.mean())
    assert wake.mean() < 0.02
    off = _speed_change(skill_params(), 21 * HOUR, nights=1)
    assert sleep.mean() - off.mean() > 0.1 and abs(off.mean()) < 0.02


def test_the_overnight_speed_gain_needs_practice_and_saturates():
    """The consolidated speed-up grows with the practice done since the last night and saturates: a night after
    no practice speeds nothing up, and doubling a full session's practice barely changes the gain (Walker et al.
    2003, Learn Mem 10:275: doubling initial training does not alter the overnight gain)."""
    params = skill_preset("calibrated")
    states, keys = cohort(params, seed=7)
    slept = _sleep(states, jnp.float32(23 * HOUR), params)
    np.testing.assert_array_equal(np.asarray(_rt(slept, params)), np.asarray(_rt(states, params)))

    def rt_ratio(n_trials):
        after, _ = session(states, keys, params, np.zeros(n_trials), 0.0, 21 * HOUR)
        night = _sleep(after, jnp.float32(23 * HOUR), params)
        return np.asarray(_rt(night, params))[:, 0] / np.asarray(_rt(after, params))[:, 0]

    few, full, double = (1.0 - rt_ratio(n).mean() for n in (6, 120, 240))
    assert 0 < few < 0.5 * full
    assert abs(double - full) < 0.1 * full


def _course(params, plan, seed):
    """Weekly sessions of 12 problems (difficulty -1) following ``plan``; a mixed and a per-skill test 2 weeks
    after the last session; mean success during practice."""
    states, keys = cohort(params, seed)
    practice = []
    for week, skills in enumerate(plan):
        if week:
            states = _sleep(_elapse(states, jnp.float32(7 * week - 7 + 23 * HOUR), params),
                            jnp.float32(7 * week - 7 + 23 * HOUR), params)
        wkeys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, week)
        states, (success, _, _) = session(states, wkeys, params, skills, -1.0, 7 * week + 10 * HOUR)
        practice.append(np.asarray(success, np.float64).mean(1))
    test_time = jnp.float32(7 * (len(plan) - 1) + 14 + 10 * HOUR)
    states = _elapse(states, test_time, params)
    return (np.asarray(_mixed(states, -1.0, params)).mean(1), np.asarray(_test(states, -1.0, params)).mean(1),
            np.mean(practice, 0), np.asarray(_choice(states, params)))


BLOCKED = [np.full(12, s // 2) for s in range(8)]
INTERLEAVED = [np.array([0, 1, 2, 3, 1, 0, 3, 2, 0, 1, 2, 3]) for _ in range(8)]


def test_interleaved_practice_beats_blocked_on_a_delayed_mixed_test():
    """Rohrer et al. 2014: interleaved practice gave 72% vs 38% on an unannounced mixed test two weeks later
    (d = 1.05), although blocked practice lets students assume the strategy and so looks easier during practice.
    Blocked practice never trains the choice; interleaved practice does."""
    params = skill_preset("calibrated")
    mixed_i, _, practice_i, choice_i = _course(params, INTERLEAVED, seed=8)
    mixed_b, _, practice_b, choice_b = _course(params, BLOCKED, seed=8)
    gain = mixed_i - mixed_b
    assert gain.mean() > 0.15 and dz(gain) > 0.5, (mixed_i.mean(), mixed_b.mean())
    assert (practice_b - practice_i).mean() > 0.05  # blocked looks better during practice
    assert np.all(choice_i >= choice_b - 1e-6) and (choice_i - choice_b).mean() > 0.2
    # Blocked practice never switches, so its learners choose as well as a novice does.
    states, _ = cohort(params, seed=8)
    novice = np.broadcast_to(1.0 - np.asarray(states.choice_error)[:, None], choice_b.shape)
    np.testing.assert_allclose(choice_b, novice, rtol=1e-6)


def test_without_discrimination_the_mixed_test_is_the_per_skill_test():
    """With choice_error = 0 every problem's strategy is chosen right, so the mixed test is the per-skill test
    and the interleaving advantage on it is only the skill learner's older contextual-interference gain."""
    params = skill_params()
    mixed_i, test_i, _, choice_i = _course(params, INTERLEAVED, seed=9)
    np.testing.assert_array_equal(mixed_i, test_i)
    assert np.all(choice_i == 1.0)
    with_mechanism, _, _, _ = _course(skill_preset("calibrated"), BLOCKED, seed=9)
    without, _, _, _ = _course(params, BLOCKED, seed=9)
    assert (without - with_mechanism).mean() > 0.2  # the untrained choice is what costs the blocked arm


def test_the_replication_protocols_see_the_mechanisms():
    """``studygym replicate``'s skill protocols with the preset on and off: the calibrated learner shows the
    interleaving advantage on the mixed test and the overnight speed gain; the default learner shows neither."""
    from studygym.envs.learners.brain import BRAIN, brain_preset
    from studygym.evaluation import replicate as R

    def run(params):
        ctx = R.Context(BRAIN, brain_preset("lab_novice"), params, 64, 3)
        return R.rohrer_interleaving(ctx), R._motor_speed_gains(ctx)

    (rohrer_on, motor_on), (rohrer_off, motor_off) = run(skill_preset("calibrated")), run(skill_params())
    assert rohrer_on["interleaved"] - rohrer_on["blocked"] > 0.15 and rohrer_on["interleaved - blocked (d)"] > 0.5
    assert abs(rohrer_off["interleaved"] - rohrer_off["blocked"]) < 0.1
    assert motor_on["sleep"] - motor_on["wake"] > 0.1 and abs(motor_off["sleep"] - motor_off["wake"]) < 0.05
