"""HLR: half-life regression (Settles & Meeder, ACL 2016), as a learner.

Recall ``Δt`` days after an item's last review is ``p = 2^(-Δt / h)``, with a half-life that is
log-linear in the item's review counts (c correct, w wrong so far):

    log2 h = θ · x + z_i,   x = [√(1 + c), √(1 + w), 1, c, w]

clipped to ``[half_life_min, half_life_max]`` days. ``z_i`` is the item's offset (Settles &
Meeder's lexeme weight), drawn per item as ``N(0, item_sd)`` plus a per-learner ``N(0, learner_sd)``.

- Settles & Meeder's features are the first three (``θ = [θ_c, θ_w, bias, 0, 0]``; h clipped to
  [15 min, 274 days]); the defaults here are such weights.
- Reddy, Levine & Dragan 2017 (rddy/deeptutor ``HLREnv``) use ``p = exp(-Δt / h')``,
  ``h' = exp(θ'·[attempts, correct, wrong, item]`` with ``θ' = (1, 1, 0, N(0, 1))``. That is this
  model exactly with ``θ = [0, 0, log2 ln 2, 2 / ln 2, 1 / ln 2]`` and ``item_sd = 1 / ln 2``
  (:func:`reddy_params`; attempts = c + w, and ``exp(-Δt/h') = 2^(-Δt/(h' ln 2))``).

A first study counts as a correct or wrong review by its grade. Grades, prior exposure and
out-of-range rests: see :mod:`.exposure`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .base import WithoutSleep
from ..core import Array, check_range, pytree_dataclass
from .exposure import (common_params, draw_grade, elapsed_since, get, prior_exposure, put,
                       validate_common, with_common_fields)

FEATURES = ("sqrt_correct", "sqrt_wrong", "bias", "correct", "wrong")
#: Settles-style default weights (days): h = 3.6 d after one success, 8 d after 3, 32 d after 8.
DEFAULT_WEIGHTS = (2.0, -1.0, 0.0, 0.0, 0.0)
HALF_LIFE_MIN = 15.0 / 1440.0  # 15 minutes, as Settles & Meeder clip
HALF_LIFE_MAX = 274.0  # days
LN2 = math.log(2.0)
#: Reddy et al. 2017's HLR student in this parametrisation (see the module docstring).
REDDY_WEIGHTS = (0.0, 0.0, math.log2(LN2), 2.0 / LN2, 1.0 / LN2)
REDDY_ITEM_SD = 1.0 / LN2


def log2_half_life(weights: Array, correct: Array, wrong: Array, offset: Array, half_life_min: Array,
                   half_life_max: Array) -> Array:
    """log2 h = θ·[√(1+c), √(1+w), 1, c, w] + z, clipped to the half-life bounds."""
    raw = (weights[0] * jnp.sqrt(1.0 + correct) + weights[1] * jnp.sqrt(1.0 + wrong) + weights[2]
           + weights[3] * correct + weights[4] * wrong + offset)
    return jnp.clip(raw, jnp.log2(half_life_min), jnp.log2(half_life_max))


def recall_probability(elapsed_days: Array, log2_h: Array) -> Array:
    """p = 2^(-Δt / h)."""
    return jnp.exp2(-jnp.maximum(elapsed_days, 0.0) * jnp.exp2(-log2_h))


@pytree_dataclass
@with_common_fields
class HLRParams:
    """Traits of an HLR learner population; then the fields every count-based learner has
    (:data:`.exposure.COMMON_FIELDS`: grade probabilities, prior exposure)."""

    weights: Array  # (5,) θ over FEATURES (log2 days)
    item_sd: Array  # () SD of the per-item offset z_i on log2 h
    learner_sd: Array  # () SD of a per-learner offset on log2 h
    half_life_min: Array  # () days
    half_life_max: Array  # () days


@pytree_dataclass
class HLRState:
    """Per-item memory of one HLR learner (hidden from policies)."""

    correct: Array  # (N,) float32 successful reviews (and first studies graded > 1)
    wrong: Array  # (N,) float32 failed ones
    last_review: Array  # (N,) days
    seen: Array  # (N,) bool
    offset: Array  # (N,) z_i (item plus learner offset, log2 days)


def default_params(weights=DEFAULT_WEIGHTS, item_sd: float = 0.5, learner_sd: float = 0.3,
                   half_life_min: float = HALF_LIFE_MIN, half_life_max: float = HALF_LIFE_MAX,
                   **common) -> HLRParams:
    return HLRParams(weights=jnp.asarray(weights, jnp.float32), item_sd=jnp.float32(item_sd),
                     learner_sd=jnp.float32(learner_sd), half_life_min=jnp.float32(half_life_min),
                     half_life_max=jnp.float32(half_life_max), **common_params(**common))


def reddy_params(**common) -> HLRParams:
    """Reddy et al. 2017's HLR student (no clipping to speak of, no per-learner offset)."""
    return default_params(REDDY_WEIGHTS, item_sd=REDDY_ITEM_SD, learner_sd=0.0, half_life_min=1e-6,
                          half_life_max=1e9, **common)


