"""A gymnax-compatible view of the studygym envs, for PureJaxRL-style training loops.

studygym's functional envs already follow gymnax's shape (``env.reset(key, params)``, pure
``step`` over explicit state and params) but return a 6-tuple and never reset. Here:

- :class:`GymnaxEnv`: gymnax's signature. ``reset(key, params) -> (obs, state)`` and
  ``step(key, state, action, params) -> (obs, state, reward, done, info)`` with auto-reset (a
  finished episode's next observation is the first of a new one, as in gymnax; the terminal
  observation is in ``info["final_obs"]``, ``info["discount"]`` is ``1 - terminated``).
  ``default_params``, ``observation_space(params)``, ``action_space(params)`` (jit-safe: they
  depend on the static config only), ``num_actions`` and ``name``. The spaces have gymnax's
  ``.shape``, ``.n`` (``Discrete``), ``.low``/``.high`` (``Box``), ``.sample(key)`` and ``.contains``.
- :class:`LogWrapper`: gymnax/PureJaxRL's episode statistics in ``info``: ``returned_episode``,
  ``returned_episode_returns``, ``returned_episode_lengths`` and ``timestep``. It wraps an
  auto-resetting env (a raw studygym env is put in a :class:`GymnaxEnv` first), so no episode of
  length 1 is counted after the first end.
- :class:`FlattenObservationWrapper`: PureJaxRL's flattening (studygym observations are flat
  already; provided so that an unchanged ``ppo.py`` runs).
- :func:`make`: ``gymnax.make``'s shape: ``env, params = studygym.wrappers.make("Review-v0")``.

Every wrapper copies, deep-copies and pickles: attribute look-ups fall through to the wrapped env
only once the wrapper has one (no ``__getattr__`` recursion while unpickling).

Example (PureJaxRL's usage)::

    >>> import jax
    >>> from studygym import wrappers
    >>> env, params = wrappers.make("Review-v0", n_items=10)
    >>> env = wrappers.LogWrapper(env)
    >>> keys = jax.random.split(jax.random.key(0), 4)
    >>> obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    >>> obs.shape
    (4, 54)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Box, Environment, pytree_dataclass
from studygym.registry import make as make_env


class GymnaxWrapper:
    """Base of the wrappers here: holds ``_env`` and forwards unknown attributes to it."""

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name: str):
        # Only called when normal lookup fails. During copy/pickle the instance exists before its
        # __dict__ is restored: without this guard, looking up ``_env`` would call __getattr__
        # again, forever.
        if name.startswith("__") or "_env" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self._env, name)

    @property
    def unwrapped(self) -> Environment:
        env = self._env
        while isinstance(env, GymnaxWrapper):
            env = env._env
        return env

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._env!r})"


class GymnaxEnv(GymnaxWrapper):
    """A studygym env with gymnax's 5-tuple step and auto-reset (see the module docstring)."""

    def __init__(self, env: Environment):
        if isinstance(env, GymnaxWrapper):
            raise TypeError(f"GymnaxEnv wraps a studygym Environment, got the wrapper {type(env).__name__}")
        if not isinstance(env, Environment):
            raise TypeError(f"GymnaxEnv wraps a studygym Environment (studygym.make(...)[0]), got {type(env).__name__}")
        super().__init__(env)

    @property
    def default_params(self):
        return self._env.default_params

    @property
    def name(self) -> str:
        return self._env.name

    @property
    def num_actions(self) -> int:
        space = self._env.action_space(self._env.default_params)
        return int(space.n) if hasattr(space, "n") else int(space.shape[0])

    def observation_space(self, params=None):
        return self._env.observation_space(params)

    def action_space(self, params=None):
        return self._env.action_space(params)

    def reset(self, key: jax.Array, params=None):
        params = self._env.default_params if params is None else params
        return self._env.reset(key, params)

    def step(self, key: jax.Array, state, action, params=None):
        """``(obs, state, reward, done, info)``; a done episode is reset in the same step."""
        params = self._env.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = self._env.step(key_step, state, action, params)
        done = jnp.logical_or(terminated, truncated)

        def fresh(_):
            return self._env.reset(key_reset, params)

        next_obs, next_state = jax.lax.cond(done, fresh, lambda _: (obs, state), None)
        info = dict(info, final_obs=obs, terminated=terminated, truncated=truncated,
                    discount=1.0 - jnp.asarray(terminated, jnp.float32))
        return next_obs, next_state, jnp.asarray(reward, jnp.float32), done, info


@pytree_dataclass
class LogEnvState:
    """gymnax's ``LogEnvState``: the inner state and running episode statistics."""

    env_state: Any
    episode_returns: jax.Array
    episode_lengths: jax.Array
    returned_episode_returns: jax.Array
    returned_episode_lengths: jax.Array
    timestep: jax.Array


class LogWrapper(GymnaxWrapper):
    """gymnax's ``LogWrapper`` over an auto-resetting env: episode returns and lengths in ``info``."""

    def __init__(self, env):
        super().__init__(env if isinstance(env, GymnaxWrapper) else GymnaxEnv(env))

    def reset(self, key: jax.Array, params=None):
        obs, env_state = self._env.reset(key, params)
        zero_f, zero_i = jnp.float32(0.0), jnp.int32(0)
        return obs, LogEnvState(env_state, zero_f, zero_i, zero_f, zero_i, zero_i)

    def step(self, key: jax.Array, state: LogEnvState, action, params=None):
        obs, env_state, reward, done, info = self._env.step(key, state.env_state, action, params)
        returns = state.episode_returns + reward
        lengths = state.episode_lengths + 1
        not_done = 1 - done.astype(jnp.int32)
        state = LogEnvState(
            env_state=env_state,
            episode_returns=returns * not_done,
            episode_lengths=lengths * not_done,
            returned_episode_returns=jnp.where(done, returns, state.returned_episode_returns),
            returned_episode_lengths=jnp.where(done, lengths, state.returned_episode_lengths),
            timestep=state.timestep + 1,
        )
        info = dict(info, returned_episode_returns=state.returned_episode_returns,
                    returned_episode_lengths=state.returned_episode_lengths, timestep=state.timestep,
                    returned_episode=done)
        return obs, state, reward, done, info


class FlattenObservationWrapper(GymnaxWrapper):
    """Observations reshaped to one vector (PureJaxRL's wrapper; studygym's are flat already)."""

    def __init__(self, env):
        super().__init__(env if isinstance(env, GymnaxWrapper) else GymnaxEnv(env))

    def observation_space(self, params=None):
        space = self._env.observation_space(params)
        return Box(space.low.reshape(-1), space.high.reshape(-1), (int(space.low.size),), space.dtype)

    def reset(self, key: jax.Array, params=None):
        obs, state = self._env.reset(key, params)
        return jnp.reshape(obs, (-1,)), state

    def step(self, key: jax.Array, state, action, params=None):
        obs, state, reward, done, info = self._env.step(key, state, action, params)
        return jnp.reshape(obs, (-1,)), state, reward, done, info


def make(env_id: str, **overrides) -> tuple[GymnaxEnv, Any]:
    """``gymnax.make``'s shape: ``(GymnaxEnv, params)`` for a registered id and ``studygym.make`` overrides."""
    env, params = make_env(env_id, **overrides)
    return GymnaxEnv(env), params


__all__ = ["GymnaxEnv", "GymnaxWrapper", "LogWrapper", "LogEnvState", "FlattenObservationWrapper", "make"]
