"""Interval schedulers: each item gets a next interval in days from the scheduler's own estimate.

Fixed intervals, Pimsleur's graduated intervals, Leitner boxes, SuperMemo-2, Anki's SM-2 variant
(as fsrs-optimizer simulates it) and FSRS-6 with its default weights. All share the slot logic of
:class:`~.base.IntervalScheduler`: review the most overdue due item, else introduce a new item,
else rest. Each ``update_item`` is a pure function of one item's estimate and one observed review,
so the interval sequences can be checked by hand (``tests/test_schedulers.py``).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, pytree_dataclass
from studygym.envs.learners import fsrs as fsrs_maths
from studygym.envs.anki import (ANKI_EASE_CHANGE, ANKI_EASY_BONUS, ANKI_EASY_INTERVAL,  # noqa: F401
                                 ANKI_GRADUATING_INTERVAL, ANKI_HARD_FACTOR, ANKI_MIN_EASE, ANKI_START_EASE,
                                 anki_sm2_review)

from .base import IntervalScheduler, ReviewEvent, argmax_where, check_int_kwarg, check_kwarg


# ----------------------------------------------------------------------------------------------
# Fixed intervals and Pimsleur
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class IntervalEstimate:
    interval: Array  # days until the item is due again


@pytree_dataclass
class ExposureEstimate:
    exposures: Array  # reviews so far, the first study included
    interval: Array  # days


def feasible_fixed_interval(n_items: int, slots_per_day: int) -> float:
    """The shortest whole-day interval at which reviewing every item every ``k`` days fits the slots:
    ``k = ceil(n_items / slots_per_day)`` (then at most ``slots_per_day`` items fall due a day)."""
    return float(max(1, math.ceil(n_items / slots_per_day)))


class FixedScheduler(IntervalScheduler):
    """Review every item every ``interval_days`` days, whatever the grade.

    Default: the shortest whole-day interval at which every item fits,
    ``ceil(n_items / slots_per_day)`` days (:func:`feasible_fixed_interval`) for the env it is
    built for: 3 days on default Review-v0 (30 items, 10 slots a day), 6 days with 60 items. Items
    are introduced ``slots_per_day`` a day and each then falls due exactly every ``interval_days``
    days, never more than the day's slots, so no item waits and none is left unintroduced.

    An explicit ``interval_days`` overrides the default. A shorter interval than the default
    starves items: due reviews come before new items, so once the items introduced fill every slot
    of a day no more are introduced (1 day with 60 items and 10 slots keeps reviewing the first 10
    and never meets the other 50).
    """

    name = "fixed"

    def __init__(self, env: Any, interval_days: float | None = None):
        super().__init__(env)
        if interval_days is None:
            interval_days = feasible_fixed_interval(self.n_items, self.slots_per_day)
        self.interval_days = check_kwarg("interval_days", interval_days, 0.0, 36500.0, low_open=True)

    def settings(self) -> dict:
        return {"interval_days": self.interval_days}

    def init_items(self, n_items: int) -> IntervalEstimate:
        return IntervalEstimate(interval=jnp.full(n_items, self.interval_days, jnp.float32))

    def update_item(self, est: IntervalEstimate, event: ReviewEvent) -> IntervalEstimate:
        return est


def pimsleur_interval(exposures: Array) -> Array:
    """Pimsleur's (1967) graduated intervals as half-lives of HLR: ``2^(2.35 n - 16.46)`` days after
    ``n`` exposures, an item being due at its half-life.

    The weights 2.35 and -16.46 are those of Settles & Meeder's code (duolingo/halflife-regression,
    ``experiment.py``, ``SpacedRepetitionModel.predict``, method ``'pimsleur'``, with ``n`` the
    number of past practices); their paper (ACL 2016, appendix A.2) gives them rounded,
    ``Theta = {x_n: 2.4, x_b: -16.5}``, fitted to Pimsleur's schedule of 5 s, 25 s, 2 min, 10 min,
    1 h, 5 h, 1 day, 5 days, 25 days, 4 months and 2 years. The formula gives 4.9 s, 25 s, 2.1 min,
    11 min, 55 min, 4.7 h, 0.99 days, 5.1 days, 26 days, 4.3 months and 1.8 years."""
    return jnp.exp2(2.35 * exposures - 16.46)


class PimsleurScheduler(IntervalScheduler):
    """Pimsleur's graduated-interval recall: the n-th interval is ``2^(2.35 n - 16.46)`` days
    (:func:`pimsleur_interval`).

    The schedule ignores grades (only the number of exposures counts). Its first six intervals are
    under 5 hours and count real time: new items are drilled within the session before the daily
    steps begin. The seventh (0.99 days) counts as one calendar day, like every interval of half a
    day or more (:meth:`~.base.IntervalScheduler.due`).
    """

    name = "pimsleur"

    def init_items(self, n_items: int) -> ExposureEstimate:
        return ExposureEstimate(exposures=jnp.zeros(n_items, jnp.float32),
                                interval=jnp.ones(n_items, jnp.float32))

    def update_item(self, est: ExposureEstimate, event: ReviewEvent) -> ExposureEstimate:
        exposures = est.exposures + 1.0
        return ExposureEstimate(exposures=exposures, interval=pimsleur_interval(exposures))


# ----------------------------------------------------------------------------------------------
# Leitner boxes
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class LeitnerEstimate:
    box: Array  # 1 .. n_boxes
    interval: Array  # days: base^(box - 1)


class LeitnerScheduler(IntervalScheduler):
    """Leitner's boxes (Leitner 1972, "So lernt man lernen") with day intervals as Settles & Meeder
    (ACL 2016, sec. 3.2 and Figure 3) draw "a popular variant": box k is reviewed every
    ``base^(k-1)`` days. A new item enters box 1; a recall promotes it one box (up to
    ``n_boxes``), a failure sends it back to box 1. Defaults: base 2, five boxes (1, 2, 4, 8, 16
    days), Settles & Meeder's Figure 3.

    Leitner's own card box (as secondary sources describe it) had five compartments of growing
    size, reviewed when a compartment filled rather than after a fixed number of days, and a missed
    card went back to the first; Settles & Meeder's variant demotes a missed card "to a shorter
    interval box" (their HLR reading of it, ``h = 2^(right - wrong)``, moves it one box down). The
    return to box 1 here is the card box's rule."""

    name = "leitner"

    def __init__(self, env: Any, base: float = 2.0, n_boxes: int = 5):
        super().__init__(env)
        self.base = check_kwarg("base", base, 1.0, 100.0, low_open=True)
        self.n_boxes = check_int_kwarg("n_boxes", n_boxes, 1)

    def settings(self) -> dict:
        return {"base": self.base, "n_boxes": self.n_boxes}

    def init_items(self, n_items: int) -> LeitnerEstimate:
        return LeitnerEstimate(box=jnp.ones(n_items, jnp.int32), interval=jnp.ones(n_items, jnp.float32))

    def update_item(self, est: LeitnerEstimate, event: ReviewEvent) -> LeitnerEstimate:
        promoted = jnp.minimum(est.box + 1, self.n_boxes)
        box = jnp.where(event.first | (event.grade == 1), 1, promoted)
        interval = jnp.exp((box - 1.0) * jnp.log(self.base))
        return LeitnerEstimate(box=box.astype(jnp.int32), interval=interval.astype(jnp.float32))


