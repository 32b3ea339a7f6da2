"""Helpers for the stylized-fact tests: a cohort of paired simulated brain learners.

A :class:`Cohort` is ``n`` learners (vmapped) driven through the learner protocol on an explicit
schedule; times are in days (day 0 starts at midnight; ``at(day, hour)``). ``fork()`` copies a
cohort so two arms start from the same learners, and every practice draws its random numbers
from (learner, item, exposure count), so arms that treat an item alike see the same outcomes:
comparisons are paired. Effects are measured on recall *probabilities* (expected scores).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.learners.brain import BRAIN, BrainParams, brain_preset

N_LEARNERS = 256
#: Every cohort has this many items (schedules use subsets; unseen items take no part), so each
#: protocol function compiles once for the whole folder.
N_ITEMS = 32
WAKE_HOUR, BED_HOUR = 7.0, 23.0


def at(day: float, hour: float = 0.0) -> float:
    """Time in days of ``hour`` o'clock on ``day``."""
    return float(day) + hour / 24.0


# One compiled, vmapped function per protocol call; params are broadcast (a traced pytree, so
# changing a value does not recompile).
_init = jax.jit(jax.vmap(BRAIN.init, in_axes=(0, None, None)), static_argnums=2)
_practice = jax.jit(jax.vmap(BRAIN.practice, in_axes=(0, 0, None, None, None)))
_restudy = jax.jit(jax.vmap(BRAIN.restudy, in_axes=(0, None, None, None)))
_sleep = jax.jit(jax.vmap(BRAIN.sleep, in_axes=(0, None, None)))
_elapse = jax.jit(jax.vmap(BRAIN.elapse, in_axes=(0, None, None)))
_reward = jax.jit(jax.vmap(BRAIN.reward_event, in_axes=(0, None, None, None)))
_recall = jax.jit(jax.vmap(BRAIN.recall_prob, in_axes=(0, None, None)))
_fold = jax.jit(jax.vmap(jax.random.fold_in, in_axes=(0, None)))


class Cohort:
    """``n`` paired brain learners following one schedule (mutable; ``fork`` to branch arms)."""

    def __init__(self, params: BrainParams | str = "lab_novice", n_items: int = N_ITEMS,
                 n_learners: int = N_LEARNERS, seed: int = 0, **overrides):
        if isinstance(params, str):
            params = brain_preset(params, **overrides)
        elif overrides:
            params = params.replace(**{k: jnp.asarray(v, jnp.float32) for k, v in overrides.items()})
        BRAIN.validate_params(params)
        self.params = params
        self.n_items = n_items
        self.keys = jax.random.split(jax.random.key(seed), n_learners)
        # Time 0 is midnight of day 0; the learners wake at WAKE_HOUR that day.
        state = _init(self.keys, params, n_items)
        self.state = state.replace(awake_since=jnp.full(n_learners, at(0, WAKE_HOUR), jnp.float32))
        self.exposures = np.zeros(n_items, np.int64)
        self.grades: list[np.ndarray] = []
        self.clock = -np.inf  # time of the last event: schedules must run forwards

    def _advance(self, t: float) -> None:
        if t < self.clock:
            raise ValueError(f"event at t={t} before the previous event at t={self.clock}")
        self.clock = t

    def fork(self) -> "Cohort":
        twin = object.__new__(Cohort)
        twin.__dict__.update(self.__dict__)
        twin.exposures = self.exposures.copy()
        twin.grades = list(self.grades)
        return twin

    def with_params(self, params: BrainParams) -> "Cohort":
        """The same learners (same state) under other params from now on."""
        twin = self.fork()
        twin.params = params
        return twin

    # -- events ---------------------------------------------------------------------------------
    def practice(self, t: float, items) -> "Cohort":
        """A retrieval with feedback (the first exposure of an item is its study) of each item."""
        self._advance(t)
        for item in np.atleast_1d(items):
            keys = _fold(_fold(self.keys, int(item)), int(self.exposures[item]))
            grade, self.state = _practice(keys, self.state, jnp.int32(item), jnp.float32(t), self.params)
            self.grades.append(np.asarray(grade))
            self.exposures[item] += 1
        return self

    def restudy(self, t: float, items) -> "Cohort":
        self._advance(t)
        for item in np.atleast_1d(items):
            self.state = _restudy(self.state, jnp.int32(item), jnp.float32(t), self.params)
            self.exposures[item] += 1
        return self

    def reward(self, t: float, magnitude: float = 1.0) -> "Cohort":
        self._advance(t)
        self.state = _reward(self.state, jnp.float32(t), self.params, jnp.float32(magnitude))
        return self

    def sleep(self, t: float) -> "Cohort":
        self._advance(t)
        self.state = _sleep(_elapse(self.state, jnp.float32(t), self.params), jnp.float32(t), self.params)
        return self

    def until(self, t: float, skip_nights=()) -> "Cohort":
        """Live until ``t``: sleep at every bedtime after the last event and not after ``t``,
        except on the days in ``skip_nights`` (all-nighters)."""
        start = max(self.clock, 0.0)
        for day in range(int(np.floor(start)), int(np.floor(t)) + 1):
            bedtime = at(day, BED_HOUR)
            if start <= bedtime <= t and day not in skip_nights:
                self.sleep(bedtime)
        return self

    def nights(self, first_day: int, last_day: int) -> "Cohort":
        """Sleep at bedtime on each day in ``first_day .. last_day`` (inclusive)."""
        for day in range(first_day, last_day + 1):
            self.sleep(at(day, BED_HOUR))
        return self

    # -- measures --------------------------------------------------------------------------------
    def recall(self, t: float, items=None) -> np.ndarray:
        """Recall probability of ``items`` (default: every item studied so far), shape
        (learners, items)."""
        self._advance(t)
        state = _elapse(self.state, jnp.float32(t), self.params)
        r = np.asarray(_recall(state, jnp.float32(t), self.params))
        items = np.flatnonzero(self.exposures) if items is None else np.atleast_1d(items)
        return r[:, items]

    def mean_recall(self, t: float, items=None) -> float:
        return float(self.recall(t, items).mean())

    def stability(self, items=None) -> np.ndarray:
        """Consolidated stability (days) of ``items`` (default: every item studied so far)."""
        s = np.asarray(self.state.stability)
        items = np.flatnonzero(self.exposures) if items is None else np.atleast_1d(items)
        return s[:, items]


def paired_effect(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean paired difference a - b over learners (each learner's item mean) and its Cohen's d_z."""
    diff = np.asarray(a).reshape(len(a), -1).mean(1) - np.asarray(b).reshape(len(b), -1).mean(1)
    sd = diff.std(ddof=1)
    return float(diff.mean()), float(diff.mean() / sd) if sd > 0 else float("inf")
