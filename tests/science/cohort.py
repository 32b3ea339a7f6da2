"""Helpers for the stylized-fact tests: a cohort of paired simulated brain learners.

The cohort is the replications' (:class:`studygym.evaluation.replicate.Cohort`, one home for both),
on an explicit schedule (``lived=False``: the learners wake at 07:00 on day 0 and sleep only when a
test says so, with ``sleep`` or ``until``); this module only sets the tests' defaults (the brain
learner, a preset by name plus field overrides, validated; 256 learners, 32 items). ``fork()`` copies
a cohort so two arms start from the same learners, and every practice draws its random numbers from
(learner, item, exposure count), so arms that treat an item alike see the same outcomes: comparisons
are paired. Effects are measured on recall *probabilities* (expected scores).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.learners.brain import BRAIN, BrainParams, brain_preset
from studygym.evaluation import replicate
from studygym.evaluation.replicate import BED_HOUR, WAKE_HOUR, at  # noqa: F401 (re-exported for the tests)

N_LEARNERS = 256
N_ITEMS = 32

#: The cohort's compiled elapse, and the learner's recall_prob without it (test_brain_learner checks that
#: elapse is the identity).
_elapse = replicate._compiled(BRAIN)["elapse"]
_recall = jax.jit(jax.vmap(BRAIN.recall_prob, in_axes=(0, None, None)))


class Cohort(replicate.Cohort):
    """``n_learners`` paired brain learners on an explicit schedule (``fork`` to branch arms)."""

    def __init__(self, params: BrainParams | str = "lab_novice", n_items: int = N_ITEMS,
                 n_learners: int = N_LEARNERS, seed: int = 0, **overrides):
        if isinstance(params, str):
            params = brain_preset(params, **overrides)
        elif overrides:
            params = params.replace(**{k: jnp.asarray(v, jnp.float32) for k, v in overrides.items()})
        BRAIN.validate_params(params)
        super().__init__(BRAIN, params, n_learners, seed, n_items=n_items, lived=False)


def paired_effect(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean paired difference a - b over learners (each learner's item mean) and its Cohen's d_z."""
    diff = np.asarray(a).reshape(len(a), -1).mean(1) - np.asarray(b).reshape(len(b), -1).mean(1)
    sd = diff.std(ddof=1)
    return float(diff.mean()), float(diff.mean() / sd) if sd > 0 else float("inf")
