"""``studygym smoke``: the deterministic check users put in their own CI.

For every registered env (or the ids given) it jits ``reset`` and ``step`` once, then plays full
episodes with random valid actions, checking that:

- ``step`` is traced exactly once (no re-compilation on later steps or episodes),
- every observation lies inside the observation space and everything returned is finite,
- the episode terminates within ``env.max_steps`` steps,
- the same seed gives an identical trajectory, and a different seed a different one.

One line per env; exit status 1 if any env fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import numpy as np

from studygym.registry import make, registered_ids


@dataclass
class SmokeResult:
    env_id: str
    ok: bool
    message: str
    steps: int
    compile_seconds: float
    run_seconds: float

    def line(self) -> str:
        status = "PASS" if self.ok else "FAIL"
        return (f"{status} {self.env_id:<14} {self.steps:>6} steps/episode  compile {self.compile_seconds:5.1f}s  "
                f"run {self.run_seconds:5.2f}s  {self.message}")


class SmokeFailure(Exception):
    pass


def _all_finite(tree) -> bool:
    return all(np.all(np.isfinite(np.asarray(leaf, dtype=np.float64))) for leaf in jax.tree.leaves(tree))


def smoke_env(env, params, seed: int = 0) -> SmokeResult:
    """Smoke-test one functional env with its params. Never raises: failures are in the result."""
    env_id = env.name
    traces = {"reset": 0, "step": 0}
    obs_space, act_space = env.observation_space(params), env.action_space(params)

    def reset(key):
        traces["reset"] += 1
        return env.reset(key, params)

    def step(key, key_action, state):
        traces["step"] += 1
        action = act_space.sample(key_action)
        key_step = key
        obs, state, reward, terminated, truncated, info = env.step(key_step, state, action, params)
        return obs, state, reward, terminated, truncated, info, obs_space.contains(obs), action

    reset_jit, step_jit = jax.jit(reset), jax.jit(step)
    max_steps = env.max_steps

    def episode(episode_seed: int):
        key = jax.random.key(episode_seed)
        key, sub = jax.random.split(key)
        obs, state = reset_jit(sub)
        if not bool(obs_space.contains(obs)):
            raise SmokeFailure("reset observation outside the observation space")
        rewards, observations = [], [np.asarray(obs)]
        # Actions come from one fixed stream, so two seeds differ only through the env's own randomness.
        action_key = jax.random.key(2**20 + 1)
        for t in range(max_steps):
            key, sub = jax.random.split(key)
            action_key, action_sub = jax.random.split(action_key)
            obs, state, reward, terminated, truncated, info, inside, action = step_jit(sub, action_sub, state)
            if not bool(inside):
                raise SmokeFailure(f"step {t}: observation outside the observation space (action {action})")
            if not _all_finite((obs, reward, info)):
                bad = [k for k, v in info.items() if not _all_finite(v)]
                raise SmokeFailure(f"step {t}: non-finite output (reward={float(reward)}, info {bad})")
            rewards.append(float(reward))
            observations.append(np.asarray(obs))
            if bool(terminated) or bool(truncated):
                return np.array(rewards), np.stack(observations), t + 1
        raise SmokeFailure(f"episode did not end within max_steps={max_steps}")

    start = time.perf_counter()
    compile_seconds = 0.0
    try:
        jax.block_until_ready(reset_jit(jax.random.key(seed)))
        step_jit.lower(jax.random.key(0), jax.random.key(0), jax.eval_shape(reset, jax.random.key(0))[1]).compile()
        compile_seconds = time.perf_counter() - start
        run_start = time.perf_counter()
        rewards_a, obs_a, steps = episode(seed)
        rewards_b, obs_b, _ = episode(seed)
        rewards_c, obs_c, _ = episode(seed + 1)
        run_seconds = time.perf_counter() - run_start
        if traces["step"] != 1 or traces["reset"] > 1:
            raise SmokeFailure(f"re-traced: step traced {traces['step']} times, reset {traces['reset']} times")
        if not (np.array_equal(rewards_a, rewards_b) and np.array_equal(obs_a, obs_b)):
            raise SmokeFailure(f"seed {seed} gave two different trajectories")
        if np.array_equal(rewards_a, rewards_c) and np.array_equal(obs_a, obs_c):
            raise SmokeFailure(f"seeds {seed} and {seed + 1} gave identical trajectories")
    except SmokeFailure as failure:
        return SmokeResult(env_id, False, str(failure), 0, compile_seconds, time.perf_counter() - start)
    except Exception as error:  # an env that crashes is a failed env, reported, not a crashed suite
        return SmokeResult(env_id, False, f"{type(error).__name__}: {error}", 0, compile_seconds,
                           time.perf_counter() - start)
    return SmokeResult(env_id, True, "ok", steps, compile_seconds, run_seconds)


def smoke(env_ids: list[str] | None = None, seed: int = 0, **overrides) -> list[SmokeResult]:
    """Smoke-test registered envs (all by default). Unknown ids raise ``ValueError``."""
    env_ids = env_ids or registered_ids()
    results = []
    for env_id in env_ids:
        try:
            env, params = make(env_id, **overrides)
        except Exception as error:
            results.append(SmokeResult(env_id, False, f"make failed: {error}", 0, 0.0, 0.0))
            continue
        results.append(smoke_env(env, params, seed))
    return results


__all__ = ["smoke", "smoke_env", "SmokeResult"]
