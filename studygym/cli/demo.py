"""``studygym demo`` (what ``make demo`` runs): the main job on built-in defaults.

1. Train a JAX PPO agent on Review-v0 as the classic suite runs it (a short run: ~2 minutes here),
   saved to ``results/demo/ppo`` (arrays in .npz, config in JSON).
2. Evaluate it beside every classic scheduler on the same 1,000 simulated learners (held out:
   training draws its learners from another key stream), plus the Deck-v0 baselines.
3. Print the leaderboards and write ``results/classic/``.

Nothing is overwritten without ``--force``: an existing ``OUT/demo/ppo`` run or ``OUT/classic``
result is refused before training starts. ``make demo`` passes ``--force`` (it regenerates the
committed ``results/demo`` and ``results/classic``, so a fresh clone and a second run both work);
``studygym demo --out DIR`` on its own refuses to replace what is in DIR.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from studygym.agents.ppo import SAVED_FILES, load_ppo, train
from studygym.envs.core import check_nonnegative_int, check_positive_int, check_seed
from studygym.files import check_writable
from studygym.evaluation.suites import REVIEW_SUITE_OVERRIDES, check_suite_writable, run_suite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=int, default=None, help="learners per policy (suite default 1000)")
    parser.add_argument("--out", default="results", help="results root")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-steps", type=int, default=400_000, help="PPO env steps (0: skip training)")
    parser.add_argument("--reuse-agent", action="store_true",
                        help="evaluate the PPO run already saved in OUT/demo/ppo instead of training one "
                             "(re-runs only the classic suite; --train-steps is ignored)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite OUT/demo/ppo and OUT/classic (make demo passes it)")


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    force = bool(getattr(args, "force", False))
    # Everything is checked before the training, so a refusal costs a second, not the run.
    check_nonnegative_int("--train-steps", args.train_steps)
    if args.learners is not None:
        check_positive_int("--learners", args.learners)
    check_seed("--seed", args.seed)
    check_suite_writable("classic", args.out, force)
    extra = {}
    reuse = bool(getattr(args, "reuse_agent", False))
    if reuse:
        run_dir = Path(args.out) / "demo" / "ppo"
        if not (run_dir / "config.json").exists():
            raise ValueError(f"--reuse-agent: no saved PPO run in {run_dir} (run `studygym demo` once without it)")
        extra["Review-v0"] = [load_ppo(run_dir)]
        print(f"evaluating the saved PPO run {run_dir} (no training)", flush=True)
    elif args.train_steps > 0:
        check_writable(Path(args.out) / "demo" / "ppo", force, SAVED_FILES)

        print(f"training JAX PPO on Review-v0 {REVIEW_SUITE_OVERRIDES} for {args.train_steps:,} steps ...", flush=True)
        trained = train("Review-v0", args.train_steps, seed=args.seed, overrides=REVIEW_SUITE_OVERRIDES)
        run_dir = trained.save(Path(args.out) / "demo" / "ppo", force=force)
        print(f"trained in {time.perf_counter() - start:.0f}s; saved to {run_dir}", flush=True)
        extra["Review-v0"] = [load_ppo(run_dir)]
    boards = run_suite("classic", args.out, learners=args.learners, seed=args.seed, force=force, extra_policies=extra)
    for env_id, board in boards.items():
        print(f"\n## {env_id}\n\n{board}")
    print(f"demo finished in {time.perf_counter() - start:.0f}s; results in {args.out}/classic/")
    return 0
