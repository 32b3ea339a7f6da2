"""Fit model for the Ebisu learner (``studygym.fitting.core`` registers it in ``MODELS``).

Ebisu (``studygym.envs.learners.ebisu``) replays a card's history: the first review sets the card's
model to ``(α, α, t0)`` (Ebisu's ``defaultModel``), each later review predicts recall from the
*exact* time since the previous one (``elapsed_real_days``) and then updates the Beta model with the
outcome (recalled = rating > 1), as ``ebisu.predictRecall``/``updateRecall(..., rebalance=False)``
do (without rebalancing: the exact posterior moments at the card's fixed time t0, a closed form;
the learner and the scheduler rebalance as Ebisu does by default). Two parameters are
fitted: ``log_half_life`` (log of the initial half-life guess t0, days) and ``log_alpha`` (log of
the prior's α = β). srs-benchmark scores Ebisu with fixed priors; fitting them is the natural
reading of "Ebisu as a fit model" (its update rule has no other parameters).
"""

from __future__ import annotations

import jax.numpy as jnp

from studygym.envs.learners import ebisu as ebisu_maths
from studygym.fitting.model import FitModel
from studygym.fitting.reddy import _with_grades


def _ebisu_step(params, state, review):
    alpha0, t0 = jnp.exp(params[1]), jnp.exp(params[0])
    alpha, beta, t = (jnp.where(review["first"], start, x) for x, start in zip(state, (alpha0, alpha0, t0)))
    recall = ebisu_maths.predict_recall(alpha, beta, t, review["elapsed_real_days"])
    updated = ebisu_maths.update_recall(alpha, beta, t, review["rating"] > 1, review["elapsed_real_days"],
                                        rebalance=False)
    # A first review is the first study: the card keeps its prior model.
    state = tuple(jnp.where(review["first"], start, new) for new, start in zip(updated, (alpha0, alpha0, t0)))
    return recall, state


def _ebisu_overrides(params: dict, grade_probs: dict, **population) -> dict:
    overrides = {"learner": "ebisu", "half_life": float(jnp.exp(params["log_half_life"])),
                 "alpha": float(jnp.exp(params["log_alpha"]))}
    return _with_grades(overrides, grade_probs, population, ebisu_maths.EBISU)


EBISU_MODEL = FitModel(
    name="ebisu",
    param_names=("log_half_life", "log_alpha"),
    default_params=(float(jnp.log(ebisu_maths.DEFAULT_HALF_LIFE)), float(jnp.log(ebisu_maths.DEFAULT_ALPHA))),
    lower=(-7.0, -2.5),  # t0 >= 1.5 minutes, alpha >= 0.08
    upper=(9.0, 6.5),  # t0 <= 22 years, alpha <= 665
    init_state=lambda params: (jnp.float32(3.0), jnp.float32(3.0), jnp.float32(1.0)),  # replaced at the first review
    step=_ebisu_step,
    description="Ebisu 2 (Fasih): Beta prior on recall at t0, Bayesian update per quiz, 2 params (t0, alpha)",
    learner="ebisu",
    learner_overrides=_ebisu_overrides,
)

__all__ = ["EBISU_MODEL"]
