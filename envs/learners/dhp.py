"""DHP: the difficulty-half-life-recall memory model of SSP-MMC (Ye, Su & Cao, KDD 2022).

MaiMemo's model behind SSP-MMC ("A Stochastic Shortest Path Algorithm for Optimizing Spaced
Repetition Scheduling"; code and fitted coefficients in ``maimemo/SSP-MMC``, ``model/utils.py``
and ``algo/main.cpp``). A memory is a half-life ``h`` (days) and a difficulty ``d``:

- Recall probability ``p = 2^(-t / h)`` after ``t`` days.
- First study: ``h0 = -1 / log2(max(0.925 - 0.05 d, 0.025))``.
- Recalled at ``p``: ``h' = h (1 + e^{3.81} d^{-0.534} h^{-0.127} (1 - p)^{0.968})``.
- Forgotten at ``p``: ``h' = e^{-0.0416} d^{-0.0407} h^{0.377} (1 - p)^{-0.227}``; ``d' = min(d + 2, 18)``.

Coefficients are the paper's fit to MaiMemo's logs (``RECALL_COEF``, ``FORGET_COEF``). A word's
initial difficulty ``d0`` in 1..10 is drawn from ``DIFFICULTY_PROBS``, the distribution in the
authors' ``simulator.py``. DHP only knows recall or forget; as a studygym learner a recall is
graded Hard/Good/Easy and a first exposure graded as in FSRS's simulator (the grade does not
change the memory). A population varies per learner by a log-normal multiplier on elapsed time
(``forget_sd``: a faster forgetter's clock runs faster), and per item by ``d0``.

Numerical guards (not in the paper): ``1 - p`` is floored at ``1e-6`` in the lapse formula
(a lapse at ``p = 1`` would give an infinite half-life), and half-lives are clipped to
``[HALF_LIFE_MIN, HALF_LIFE_MAX]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import WithoutSleep
from ..core import Array, categorical_draw, check_range, pytree_dataclass
from .fsrs import FIRST_GRADE_PROBS, SUCCESS_GRADE_PROBS, check_probs

#: (log scale, difficulty exponent, half-life exponent, (1 - p) exponent) after a recall.
RECALL_COEF = (3.80863264, -0.53420593, -0.127362, 0.9678043)
#: (log scale, difficulty exponent, half-life exponent, (1 - p) exponent) after a lapse.
FORGET_COEF = (-0.04158382, -0.04067209, 0.37745957, -0.22724425)
#: P(d0 = 1 .. 10): the initial-difficulty distribution of the authors' simulator.py.
DIFFICULTY_PROBS = (0.06, 0.09, 0.11, 0.14, 0.14, 0.13, 0.11, 0.10, 0.07, 0.05)
DIFFICULTY_OFFSET = 2.0  # difficulty added per lapse
DIFFICULTY_LIMIT = 18.0  # the largest difficulty (algo/main.cpp's d_limit)
HALF_LIFE_MIN, HALF_LIFE_MAX = 0.01, 36500.0  # days
ONE_MINUS_P_MIN = 1e-6


# ----------------------------------------------------------------------------------------------
# The DHP maths (pure, elementwise)
# ----------------------------------------------------------------------------------------------


def recall_probability(elapsed_days: Array, half_life: Array) -> Array:
    """p = 2^(-t / h)."""
    return jnp.exp2(-jnp.maximum(elapsed_days, 0.0) / half_life)


def start_half_life(difficulty: Array) -> Array:
    """h0 = -1 / log2(max(0.925 - 0.05 d, 0.025))."""
    return -1.0 / jnp.log2(jnp.maximum(0.925 - 0.05 * difficulty, 0.025))


def recall_half_life(coef: Array, difficulty: Array, half_life: Array, p: Array) -> Array:
    gain = (jnp.exp(coef[0] + coef[1] * jnp.log(difficulty) + coef[2] * jnp.log(half_life))
            * jnp.exp(coef[3] * jnp.log(jnp.maximum(1.0 - p, 0.0) + 1e-30)))
    return jnp.clip(half_life * (1.0 + gain), HALF_LIFE_MIN, HALF_LIFE_MAX)


def forget_half_life(coef: Array, difficulty: Array, half_life: Array, p: Array) -> Array:
    log_h = (coef[0] + coef[1] * jnp.log(difficulty) + coef[2] * jnp.log(half_life)
             + coef[3] * jnp.log(jnp.maximum(1.0 - p, ONE_MINUS_P_MIN)))
    return jnp.clip(jnp.exp(log_h), HALF_LIFE_MIN, HALF_LIFE_MAX)


def next_memory(recall_coef: Array, forget_coef: Array, difficulty: Array, half_life: Array, p: Array,
                recalled: Array) -> tuple[Array, Array]:
    """(h', d') after a review at recall probability ``p`` with outcome ``recalled``."""
    h = jnp.where(recalled, recall_half_life(recall_coef, difficulty, half_life, p),
                  forget_half_life(forget_coef, difficulty, half_life, p))
    d = jnp.where(recalled, difficulty, jnp.minimum(difficulty + DIFFICULTY_OFFSET, DIFFICULTY_LIMIT))
    return h, d


# ----------------------------------------------------------------------------------------------
# The simulated learner
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class DHPParams:
    """Traits of a DHP learner population."""

    recall_coef: Array  # (4,) recall update: log scale, exponents of d, h and (1 - p)
    forget_coef: Array  # (4,) lapse update: log scale, exponents of d, h and (1 - p)
    difficulty_probs: Array  # (10,) P(initial difficulty = 1 .. 10) per item
    success_grade_probs: Array  # (3,) P(Hard, Good, Easy | recalled)
    first_grade_probs: Array  # (4,) P(Again .. Easy) at first exposure (no effect on memory)
    forget_sd: Array  # () SD of the log time multiplier across learners (0 = identical learners)


@pytree_dataclass
class DHPState:
    """Per-item memory of one learner (hidden from policies)."""

    half_life: Array  # (N,) days; meaningless until seen
    difficulty: Array  # (N,) float32 1 .. 18
    last_review: Array  # (N,) days
    seen: Array  # (N,) bool
    initial_difficulty: Array  # (N,) float32 d0 in 1..10, drawn at init
    forget_mult: Array  # () this learner's time multiplier


def default_params(forget_sd: float = 0.0) -> DHPParams:
    return DHPParams(
        recall_coef=jnp.asarray(RECALL_COEF, jnp.float32),
        forget_coef=jnp.asarray(FORGET_COEF, jnp.float32),
        difficulty_probs=jnp.asarray(DIFFICULTY_PROBS, jnp.float32),
        success_grade_probs=jnp.asarray(SUCCESS_GRADE_PROBS, jnp.float32),
        first_grade_probs=jnp.asarray(FIRST_GRADE_PROBS, jnp.float32),
        forget_sd=jnp.asarray(forget_sd, jnp.float32),
    )


def validate_params(p: DHPParams, prefix: str = "learner") -> None:
    for name in ("recall_coef", "forget_coef"):
        value = np.asarray(getattr(p, name))
        if value.shape[-1:] != (4,):
            raise ValueError(f"{prefix}.{name} must have 4 coefficients, got shape {value.shape}")
        check_range(f"{prefix}.{name}", value, -20.0, 20.0)
    # Growth on recall and a finite lapse half-life need these signs (the paper's fit has them).
    check_range(f"{prefix}.recall_coef[3]", np.asarray(p.recall_coef)[..., 3], 0.0, 20.0, low_open=True)
    check_range(f"{prefix}.forget_coef[2]", np.asarray(p.forget_coef)[..., 2], 0.0, 1.0)
    if np.shape(p.difficulty_probs)[-1:] != (10,):
        raise ValueError(f"{prefix}.difficulty_probs must have 10 entries (d0 = 1..10), "
                         f"got shape {np.shape(p.difficulty_probs)}")
    check_probs(f"{prefix}.difficulty_probs", p.difficulty_probs)
    check_probs(f"{prefix}.success_grade_probs", p.success_grade_probs)
    check_probs(f"{prefix}.first_grade_probs", p.first_grade_probs)
    check_range(f"{prefix}.forget_sd", p.forget_sd, 0.0, 3.0)


def sample_initial_difficulty(key: Array, probs: Array, n_items: int) -> Array:
    """d0 in 1..10 per item, from ``probs``."""
    return (1 + categorical_draw(jax.random.uniform(key, (n_items,)), probs)).astype(jnp.float32)


class DHPLearner(WithoutSleep):
    """DHP learner (SSP-MMC): the learner protocol over :class:`DHPState`."""

    name = "dhp"
    Params = DHPParams
    State = DHPState
    out_of_range_item_rests = True

    def default_params(self) -> DHPParams:
        return default_params(forget_sd=0.3)

    def validate_params(self, params: DHPParams, prefix: str = "learner") -> None:
        validate_params(params, prefix)

    def init(self, key: Array, params: DHPParams, n_items: int) -> DHPState:
        key_learner, key_items = jax.random.split(key)
        d0 = sample_initial_difficulty(key_items, params.difficulty_probs, n_items)
        return DHPState(
            half_life=jnp.ones(n_items, jnp.float32),
            difficulty=d0,
            last_review=jnp.zeros(n_items, jnp.float32),
            seen=jnp.zeros(n_items, bool),
            initial_difficulty=d0,
            forget_mult=jnp.exp(params.forget_sd * jax.random.normal(key_learner, ())),
        )

    def recall_prob(self, state: DHPState, now: Array, params: DHPParams) -> Array:
        p = recall_probability((now - state.last_review) * state.forget_mult, state.half_life)
        return jnp.where(state.seen, p, 0.0)

    def practice(self, key: Array, state: DHPState, item: Array, now: Array,
                 params: DHPParams) -> tuple[Array, DHPState]:
        item = jnp.asarray(item, jnp.int32)

        def get(values):
            return values.at[item].get(mode="clip")

        def put(values, value):
            return values.at[item].set(value, mode="drop")

        seen, h, d = get(state.seen), get(state.half_life), get(state.difficulty)
        last = get(state.last_review)
        p = recall_probability((now - last) * state.forget_mult, h)
        u = jax.random.uniform(key)
        recalled = u < p
        success_grade = 2 + categorical_draw(u / jnp.maximum(p, 1e-12), params.success_grade_probs)
        first_grade = 1 + categorical_draw(u, params.first_grade_probs)
        grade = jnp.where(seen, jnp.where(recalled, success_grade, 1), first_grade).astype(jnp.int32)
        h_next, d_next = next_memory(params.recall_coef, params.forget_coef, d, h, p, recalled)
        d0 = get(state.initial_difficulty)
        h_next = jnp.where(seen, h_next, start_half_life(d0))
        d_next = jnp.where(seen, d_next, d0)
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            half_life=put(state.half_life, h_next),
            difficulty=put(state.difficulty, d_next),
            last_review=put(state.last_review, jnp.where(in_range, now, last)),
            seen=put(state.seen, seen | in_range),
        )
        return grade, state



DHP = DHPLearner()
