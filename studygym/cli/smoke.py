"""``studygym smoke [ENV_ID ...] [--seed S]``: the deterministic env check users put in their own CI
(``studygym.smoke``), one line per env; exit status 1 if any env fails, 2 for an unknown id."""

from __future__ import annotations

import argparse
import sys
import time

from studygym.registry import registered_ids, spec
from studygym.smoke import smoke


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env_ids", nargs="*", help="env ids to check (default: all registered)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    env_ids = args.env_ids or registered_ids()
    for env_id in env_ids:
        try:
            spec(env_id)
        except ValueError as error:
            print(f"studygym: error: {error}", file=sys.stderr)
            return 2
    start = time.perf_counter()
    failed = 0
    for env_id in env_ids:
        (result,) = smoke([env_id], seed=args.seed)
        print(result.line(), flush=True)
        failed += not result.ok
    print(f"{'FAILED' if failed else 'passed'}: {failed} of {len(env_ids)} envs failed "
          f"in {time.perf_counter() - start:.1f}s")
    return 1 if failed else 0
