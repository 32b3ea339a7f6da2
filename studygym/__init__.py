"""studygym: JAX-jitted Gymnasium environments in which the environment is a learner's brain."""

from studygym import envs as _envs  # noqa: F401  (maps envs/ into the package)
from studygym.registry import make, register, registered_ids, spec
from studygym.envs.tasks.review import ReviewConfig, ReviewEnv
from studygym.envs.tasks.deck import DeckConfig, DeckEnv

__version__ = "0.1.0"

register("Review-v0", ReviewEnv, ReviewConfig,
         "Pick the item to review in each daily study slot; FSRS-6 (or any) learners.")
register("Deck-v0", DeckEnv, DeckConfig, "Anki-like deck, one step per day: choose the desired retention.")

from studygym.envs import gym as _gym  # noqa: E402,F401  (registers studygym/<id> with Gymnasium)

__all__ = ["make", "register", "registered_ids", "spec", "__version__"]
