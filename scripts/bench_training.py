"""Training speed: env-steps/s of the JAX PPO (agents/ppo.py) against Stable-Baselines3 PPO, same run.

    .venv/bin/python scripts/bench_training.py            # default Review-v0, ~2-3 minutes
    .venv/bin/python scripts/bench_training.py --quick    # fewer steps (a smoke run)
    .venv/bin/python scripts/bench_training.py --out results/bench/training_gpu.md   # on a GPU machine

Writes its report (machine, load average at start and end, date, the command) to ``--out``
(default ``results/bench/training.md`` on a CPU, ``results/bench/training_gpu.md`` on a GPU), which
``scripts/update_readme.py`` includes in the README as it is.

Both train PPO on Review-v0 with the same rollout shape (64 learners x 64 steps per update), the
same 4 epochs of 4 minibatches, and a network of the same widths:

- **SB3 PPO**: ``stable_baselines3.PPO("MlpPolicy")`` (two 64-unit layers for actor and critic, torch
  on CPU with 1 thread, as ``train_sb3`` runs it) on
  ``studygym.envs.gym.StudySB3VecEnv("Review-v0", n_envs=64)``, whose 64 sub-envs step in one jitted
  call, so SB3 is not slowed by the env.
- **JAX PPO, MLP**: the same MLP shapes and the same batch: the like-for-like ratio.
- **JAX PPO, item scorer**: the permutation-equivariant network studygym trains with, at its
  default settings (hidden 32, 128 learners, 8 minibatches). It runs a small MLP on each of the 30
  items, so it does ~10x the arithmetic of the flat MLP per step: not like for like, but it is what
  training on Review-v0 costs (and it learns far more per step; see the report in results/).

JAX throughput is measured after compilation (the compile time is printed separately); SB3's
from the start of ``learn`` (it has no compile step). Ratios are JAX / SB3. The DESIGN target is
>= 30x. Numbers depend on the machine and its load: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import jax

from studygym.machine import load_average, machine_description
from studygym.markdown import table_lines

ROOT = Path(__file__).resolve().parents[1]

ENV_ID = "Review-v0"
N_ENVS, N_STEPS, EPOCHS, MINIBATCHES, HIDDEN = 64, 64, 4, 4, 64


def bench_jax(n_updates: int, hyper: dict) -> dict:
    """Steps/s of the JAX PPO training loop (compiled once, then timed on ``n_updates`` updates)."""
    from studygym.agents import ppo
    from studygym.registry import make

    hyper = ppo.check_hyper(hyper)
    n_learners = hyper["n_learners"]
    env, params = make(ENV_ID)
    spec = ppo.net_spec_for(env, params, hyper["hidden"], hyper["network"])
    init, run = ppo.make_train(env, params, spec, hyper, total_updates=n_updates + 1)
    start = time.perf_counter()
    runner = jax.jit(init)(jax.random.key(0))
    run_chunk = jax.jit(run, static_argnums=1)
    compiled = run_chunk.lower(runner, n_updates).compile()
    compile_s = time.perf_counter() - start
    runner, _ = compiled(runner)  # warm-up: first call allocates
    jax.block_until_ready(runner)
    start = time.perf_counter()
    runner, curve = compiled(runner)
    jax.block_until_ready(curve)
    seconds = time.perf_counter() - start
    steps = n_updates * n_learners * hyper["n_steps"]
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds, "compile_s": compile_s}


def bench_sb3(total_steps: int) -> dict:
    """Steps/s of ``stable_baselines3.PPO.learn`` on the batched SB3 VecEnv."""
    from stable_baselines3 import PPO

    from studygym.envs.gym import StudySB3VecEnv

    venv = StudySB3VecEnv(ENV_ID, n_envs=N_ENVS, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=N_STEPS, batch_size=N_ENVS * N_STEPS // MINIBATCHES, n_epochs=EPOCHS,
                policy_kwargs={"net_arch": [HIDDEN, HIDDEN]}, device="cpu", seed=0, verbose=0)
    model.learn(N_ENVS * N_STEPS)  # warm-up: the env's jitted step compiles on first use
    start = time.perf_counter()
    model.learn(total_steps, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    steps = -(-total_steps // (N_ENVS * N_STEPS)) * N_ENVS * N_STEPS
    venv.close()
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds, "compile_s": 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run, noisier numbers)")
    parser.add_argument("--out", help="markdown report to write (default: results/bench/training.md, "
                                      "training_gpu.md when JAX runs on a GPU)")
    args = parser.parse_args(argv)
    sb3_updates, jax_updates = (2, 4) if args.quick else (8, 24)

    import torch

    torch.set_num_threads(1)  # as train_sb3 (studygym's SB3 path) runs it: more threads contend with JAX
    load_start = load_average()
    platform_name = jax.devices()[0].platform
    setup = (f"{ENV_ID} (defaults: 30 items, 10 slots/day, 30 days); rollout {N_ENVS} x {N_STEPS}, {EPOCHS} epochs x "
             f"{MINIBATCHES} minibatches, hidden {HIDDEN}; jax {jax.__version__} on {platform_name}, "
             f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    print(setup, flush=True)
    rows = []
    sb3 = bench_sb3(sb3_updates * N_ENVS * N_STEPS)
    rows.append(("SB3 PPO, MlpPolicy, 64 envs", sb3))
    print(f"  {rows[-1][0]}: {sb3['steps_per_s']:,.0f} steps/s", flush=True)
    same_as_sb3 = {"n_steps": N_STEPS, "update_epochs": EPOCHS, "n_minibatches": MINIBATCHES, "hidden": HIDDEN}
    settings = [("JAX PPO, MLP, 64 learners (same as SB3)", jax_updates, {**same_as_sb3, "n_learners": N_ENVS,
                                                                       "network": "mlp"}),
                ("JAX PPO, MLP, 256 learners", max(2, jax_updates // 4), {**same_as_sb3, "n_learners": 256,
                                                                           "network": "mlp"}),
                ("JAX PPO, item scorer, defaults", max(2, jax_updates // 8), {})]
    for label, updates, hyper in settings:
        rows.append((label, bench_jax(updates, hyper)))
        print(f"  {label}: {rows[-1][1]['steps_per_s']:,.0f} steps/s", flush=True)

    table = table_lines(["trainer", "env steps timed", "seconds", "env-steps/s", "compile s", "ratio vs SB3"],
                        [[label, f"{row['steps']:,}", f"{row['seconds']:.1f}", f"{row['steps_per_s']:,.0f}",
                          f"{row['compile_s']:.1f}", f"{row['steps_per_s'] / sb3['steps_per_s']:.1f}x"]
                         for label, row in rows])
    like_for_like = rows[1][1]["steps_per_s"] / sb3["steps_per_s"]
    item_scorer = rows[-1][1]["steps_per_s"] / sb3["steps_per_s"]
    verdict = (f"Ratio JAX/SB3, same MLP and batch: **{like_for_like:.1f}x** (target >= 30x: "
               f"{'met' if like_for_like >= 30 else 'NOT met'}); JAX item scorer (defaults) / SB3 MLP: "
               f"{item_scorer:.1f}x.")
    device = jax.devices()[0].device_kind if platform_name == "gpu" else f"{os.cpu_count()} CPU cores"
    command = " ".join(["scripts/bench_training.py", *(argv if argv is not None else sys.argv[1:])])
    text = "\n".join([
        f"### JAX PPO vs SB3 PPO on {device} (`scripts/bench_training.py`)", "",
        f"_{setup}. Measured {dt.date.today().isoformat()} ({machine_description()}, Python {platform.python_version()}); "
        f"load average {load_start:.1f} at start, {load_average():.1f} at end{'; `--quick` run' if args.quick else ''}. "
        f"Generated by `{command}`._", "", *table, "", verdict, ""])
    print()
    print(text)
    out = Path(args.out) if args.out else ROOT / "results" / "bench" / (
        "training_gpu.md" if platform_name == "gpu" else "training.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
