"""Learners: memory models behind the environments, all speaking the learner protocol.

A learner is an object with pure functions over per-item arrays (see ``base.Learner``):
``init``, ``recall_prob``, ``practice``, ``elapse``, ``sleep``, plus ``default_params`` and
``validate_params``. ``LEARNERS`` maps a name to the learner used by ``learner=...`` overrides.
"""

from .base import LEARNERS, Learner, delayed_recall, get_learner, register_learner
from .fsrs import FSRS
from .brain import BRAIN

register_learner(FSRS)
register_learner(BRAIN)

from .hlr import HLR  # noqa: E402
from .efc import EFC  # noqa: E402
from .dash import DASH  # noqa: E402

register_learner(HLR)
register_learner(EFC)
register_learner(DASH)

from .actr import ACTR  # noqa: E402
from .dhp import DHP  # noqa: E402

register_learner(ACTR)
register_learner(DHP)

from .ebisu import EBISU  # noqa: E402

register_learner(EBISU)

__all__ = ["LEARNERS", "Learner", "delayed_recall", "get_learner", "register_learner", "FSRS"]
