"""Curriculum-v0: does the introduction order matter for the classic schedulers?

Runs each scheduler on the same simulated brain learners (same seed: paired) under each order,
plus an ablation without the brain's schema and interference, and writes results/curriculum/:
``episodes.csv`` (one row per order x policy x learner), ``order_gaps.md`` (good minus the other
orders on delayed retention, paired, with 95% bootstrap CIs and paired t) and ``leaderboard.md`` (the
four schedulers' tables per order: an order experiment, not the leaderboard, which is ``all/``).

    .venv/bin/python scripts/run_curriculum.py            # 128 learners (about 10 min on 2 cores)
    .venv/bin/python scripts/run_curriculum.py --learners 32 --out /tmp/curriculum
    .venv/bin/python scripts/run_curriculum.py --all-only --force   # only the every-policy leaderboard

It also writes ``all/`` (``studygym.evaluation.report.write_results``): every Curriculum-v0 policy at the
default order (``studygym.evaluation.suites.all_policies``: the classic schedulers at their published
settings, the tuned rows ``<name>_tuned`` from ``results/tuning`` and the privileged references
oracle_greedy and the planner) on ``--all-learners`` learners, ranked by the env's objective
(``episode_return``), with the headroom the best tuned classic leaves below the planner.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from studygym.evaluation.harness import bootstrap_ci, evaluate, leaderboard_markdown, summarize
from studygym.markdown import markdown_table
from studygym.evaluation.report import write_results
from studygym.evaluation.suites import board_policies

ENV_ID = "Curriculum-v0"

POLICIES = ("fsrs", "round_robin", "threshold", "random")
ORDERS = ("good", "random", "blocked")
ABLATION = dict(schema_encoding_gain=0.0, schema_consolidation_gain=0.0, interference=0.0)


def run(n_learners: int, seed: int) -> pd.DataFrame:
    frames = []
    for variant, overrides, policies, orders in (("brain", {}, POLICIES, ORDERS),
                                                 ("no schema, no interference", ABLATION, ("round_robin",),
                                                  ("good", "random"))):
        for order in orders:
            df = evaluate(list(policies), "Curriculum-v0", n_learners=n_learners, seed=seed, curves=False,
                          order=order, **overrides)
            frames.append(df.assign(order=order, variant=variant))
            print(f"{variant:>28} {order:>8}: " + ", ".join(
                f"{p} {df[df.policy == p].retention_delayed.mean():.4f}" for p in policies), flush=True)
    return pd.concat(frames, ignore_index=True)


def gap_table(episodes: pd.DataFrame) -> str:
    rows = []
    for (variant, policy), part in episodes.groupby(["variant", "policy"], sort=False):
        good = part[part.order == "good"].set_index("learner").retention_delayed
        for other in [o for o in ORDERS if o != "good" and o in set(part.order)]:
            values = part[part.order == other].set_index("learner").retention_delayed
            diff = (good - values.reindex(good.index)).to_numpy()
            lo, hi = bootstrap_ci(diff)
            t = diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size))
            rows.append([variant, policy, f"good - {other}", f"{good.mean():.4f}", f"{values.mean():.4f}",
                         f"{diff.mean():+.4f} [{lo:+.4f}, {hi:+.4f}]", f"{t:.1f}", f"{diff.mean() / diff.std(ddof=1):.2f}"])
    return markdown_table(["learner model", "policy", "comparison", "retention_delayed (good)", "(other)",
                           "paired gain [95% CI]", "paired t", "d_z"], rows) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/curriculum")
    parser.add_argument("--all-learners", type=int, default=64,
                        help="learners of the every-policy leaderboard (all/; the planner is the costly row)")
    parser.add_argument("--force", action="store_true", help="overwrite all/ (the other files are rewritten)")
    parser.add_argument("--all-only", action="store_true",
                        help="write only the every-policy leaderboard all/ (not the order comparison)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    everything = evaluate(board_policies(ENV_ID), ENV_ID, n_learners=args.all_learners, seed=args.seed,
                          curves=False)
    _, board = write_results(everything, out / "all", force=args.force)
    print(board, flush=True)
    if args.all_only:
        return
    episodes = run(args.learners, args.seed)
    episodes.to_csv(out / "episodes.csv", index=False)
    header = (f"Curriculum-v0 defaults (80 items, 10 slots a day for 20 days, 8 similarity clusters, a random "
              f"prerequisite tree; brain learners), {args.learners} paired learners, seed {args.seed}. "
              f"Generated by `scripts/run_curriculum.py`.\n\n")
    (out / "order_gaps.md").write_text("# Introduction order: good vs the others\n\n" + header + gap_table(episodes))
    boards = []
    for order in ORDERS:
        part = episodes[(episodes.variant == "brain") & (episodes.order == order)].drop(columns=["order", "variant"])
        boards.append(f"## order = {order}\n\n" + leaderboard_markdown(summarize(part), sort_by="episode_return"))
    note = ("An order experiment, not a leaderboard: four schedulers at their published settings under each "
            "introduction order, ranked by the env's objective (episode_return). The leaderboard (every policy, "
            "the tuned rows `<name>_tuned` and the planner) is `all/leaderboard.md`.\n\n")
    (out / "leaderboard.md").write_text("# Curriculum-v0 by introduction order\n\n" + header + note
                                        + "\n".join(boards))
    print((out / "order_gaps.md").read_text())


if __name__ == "__main__":
    main()
