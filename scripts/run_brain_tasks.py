"""Evaluate the Sleep-v0 and Tagging-v0 baselines; writes results/sleep/ and results/tagging/.

    .venv/bin/python scripts/run_brain_tasks.py [--learners 256] [--seed 0] [--all] [--force]

Each folder gets the harness's episodes.csv, summary.csv, leaderboard.md and figures
(studygym.evaluation.report.write_results), plus ``objective.md``: for Sleep-v0 the exam score, the week-later
retention and the combined reward (the episode return: exam + retention - cost x study minutes at
the default weights), for Tagging-v0 delayed retention and knowledge, each with the paired
difference against a reference policy (spaced+sleep; fsrs+reward_never). Every policy meets the same
simulated learners (common random numbers). By default the wrapped baselines and the schedulers
they wrap; ``--all`` adds every classic scheduler run unchanged (slower: one compile per policy).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import studygym
from studygym.agents.schedulers import CLASSIC
from studygym.agents.schedulers.tutoring import tutoring_baselines
from studygym.evaluation.harness import bootstrap_ci, evaluate, resolve_policies
from studygym.markdown import markdown_table
from studygym.evaluation.report import write_results

ROOT = Path(__file__).resolve().parent.parent


def cell(values: np.ndarray) -> str:
    lo, hi = bootstrap_ci(values)
    return f"{np.mean(values):.3f} [{lo:.3f}, {hi:.3f}]"


def objective_table(df: pd.DataFrame, columns: dict, reference: str) -> str:
    """Markdown: mean [95% CI] of each column per policy, and the paired difference vs ``reference``."""
    ref = df[df["policy"] == reference].set_index("learner")
    first = next(iter(columns))
    header = ["policy", *columns.values(), f"{columns[first]} vs {reference} (paired)"]
    rows = []
    order = df.groupby("policy", sort=False)[first].mean().sort_values(ascending=False).index
    for policy in order:
        part = df[df["policy"] == policy].set_index("learner")
        paired = (part[first] - ref[first].reindex(part.index)).to_numpy()
        rows.append([policy, *(cell(part[c].to_numpy()) for c in columns), cell(paired)])
    return markdown_table(header, rows) + "\n"


def run_env(env_id: str, out: Path, learners: int, seed: int, full: bool, force: bool, reference: str,
            extra: tuple) -> pd.DataFrame:
    env, params = studygym.make(env_id)
    policies = resolve_policies(list(CLASSIC) if full else list(extra), env) + tutoring_baselines(env)
    start = time.perf_counter()
    df = evaluate(policies, env_id, n_learners=learners, seed=seed, progress=True)
    print(f"{env_id}: {learners} learners x {len(policies)} policies in {time.perf_counter() - start:.0f}s")
    write_results(df, out, force=force, reference=reference)
    df = df[~df["failed"]].copy()
    cost = float(params.cost_per_minute)
    if env_id == "Sleep-v0":
        df["combined_reward"] = (float(params.exam_weight) * df["knowledge_final"]
                                 + float(params.retention_weight) * df["retention_delayed"] - cost * df["study_minutes"])
        columns = {"combined_reward": "combined reward (return)", "knowledge_final": "exam score",
                   "retention_delayed": "retention a week later", "reviews": "reviews"}
    else:
        columns = {"retention_delayed": "retention a week later", "knowledge_final": "knowledge at the end",
                   "reviews": "reviews"}
    table = objective_table(df, columns, reference)
    (out / "objective.md").write_text(f"### {env_id}: {learners} learners (seed {seed})\n\n"
                                      f"Mean [95% bootstrap CI]; every policy met the same learners.\n\n{table}")
    print(table)
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="also every classic scheduler run unchanged")
    parser.add_argument("--force", action="store_true", help="overwrite existing results")
    parser.add_argument("--out", default=str(ROOT / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    run_env("Sleep-v0", out / "sleep", args.learners, args.seed, args.all, args.force, "spaced+sleep",
            ("fsrs", "round_robin", "threshold"))
    run_env("Tagging-v0", out / "tagging", args.learners, args.seed, args.all, args.force, "fsrs+reward_never", ())


if __name__ == "__main__":
    main()
