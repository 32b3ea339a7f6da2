"""``studygym bench --suite NAME``: run a named benchmark suite (``studygym.evaluation.suites``) into
``OUT/<suite>/`` and print its leaderboards."""

from __future__ import annotations

import argparse
import time

from studygym.evaluation.suites import SUITES, run_suite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", default="classic", help=f"one of: {', '.join(SUITES)}")
    parser.add_argument("--learners", type=int, default=None, help="override the suite's learner count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results", help="results root (the suite writes OUT/<suite>/)")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files")


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    boards = run_suite(args.suite, args.out, learners=args.learners, seed=args.seed, force=args.force)
    for env_id, board in boards.items():
        print(f"\n## {env_id}\n\n{board}")
    print(f"suite {args.suite}: {time.perf_counter() - start:.1f}s; wrote {args.out}/{args.suite}/")
    return 0