# ----------------------------------------------------------------------------------------------
# SuperMemo-2 (Wozniak 1990) and Anki's variant
# ----------------------------------------------------------------------------------------------

#: SM-2 quality q (0..5) for each FSRS grade: Again -> 1 (a failure, q < 3), Hard -> 3 (recalled
#: with serious difficulty), Good -> 4 (after a hesitation), Easy -> 5 (perfect). Index 0 unused.
SM2_QUALITY = (0, 1, 3, 4, 5)
SM2_START_EF = 2.5
SM2_MIN_EF = 1.3


@pytree_dataclass
class SM2Estimate:
    ef: Array  # E-Factor, >= 1.3
    repetition: Array  # successful repetitions in a row (n - 1 in SM-2's I(n))
    interval: Array  # days
    drill: Array  # bool: scored below 4 today, to be repeated after today's reviews


def sm2_quality(grade: Array) -> Array:
    return jnp.asarray(SM2_QUALITY, jnp.float32)[jnp.asarray(grade, jnp.int32)]


def sm2_next_ef(ef: Array, q: Array) -> Array:
    """EF' = EF + (0.1 - (5 - q)(0.08 + (5 - q) 0.02)), floored at 1.3."""
    miss = 5.0 - q
    return jnp.maximum(ef + (0.1 - miss * (0.08 + miss * 0.02)), SM2_MIN_EF)


