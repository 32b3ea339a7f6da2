"""What the fitter fits: :class:`FitModel`, a memory model as flat bounded params, a per-card state and
a review step. The model families (``studygym.fitting.core`` for FSRS-6 and the constant baseline,
``studygym.fitting.reddy``, ``studygym.fitting.actr_dhp``) each define theirs; ``studygym.fitting.core`` registers them
all in ``studygym.fitting.core.MODELS``. This module sits below all of them, so none imports another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax


@dataclass(frozen=True)
class FitModel:
    """A memory model the fitter can fit: flat bounded params, a per-card state and a review step.

    ``step(params, state, review) -> (recall_prob, state)`` predicts recall at a review from the
    state before it, then updates the state with the review's rating. ``review`` is a dict of
    scalars: ``rating`` (1..4), ``elapsed_days`` (whole days), ``elapsed_real_days``, ``first``.
    """

    name: str
    param_names: tuple[str, ...]
    default_params: tuple[float, ...]  # also the starting point of the fit
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    init_state: Callable[[jax.Array], Any]  # params -> state of a card before its first review
    step: Callable[[jax.Array, Any, dict], tuple[jax.Array, Any]]
    description: str = ""
    learner: str | None = None  # the studygym learner these params drive, if any
    #: (fitted params by name, grade probs from the log) -> ``make("Review-v0", **overrides)`` keywords
    #: for ``learner``; None: the FSRS mapping of :meth:`studygym.fitting.core.FitResult.overrides`.
    learner_overrides: Callable[[dict, dict], dict] | None = None
    #: Per-param SDs of a Gaussian prior centred on ``default_params``: the fit then minimises the
    #: training log loss plus ``prior_weight * sum(((p - default) / sd) ** 2) / n`` (``n`` scored
    #: training reviews), a MAP fit that keeps a small log from overfitting. None: plain log loss.
    prior_sd: tuple[float, ...] | None = None

    @property
    def n_params(self) -> int:
        return len(self.param_names)


__all__ = ["FitModel"]