class HLRLearner(WithoutSleep):
    """HLR learner: the learner protocol over :class:`HLRState`."""

    name = "hlr"
    Params = HLRParams
    State = HLRState
    out_of_range_item_rests = True

    def default_params(self) -> HLRParams:
        return default_params()

    def validate_params(self, params: HLRParams, prefix: str = "learner") -> None:
        weights = np.asarray(params.weights)
        if weights.shape[-1:] != (len(FEATURES),):
            raise ValueError(f"{prefix}.weights must have {len(FEATURES)} values {FEATURES}, got shape "
                             f"{weights.shape}")
        check_range(f"{prefix}.weights", weights, -20.0, 20.0)
        check_range(f"{prefix}.item_sd", params.item_sd, 0.0, 5.0)
        check_range(f"{prefix}.learner_sd", params.learner_sd, 0.0, 5.0)
        check_range(f"{prefix}.half_life_min", params.half_life_min, 0.0, 1e12, low_open=True)
        check_range(f"{prefix}.half_life_max", params.half_life_max, 0.0, 1e12, low_open=True)
        if np.any(np.asarray(params.half_life_min) >= np.asarray(params.half_life_max)):
            raise ValueError(f"{prefix}.half_life_min must be below {prefix}.half_life_max, got "
                             f"{np.asarray(params.half_life_min).tolist()} >= {np.asarray(params.half_life_max).tolist()}")
        validate_common(params, prefix)

    def init(self, key: Array, params: HLRParams, n_items: int) -> HLRState:
        key_items, key_learner, key_prior = jax.random.split(key, 3)
        offset = (params.item_sd * jax.random.normal(key_items, (n_items,))
                  + params.learner_sd * jax.random.normal(key_learner, ()))
        seen, last_review = prior_exposure(key_prior, params, n_items)
        zeros = jnp.zeros(n_items, jnp.float32)
        return HLRState(correct=zeros, wrong=zeros, last_review=last_review, seen=seen, offset=offset)

    def _log2_h(self, params: HLRParams, correct, wrong, offset):
        return log2_half_life(params.weights, correct, wrong, offset, params.half_life_min, params.half_life_max)

    def recall_prob(self, state: HLRState, now: Array, params: HLRParams) -> Array:
        log2_h = self._log2_h(params, state.correct, state.wrong, state.offset)
        return jnp.where(state.seen, recall_probability(elapsed_since(now, state.last_review), log2_h), 0.0)

    def practice(self, key: Array, state: HLRState, item: Array, now: Array,
                 params: HLRParams) -> tuple[Array, HLRState]:
        item = jnp.asarray(item, jnp.int32)
        seen, last_review = get(state.seen, item), get(state.last_review, item)
        correct, wrong = get(state.correct, item), get(state.wrong, item)
        log2_h = self._log2_h(params, correct, wrong, get(state.offset, item))
        recall = recall_probability(elapsed_since(now, last_review), log2_h)
        grade = draw_grade(key, recall, seen, params)
        success = (grade > 1).astype(jnp.float32)
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            correct=put(state.correct, item, correct + success),
            wrong=put(state.wrong, item, wrong + 1.0 - success),
            last_review=put(state.last_review, item, jnp.where(in_range, now, last_review)),
            seen=put(state.seen, item, seen | in_range),
        )
        return grade, state



HLR = HLRLearner()
