"""Anki's SM-2 variant (its default settings), shared by the Anki SM-2 scheduler policy and Deck-v0.

Follows fsrs-optimizer's ``anki_sm2_scheduler`` (fsrs_simulator.py); see reference/peers.md.
"""

from __future__ import annotations

import jax.numpy as jnp

from studygym.envs.core import Array
from studygym.envs.learners import fsrs as fsrs_maths


ANKI_GRADUATING_INTERVAL = 1.0
ANKI_EASY_INTERVAL = 4.0
ANKI_START_EASE = 2.5
ANKI_HARD_FACTOR = 1.2
ANKI_EASY_BONUS = 1.3
ANKI_MIN_EASE = 1.3
ANKI_EASE_CHANGE = (-0.2, -0.15, 0.0, 0.15)  # Again, Hard, Good, Easy


def anki_sm2_review(ease: Array, scheduled: Array, elapsed: Array, grade: Array,
                    maximum_interval: float = fsrs_maths.MAX_INTERVAL) -> tuple[Array, Array]:
    """(next interval, ease) of a card in review, as fsrs-optimizer's ``anki_sm2_scheduler``.

    Again: 1 day (relearning is not simulated), ease -0.2. Hard: scheduled x 1.2, at least
    scheduled + 1, ease -0.15. Good: (scheduled + delay/2) x ease, at least Hard + 1. Easy:
    elapsed x ease x 1.3, at least Good + 1, ease +0.15. Intervals are rounded (after adding 0.01,
    as Anki does) and capped; ease is floored at 1.3. ``elapsed`` is whole days since the last
    review, ``delay = elapsed - scheduled``.
    """
    delay = elapsed - scheduled
    again = jnp.ones_like(scheduled)
    hard = jnp.minimum(jnp.maximum(jnp.round(scheduled * ANKI_HARD_FACTOR + 0.01), scheduled + 1.0),
                       maximum_interval)
    good = jnp.minimum(jnp.maximum(jnp.round((scheduled + delay / 2.0) * ease + 0.01), hard + 1.0),
                       maximum_interval)
    easy = jnp.minimum(jnp.maximum(jnp.round(elapsed * ease * ANKI_EASY_BONUS + 0.01), good + 1.0),
                       maximum_interval)
    grade = jnp.asarray(grade, jnp.int32)
    interval = jnp.choose(grade - 1, [again, hard, good, easy], mode="clip")  # elementwise in grade
    new_ease = jnp.maximum(ease + jnp.asarray(ANKI_EASE_CHANGE, jnp.float32)[grade - 1], ANKI_MIN_EASE)
    return interval, new_ease
