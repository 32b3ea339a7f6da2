"""studygym: JAX-jitted Gymnasium environments in which the environment is a learner's brain."""

from studygym import envs as _envs  # noqa: F401  (maps envs/ into the package)
from studygym.registry import make, register, registered_ids, spec
from studygym.envs import gym as _gym  # noqa: F401  (studygym/<id> with Gymnasium, as each id is registered)
from studygym.catalog import register_builtins

__version__ = "0.1.0"

# The composition root: every env, learner, policy and fit model that ships, registered explicitly
# (studygym/catalog.py) into the tables of studygym/registry.py.
register_builtins()

__all__ = ["make", "register", "registered_ids", "spec", "__version__"]
