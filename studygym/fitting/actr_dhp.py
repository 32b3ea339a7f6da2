"""Fit models ``actr`` (Pavlik & Anderson 2005) and ``dhp`` (SSP-MMC's DHP) for :mod:`studygym.fitting.core`.

Both reuse the learners' maths (``studygym.envs.learners.actr`` / ``.dhp``); ``studygym.fitting.core`` registers them, which
makes ``studygym fit LOG --model actr|dhp`` and ``scripts/fit_models.py`` fit them.

- ``actr``: params ``(a, c, s, tau, log_h)`` (``h`` on a log scale). A card's state is a bounded
  ring of its last :data:`~studygym.envs.learners.actr.HISTORY` review times (days since its first review) with
  the decay of each trace, the review count and the current time: ACT-R needs the review history,
  and a ring bounds the state (a card reviewed more often forgets its oldest traces; the built-in
  log has at most 54 reviews per card, 32 are kept). Time is exact (``elapsed_real_days``): the
  model is continuous in time, so same-day reviews are ordinary presentations.
- ``dhp``: the 8 DHP coefficients plus an initial difficulty per first rating (MaiMemo estimates a
  word's difficulty from every user's first answers; one learner's log has only the card's own
  first rating). Half-life decays in whole days (``elapsed_days``, as FSRS in the fitter); a
  review less than a day after the previous one leaves the memory unchanged (DHP models one
  review a day, and its lapse formula diverges as ``p -> 1``).

Each model's ``learner_overrides`` maps a fit to ``studygym.make`` overrides, so
``studygym.make("Review-v0", learner=fit_result)`` builds a population around the fitted params.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from studygym.envs.learners import actr as actr_maths
from studygym.envs.learners import dhp as dhp_maths
from studygym.fitting.model import FitModel

# ----------------------------------------------------------------------------------------------
# ACT-R
# ----------------------------------------------------------------------------------------------

#: ``h`` is fitted on a log scale (``log_h = ln h``): it spans orders of magnitude, and a step of
#: Adam moves every parameter by about the same amount.
ACTR_NAMES = ("a", "c", "s", "tau", "log_h")
_ACTR_LEARNER_NAMES = ("a", "c", "s", "tau", "h")


def _actr_init(params):
    k = actr_maths.HISTORY
    return (jnp.zeros(k, jnp.float32), jnp.zeros(k, jnp.float32), jnp.int32(0), jnp.float32(0.0))


def _actr_step(params, state, review):
    a, c, s, tau, log_h = (params[i] for i in range(5))
    times, decays, count, now = state
    now = jnp.where(review["first"], 0.0, now + review["elapsed_real_days"])
    count = jnp.where(review["first"], 0, count)
    m = actr_maths.activation(times, decays, count, now, jnp.exp(log_h))
    recall = actr_maths.recall_from_activation(m, s, tau)
    times, decays, count = actr_maths.add_trace(times, decays, count, now, actr_maths.new_decay(m, count, a, c))
    return recall, (times, decays, count, now)


def _log_bound(name: str, value: float) -> float:
    return math.log(value) if name == "h" else value


ACTR_MODEL = FitModel(
    name="actr",
    param_names=ACTR_NAMES,
    default_params=tuple(_log_bound(k, actr_maths.PAVLIK_ANDERSON_2005[k]) for k in _ACTR_LEARNER_NAMES),
    lower=tuple(_log_bound(k, actr_maths.BOUNDS[k][0]) for k in _ACTR_LEARNER_NAMES),
    upper=tuple(_log_bound(k, actr_maths.BOUNDS[k][1]) for k in _ACTR_LEARNER_NAMES),
    init_state=_actr_init,
    step=_actr_step,
    description=f"ACT-R (Pavlik & Anderson 2005), 5 params (h on a log scale), last {actr_maths.HISTORY} "
                "reviews per card",
    learner="actr",
    learner_overrides=lambda params, grade_probs, **population: actr_overrides(params, grade_probs, **population),
)

# ----------------------------------------------------------------------------------------------
# DHP
# ----------------------------------------------------------------------------------------------

DHP_NAMES = ("recall_log_scale", "recall_d_exp", "recall_h_exp", "recall_p_exp",
             "forget_log_scale", "forget_d_exp", "forget_h_exp", "forget_p_exp",
             "d0_again", "d0_hard", "d0_good", "d0_easy")
#: Initial difficulty by first rating before fitting: harder words get Again at first sight.
DHP_DEFAULT_D0 = (8.0, 6.0, 4.0, 2.0)
DHP_LOWER = (-5.0, -3.0, -1.0, 0.01, -5.0, -2.0, 0.0, -2.0, 1.0, 1.0, 1.0, 1.0)
DHP_UPPER = (10.0, 1.0, 1.0, 3.0, 5.0, 2.0, 1.0, 0.0, 18.0, 18.0, 18.0, 18.0)


def _dhp_init(params):
    return (jnp.float32(1.0), jnp.float32(5.0))


def _dhp_step(params, state, review):
    half_life, difficulty = state
    recall_coef, forget_coef, d0 = params[0:4], params[4:8], params[8:12]
    elapsed = review["elapsed_days"]
    p = dhp_maths.recall_probability(elapsed, half_life)
    h_next, d_next = dhp_maths.next_memory(recall_coef, forget_coef, difficulty, half_life, p, review["rating"] > 1)
    same_day = elapsed < 1.0
    h_next, d_next = jnp.where(same_day, half_life, h_next), jnp.where(same_day, difficulty, d_next)
    d_first = d0[jnp.clip(review["rating"], 1, 4) - 1]
    h_next = jnp.where(review["first"], dhp_maths.start_half_life(d_first), h_next)
    d_next = jnp.where(review["first"], d_first, d_next)
    return p, (h_next, d_next)


DHP_MODEL = FitModel(
    name="dhp",
    param_names=DHP_NAMES,
    default_params=dhp_maths.RECALL_COEF + dhp_maths.FORGET_COEF + DHP_DEFAULT_D0,
    lower=DHP_LOWER,
    upper=DHP_UPPER,
    init_state=_dhp_init,
    step=_dhp_step,
    description="DHP of SSP-MMC (Ye, Su & Cao 2022), 8 coefficients + initial difficulty per first rating",
    learner="dhp",
    learner_overrides=lambda params, grade_probs, **population: dhp_overrides(params, grade_probs, **population),
)


def _grade_overrides(grade_probs: dict) -> dict[str, Any]:
    return {k: list(grade_probs[k]) for k in ("first_grade_probs", "success_grade_probs") if k in (grade_probs or {})}


def actr_overrides(params: dict, grade_probs: dict, **population) -> dict[str, Any]:
    """``make`` overrides for fitted ACT-R params: ``a, c, s, tau, h = e^log_h``, the log's grade
    probabilities and the population spreads (``learner_sd``, ``item_sd``; default: the learner's)."""
    values = {name: float(params[name]) for name in ACTR_NAMES[:4]}
    h = min(max(math.exp(float(params["log_h"])), actr_maths.BOUNDS["h"][0]), actr_maths.BOUNDS["h"][1])
    return {"learner": "actr", **values, "h": h,
            **_grade_overrides(grade_probs), **population}


def dhp_overrides(params: dict, grade_probs: dict, **population) -> dict[str, Any]:
    """``make`` overrides for fitted DHP params: ``recall_coef``, ``forget_coef``, grade probabilities
    and ``forget_sd`` if given. The learner draws initial difficulties from the paper's
    distribution; the fit's d0 per first rating is not used."""
    return {"learner": "dhp", "recall_coef": [float(params[n]) for n in DHP_NAMES[0:4]],
            "forget_coef": [float(params[n]) for n in DHP_NAMES[4:8]], **_grade_overrides(grade_probs),
            **population}


__all__ = ["ACTR_MODEL", "DHP_MODEL", "actr_overrides", "dhp_overrides"]
