"""The Policy protocol: every agent, classic or learned, is the same jittable thing.

    pstate = policy.init(key, env_params)
    action, pstate = policy.act(key, pstate, obs)

Policies see observations only (what a real app records). A policy that reads the learner's
hidden state sets ``privileged = True``, has "privileged" or "oracle" in its name, and gets the
env state as a fourth argument: ``act(key, pstate, obs, env_state)``. The harness never ranks a
privileged policy as a baseline to beat.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax


@runtime_checkable
class Policy(Protocol):
    name: str
    privileged: bool

    def init(self, key: jax.Array, env_params: Any) -> Any: ...

    def act(self, key: jax.Array, pstate: Any, obs: jax.Array, *env_state: Any) -> tuple[jax.Array, Any]: ...


class Constant:
    """Always the same action (e.g. a fixed desired retention in Deck-v0, or always rest).

    ``env_overrides`` (optional) runs it on a variant of the env, e.g. Deck-v0 with its built-in
    Anki SM-2 scheduler, where the action is ignored.
    """

    privileged = False

    def __init__(self, action: Any, name: str | None = None, env_overrides: dict | None = None):
        self.action = jax.numpy.asarray(action)
        self.name = name or f"constant_{action}"
        self.env_overrides = dict(env_overrides or {})

    def init(self, key: jax.Array, env_params: Any) -> Any:
        return ()

    def act(self, key: jax.Array, pstate: Any, obs: jax.Array) -> tuple[jax.Array, Any]:
        return self.action, pstate
