"""``studygym sweep CONFIG``: a grid of evaluations (env x learner preset x policy x seed) on Ray."""

from __future__ import annotations

import argparse

from studygym.evaluation.sweep import check_sweep_writable, load_config, run_sweep, write_sweep


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="sweep file (TOML; see studygym.evaluation.sweep for its keys)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files in --out")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="CPUs of the local Ray started for the sweep (default: this machine's cores)")
    where.add_argument("--address", default=None,
                       help="address of an existing Ray cluster ('auto', 'ray://head:10001')")
    parser.add_argument("--serial", action="store_true", help="run the cells one by one in this process, no Ray")


def run(args: argparse.Namespace) -> int:
    """Errors (bad config, unwritable or occupied --out) reach ``studygym.cli.main``, which prints one line."""
    if args.workers is not None and args.workers <= 0:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    config = load_config(args.config)
    check_sweep_writable(config, args.out, args.force)  # before hours of work, not after
    df = run_sweep(config, backend="serial" if args.serial else "ray", workers=args.workers,
                   address=args.address, progress=True)
    board = write_sweep(df, args.out, force=args.force, reference=config.reference)
    print(board)
    print(f"{df.attrs['cells']} cells in {df.attrs['wall_seconds']:.1f} s; wrote {args.out}/episodes.csv, "
          "summary.csv, leaderboard.md and one folder per (env, preset)")
    return 1 if df["failed"].any() else 0
