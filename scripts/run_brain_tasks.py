"""Evaluate every Sleep-v0 and Tagging-v0 policy; writes results/sleep/ and results/tagging/.

    .venv/bin/python scripts/run_brain_tasks.py [--learners 256] [--seed 0] [--only sleep,tagging] [--force]

Each env's leaderboard holds every policy of ``studygym.evaluation.suites.board_policies``: the
classic schedulers and the Sleep-v0 / Tagging-v0 wrappers around them at their published settings,
the tuned rows ``<name>_tuned`` (the knob grid-searched on training learners, ``results/tuning/``,
see scripts/tune_baselines.py), and the privileged references oracle_greedy and the planner (the
upper reference; the costly row). Every policy meets the same simulated learners (common random
numbers), ranked by the env's objective, the episode return. Each folder gets the harness's
episodes.csv, summary.csv, leaderboard.md and figures (studygym.evaluation.report.write_results; the
paired column is against the best tuned classic), plus ``objective.md``: the episode return and what
it is made of (for Sleep-v0 the exam score and the week-later retention, less the study cost; for
Tagging-v0 the delayed retention), each policy's paired difference against the best tuned classic,
and the planner's paired difference against it and against the best other policy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import studygym
from studygym.evaluation.harness import bootstrap_ci, evaluate, summarize
from studygym.evaluation.report import (PLANNER, best_classic, paired_difference, planner_margin,
                                        planner_margin_markdown, write_results)
from studygym.evaluation.suites import board_policies
from studygym.markdown import markdown_table

ROOT = Path(__file__).resolve().parent.parent
#: output folder -> env id
ENVS = {"sleep": "Sleep-v0", "tagging": "Tagging-v0"}


def cell(values: np.ndarray, sign: str = "") -> str:
    lo, hi = bootstrap_ci(values)
    return f"{np.mean(values):{sign}.3f} [{lo:{sign}.3f}, {hi:{sign}.3f}]"


def objective_table(df: pd.DataFrame, columns: dict, reference: str, privileged: set) -> str:
    """Markdown: mean [95% CI] of each column per policy, and the paired difference vs ``reference``."""
    ref = df[df["policy"] == reference].set_index("learner")
    first = next(iter(columns))
    header = ["policy", *columns.values(), f"{columns[first]} vs {reference} (paired)"]
    rows = []
    order = df.groupby("policy", sort=False)[first].mean().sort_values(ascending=False).index
    for policy in order:
        part = df[df["policy"] == policy].set_index("learner")
        paired = (part[first] - ref[first].reindex(part.index)).to_numpy()
        label = f"{policy} (privileged)" if policy in privileged else policy
        rows.append([label, *(cell(part[c].to_numpy()) for c in columns), cell(paired, "+")])
    return markdown_table(header, rows) + "\n"


def planner_line(df: pd.DataFrame, best: str, metric: str = "episode_return") -> str:
    """The planner's paired difference against the best tuned classic ``best`` (the headroom it leaves)."""
    if PLANNER not in set(df["policy"]):
        return ""
    mean, lo, hi = paired_difference(df, PLANNER, best, metric)
    return (f"\nHeadroom: {PLANNER} - {best} (the best tuned classic) = {mean:+.4f} [{lo:+.4f}, {hi:+.4f}] "
            f"on {metric} (paired bootstrap over learners, 95% CI).\n")


def run_env(env_id: str, out: Path, learners: int, seed: int, force: bool) -> pd.DataFrame:
    env, _ = studygym.make(env_id)
    policies = board_policies(env_id, env=env)
    start = time.perf_counter()
    df = evaluate(policies, env_id, n_learners=learners, seed=seed, progress=True)
    print(f"{env_id}: {learners} learners x {len(policies)} policies in {time.perf_counter() - start:.0f}s")
    return write_env(df, env_id, out, force)


def write_env(df: pd.DataFrame, env_id: str, out: Path, force: bool) -> pd.DataFrame:
    """The harness's result files (paired against the best tuned classic) and ``objective.md``."""
    learners, seed = df["learner"].nunique(), df.attrs.get("seed", 0)
    metric = "episode_return"
    best = best_classic(summarize(df, metrics=(metric,)), metric)
    summary, _ = write_results(df, out, force=force, reference=best, sort_by=metric)
    privileged = set(summary.loc[summary["privileged"], "policy"])
    margin = planner_margin_markdown(planner_margin(df, summary, metric), metric)
    df = df[~df["failed"]].copy()
    if env_id == "Sleep-v0":
        columns = {metric: "combined reward (episode return)", "knowledge_final": "exam score",
                   "retention_delayed": "retention a week later", "reviews": "reviews"}
    else:
        columns = {metric: "episode return", "retention_delayed": "retention a week later",
                   "knowledge_final": "knowledge at the end", "reviews": "reviews"}
    table = objective_table(df, columns, best, privileged)
    text = (f"### {env_id}: {learners} learners (seed {seed})\n\n"
            f"Mean [95% bootstrap CI]; every policy met the same learners; paired differences against the best "
            f"tuned classic ({best}). `_tuned` rows: the knob tuned on training learners (results/tuning).\n\n"
            f"{table}{planner_line(df, best, metric)}{margin}")
    (out / "objective.md").write_text(text)
    print(text)
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="overwrite existing results")
    parser.add_argument("--out", default=str(ROOT / "results"))
    parser.add_argument("--only", default=",".join(ENVS), help=f"comma-separated folders (default: {', '.join(ENVS)})")
    args = parser.parse_args()
    names = args.only.split(",")
    unknown = [n for n in names if n not in ENVS]
    if unknown:
        parser.error(f"unknown --only {unknown}; known: {', '.join(ENVS)}")
    out = Path(args.out)
    for name in names:
        run_env(ENVS[name], out / name, args.learners, args.seed, args.force)


if __name__ == "__main__":
    main()
