"""One clock: the simulated learner and the app-side schedulers agree on what a day is.

FSRS's short-term (same-day) update applies to reviews on the same *calendar* day (a day starts
at ``day_boundary_hour``, 4 am by default, as in Anki and fsrs-rs), never to "less than 24 hours
since the last review": memory has no step at the 24-hour mark.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.agents.schedulers import make_policy
from studygym.agents.schedulers.base import ReviewEvent
from studygym.envs.learners import fsrs

MINUTE = 1.0 / 1440.0


def stabilities_after_second_review(gap_days: float, first_time: float = 0.0, n_keys: int = 512):
    """(grades, stabilities) of one item reviewed at ``first_time`` and again ``gap_days`` later,
    for ``n_keys`` outcome draws (the same draws whatever the gap)."""
    learner = fsrs.FSRS
    params = fsrs.default_params()

    def one(key):
        k_init, k_first, k_second = jax.random.split(key, 3)
        state = learner.init(k_init, params, 1)
        _, state = learner.practice(k_first, state, 0, jnp.float32(first_time), params)
        grade, state = learner.practice(k_second, state, 0, jnp.float32(first_time + gap_days), params)
        return grade, state.stability[0]

    keys = jax.random.split(jax.random.key(3), n_keys)
    grades, stab = jax.vmap(one)(keys)
    return np.asarray(grades), np.asarray(stab)


def test_no_step_in_stability_at_the_24_hour_mark():
    early_grades, early = stabilities_after_second_review(1.0 - 5 * MINUTE)
    late_grades, late = stabilities_after_second_review(1.0 + 5 * MINUTE)
    same = (early_grades == late_grades) & (early_grades == 3)  # Good both times
    assert same.sum() > 100
    ratio = late[same] / early[same]
    assert np.all(ratio < 1.5) and np.all(ratio > 1 / 1.5), (ratio.min(), ratio.max())


def test_same_calendar_day_takes_the_short_term_update():
    # 08:00 and 20:00 the same day: short-term; 08:00 and 05:00 the next morning (21 h later,
    # past the 4 am boundary): long-term, with a much larger gain after a Good answer.
    grades_same, same_day = stabilities_after_second_review(12 / 24)
    grades_next, next_day = stabilities_after_second_review(21 / 24)
    good = (grades_same == 3) & (grades_next == 3)
    assert good.sum() > 100
    assert np.median(next_day[good] / same_day[good]) > 2.0


def test_day_boundary_is_configurable():
    params = fsrs.default_params(start_hour=8.0, day_boundary_hour=4.0)
    # Time 0 is 08:00 of day 0: 03:59 next morning is still day 0, 04:01 is day 1.
    assert int(fsrs.calendar_day(jnp.float32(19.98 / 24), params)) == 0
    assert int(fsrs.calendar_day(jnp.float32(20.02 / 24), params)) == 1
    midnight = fsrs.default_params(start_hour=8.0, day_boundary_hour=0.0)
    assert int(fsrs.calendar_day(jnp.float32(16.02 / 24), midnight)) == 1
    with pytest.raises(ValueError, match="day_boundary_hour"):
        studygym.make("Review-v0", day_boundary_hour=24.0)


def test_review_v0_days_are_calendar_days_for_learner_and_scheduler():
    """Every Review-v0 session lies inside one calendar day, so the app's day counter (course
    day) equals the learner's calendar day at every slot."""
    env, params = studygym.make("Review-v0", n_items=5, n_days=4)
    steps = jnp.arange(env.max_steps)
    times = jax.vmap(lambda s: env.time(s, params))(steps)
    learner_day = np.asarray(fsrs.calendar_day(times, params.learner))
    app_day = np.asarray(steps) // env.config.slots_per_day
    assert np.array_equal(learner_day, app_day)


def test_fsrs_scheduler_counts_calendar_days():
    env, _ = studygym.make("Review-v0", n_items=3)
    scheduler = make_policy("fsrs", env)
    est = scheduler.init_items(3)
    est = type(est)(*(x[0] for x in (est.stability, est.difficulty, est.interval)))
    first = scheduler.update_item(est, ReviewEvent(grade=jnp.int32(3), first=jnp.bool_(True),
                                                   elapsed_days=jnp.float32(0), calendar_days=jnp.int32(0),
                                                   calendar_elapsed=jnp.float32(0),
                                                   today=jnp.int32(0)))

    def second(elapsed, calendar):
        return scheduler.update_item(first, ReviewEvent(grade=jnp.int32(3), first=jnp.bool_(False),
                                                        elapsed_days=jnp.float32(elapsed),
                                                        calendar_days=jnp.int32(calendar),
                                                        calendar_elapsed=jnp.float32(calendar), today=jnp.int32(calendar)))

    # The next session, 23.5 h later: a whole calendar day, the long-term update.
    next_session = second(1.0 - 30 * MINUTE, 1)
    one_day = second(1.0, 1)
    assert float(next_session.stability) == pytest.approx(float(one_day.stability), rel=1e-6)
    # Same calendar day: the short-term update, far smaller.
    assert float(second(0.2, 0).stability) < 0.5 * float(one_day.stability)


def test_a_course_day_is_a_whole_number_of_real_days():
    with pytest.raises(ValueError, match="night_hours"):
        studygym.make("Review-v0", slot_minutes=30.0)  # the default night then makes a 28.5-hour day
    env, params = studygym.make("Review-v0", slot_minutes=30.0, night_hours=19.0)
    assert float(env.day_length(params)) == pytest.approx(1.0)


def test_pimsleur_day_step_is_due_at_the_next_session():
    """An interval of 0.99 days counts as one calendar day (due at the next session's first slot)."""
    from studygym.agents.schedulers.base import SchedulerState

    env, params = studygym.make("Review-v0", n_items=2)
    scheduler = make_policy("pimsleur", env)
    items = scheduler.init_items(2).replace(interval=jnp.asarray([0.993, 1.0], jnp.float32))
    state = scheduler.init(jax.random.key(0), params).replace(last_day=jnp.asarray([0, 0], jnp.int32))
    view = scheduler.view(env.reset(jax.random.key(0), params)[0]).replace(
        seen=jnp.asarray([True, True]), days_since_review=jnp.asarray([0.98, 0.98], jnp.float32),
        today=jnp.int32(1))
    assert np.asarray(scheduler.due(items, view, state)).tolist() == [True, True]
