"""GPL/DASH: the generalized power-law student of Reddy, Levine & Dragan 2017, as a learner.

DASH (Lindsey et al. 2014) predicts recall from an item's difficulty, the learner's ability and
its study history counted in time windows; Reddy et al.'s "generalized power law" (GPL,
rddy/deeptutor ``DASHEnv``) adds a power-law forgetting factor:

    m = σ(a − d_i + Σ_{w < W(t)} [θc_w log(1 + c_{i,w}) + θn_w log(1 + n_{i,w})])
    p = m / (1 + r Δt)^{f_i},   f_i = exp(a_f − e^{z_i})

``c_{i,w}``/``n_{i,w}``: correct answers/attempts at item i during window w of the course (windows
are consecutive ``window_days`` periods from the course's start; W(t) the window of ``t``, the last
one open-ended). As in the paper's code only *completed* windows count, and the window weights
are ``θ_w = 1/(W − w)^2`` (later windows weigh more: 1/25 .. 1 for W = 5). Student distribution
(Reddy et al. 2017): difficulty ``d_i ~ N(1, 1)``, ``z_i ~ N(1, 1)`` (so ``f_i = exp(−e^{z_i})``), delay
coefficient ``log r ~ N(0, 0.01)`` per learner, ability ``a = 0``, ``a_f = 0``. Time unit: the paper's
abstract unit is read as one day (the default ``window_days`` = 7: weekly windows; the DeepTutor
set-ups use 200 steps / 5 windows = 40 steps of 5 days).

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

N_WINDOWS = 5


def reddy_window_weights(n_windows: int = N_WINDOWS) -> tuple[float, ...]:
    """θ_w = 1 / (W − w)^2 for w = 0 .. W−1 (rddy/deeptutor ``sample_window_cw``)."""
    return tuple(float(x) for x in (1.0 / np.arange(1, n_windows + 1) ** 2)[::-1])


def current_window(now: Array, window_days: Array, n_windows: int) -> Array:
    return jnp.clip(jnp.floor(now / window_days), 0, n_windows - 1).astype(jnp.int32)


def memory_strength(bias: Array, weights_correct: Array, weights_attempts: Array, correct: Array,
                    attempts: Array, window: Array) -> Array:
    """m = σ(bias + Σ_{w < window} θc_w log(1 + c_w) + θn_w log(1 + n_w)); counts have shape (..., W)."""
    completed = jnp.arange(correct.shape[-1]) < jnp.expand_dims(window, -1)
    history = jnp.sum(jnp.where(completed, weights_correct * jnp.log1p(correct)
                                + weights_attempts * jnp.log1p(attempts), 0.0), axis=-1)
    return jax.nn.sigmoid(bias + history)


def recall_probability(strength: Array, delay_coef: Array, decay_exponent: Array, elapsed_days: Array) -> Array:
    """p = m / (1 + r Δt)^f."""
    return strength * jnp.exp(-decay_exponent * jnp.log1p(delay_coef * jnp.maximum(elapsed_days, 0.0)))


@pytree_dataclass
@with_common_fields
class DASHParams:
    """Traits of a GPL/DASH learner population; then the fields every count-based learner has
    (:data:`.exposure.COMMON_FIELDS`: grade probabilities, prior exposure)."""

    ability: Array  # () a: the learner's ability (mean over learners)
    ability_sd: Array  # () its SD across learners (0 = as the paper)
    difficulty_mean: Array  # () mean of d_i
    difficulty_sd: Array  # () SD of d_i across items
    decay_log_mean: Array  # () mean of z_i (f_i = exp(decay_offset − e^{z_i}))
    decay_log_sd: Array  # () SD of z_i
    decay_offset: Array  # () a_f, the learner's decay term
    delay_coef_log_mean: Array  # () mean of log r (per learner; r per day)
    delay_coef_log_sd: Array  # () SD of log r
    weights_correct: Array  # (W,) θc_w on log(1 + correct in window w)
    weights_attempts: Array  # (W,) θn_w on log(1 + attempts in window w)
    window_days: Array  # () length of each window (the last is open-ended)


@pytree_dataclass
class DASHState:
    """Per-item memory of one GPL/DASH learner (hidden from policies)."""

    correct: Array  # (N, W) float32 correct answers per window
    attempts: Array  # (N, W) float32 attempts per window
    last_review: Array  # (N,) days
    seen: Array  # (N,) bool
    bias: Array  # (N,) a − d_i
    decay_exponent: Array  # (N,) f_i
    delay_coef: Array  # () r


def default_params(window_days: float = 7.0, n_windows: int = N_WINDOWS, **common) -> DASHParams:
    weights = jnp.asarray(reddy_window_weights(n_windows), jnp.float32)
    return DASHParams(
        ability=jnp.float32(0.0), ability_sd=jnp.float32(0.0),
        difficulty_mean=jnp.float32(1.0), difficulty_sd=jnp.float32(1.0),
        decay_log_mean=jnp.float32(1.0), decay_log_sd=jnp.float32(1.0), decay_offset=jnp.float32(0.0),
        delay_coef_log_mean=jnp.float32(0.0), delay_coef_log_sd=jnp.float32(0.01),
        weights_correct=weights, weights_attempts=weights, window_days=jnp.float32(window_days),
        **common_params(**common),
    )


class DASHLearner(WithoutSleep):
    """GPL/DASH learner: the learner protocol over :class:`DASHState`."""

    name = "dash"
    Params = DASHParams
    State = DASHState
    out_of_range_item_rests = True

    def default_params(self) -> DASHParams:
        return default_params()

    def validate_params(self, params: DASHParams, prefix: str = "learner") -> None:
        for name in ("ability", "difficulty_mean", "decay_log_mean", "decay_offset", "delay_coef_log_mean"):
            check_range(f"{prefix}.{name}", getattr(params, name), -20.0, 20.0)
        for name in ("ability_sd", "difficulty_sd", "decay_log_sd", "delay_coef_log_sd"):
            check_range(f"{prefix}.{name}", getattr(params, name), 0.0, 5.0)
        wc, wn = np.asarray(params.weights_correct), np.asarray(params.weights_attempts)
        if wc.ndim < 1 or wc.shape[-1] < 1 or wc.shape != wn.shape:
            raise ValueError(f"{prefix}.weights_correct and {prefix}.weights_attempts must have the same "
                             f"shape (W,), W >= 1, got {wc.shape} and {wn.shape}")
        check_range(f"{prefix}.weights_correct", wc, -20.0, 20.0)
        check_range(f"{prefix}.weights_attempts", wn, -20.0, 20.0)
        check_range(f"{prefix}.window_days", params.window_days, 0.0, 1e6, low_open=True)
        validate_common(params, prefix)

    def init(self, key: Array, params: DASHParams, n_items: int) -> DASHState:
        k_ability, k_difficulty, k_decay, k_delay, k_prior = jax.random.split(key, 5)
        n_windows = params.weights_correct.shape[-1]
        ability = params.ability + params.ability_sd * jax.random.normal(k_ability, ())
        difficulty = params.difficulty_mean + params.difficulty_sd * jax.random.normal(k_difficulty, (n_items,))
        z = params.decay_log_mean + params.decay_log_sd * jax.random.normal(k_decay, (n_items,))
        delay_coef = jnp.exp(params.delay_coef_log_mean + params.delay_coef_log_sd * jax.random.normal(k_delay, ()))
        seen, last_review = prior_exposure(k_prior, params, n_items)
        zeros = jnp.zeros((n_items, n_windows), jnp.float32)
        return DASHState(correct=zeros, attempts=zeros, last_review=last_review, seen=seen,
                         bias=ability - difficulty, decay_exponent=jnp.exp(params.decay_offset - jnp.exp(z)),
                         delay_coef=delay_coef)

    def _recall(self, params, bias, correct, attempts, decay_exponent, delay_coef, now, last_review):
        window = current_window(now, params.window_days, correct.shape[-1])
        strength = memory_strength(bias, params.weights_correct, params.weights_attempts, correct, attempts, window)
        return recall_probability(strength, delay_coef, decay_exponent, elapsed_since(now, last_review))

    def recall_prob(self, state: DASHState, now: Array, params: DASHParams) -> Array:
        p = self._recall(params, state.bias, state.correct, state.attempts, state.decay_exponent,
                         state.delay_coef, now, state.last_review)
        return jnp.where(state.seen, p, 0.0)

    def practice(self, key: Array, state: DASHState, item: Array, now: Array,
                 params: DASHParams) -> tuple[Array, DASHState]:
        item = jnp.asarray(item, jnp.int32)
        seen, last_review = get(state.seen, item), get(state.last_review, item)
        correct, attempts = get(state.correct, item), get(state.attempts, item)
        recall = self._recall(params, get(state.bias, item), correct, attempts, get(state.decay_exponent, item),
                              state.delay_coef, now, last_review)
        grade = draw_grade(key, recall, seen, params)
        window = jax.nn.one_hot(current_window(now, params.window_days, correct.shape[-1]), correct.shape[-1])
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            correct=put(state.correct, item, correct + window * (grade > 1)),
            attempts=put(state.attempts, item, attempts + window),
            last_review=put(state.last_review, item, jnp.where(in_range, now, last_review)),
            seen=put(state.seen, item, seen | in_range),
        )
        return grade, state



DASH = DASHLearner()
