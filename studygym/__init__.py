"""studygym: JAX-jitted Gymnasium environments in which the environment is a learner's brain."""

from studygym import envs as _envs  # noqa: F401  (maps envs/ into the package)
from studygym.registry import make, register, registered_ids, spec
from studygym.envs.tasks.review import ReviewConfig, ReviewEnv
from studygym.envs.tasks.deck import DeckConfig, DeckEnv

__version__ = "0.1.0"

register("Review-v0", ReviewEnv, ReviewConfig,
         "Pick the item to review in each daily study slot; FSRS-6 (or any) learners.")
register("Deck-v0", DeckEnv, DeckConfig, "Anki-like deck, one step per day: choose the desired retention.")
from studygym.envs.tasks.curriculum import CurriculumConfig, CurriculumEnv  # noqa: E402
register("Curriculum-v0", CurriculumEnv, CurriculumConfig,
         "Review items linked by prerequisites and similarity, introduced in a chosen order; brain learners.",
         params={"similarity": 0.5})
from studygym.envs.tasks.practice import PracticeConfig, PracticeEnv  # noqa: E402
register("Practice-v0", PracticeEnv, PracticeConfig,
         "Pick the skill and difficulty of each practice trial (85% rule, automaticity, sleep); skill learners.")
from studygym.envs.tasks.sleep import SleepConfig, SleepEnv  # noqa: E402
register("Sleep-v0", SleepEnv, SleepConfig,
         "Study, rest or sleep in round-the-clock slots before an exam and a retention test; brain learners.")
from studygym.envs.tasks.tagging import TaggingConfig, TaggingEnv  # noqa: E402
register("Tagging-v0", TaggingEnv, TaggingConfig,
         "Review slots plus a budget of reward/novelty events that tag recent study; brain learners.")
from studygym.envs.tasks.deeptutor import DeepTutorConfig, DeepTutorEnv  # noqa: E402
for _name, _learner in (("EFC", "efc"), ("HLR", "hlr"), ("GPL", "dash")):
    register(f"DeepTutor-{_name}-v0", DeepTutorEnv, DeepTutorConfig,
             f"Reddy et al. 2017's set-up: 30 items, 200 steps 5 days apart, {_name} students; reward mean recall.",
             config={"learner": _learner})
from studygym.envs.tasks.sspmmc import SSPMMCConfig, SSPMMCEnv  # noqa: E402
register("SSPMMC-DHP-v0", SSPMMCEnv, SSPMMCConfig,
         "SSP-MMC's set-up (Ye et al. 2022): per-word intervals under a daily cost budget; DHP learners.")

from studygym.envs import gym as _gym  # noqa: E402,F401  (registers studygym/<id> with Gymnasium)

# The planner resolves its base policy by name (studygym.policies, above the schedulers package), so it
# is registered here rather than in agents/schedulers/__init__.py.
from studygym.agents.schedulers import register_scheduler  # noqa: E402
from studygym.agents.schedulers.planner import Planner  # noqa: E402

register_scheduler("planner", Planner)

__all__ = ["make", "register", "registered_ids", "spec", "__version__"]