class SM2Scheduler(IntervalScheduler):
    """SuperMemo-2 as Wozniak specified it (1990; supermemo.com "Algorithm SM-2", adapted from his
    master's thesis "Optimization of learning").

    Each item has an E-Factor (start 2.5). After a response of quality q >= 3 the next interval is
    I(1) = 1, I(2) = 6, I(n) = I(n-1) x EF (fractions rounded up), and EF becomes
    EF + (0.1 - (5-q)(0.08 + (5-q) 0.02)), at least 1.3. A response with q < 3 restarts the
    repetitions from I(1) with EF unchanged. The interval uses the E-Factor held before this
    response (the order of the text's steps 3-5, and of common implementations); the new EF
    applies from the next repetition. An item's first study counts as its first repetition
    (n = 1, next interval 1 day).

    FSRS grades map to SM-2 qualities as Again -> 1, Hard -> 3, Good -> 4, Easy -> 5 (Again is
    a failure).

    ``drill=True`` renders the text's last step (step 7 of 7): "After each repetition session of a
    given day repeat again all items that scored below four in the quality assessment. Continue
    the repetitions until all of these items score at least four." The drill comes *after* the
    day's session, and a session is what the slot rule of :class:`~.base.IntervalScheduler`
    schedules for the day: the due reviews, then new items. So a drill repetition only takes a
    slot that rule would leave empty (nothing due, no item left to introduce) and never displaces
    a due review or a new item; it then repeats, one slot each, the items shown today whose latest
    quality is below 4, the one shown longest ago first (so the drill goes round all of them, as
    "repeat again all items" reads), until each has scored at least 4 or the day's slots run out.
    A flag left at the end of the day is dropped (the text's drill is of "a given day"). The
    drills do not change EF or the interval (they are not scheduled repetitions; an item's
    interval is never under a day, so any same-day re-showing is a drill).

    Why this rendering: with the drill ahead of new items (an earlier rendering) the same-day
    repetitions of a day's Hard and Again answers could fill every slot, and in a slot-limited
    env new items were then not introduced (Review-v0 with 60 items, 10 slots a day, 30 days: 10
    of 32 learners never met 1 to 4 of the items; episode return 0.800 against 0.828 now, 128
    learners, seed 5). The text puts the drill after the session, so it gets no priority over the
    session's work. While unseen items remain, any slot left after the due reviews goes to a new
    item, so the drill starts once every item has been introduced.
    """

    name = "sm2"

    def __init__(self, env: Any, drill: bool = True):
        super().__init__(env)
        if not isinstance(drill, bool):
            raise ValueError(f"drill must be True or False, got {drill!r}")
        self.drill_enabled = drill

    def settings(self) -> dict:
        return {"drill": self.drill_enabled}

    def init_items(self, n_items: int) -> SM2Estimate:
        return SM2Estimate(ef=jnp.full(n_items, SM2_START_EF, jnp.float32),
                           repetition=jnp.zeros(n_items, jnp.int32),
                           interval=jnp.ones(n_items, jnp.float32),
                           drill=jnp.zeros(n_items, bool))

    def update_item(self, est: SM2Estimate, event: ReviewEvent) -> SM2Estimate:
        q = sm2_quality(event.grade)
        passed = q >= 3.0
        grown = jnp.ceil(est.interval * est.ef - 1e-4)  # ceil, tolerant of float32 error in I x EF
        success_interval = jnp.where(est.repetition == 0, 1.0, jnp.where(est.repetition == 1, 6.0, grown))
        scheduled = SM2Estimate(
            ef=jnp.where(passed, sm2_next_ef(est.ef, q), est.ef),
            repetition=jnp.where(passed, est.repetition + 1, 0),
            interval=jnp.where(passed, success_interval, 1.0),
            drill=q < 4.0,
        )
        # Any same-day re-showing of a seen item is one of SM-2's drills (its intervals are >= 1 day).
        drilled = ~event.first & (event.calendar_days == 0)
        drill_only = est.replace(drill=q < 4.0)
        return jax.tree.map(lambda a, b: jnp.where(drilled, a, b).astype(b.dtype), drill_only, scheduled)

    def select(self, key: Array, items: SM2Estimate, view, state) -> tuple[Array, Any]:
        # The day's session first: the most overdue due item, else a new item, else rest.
        action, items = super().select(key, items, view, state)
        if not self.drill_enabled:
            return action, items
        # The drill after the session: only in a slot the session leaves empty. A drill flag only
        # counts on the day it was set (the item was shown today).
        drilling = items.drill & view.seen & (state.last_day == view.today)
        drill_item = argmax_where(drilling, view.days_since_review)
        action = jnp.where((action >= self.n_items) & drilling.any(), drill_item, action)
        return action.astype(jnp.int32), items


