"""Writing evaluation results: episodes.csv, leaderboard.md and figures, never overwriting unasked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from studygym.files import check_writable as check_files_writable
from studygym.evaluation.harness import bootstrap_ci, headroom_share, leaderboard_markdown, summarize

RESULT_FILES = ("episodes.csv", "summary.csv", "leaderboard.md", "knowledge_over_time.png",
                "reviews_vs_retention.png")


def check_writable(out_dir: Path, force: bool, names=RESULT_FILES) -> None:
    """Raise ``FileExistsError`` naming the result files that would be overwritten (unless ``force``)."""
    check_files_writable(out_dir, force, names)


def plot_knowledge_over_time(curves: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for policy, part in curves.groupby("policy", sort=False):
        ax.plot(part["day"], part["knowledge"], label=policy, lw=1.4)
    ax.set_xlabel("day")
    ax.set_ylabel("knowledge (mean recall probability)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reviews_vs_retention(summary: pd.DataFrame, path: Path, title: str, metric: str = "retention_delayed") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ok = summary[~summary["failed"] & summary[metric].notna()]
    for _, row in ok.iterrows():
        yerr = np.array([[row[metric] - row[f"{metric}_lo"]], [row[f"{metric}_hi"] - row[metric]]])
        ax.errorbar(row["reviews"], row[metric], yerr=yerr, fmt="s" if row["privileged"] else "o", capsize=2)
        ax.annotate(row["policy"], (row["reviews"], row[metric]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel("reviews per learner")
    ax.set_ylabel(metric.replace("_", " ") + " (mean, 95% CI)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


#: Policy names of learned agents (saved runs load as ``ppo`` / ``sb3-...``).
LEARNED_PREFIXES = ("ppo", "sb3")
#: The privileged upper reference (agents/schedulers/planner.py).
PLANNER = "planner"


def is_learned(name: str) -> bool:
    return name.startswith(LEARNED_PREFIXES)


def best_classic(summary: pd.DataFrame, metric: str = "episode_return") -> str | None:
    """The non-privileged, non-learned policy with the highest mean ``metric`` (tuned rows included)."""
    ok = summary[~summary["failed"] & ~summary["privileged"] & ~summary["policy"].map(is_learned)]
    ok = ok[ok[metric].notna()]
    return None if ok.empty else str(ok.sort_values(metric, ascending=False).iloc[0]["policy"])


def headroom_lines(df: pd.DataFrame, summary: pd.DataFrame, metric: str = "episode_return") -> list[dict]:
    """Per learned agent: its share of the headroom between the best classic and the planner."""
    names = set(summary.loc[~summary["failed"], "policy"])
    best = best_classic(summary, metric)
    if PLANNER not in names or best is None or metric not in df.columns:
        return []
    out = []
    for agent in sorted(n for n in names if is_learned(n)):
        share, lo, hi = headroom_share(df, agent, best, PLANNER, metric)
        out.append({"agent": agent, "best_classic": best, "share": share, "lo": lo, "hi": hi})
    return out


def headroom_markdown(lines: list[dict], metric: str = "episode_return") -> str:
    return "".join(f"\nHeadroom captured by **{r['agent']}** on {metric}: ({r['agent']} - {r['best_classic']}) / "
                   f"({PLANNER} - {r['best_classic']}) = {r['share']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}] "
                   "(paired bootstrap over learners, 95% CI).\n" for r in lines)


def paired_difference(df: pd.DataFrame, a: str, b: str, metric: str = "episode_return") -> tuple[float, float, float]:
    """Mean of ``a - b`` on ``metric`` over the learners both met, and its paired 95% bootstrap CI."""
    table = df.pivot_table(index="learner", columns="policy", values=metric)[[a, b]].dropna()
    diff = (table[a] - table[b]).to_numpy(dtype=np.float64)
    lo, hi = bootstrap_ci(diff)
    return float(diff.mean()), lo, hi


def planner_margin(df: pd.DataFrame, summary: pd.DataFrame, metric: str = "episode_return") -> dict | None:
    """The planner's paired margin over the best other policy on ``metric`` (privileged and learned
    policies included): the check that the upper reference is at least as good as every policy.
    None when the planner was not evaluated (or failed)."""
    others = summary[~summary["failed"] & (summary["policy"] != PLANNER)]
    others = others[others[metric].notna()] if metric in others.columns else others.iloc[:0]
    if PLANNER not in set(summary.loc[~summary["failed"], "policy"]) or others.empty:
        return None
    best = str(others.sort_values(metric, ascending=False).iloc[0]["policy"])
    margin, lo, hi = paired_difference(df, PLANNER, best, metric)
    return {"best": best, "margin": margin, "lo": lo, "hi": hi}


def planner_margin_markdown(margin: dict | None, metric: str = "episode_return") -> str:
    if margin is None:
        return ""
    verdict = "at least as good as" if margin["margin"] >= 0 else "below"
    return (f"\nUpper reference: {PLANNER} - {margin['best']} (the best other policy) = {margin['margin']:+.4f} "
            f"[{margin['lo']:+.4f}, {margin['hi']:+.4f}] on {metric} (paired bootstrap over learners, 95% CI): "
            f"the planner is {verdict} every other policy on the mean.\n")


def write_results(df: pd.DataFrame, out_dir: str | Path, *, force: bool = False, reference: str | None = None,
                  sort_by: str | None = None, title: str | None = None) -> tuple[pd.DataFrame, str]:
    """Write the episode table, the summary, a markdown leaderboard and two figures to ``out_dir``.

    The leaderboard ranks by ``sort_by`` (default the env's declared objective, which
    :func:`~studygym.evaluation.harness.evaluate` records in ``df.attrs["objective"]``); where a
    learned agent and the planner were evaluated, it adds the agent's share of the headroom.
    Returns ``(summary, leaderboard markdown)``.
    """
    out_dir = Path(out_dir)
    check_writable(out_dir, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    env_id = df.attrs.get("env_id", "")
    n_learners = df["learner"].nunique()
    title = title or f"{env_id}: {n_learners} learners (seed {df.attrs.get('seed', 0)})"
    sort_by = sort_by or df.attrs.get("objective", "episode_return")
    if sort_by not in df.columns or not df[sort_by].notna().any():
        sort_by = "knowledge_final"
    summary = summarize(df, reference=reference)
    board = (leaderboard_markdown(summary, sort_by=sort_by) + headroom_markdown(headroom_lines(df, summary))
             + planner_margin_markdown(planner_margin(df, summary, sort_by), sort_by))
    df.to_csv(out_dir / "episodes.csv", index=False)
    summary.to_csv(out_dir / "summary.csv", index=False)
    (out_dir / "leaderboard.md").write_text(
        f"### {title}\n\nSorted by {sort_by.replace('_', ' ')}; mean [95% bootstrap CI] over learners; "
        f"every policy met the same learners (common random numbers).\n\n{board}")
    if "curves" in df.attrs and len(df.attrs["curves"]):
        plot_knowledge_over_time(df.attrs["curves"], out_dir / "knowledge_over_time.png", title)
    plot_reviews_vs_retention(summary, out_dir / "reviews_vs_retention.png", title, sort_by)
    return summary, board


__all__ = ["write_results", "planner_margin", "paired_difference", "planner_margin_markdown", "headroom_lines", "headroom_markdown", "best_classic", "is_learned", "check_writable", "RESULT_FILES", "plot_knowledge_over_time", "plot_reviews_vs_retention"]
