"""Ebisu (Fasih, 2018-; PyPI ``ebisu`` 2.x): a Bayesian recall model, as a learner.

An item's memory is a Beta distribution on its recall probability at a time ``t`` after its last
review, ``p_t ~ Beta(α, β)``, with exponential forgetting: recall ``δ`` days after the review is
``p_t^(δ/t)``. Everything follows from Beta-function closed forms (``B`` is the Beta function):

- **Predict** (``ebisu.predictRecall(model, δ, exact=True)``): the expected recall
  ``E[p_t^(δ/t)] = B(α + δ/t, β) / B(α, β)``.
- **Update** (``ebisu.updateRecall(model, s, 1, δ)``, a binary quiz, Ebisu 2.x's default
  rebalancing): the posterior of recall at a new time ``t'`` after a quiz at ``δ`` has moments
  (``d = δ/t``, ``u = t'/t``)

    success: ``E[p^N] = B(α + d + N u, β) / B(α + d, β)``
    failure: ``E[p^N] = (B(α + N u, β) − B(α + d + N u, β)) / (B(α, β) − B(α + d, β))``

  ``t'`` is chosen where the posterior mean is 1/2 (the new half-life), found here by Newton's
  method (:func:`update_recall` says why it converges; the fitter differentiates through it); the mean and variance are matched to a new ``Beta(α', β')`` (at the
  half-life ``α' = β'``). Checked against the ebisu package on random models in
  ``tests/test_ebisu.py``.

As a learner: an item's first study sets its model to ``(α, α, t0_i)`` (Ebisu's ``defaultModel``:
``t0`` is a half-life guess), ``log t0_i ~ N(log half_life, half_life_log_sd)`` per item plus a
per-learner offset; each later review is graded from the predicted recall and then updates the model
as above (recalled = grade > 1). Grades, prior exposure and out-of-range rests: see :mod:`.exposure`.
The defaults: ``α = β = 3`` is ``ebisu.defaultModel``'s default alpha; the one-day initial half-life is
studygym's choice (Ebisu leaves t to the user; fit it to a log with ``studygym fit --model ebisu``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import betaln

from .base import WithoutSleep
from ..core import Array, check_range, pytree_dataclass
from .exposure import (common_params, draw_grade, elapsed_since, get, prior_exposure, put,
                       validate_common, with_common_fields)

#: Ebisu's ``defaultModel`` alpha (= beta) and a one-day initial half-life.
DEFAULT_ALPHA = 3.0
DEFAULT_HALF_LIFE = 1.0
#: Bounds on the updated Beta shape parameters (float32 stays finite inside them).
MIN_SHAPE, MAX_SHAPE = 1e-2, 1e5
#: Newton steps solving for the new half-life (see :func:`update_recall`).
NEWTON_STEPS = 8
#: The quiz delay is floored at this fraction of the model's time (a zero delay makes the failure
#: update 0/0; Ebisu itself asserts there).
MIN_DELAY_RATIO = 1e-3


def predict_recall(alpha: Array, beta: Array, t: Array, elapsed: Array) -> Array:
    """Expected recall ``elapsed`` days after the last review: ``B(α + δ/t, β) / B(α, β)``."""
    return jnp.exp(betaln(alpha + jnp.maximum(elapsed, 0.0) / t, beta) - betaln(alpha, beta))


def _log_moment(alpha, beta, d, success, n, u):
    """log E[p^n] of the posterior (at time u·t after the quiz) of a quiz at delay ratio d."""
    shift = n * u
    success_num = betaln(alpha + d + shift, beta) - betaln(alpha + d, beta)
    hi, lo = betaln(alpha + shift, beta), betaln(alpha + d + shift, beta)
    hi0, lo0 = betaln(alpha, beta), betaln(alpha + d, beta)
    failure_num = (hi + jnp.log1p(-jnp.exp(jnp.minimum(lo - hi, -1e-7)))
                   - hi0 - jnp.log1p(-jnp.exp(jnp.minimum(lo0 - hi0, -1e-7))))
    return jnp.where(success, success_num, failure_num)


def update_recall(alpha: Array, beta: Array, t: Array, success: Array, elapsed: Array, rebalance: bool = True):
    """Ebisu 2.x's ``updateRecall(model, success, 1, elapsed)`` (rebalanced): -> ``(α', β', t')``.

    ``rebalance=False`` is ``updateRecall(..., rebalance=False)``: the posterior stays at the
    model's time (``t' = t``, ``u = 1``), a closed form without the solve (the fit model uses it:
    differentiating through the Newton solve inside a scan over every review compiles slowly).

    The new half-life ratio ``u = t'/t`` solves ``log E[p^u] = log 1/2``. ``log E[p^u]`` is the log
    Laplace transform of a positive measure in ``u`` (for a success ``p^d Beta(α, β)``, for a failure
    ``(1 - p^d) Beta(α, β)``), so it is convex and decreasing, starting at 0 for ``u = 0``: Newton's
    method from ``u = 0`` rises monotonically to the root (:data:`NEWTON_STEPS` steps), and its last
    steps carry the implicit derivative for the fitter.
    """
    alpha, beta, t = (jnp.asarray(x, jnp.float32) for x in (alpha, beta, t))
    d = jnp.maximum(jnp.maximum(elapsed, 0.0) / t, MIN_DELAY_RATIO)
    success = jnp.asarray(success, bool)
    gap = lambda u: _log_moment(alpha, beta, d, success, 1.0, u) - jnp.log(0.5)  # noqa: E731
    u = jnp.zeros_like(alpha + d)
    for _ in range(NEWTON_STEPS if rebalance else 0):
        value, slope = jax.jvp(gap, (u,), (jnp.ones_like(u),))
        u = u - value / jnp.minimum(slope, -1e-12)
    if not rebalance:
        u = jnp.ones_like(u)
    mean = jnp.exp(_log_moment(alpha, beta, d, success, 1.0, u))
    second = jnp.exp(_log_moment(alpha, beta, d, success, 2.0, u))
    var = jnp.maximum(second - mean * mean, 1e-12)
    scale = mean * (1.0 - mean) / var - 1.0
    # Floors keep a long run of surprises (a leech failed again and again) finite in float32.
    alpha_new = jnp.nan_to_num(mean * scale, nan=MIN_SHAPE)
    beta_new = jnp.nan_to_num((1.0 - mean) * scale, nan=MIN_SHAPE)
    return jnp.clip(alpha_new, MIN_SHAPE, MAX_SHAPE), jnp.clip(beta_new, MIN_SHAPE, MAX_SHAPE), t * u


@pytree_dataclass
@with_common_fields
class EbisuParams:
    """Traits of an Ebisu learner population; then the fields every count-based learner has
    (:data:`.exposure.COMMON_FIELDS`: grade probabilities, prior exposure)."""

    alpha: Array  # () α = β of a new item's Beta prior at its initial half-life
    half_life: Array  # () a new item's half-life guess t0 (days; the population median)
    half_life_log_sd: Array  # () SD of log t0 across items
    learner_sd: Array  # () SD of a per-learner offset on every item's log t0


@pytree_dataclass
class EbisuState:
    """Per-item memory of one Ebisu learner (hidden from policies)."""

    alpha: Array  # (N,) Beta α of recall at time t after the last review
    beta: Array  # (N,) Beta β
    t: Array  # (N,) days
    last_review: Array  # (N,) days
    seen: Array  # (N,) bool


def default_params(alpha: float = DEFAULT_ALPHA, half_life: float = DEFAULT_HALF_LIFE,
                   half_life_log_sd: float = 0.5, learner_sd: float = 0.3, **common) -> EbisuParams:
    return EbisuParams(alpha=jnp.float32(alpha), half_life=jnp.float32(half_life),
                       half_life_log_sd=jnp.float32(half_life_log_sd), learner_sd=jnp.float32(learner_sd),
                       **common_params(**common))


class EbisuLearner(WithoutSleep):
    """Ebisu learner: the learner protocol over :class:`EbisuState`."""

    name = "ebisu"
    Params = EbisuParams
    State = EbisuState
    out_of_range_item_rests = True

    def default_params(self) -> EbisuParams:
        return default_params()

    def validate_params(self, params: EbisuParams, prefix: str = "learner") -> None:
        check_range(f"{prefix}.alpha", params.alpha, 0.05, 1e3)
        check_range(f"{prefix}.half_life", params.half_life, 1e-4, 1e5)
        check_range(f"{prefix}.half_life_log_sd", params.half_life_log_sd, 0.0, 5.0)
        check_range(f"{prefix}.learner_sd", params.learner_sd, 0.0, 5.0)
        validate_common(params, prefix)

    def init(self, key: Array, params: EbisuParams, n_items: int) -> EbisuState:
        key_items, key_learner, key_prior = jax.random.split(key, 3)
        log_t0 = (jnp.log(params.half_life) + params.half_life_log_sd * jax.random.normal(key_items, (n_items,))
                  + params.learner_sd * jax.random.normal(key_learner, ()))
        seen, last_review = prior_exposure(key_prior, params, n_items)
        alpha = jnp.full(n_items, params.alpha, jnp.float32)
        return EbisuState(alpha=alpha, beta=alpha, t=jnp.exp(log_t0).astype(jnp.float32),
                          last_review=last_review, seen=seen)

    def recall_prob(self, state: EbisuState, now: Array, params: EbisuParams) -> Array:
        recall = predict_recall(state.alpha, state.beta, state.t, elapsed_since(now, state.last_review))
        return jnp.where(state.seen, recall, 0.0)

    def practice(self, key: Array, state: EbisuState, item: Array, now: Array,
                 params: EbisuParams) -> tuple[Array, EbisuState]:
        item = jnp.asarray(item, jnp.int32)
        seen, last_review = get(state.seen, item), get(state.last_review, item)
        alpha, beta, t = get(state.alpha, item), get(state.beta, item), get(state.t, item)
        elapsed = elapsed_since(now, last_review)
        grade = draw_grade(key, predict_recall(alpha, beta, t, elapsed), seen, params)
        new_alpha, new_beta, new_t = update_recall(alpha, beta, t, grade > 1, elapsed)
        # A first study is not a quiz: the item keeps its prior (defaultModel) from now on.
        new_alpha, new_beta, new_t = (jnp.where(seen, new, old) for new, old in
                                      ((new_alpha, alpha), (new_beta, beta), (new_t, t)))
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            alpha=put(state.alpha, item, new_alpha), beta=put(state.beta, item, new_beta),
            t=put(state.t, item, new_t),
            last_review=put(state.last_review, item, jnp.where(in_range, now, last_review)),
            seen=put(state.seen, item, seen | in_range),
        )
        return grade, state


EBISU = EbisuLearner()

__all__ = ["EBISU", "EbisuLearner", "EbisuParams", "EbisuState", "default_params", "predict_recall",
           "update_recall"]
