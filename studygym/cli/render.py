"""``studygym render``: record one learner's episode under a policy as a GIF (frames from :mod:`studygym.render`).

:func:`record_episode` resolves the policy by name (:mod:`studygym.policies`), so it lives above the
renderer, which the Gymnasium adapters (``envs/gym.py``) import to draw ``render()`` frames.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import numpy as np

import studygym
from studygym.envs.core import check_positive_int
from studygym.policies import policy_by_name
from studygym.render import FRAME_SIZE, RENDER_FPS, Renderer, snapshot, write_gif


def record_episode(env_id: str, policy: str = "fsrs", steps: int | None = None, seed: int = 0,
                   overrides: dict | None = None, size: tuple[int, int] = FRAME_SIZE) -> list[np.ndarray]:
    """Frames of one learner's episode under ``policy`` (a name ``studygym evaluate`` accepts):
    the start, then one frame after each step, for ``steps`` steps (default: the whole episode)."""
    env, params = studygym.make(env_id, **dict(overrides or {}))
    steps = env.max_steps if steps is None else steps
    check_positive_int("steps", steps)
    pol = policy_by_name(policy, env) if isinstance(policy, str) else policy
    privileged = bool(getattr(pol, "privileged", False))
    key = jax.random.key(seed)
    key_reset, key_run, key_policy = jax.random.split(key, 3)
    reset = jax.jit(lambda k: env.reset(k, params))
    step = jax.jit(lambda k, s, a: env.step(k, s, a, params))
    act = jax.jit(lambda k, p, o, s: pol.act(k, p, o, *((s,) if privileged else ())))
    obs, state = reset(key_reset)
    pstate = pol.init(jax.random.fold_in(key_policy, 0), params)
    renderer = Renderer(env, size)
    frames = [renderer.frame(snapshot(env, state, params, obs))]
    for t in range(min(steps, env.max_steps)):
        action, pstate = act(jax.random.fold_in(key_policy, t + 1), pstate, obs, state)
        obs, state, reward, terminated, truncated, info = step(jax.random.fold_in(key_run, t), state, action)
        frames.append(renderer.frame(snapshot(env, state, params, obs, info, action, reward)))
        if bool(terminated) or bool(truncated):
            break
    renderer.close()
    return frames


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", help="registered env id, e.g. Review-v0")
    parser.add_argument("--policy", default="fsrs", help="policy name as for `studygym evaluate` (default fsrs)")
    parser.add_argument("--out", required=True, help="GIF file to write")
    parser.add_argument("--steps", type=int, default=None, help="steps to record (default: the whole episode)")
    parser.add_argument("--seed", type=int, default=0, help="learner seed (default 0)")
    parser.add_argument("--fps", type=int, default=RENDER_FPS, help=f"frames per second (default {RENDER_FPS})")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="env override, e.g. --override n_items=10 (repeatable)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def _parse_overrides(pairs: list[str]) -> dict:
    overrides = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--override must be KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:  # before the episode runs
        raise FileExistsError(f"would overwrite {out}; pass --force to replace it")
    frames = record_episode(args.env, args.policy, args.steps, args.seed, _parse_overrides(args.override))
    write_gif(frames, out, args.fps, force=args.force)
    print(f"wrote {out}: {len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]} ({args.env}, "
          f"policy {args.policy}, seed {args.seed})")
    return 0


__all__ = ["record_episode", "add_arguments", "run"]
