"""``studygym evaluate``: score policies on one env, write episodes.csv, leaderboard.md and figures."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from studygym.envs.core import check_positive_int, check_seed
from studygym.errors import did_you_mean
from studygym.harness import evaluate, resolve_policies
from studygym.registry import make
from studygym.report import check_writable, write_results


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as a Python literal when it is one (``n_items=50``)."""
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


def check_reference(reference: str | None, names) -> None:
    """Raise ``ValueError`` (before any learner runs) unless ``reference`` is None or one of ``names``."""
    names = list(names)
    if reference is not None and reference not in names:
        hint = did_you_mean(reference, names, cutoff=0.5, before=" (")
        hint = f"{hint})" if hint else ""
        raise ValueError(f"--reference {reference!r} is not among the evaluated policies{hint}: {', '.join(names)}")


def run(args: argparse.Namespace) -> int:
    """Everything a user gave is checked before the first learner runs (--out, --learners, --seed,
    --set, the policies, --reference); errors reach ``studygym.cli.main``, which prints one line."""
    check_positive_int("--learners", args.learners)
    check_seed("--seed", args.seed)
    check_writable(Path(args.out), args.force)
    overrides = dict(args.overrides)
    env, _ = make(args.env, **overrides)
    policies = resolve_policies(args.policies, env)
    check_reference(args.reference, [p.name for p in policies])
    df = evaluate(policies, args.env, n_learners=args.learners, seed=args.seed, progress=True, **overrides)
    _, board = write_results(df, args.out, force=args.force, reference=args.reference)
    print(board)
    print(f"wrote {args.out}/episodes.csv, leaderboard.md, summary.csv and figures")
    return 1 if df["failed"].any() else 0
