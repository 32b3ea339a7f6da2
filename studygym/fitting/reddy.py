"""Fit models for the HLR, EFC and GPL/DASH learners (``studygym.fitting.core`` registers them in ``MODELS``).

Each model reuses its learner's maths (``studygym.envs.learners.{hlr,efc,dash}``) on one card's
review history: it predicts recall at a review from the counts and the *exact* time since the
card's previous review (``elapsed_real_days``; these are continuous-time models), then counts the
review (recalled = rating > 1). Per-item terms (HLR's lexeme offset, EFC's per-item rate, DASH's
item difficulty) are not fitted per card: the fit gives the population's centre, and the
learner's default spreads supply the variation, so ``studygym.make("Review-v0", learner=result)``
builds a population around the fitted params (:meth:`studygym.fitting.core.FitResult.overrides`).

- ``efc``: ``log θ`` (1 param), ``p = exp(-θ Δt / n)``.
- ``hlr``: the 5 weights of ``log2 h = θ·[√(1+c), √(1+w), 1, c, w]``, h clipped to Settles &
  Meeder's [15 min, 274 days]; ``p = 2^(-Δt/h)``. Trained on log loss like every model here (Settles
  & Meeder add a half-life term to a squared loss).
- ``dash``: bias ``a − d``, window weights θc (5) and θn (5), ``log r`` and ``log f``; windows are 7-day
  periods from the card's first review (the learner's default ``window_days``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from studygym.envs.learners import dash as dash_maths
from studygym.envs.learners import efc as efc_maths
from studygym.envs.learners import hlr as hlr_maths
from studygym.fitting.model import FitModel


def _with_grades(overrides: dict, grade_probs: dict, population: dict, learner) -> dict:
    """Add the log's grade distributions and any population spreads (checked against the learner)."""
    fields = set(learner.Params.__dataclass_fields__)
    unknown = sorted(set(population) - fields)
    if unknown:
        raise ValueError(f"unknown population setting(s) for learner {learner.name!r}: {unknown}")
    out = dict(overrides)
    for key in ("first_grade_probs", "success_grade_probs"):
        if grade_probs and key in grade_probs:
            out[key] = list(grade_probs[key])
    out.update({k: float(v) for k, v in population.items()})
    return out


# -- EFC -----------------------------------------------------------------------------------------


def _efc_step(params, exposures, review):
    recall = efc_maths.recall_probability(jnp.exp(params[0]), review["elapsed_real_days"], exposures)
    return recall, exposures + 1.0


def _efc_overrides(params: dict, grade_probs: dict, **population) -> dict:
    return _with_grades({"learner": "efc", "rate_log_mean": params["log_rate"]}, grade_probs, population,
                        efc_maths.EFC)


EFC_MODEL = FitModel(
    name="efc",
    param_names=("log_rate",),
    default_params=(efc_maths.RATE_LOG_MEAN,),
    lower=(-15.0,),
    upper=(5.0,),
    init_state=lambda params: jnp.float32(0.0),
    step=_efc_step,
    description="EFC (Reddy et al. 2016/2017): p = exp(-θ Δt / n), 1 param",
    learner="efc",
    learner_overrides=_efc_overrides,
)


# -- HLR -----------------------------------------------------------------------------------------


def _hlr_step(params, counts, review):
    correct, wrong = counts
    log2_h = hlr_maths.log2_half_life(params, correct, wrong, 0.0, hlr_maths.HALF_LIFE_MIN, hlr_maths.HALF_LIFE_MAX)
    recall = hlr_maths.recall_probability(review["elapsed_real_days"], log2_h)
    success = (review["rating"] > 1).astype(jnp.float32)
    return recall, (correct + success, wrong + 1.0 - success)


def _hlr_overrides(params: dict, grade_probs: dict, **population) -> dict:
    weights = [params[f"theta_{name}"] for name in hlr_maths.FEATURES]
    return _with_grades({"learner": "hlr", "weights": weights}, grade_probs, population, hlr_maths.HLR)


