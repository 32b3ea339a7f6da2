"""``studygym evaluate``: score policies on one env, write episodes.csv, leaderboard.md and figures."""

from __future__ import annotations

import argparse
import sys


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as a Python literal when it is one (``n_items=50``)."""
    import ast

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"override must look like key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="Review-v0", help="registered env id (default Review-v0)")
    parser.add_argument("--policies", default="all", help="comma-separated policy names, or 'all'")
    parser.add_argument("--learners", type=int, default=100, help="simulated learners per policy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", default=None, help="policy for paired differences")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files in --out")
    parser.add_argument("--set", dest="overrides", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="env override, e.g. --set n_items=50 (repeatable)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studygym.harness import evaluate
    from studygym.report import check_writable, write_results

    try:
        check_writable(Path(args.out), args.force)
        df = evaluate(args.policies, args.env, n_learners=args.learners, seed=args.seed, progress=True,
                      **dict(args.overrides))
        _, board = write_results(df, args.out, force=args.force, reference=args.reference)
    except (ValueError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(board)
    print(f"wrote {args.out}/episodes.csv, leaderboard.md, summary.csv and figures")
    return 1 if df["failed"].any() else 0
