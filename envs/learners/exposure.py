"""What the count-based learners (HLR, EFC, DASH/GPL) share: grade draws, prior exposure, item access.

These learners predict recall from an item's exposure counts and the time since its last review;
they differ only in the formula. Around the formula they behave alike:

- **Grades** are drawn as the FSRS learner draws them (fsrs-optimizer's simulator): an item's
  first study gets a grade from ``first_grade_probs``; afterwards recall ~ Bernoulli(p), failure
  -> 1 Again, success -> 2/3/4 with ``success_grade_probs``. One uniform decides both.
- **Prior exposure** (Reddy et al. 2017's students): with probability ``prior_exposure`` an item
  was studied once before the course, ``exp(N(prior_lag_log_mean, prior_lag_log_sd))`` days
  before it starts, so it has a recall probability from the first step. 0 (the default) starts
  every item unseen, as Review-v0's FSRS learner does.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..core import Array, categorical_draw, check_range
from .fsrs import FIRST_GRADE_PROBS, SUCCESS_GRADE_PROBS, check_probs

#: The fields every count-based learner's params carry (see the module docstring), in this order
#: after the learner's own fields (:func:`with_common_fields`), with their shapes.
COMMON_FIELDS = {
    "success_grade_probs": "(3,) P(Hard, Good, Easy | recalled)",
    "first_grade_probs": "(4,) P(Again .. Easy) at an item's first study",
    "prior_exposure": "() probability an item was studied once before the course",
    "prior_lag_log_mean": "() log of the days from that study to the course's start (mean)",
    "prior_lag_log_sd": "() its SD",
}


def with_common_fields(cls):
    """Class decorator, under ``@pytree_dataclass``: append the :data:`COMMON_FIELDS` (as ``Array``
    fields) to a learner's params class, after its own fields. One declaration for every count-based
    learner; the fields keep the order (and so the pytree leaves) they had when each class listed them.
    A dataclass base class would put them first instead."""
    own = dict(cls.__dict__.get("__annotations__", {}))
    clash = sorted(set(own) & set(COMMON_FIELDS))
    if clash:
        raise TypeError(f"{cls.__name__} declares common field(s) {clash} itself")
    cls.__annotations__ = {**own, **{name: "Array" for name in COMMON_FIELDS}}
    return cls


#: Defaults of the :data:`COMMON_FIELDS`.
COMMON_DEFAULTS = {
    "success_grade_probs": SUCCESS_GRADE_PROBS,
    "first_grade_probs": FIRST_GRADE_PROBS,
    "prior_exposure": 0.0,
    "prior_lag_log_mean": 0.0,
    "prior_lag_log_sd": 0.0,
}


def common_params(**changes) -> dict:
    """The common fields as float32 arrays (keyword changes override the defaults)."""
    unknown = set(changes) - set(COMMON_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown common learner field(s): {sorted(unknown)}")
    return {k: jnp.asarray(changes.get(k, v), jnp.float32) for k, v in COMMON_DEFAULTS.items()}


def validate_common(params, prefix: str) -> None:
    check_probs(f"{prefix}.success_grade_probs", params.success_grade_probs)
    check_probs(f"{prefix}.first_grade_probs", params.first_grade_probs)
    check_range(f"{prefix}.prior_exposure", params.prior_exposure, 0.0, 1.0)
    check_range(f"{prefix}.prior_lag_log_mean", params.prior_lag_log_mean, -10.0, 10.0)
    check_range(f"{prefix}.prior_lag_log_sd", params.prior_lag_log_sd, 0.0, 5.0)


def prior_exposure(key: Array, params, n_items: int) -> tuple[Array, Array]:
    """(seen (N,) bool, last_review (N,) days): items studied once before the course, and when."""
    key_seen, key_lag = jax.random.split(key)
    seen = jax.random.uniform(key_seen, (n_items,)) < params.prior_exposure
    lag = jnp.exp(params.prior_lag_log_mean + params.prior_lag_log_sd * jax.random.normal(key_lag, (n_items,)))
    return seen, jnp.where(seen, -lag, 0.0).astype(jnp.float32)


def draw_grade(key: Array, recall: Array, seen: Array, params) -> Array:
    """Grade 1..4 of a review with recall probability ``recall`` (first-study grade if not ``seen``)."""
    u = jax.random.uniform(key)
    success_grade = 2 + categorical_draw(u / jnp.maximum(recall, 1e-12), params.success_grade_probs)
    first_grade = 1 + categorical_draw(u, params.first_grade_probs)
    return jnp.where(seen, jnp.where(u < recall, success_grade, 1), first_grade).astype(jnp.int32)


def get(values: Array, item: Array) -> Array:
    """``values[item]`` (clamped: an out-of-range item reads the last one)."""
    return values.at[item].get(mode="clip")


def put(values: Array, item: Array, value: Array) -> Array:
    """``values`` with ``values[item] = value``; dropped when ``item`` is out of range (a rest)."""
    return values.at[item].set(value, mode="drop")


def elapsed_since(now: Array, last_review: Array) -> Array:
    return jnp.maximum(now - last_review, 0.0)
