"""Baselines without a memory model: random, round robin and massed practice (cramming)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array

from .base import ObsScheduler, argmax_where, check_int_kwarg, first_true, introduce_or_rest


class StatelessScheduler(ObsScheduler):
    """A scheduler whose choice is a function of the current observation (and the key) only."""

    def init(self, key: Array, env_params: Any) -> tuple:
        return ()

    def choose(self, key: Array, obs: Array) -> Array:
        raise NotImplementedError

    def act(self, key: Array, pstate: tuple, obs: Array) -> tuple[Array, tuple]:
        return jnp.asarray(self.choose(key, obs), jnp.int32), pstate


class RandomScheduler(StatelessScheduler):
    """Review an item drawn uniformly at random every slot (never rests)."""

    name = "random"

    def choose(self, key: Array, obs: Array) -> Array:
        return jax.random.randint(key, (), 0, self.n_items, dtype=jnp.int32)


class RoundRobinScheduler(StatelessScheduler):
    """Review the least recently reviewed item: unseen items first (lowest index), then the item
    with the largest ``days_since_review`` (never rests)."""

    name = "round_robin"

    def choose(self, key: Array, obs: Array) -> Array:
        view = self.view(obs)
        stalest = argmax_where(view.seen, view.days_since_review)
        return jnp.where((~view.seen).any(), first_true(~view.seen), stalest)


class MassedScheduler(StatelessScheduler):
    """Massed practice: cram one new item until it is recalled, then move on to the next new item.

    An item is crammed back to back, slot after slot, until it has been recalled ``criterion``
    times at retrievals after its first study (a first exposure is a study, not a recall). Then
    the next unseen item (lowest index) is introduced. Once every item has been introduced and
    crammed there is nothing left to cram: it rests for the rest of the course, like a student who
    learns each item once to criterion and never returns to it. That is the "massed" condition of
    the spacing-effect literature; it is meant to be the worst at delayed retention.
    """

    name = "massed"

    def __init__(self, env: Any, criterion: int = 1):
        super().__init__(env)
        self.criterion = check_int_kwarg("criterion", criterion, 1)

    def settings(self) -> dict:
        return {"criterion": self.criterion}

    def choose(self, key: Array, obs: Array) -> Array:
        view = self.view(obs)
        # Recalls after the first study: reviews minus the first study minus the failures.
        recalls = view.reviews - 1.0 - view.lapses
        cramming = view.seen & (recalls < self.criterion)
        return jnp.where(cramming.any(), first_true(cramming), introduce_or_rest(view, self.n_items))
