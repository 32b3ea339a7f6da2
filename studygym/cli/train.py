"""``studygym train``: train a learned agent, save it, and draw its learning curve.

    studygym train --agent ppo --env Review-v0 --steps 2000000 --seed 0 --out runs/ppo \\
        [--set n_items=10] [--hyper n_learners=512] [--force]

writes ``OUT/params.npz`` + ``OUT/config.json`` (the policy: arrays and JSON, no pickle),
``OUT/curve.csv`` and ``OUT/learning_curve.png``. Evaluate it with the harness, e.g.
``studygym.evaluation.harness.evaluate([load_ppo("runs/ppo"), "fsrs"], "Review-v0")``.

``--agent sb3-ppo|sb3-a2c|sb3-dqn|sb3-ppo_mask`` trains Stable-Baselines3 instead (studygym.agents.sb3;
``sb3-ppo_mask`` is sb3-contrib's MaskablePPO with the env's action masks), which also
writes ``OUT/tb/`` (TensorBoard), ``OUT/checkpoints/`` and ``OUT/model.zip``; evaluate it with
``studygym evaluate --policies fsrs,sb3:OUT``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from studygym.agents.ppo import check_hyper, train
from studygym.agents.sb3 import train_sb3
from studygym.cli.evaluate import parse_override
from studygym.envs.core import check_positive_int, check_seed
from studygym.files import check_writable
from studygym.runs import plot_learning_curve

AGENTS = ("ppo", "sb3-ppo", "sb3-a2c", "sb3-dqn", "sb3-ppo_mask")
#: Files ``train`` writes into ``--out`` (refused if present, unless ``--force``).
OUTPUT_FILES = ("params.npz", "config.json", "curve.csv", "learning_curve.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", default="ppo", choices=AGENTS, help="learning algorithm (default ppo: JAX PPO)")
    parser.add_argument("--env", default="Review-v0", help="registered env id (default Review-v0)")
    parser.add_argument("--steps", type=int, default=1_000_000, help="env steps to train for (default 1e6)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (evaluate on other seeds)")
    parser.add_argument("--out", required=True, help="output folder for the saved policy and curve")
    parser.add_argument("--force", action="store_true", help="overwrite existing files in --out")
    parser.add_argument("--set", dest="overrides", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="env override, e.g. --set n_items=10 (repeatable)")
    parser.add_argument("--hyper", dest="hyper", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="hyper-parameter, e.g. --hyper n_learners=512 (PPO) or --hyper n_envs=64 "
                             "(SB3: its constructor arguments; repeatable)")
    parser.add_argument("--chunk", type=int, default=None,
                        help="updates per jitted call (progress-bar granularity; default: about 20 chunks)")


def run(args: argparse.Namespace) -> int:
    if args.agent.startswith("sb3-"):
        return run_sb3(args)
    from tqdm.auto import tqdm

    out = Path(args.out)
    check_positive_int("--steps", args.steps)
    check_seed("--seed", args.seed)
    if args.chunk is not None:
        check_positive_int("--chunk", args.chunk)
    check_writable(out, args.force, OUTPUT_FILES)
    hyper = check_hyper(dict(args.hyper))
    steps_per_update = hyper["n_learners"] * hyper["n_steps"]
    n_updates = max(1, -(-args.steps // steps_per_update))
    chunk = args.chunk or max(1, -(-n_updates // 20))
    bar = tqdm(total=n_updates * steps_per_update, desc=f"train ppo on {args.env}", unit="step",
               unit_scale=True)
    progress = {"done": 0}

    def on_chunk(updates_done, curve_chunk):
        bar.update((updates_done - progress["done"]) * steps_per_update)
        progress["done"] = updates_done
        returns = np.asarray(curve_chunk["episode_return"])
        knowledge = np.asarray(curve_chunk["knowledge_final"])
        shown = {}
        if np.isfinite(returns).any():
            shown["return"] = f"{np.nanmean(returns):.4f}"
        if np.isfinite(knowledge).any():
            shown["knowledge"] = f"{np.nanmean(knowledge):.3f}"
        bar.set_postfix(shown)

    try:
        trained = train(args.env, args.steps, args.seed, overrides=dict(args.overrides), chunk_updates=chunk,
                        callback=on_chunk, **hyper)
    finally:
        bar.close()
    trained.save(out, force=args.force)
    plot_learning_curve(trained.curve, out / "learning_curve.png",
                        f"PPO on {args.env} (seed {args.seed})")
    config = trained.config
    print(f"trained {config['env_steps']:,} env steps in {config['train_seconds']:.1f}s "
          f"({config['env_steps'] / max(config['train_seconds'], 1e-9):,.0f} steps/s, compile included)")
    print(f"wrote {out}/params.npz, config.json, curve.csv and learning_curve.png")
    return 0


def run_sb3(args: argparse.Namespace) -> int:
    """``--agent sb3-ppo|sb3-a2c|sb3-dqn|sb3-ppo_mask``: Stable-Baselines3 on the batched VecEnv (studygym.agents.sb3).

    ``--hyper`` takes SB3 constructor arguments (``learning_rate=3e-4``, ``net_arch=[64,64]``) and
    ``n_envs`` (sub-envs stepped together, default 8); writes ``tb/`` and ``checkpoints/`` too.
    """
    algo = args.agent.removeprefix("sb3-")
    hyper = dict(args.hyper)
    n_envs = hyper.pop("n_envs", 8)
    check_positive_int("--steps", args.steps)
    check_seed("--seed", args.seed)
    check_positive_int("n_envs", n_envs)
    trained = train_sb3(algo, args.env, args.steps, args.seed, args.out, overrides=dict(args.overrides),
                        n_envs=n_envs, hyper=hyper, force=args.force, progress=True)
    config = trained.config
    print(f"trained {config['env_steps']:,} env steps in {config['train_seconds']:.1f}s "
          f"({config['steps_per_second']:,.0f} steps/s, {n_envs} envs)")
    print(f"wrote {args.out}/params.npz, config.json, curve.csv, learning_curve.png, model.zip, tb/ and "
          f"checkpoints/; evaluate with --policies sb3:{args.out}")
    return 0