@pytree_dataclass
class AnkiEstimate:
    ease: Array  # 0 = new card (not yet graduated), else the ease factor (>= 1.3)
    interval: Array  # scheduled interval in days (integer valued)


class AnkiSM2Scheduler(IntervalScheduler):
    """Anki's SM-2 variant as fsrs-optimizer simulates it (``src/fsrs_optimizer/fsrs_simulator.py``,
    the ``anki_sm2_scheduler`` function inside ``simulate``).

    A new card (ease 0 there) graduates after its first study with ease 2.5 and an interval of 1
    day (4 days if Easy), whatever else the grade. In review see :func:`anki_sm2_review`. The
    elapsed time is counted in whole calendar days (the simulator's ``delta_t = today -
    last_date``).
    """

    name = "anki_sm2"

    def init_items(self, n_items: int) -> AnkiEstimate:
        return AnkiEstimate(ease=jnp.zeros(n_items, jnp.float32), interval=jnp.ones(n_items, jnp.float32))

    def update_item(self, est: AnkiEstimate, event: ReviewEvent) -> AnkiEstimate:
        new_card = event.first | (est.ease == 0.0)
        learned_interval = jnp.where(event.grade == 4, ANKI_EASY_INTERVAL, ANKI_GRADUATING_INTERVAL)
        review_interval, review_ease = anki_sm2_review(jnp.maximum(est.ease, ANKI_MIN_EASE), est.interval,
                                                       event.calendar_elapsed, event.grade)
        return AnkiEstimate(ease=jnp.where(new_card, ANKI_START_EASE, review_ease),
                            interval=jnp.where(new_card, learned_interval, review_interval))


# ----------------------------------------------------------------------------------------------
# FSRS-6
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class FSRSEstimate:
    stability: Array  # days (the scheduler's estimate, with its own weights)
    difficulty: Array  # 1 .. 10
    interval: Array  # days


def fsrs_calendar_review(w: Array, stability: Array, difficulty: Array, event: ReviewEvent) -> tuple[Array, Array]:
    """An app's FSRS update of one item: the elapsed time is whole calendar days (Anki's and
    fsrs-rs's ``delta_t``) and a review on the same calendar day as the previous one takes the
    short-term formula, so the app and the simulated learner share one clock."""
    return fsrs_maths.review(w, stability, difficulty, event.calendar_elapsed, event.grade, event.first,
                             same_day=event.calendar_days == 0)


class FSRSScheduler(IntervalScheduler):
    """FSRS-6 (py-fsrs) with its own memory estimates: after each review the item's stability and
    difficulty are updated with the scheduler's weights (default: FSRS-6 defaults) and the next
    interval is the time for recall to fall to ``desired_retention`` (default 0.9), rounded to
    whole days, at least 1. No learning or relearning steps and no fuzz, i.e. py-fsrs's
    ``Scheduler(desired_retention, learning_steps=(), relearning_steps=(), enable_fuzzing=False)``.

    The maths is :mod:`studygym.envs.learners.fsrs` (checked against py-fsrs). Time is counted
    as Anki and fsrs-rs count it (:func:`fsrs_calendar_review`): whole calendar days between the
    sessions, and a re-showing on the same calendar day is a same-day review.
    """

    name = "fsrs"

    def __init__(self, env: Any, desired_retention: float = 0.9, weights: Any = None):
        super().__init__(env)
        self.desired_retention = check_kwarg("desired_retention", desired_retention, 0.0, 1.0,
                                             low_open=True, high_open=True)
        self.weights = (fsrs_maths.FSRS6_DEFAULT_WEIGHTS if weights is None
                        else fsrs_maths.check_weights("weights", weights, vector=True))

    def settings(self) -> dict:
        return {"desired_retention": self.desired_retention}

    def init_items(self, n_items: int) -> FSRSEstimate:
        return FSRSEstimate(stability=jnp.ones(n_items, jnp.float32), difficulty=jnp.full(n_items, 5.0, jnp.float32),
                            interval=jnp.ones(n_items, jnp.float32))

    def update_item(self, est: FSRSEstimate, event: ReviewEvent) -> FSRSEstimate:
        w = jnp.asarray(self.weights, jnp.float32)
        stability, difficulty = fsrs_calendar_review(w, est.stability, est.difficulty, event)
        interval = fsrs_maths.next_interval(w, stability, jnp.float32(self.desired_retention))
        return FSRSEstimate(stability=stability, difficulty=difficulty, interval=interval.astype(jnp.float32))