HLR_MODEL = FitModel(
    name="hlr",
    param_names=tuple(f"theta_{name}" for name in hlr_maths.FEATURES),
    default_params=hlr_maths.DEFAULT_WEIGHTS,
    lower=(-20.0,) * len(hlr_maths.FEATURES),
    upper=(20.0,) * len(hlr_maths.FEATURES),
    init_state=lambda params: (jnp.float32(0.0), jnp.float32(0.0)),
    step=_hlr_step,
    description="HLR (Settles & Meeder 2016): p = 2^(-Δt/h), log2 h linear in review counts, 5 weights",
    learner="hlr",
    learner_overrides=_hlr_overrides,
)


# -- GPL/DASH ------------------------------------------------------------------------------------

DASH_WINDOW_DAYS = 7.0
_W = dash_maths.N_WINDOWS


def _dash_step(params, state, review):
    time, correct, attempts = state
    bias, weights_correct, weights_attempts = params[0], params[1:1 + _W], params[1 + _W:1 + 2 * _W]
    delay_coef, decay_exponent = jnp.exp(params[1 + 2 * _W]), jnp.exp(params[2 + 2 * _W])
    time = jnp.where(review["first"], 0.0, time + review["elapsed_real_days"])
    window = dash_maths.current_window(time, DASH_WINDOW_DAYS, _W)
    strength = dash_maths.memory_strength(bias, weights_correct, weights_attempts, correct, attempts, window)
    recall = dash_maths.recall_probability(strength, delay_coef, decay_exponent, review["elapsed_real_days"])
    one_hot = (jnp.arange(_W) == window).astype(jnp.float32)
    return recall, (time, correct + one_hot * (review["rating"] > 1), attempts + one_hot)


def _dash_overrides(params: dict, grade_probs: dict, **population) -> dict:
    values = [params[name] for name in DASH_PARAM_NAMES]
    # f_i = exp(a_f − e^{z_i}), z_i ~ N(0, sd): the median item has f = exp(a_f − 1) = the fitted f.
    overrides = {
        "learner": "dash", "ability": 0.0, "difficulty_mean": -values[0],
        "weights_correct": values[1:1 + _W], "weights_attempts": values[1 + _W:1 + 2 * _W],
        "delay_coef_log_mean": values[1 + 2 * _W], "decay_log_mean": 0.0,
        "decay_offset": values[2 + 2 * _W] + 1.0, "window_days": DASH_WINDOW_DAYS,
    }
    return _with_grades(overrides, grade_probs, population, dash_maths.DASH)


DASH_PARAM_NAMES = ("bias", *(f"theta_correct_{w}" for w in range(_W)), *(f"theta_attempts_{w}" for w in range(_W)),
                    "log_delay_coef", "log_decay_exponent")
_REDDY_WEIGHTS = dash_maths.reddy_window_weights(_W)

DASH_MODEL = FitModel(
    name="dash",
    param_names=DASH_PARAM_NAMES,
    # Reddy et al.'s population centre: a − d = −1, r = 1, f = exp(−e) (z at its mean 1).
    default_params=(-1.0, *_REDDY_WEIGHTS, *_REDDY_WEIGHTS, 0.0, -math.e),
    lower=(-10.0, *(-10.0,) * (2 * _W), -10.0, -10.0),
    upper=(10.0, *(10.0,) * (2 * _W), 5.0, 2.0),
    init_state=lambda params: (jnp.float32(0.0), jnp.zeros(_W, jnp.float32), jnp.zeros(_W, jnp.float32)),
    step=_dash_step,
    description="GPL/DASH (Reddy et al. 2017; Lindsey et al. 2014): 7-day windows, power-law forgetting, 13 params",
    learner="dash",
    learner_overrides=_dash_overrides,
)

__all__ = ["EFC_MODEL", "HLR_MODEL", "DASH_MODEL", "DASH_PARAM_NAMES"]
