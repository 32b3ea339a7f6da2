"""The learner protocol and what a learner declares (the table of learners is ``studygym.registry.LEARNERS``)."""

from __future__ import annotations

from typing import Any, Protocol

import jax
import jax.numpy as jnp

from studygym.registry import LEARNERS, get_learner, register_learner  # noqa: F401  (the table lives there)

from ..core import Array


class Learner(Protocol):
    """A simulated brain: pure, jittable functions over a per-item state.

    Grades follow FSRS: 1 Again (failed), 2 Hard, 3 Good, 4 Easy. Time ``now`` is in days.
    """

    name: str
    #: optional capabilities, declared (see :class:`LearnerBase` for their meaning and defaults)
    out_of_range_item_rests: bool
    has_restudy: bool
    has_reward_events: bool
    has_sleep_traits: bool
    presets: tuple[str, ...]

    def default_params(self) -> Any: ...

    def validate_params(self, params: Any, prefix: str = "learner") -> None: ...

    def init(self, key: Array, params: Any, n_items: int) -> Any: ...

    def recall_prob(self, state: Any, now: Array, params: Any) -> Array: ...

    def practice(self, key: Array, state: Any, item: Array, now: Array, params: Any) -> tuple[Array, Any]: ...

    def elapse(self, state: Any, now: Array, params: Any) -> Any: ...

    def sleep(self, state: Any, now: Array, params: Any) -> Any: ...


class LearnerBase:
    """What a learner declares beyond the protocol's functions; every learner derives from it, so
    envs read these attributes instead of probing for methods or fields."""

    #: ``practice`` at item ``n_items`` (one past the last) leaves the state unchanged (its scatters
    #: drop out-of-range indices), so an env can aim a rest there instead of selecting over arrays
    out_of_range_item_rests: bool = False
    #: ``restudy(state, item, now, params)``: study without retrieval (testing vs restudy)
    has_restudy: bool = False
    #: ``reward_event(state, now, params, magnitude)``: a reward/novelty event that tags recent study
    #: (Tagging-v0 needs it)
    has_reward_events: bool = False
    #: the params carry a ``sleep_duration_hours`` trait that bounds how long a night's sleep lasts, and
    #: the state an ``awake_since`` clock (when the learner last woke: hours awake drive sleep pressure)
    has_sleep_traits: bool = False
    #: names of preset params (``make(..., preset=<name>)``); ``preset(name)`` returns them
    presets: tuple[str, ...] = ()

    def preset(self, name: str) -> Any:
        raise ValueError(f"learner {self.name!r} has no presets, got preset={name!r}")


class WithoutSleep(LearnerBase):
    """Mixin for memory models with no sleep or wake effects: time alone changes recall (through
    ``recall_prob``), so ``elapse`` and ``sleep`` leave the state as it is."""

    def elapse(self, state: Any, now: Array, params: Any) -> Any:
        return state

    def sleep(self, state: Any, now: Array, params: Any) -> Any:
        return state


def sleep_nights(learner: Learner, state: Any, first_bedtime: Array, n_nights: Array, params: Any) -> Any:
    """``n_nights`` nights of sleep, one a day from ``first_bedtime`` (wake time passing before each
    bedtime); jittable with a traced ``n_nights``."""

    def night(day, state):
        bedtime = first_bedtime + day.astype(jnp.float32)
        state = learner.elapse(state, bedtime, params)
        return learner.sleep(state, bedtime, params)

    return jax.lax.fori_loop(0, n_nights, night, state)


def delayed_recall(learner: Learner, state: Any, now: Array, delay_days: int, params: Any,
                   bedtime_offset: Array) -> Array:
    """Recall per item after ``delay_days`` days with no study: wake, sleep each night, then test.

    ``bedtime_offset`` is the time from ``now`` to the first night's sleep (days). Learners without
    sleep effects make ``elapse`` and ``sleep`` the identity, so this is just ``recall_prob``.
    """

    state = sleep_nights(learner, state, now + bedtime_offset, delay_days, params)
    later = now + jnp.float32(delay_days)
    state = learner.elapse(state, later, params)
    return learner.recall_prob(state, later, params)
