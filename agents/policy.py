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
