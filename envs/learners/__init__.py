"""Learners: memory models behind the environments, all speaking the learner protocol.

A learner is an object with pure functions over per-item arrays (see ``base.Learner``):
``init``, ``recall_prob``, ``practice``, ``elapse``, ``sleep``, plus ``default_params`` and
``validate_params``. ``LEARNERS`` (the table in :mod:`studygym.registry`) maps a name to the learner
used by ``learner=...`` overrides; :func:`studygym.catalog.register_builtins` registers the ones that
ship (fsrs, brain, hlr, efc, dash, actr, dhp, ebisu).
"""

from .base import LEARNERS, Learner, delayed_recall, get_learner, register_learner
from .fsrs import FSRS

__all__ = ["LEARNERS", "Learner", "delayed_recall", "get_learner", "register_learner", "FSRS"]
