"""What ships, registered in one place: :func:`register_builtins`.

Every env id, learner, scheduler, env family's baselines, saved-agent prefix and fit model that the
package provides is registered here, explicitly and in display order, into the tables of
:mod:`studygym.registry`. ``studygym/__init__.py`` calls :func:`register_builtins` once; importing this
module (or any other) registers nothing. A new env, learner, scheduler, agent or fit model is one
more line below (ARCHITECTURE.md, "Where to add things").
"""

from __future__ import annotations

from studygym.agents.ppo import load_ppo
from studygym.agents.sb3 import load_sb3
from studygym.agents.schedulers import (AnkiSM2Scheduler, EbisuScheduler, FixedScheduler, FSRSScheduler,
                                        HLRScheduler, LeitnerScheduler, MassedScheduler, MemorizeScheduler,
                                        OracleGreedy, PimsleurScheduler, RandomScheduler, RoundRobinScheduler,
                                        SM2Scheduler, ThresholdScheduler)
from studygym.agents.schedulers.planner import Planner
from studygym.agents.schedulers.practice import make_practice_policy, practice_policies
from studygym.agents.schedulers.sspmmc import make_sspmmc_policy, sspmmc_policies
from studygym.envs.learners.actr import ACTR
from studygym.envs.learners.brain import BRAIN
from studygym.envs.learners.dash import DASH
from studygym.envs.learners.dhp import DHP
from studygym.envs.learners.ebisu import EBISU
from studygym.envs.learners.efc import EFC
from studygym.envs.learners.fsrs import FSRS
from studygym.envs.learners.hlr import HLR
from studygym.envs.tasks.curriculum import CurriculumConfig, CurriculumEnv
from studygym.envs.tasks.deck import DeckConfig, DeckEnv
from studygym.envs.tasks.deeptutor import DeepTutorConfig, DeepTutorEnv
from studygym.envs.tasks.practice import PracticeConfig, PracticeEnv
from studygym.envs.tasks.review import ReviewConfig, ReviewEnv
from studygym.envs.tasks.sleep import SleepConfig, SleepEnv
from studygym.envs.tasks.sspmmc import SSPMMCConfig, SSPMMCEnv
from studygym.envs.tasks.tagging import TaggingConfig, TaggingEnv
from studygym.fitting.actr_dhp import ACTR_MODEL, DHP_MODEL
from studygym.fitting.ebisu import EBISU_MODEL
from studygym.fitting.fsrs import CONSTANT_MODEL, FSRS_MODEL
from studygym.fitting.reddy import DASH_MODEL, EFC_MODEL, HLR_MODEL
from studygym.policies import deck_policies, deck_policy, review_policies, review_policy
from studygym.registry import (Baselines, register, register_baselines, register_fit_model, register_learner,
                               register_saved_agent, register_scheduler)


def register_envs() -> None:
    register("Review-v0", ReviewEnv, ReviewConfig,
             "Pick the item to review in each daily study slot; FSRS-6 (or any) learners.")
    register("Deck-v0", DeckEnv, DeckConfig, "Anki-like deck, one step per day: choose the desired retention.")
    register("Curriculum-v0", CurriculumEnv, CurriculumConfig,
             "Review items linked by prerequisites and similarity, introduced in a chosen order; brain learners.",
             params={"similarity": 0.5})
    register("Practice-v0", PracticeEnv, PracticeConfig,
             "Pick the skill and difficulty of each practice trial (85% rule, automaticity, sleep); skill learners.")
    register("Sleep-v0", SleepEnv, SleepConfig,
             "Study, rest or sleep in round-the-clock slots before an exam and a retention test; brain learners.")
    register("Tagging-v0", TaggingEnv, TaggingConfig,
             "Review slots plus a budget of reward/novelty events that tag recent study; brain learners.")
    for name, learner in (("EFC", "efc"), ("HLR", "hlr"), ("GPL", "dash")):
        register(f"DeepTutor-{name}-v0", DeepTutorEnv, DeepTutorConfig,
                 f"Reddy et al. 2017's set-up: 30 items, 200 steps 5 days apart, {name} students; reward mean recall.",
                 config={"learner": learner})
    register("SSPMMC-DHP-v0", SSPMMCEnv, SSPMMCConfig,
             "SSP-MMC's set-up (Ye et al. 2022): per-word intervals under a daily cost budget; DHP learners.")


def register_learners() -> None:
    for learner in (FSRS, BRAIN, HLR, EFC, DASH, ACTR, DHP, EBISU):
        register_learner(learner)


def register_policies() -> None:
    # The classic schedulers (CLASSIC, in display order: no model, fixed rules, adaptive intervals,
    # model-based), then the privileged references: oracle_greedy (myopic) and the planner (rollouts of
    # the true learner, agents/schedulers/planner.py).
    for name, factory in (("random", RandomScheduler), ("round_robin", RoundRobinScheduler),
                          ("massed", MassedScheduler), ("fixed", FixedScheduler), ("pimsleur", PimsleurScheduler),
                          ("leitner", LeitnerScheduler), ("sm2", SM2Scheduler), ("anki_sm2", AnkiSM2Scheduler),
                          ("fsrs", FSRSScheduler), ("hlr", HLRScheduler), ("memorize", MemorizeScheduler),
                          ("threshold", ThresholdScheduler), ("ebisu", EbisuScheduler)):
        register_scheduler(name, factory, classic=True)
    register_scheduler("oracle_greedy", OracleGreedy)
    register_scheduler("planner", Planner)
    # Each env family's own baselines (an env declares its ``family``).
    review = Baselines(review_policies, review_policy, takes_settings=True)
    for family in ("review", "sleep", "tagging"):
        register_baselines(family, review)
    register_baselines("deck", Baselines(deck_policies, deck_policy, constant=float))
    register_baselines("practice", Baselines(practice_policies, make_practice_policy))
    register_baselines("sspmmc", Baselines(sspmmc_policies, make_sspmmc_policy))
    # Saved agents, by prefix: ppo:DIR, sb3:DIR.
    register_saved_agent("ppo", load_ppo)
    register_saved_agent("sb3", load_sb3)


def register_fit_models() -> None:
    for model in (FSRS_MODEL, CONSTANT_MODEL, EFC_MODEL, HLR_MODEL, DASH_MODEL, ACTR_MODEL, DHP_MODEL, EBISU_MODEL):
        register_fit_model(model)


def register_builtins() -> None:
    """Register everything the package ships (idempotent: registering a name again replaces it)."""
    register_learners()
    register_envs()
    register_policies()
    register_fit_models()


__all__ = ["register_builtins", "register_envs", "register_fit_models", "register_learners", "register_policies"]
