"""EFC: the exponential forgetting curve of Reddy et al. (KDD 2016; NIPS workshop 2017), as a learner.

Recall of item i, ``Δt`` days after its last review, after ``n_i`` exposures:

    p = exp(-θ_i Δt / n_i)

``θ_i`` is the item's forgetting rate per day, drawn per item as ``log θ_i ~ N(log 0.077, 1)``
(Reddy, Levine & Dragan 2017, "Accelerating Human Learning with Deep Reinforcement Learning",
rddy/deeptutor ``EFCEnv``, where ``n_i`` counts attempts and a pre-exposed item starts at 1).
Each exposure (a first study or a review, recalled or not) adds one to ``n_i``; the review's
outcome does not change the memory beyond that, as in the paper. Time unit: the paper's abstract
time unit is read as one day. A population of learners is a population of item draws (and an
optional per-learner multiplier on every rate, ``learner_sd``).

Grades, prior exposure and out-of-range rests: see :mod:`.exposure`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import WithoutSleep
from ..core import Array, check_range, pytree_dataclass
from .exposure import (common_params, draw_grade, elapsed_since, get, prior_exposure, put,
                       validate_common, with_common_fields)

#: Reddy et al. 2017: log θ ~ N(log 0.077, 1) per item.
RATE_LOG_MEAN = float(np.log(0.077))
RATE_LOG_SD = 1.0


def recall_probability(rate: Array, elapsed_days: Array, exposures: Array) -> Array:
    """p = exp(-θ Δt / n) (n floored at 1)."""
    return jnp.exp(-rate * jnp.maximum(elapsed_days, 0.0) / jnp.maximum(exposures, 1.0))


@pytree_dataclass
@with_common_fields
class EFCParams:
    """Traits of an EFC learner population; then the fields every count-based learner has
    (:data:`.exposure.COMMON_FIELDS`: grade probabilities, prior exposure)."""

    rate_log_mean: Array  # () mean of log θ (θ: forgetting rate per day at one exposure)
    rate_log_sd: Array  # () SD of log θ across items
    learner_sd: Array  # () SD of a per-learner log multiplier on every item's θ (0 = as the paper)


@pytree_dataclass
class EFCState:
    """Per-item memory of one EFC learner (hidden from policies)."""

    exposures: Array  # (N,) float32 n_i: exposures so far (0 unseen)
    last_review: Array  # (N,) days
    seen: Array  # (N,) bool
    rate: Array  # (N,) θ_i per day


def default_params(rate_log_mean: float = RATE_LOG_MEAN, rate_log_sd: float = RATE_LOG_SD,
                   learner_sd: float = 0.0, **common) -> EFCParams:
    return EFCParams(rate_log_mean=jnp.float32(rate_log_mean), rate_log_sd=jnp.float32(rate_log_sd),
                     learner_sd=jnp.float32(learner_sd), **common_params(**common))


class EFCLearner(WithoutSleep):
    """EFC learner: the learner protocol over :class:`EFCState`."""

    name = "efc"
    Params = EFCParams
    State = EFCState
    out_of_range_item_rests = True

    def default_params(self) -> EFCParams:
        return default_params()

    def validate_params(self, params: EFCParams, prefix: str = "learner") -> None:
        check_range(f"{prefix}.rate_log_mean", params.rate_log_mean, -15.0, 5.0)
        check_range(f"{prefix}.rate_log_sd", params.rate_log_sd, 0.0, 5.0)
        check_range(f"{prefix}.learner_sd", params.learner_sd, 0.0, 3.0)
        validate_common(params, prefix)

    def init(self, key: Array, params: EFCParams, n_items: int) -> EFCState:
        key_items, key_learner, key_prior = jax.random.split(key, 3)
        log_rate = (params.rate_log_mean + params.rate_log_sd * jax.random.normal(key_items, (n_items,))
                    + params.learner_sd * jax.random.normal(key_learner, ()))
        seen, last_review = prior_exposure(key_prior, params, n_items)
        return EFCState(exposures=seen.astype(jnp.float32), last_review=last_review, seen=seen,
                        rate=jnp.exp(log_rate))

    def recall_prob(self, state: EFCState, now: Array, params: EFCParams) -> Array:
        p = recall_probability(state.rate, elapsed_since(now, state.last_review), state.exposures)
        return jnp.where(state.seen, p, 0.0)

    def practice(self, key: Array, state: EFCState, item: Array, now: Array,
                 params: EFCParams) -> tuple[Array, EFCState]:
        item = jnp.asarray(item, jnp.int32)
        seen, exposures, last_review = get(state.seen, item), get(state.exposures, item), get(state.last_review, item)
        recall = recall_probability(get(state.rate, item), elapsed_since(now, last_review), exposures)
        grade = draw_grade(key, recall, seen, params)
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            exposures=put(state.exposures, item, exposures + 1.0),
            last_review=put(state.last_review, item, jnp.where(in_range, now, last_review)),
            seen=put(state.seen, item, seen | in_range),
        )
        return grade, state



EFC = EFCLearner()
