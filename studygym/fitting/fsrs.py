"""Fit models of the FSRS family: FSRS-6 (``fsrs``) and the ``constant`` baseline.

Kept apart from :mod:`studygym.fitting.core` (the pipeline, which needs pandas) so that the catalog can
register every fit model without loading the pipeline.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from studygym.envs.learners import fsrs as fsrs_maths
from studygym.fitting.model import FitModel

#: SD of each FSRS-6 weight across users, the scale of fsrs-rs's L2 penalty toward the initial
#: weights (``PARAMS_STDDEV`` in open-spaced-repetition/fsrs-rs ``src/training.rs``, gamma 1). With it a
#: fit of a few thousand reviews does not overfit: on the test subset of the shipped log the held-out
#: log loss drops from 0.491 (no prior) to 0.470 (measured in tests/test_fit.py's subset).
FSRS_PRIOR_SD = (6.43, 9.66, 17.58, 27.85, 0.57, 0.28, 0.6, 0.12, 0.39, 0.18, 0.33, 0.3, 0.09, 0.16, 0.57,
                 0.25, 1.03, 0.31, 0.32, 0.14, 0.27)


def _fsrs_step(w, state, review):
    stability, difficulty = state
    recall = fsrs_maths.retrievability(w, review["elapsed_days"], stability)
    stability, difficulty = fsrs_maths.review(w, stability, difficulty, review["elapsed_days"],
                                              review["rating"], review["first"], recall)
    return recall, (stability, difficulty)


FSRS_MODEL = FitModel(
    name="fsrs",
    param_names=tuple(f"w{i}" for i in range(21)),
    default_params=fsrs_maths.FSRS6_DEFAULT_WEIGHTS,
    lower=fsrs_maths.WEIGHT_LOWER,
    upper=fsrs_maths.WEIGHT_UPPER,
    init_state=lambda w: (jnp.float32(1.0), jnp.float32(5.0)),  # replaced at the first review
    step=_fsrs_step,
    description="FSRS-6 (Ye et al.; py-fsrs), 21 weights",
    learner="fsrs",
    prior_sd=FSRS_PRIOR_SD,
)

CONSTANT_MODEL = FitModel(
    name="constant",
    param_names=("logit_recall",),
    default_params=(2.0,),
    lower=(-10.0,),
    upper=(10.0,),
    init_state=lambda params: jnp.float32(0.0),
    step=lambda params, state, review: (jax.nn.sigmoid(params[0]), state),
    description="baseline: one average recall rate for every review, ignoring history",
)

__all__ = ["CONSTANT_MODEL", "FSRS_MODEL", "FSRS_PRIOR_SD"]
