"""``studygym demo`` (what ``make demo`` runs): the main job on built-in defaults.

1. Train a learned agent on Review-v0 (JAX PPO, when available).
2. Evaluate it against every classic scheduler on the same simulated learners (the ``classic``
   suite: Review-v0 and Deck-v0, 1,000 learners each).
3. Print the leaderboards and write ``results/`` (the demo's own outputs are regenerated).
"""

from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learners", type=int, default=None, help="learners per policy (suite default 1000)")
    parser.add_argument("--out", default="results", help="results root")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from studygym.suites import run_suite

    start = time.perf_counter()
    boards = run_suite("classic", args.out, learners=args.learners, seed=args.seed, force=True)
    for env_id, board in boards.items():
        print(f"\n## {env_id}\n\n{board}")
    print(f"demo finished in {time.perf_counter() - start:.0f}s; results in {args.out}/classic/")
    return 0
