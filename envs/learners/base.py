"""The learner protocol and the learner registry."""

from __future__ import annotations

import difflib
from typing import Any, Protocol

import jax
import jax.numpy as jnp

from ..core import Array


class Learner(Protocol):
    """A simulated brain: pure, jittable functions over a per-item state.

    Grades follow FSRS: 1 Again (failed), 2 Hard, 3 Good, 4 Easy. Time ``now`` is in days.
    """

    name: str

    def default_params(self) -> Any: ...

    def validate_params(self, params: Any, prefix: str = "learner") -> None: ...

    def init(self, key: Array, params: Any, n_items: int) -> Any: ...

    def recall_prob(self, state: Any, now: Array, params: Any) -> Array: ...

    def practice(self, key: Array, state: Any, item: Array, now: Array, params: Any) -> tuple[Array, Any]: ...

    def elapse(self, state: Any, now: Array, params: Any) -> Any: ...

    def sleep(self, state: Any, now: Array, params: Any) -> Any: ...


class WithoutSleep:
    """Mixin for memory models with no sleep or wake effects: time alone changes recall (through
    ``recall_prob``), so ``elapse`` and ``sleep`` leave the state as it is."""

    def elapse(self, state: Any, now: Array, params: Any) -> Any:
        return state

    def sleep(self, state: Any, now: Array, params: Any) -> Any:
        return state


LEARNERS: dict[str, Learner] = {}


def register_learner(learner: Learner) -> None:
    LEARNERS[learner.name] = learner


def get_learner(name: str) -> Learner:
    if name not in LEARNERS:
        close = difflib.get_close_matches(name, LEARNERS, n=3, cutoff=0.3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown learner {name!r}{hint} (known: {', '.join(sorted(LEARNERS))})")
    return LEARNERS[name]


def delayed_recall(learner: Learner, state: Any, now: Array, delay_days: int, params: Any,
                   bedtime_offset: Array) -> Array:
    """Recall per item after ``delay_days`` days with no study: wake, sleep each night, then test.

    ``bedtime_offset`` is the time from ``now`` to the first night's sleep (days). Learners without
    sleep effects make ``elapse`` and ``sleep`` the identity, so this is just ``recall_prob``.
    """

    def night(day, state):
        bedtime = now + bedtime_offset + day.astype(jnp.float32)
        state = learner.elapse(state, bedtime, params)
        return learner.sleep(state, bedtime, params)

    state = jax.lax.fori_loop(0, delay_days, night, state)
    later = now + jnp.float32(delay_days)
    state = learner.elapse(state, later, params)
    return learner.recall_prob(state, later, params)
