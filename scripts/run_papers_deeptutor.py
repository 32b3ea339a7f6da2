"""Classic schedulers on Reddy et al. 2017's DeepTutor set-ups; writes results/papers/deeptutor/.

    .venv/bin/python scripts/run_papers_deeptutor.py [--learners 100] [--out results/papers/deeptutor]

For each of DeepTutor-EFC-v0, DeepTutor-HLR-v0 and DeepTutor-GPL-v0, runs the tutors through the
harness on the same simulated students (paired: common random numbers) and reports the paper's
score, the mean recall over the 200 steps (``knowledge_auc``), as "% better than Random":
``100 (score - score_random) / |score_random|``, with a 95% bootstrap CI over students. As in the
paper (which tuned Threshold's threshold), each tutor with a knob runs twice: at its published
default and tuned (``<name>_tuned``), its knob chosen on training students by
``scripts/tune_baselines.py`` (``results/tuning/deeptutor-*.json``, read through
``studygym.evaluation.suites.suite_tuning``; tuned now, on TUNABLE's full grids, and saved when missing: run
``scripts/tune_baselines.py --only deeptutor-efc,deeptutor-hlr,deeptutor-gpl`` first for its smaller
grids). The tuned objective is the env's
episode return, the sum of the rewards, so it ranks as the mean recall does. ``oracle_greedy``
(privileged: it reads the true student) uses the one-step horizon, the reward-greedy choice for this
reward; the planner (privileged, ``agents/schedulers/planner.py``) is the upper reference, and each
table ends with its paired margin over the best other tutor.
Writes ``deeptutor.md`` (tables and what the paper reports), ``summary.csv`` and ``episodes.csv``.
Takes tens of minutes on two CPU cores (compilation dominates: one compile per tutor).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import studygym
from studygym.agents.schedulers import make_policy
from studygym.evaluation.harness import bootstrap_ci, evaluate, summarize
from studygym.evaluation.report import planner_margin
from studygym.evaluation.suites import suite_tuning
from studygym.evaluation.tuning import tuned_policies
from studygym.markdown import table_lines

ENV_IDS = ("DeepTutor-EFC-v0", "DeepTutor-HLR-v0", "DeepTutor-GPL-v0")
POLICIES = ("random", "round_robin", "leitner", "sm2", "fsrs", "hlr", "memorize", "threshold", "ebisu")

PAPER = """\
## What the paper reports

Reddy, Levine & Dragan, "Accelerating Human Learning with Deep Reinforcement Learning", NIPS 2017
workshop on teaching machines, robots and humans
(<http://people.eecs.berkeley.edu/~reddy/files/DRL_Tutor_NIPS17_MT_Workshop.pdf>; code
<https://github.com/rddy/deeptutor>, `spaced-repetition.ipynb`). Set-up: 30 items, 200 steps,
constant delay 5, γ = 0.99, students EFC / HLR / GPL drawn from fixed distributions, reward the
mean recall likelihood (and, separately, the mean log-likelihood). Tutors: Random, Leitner (queue
network, arrival rate tuned), SuperMemo (SM-2 as in Mnemosyne), Threshold (review the item whose
recall, computed on a copy of the *true* student model, is nearest a tuned threshold) and a TRPO
tutor with a GRU policy. Results are plots of "% better than Random" over TRPO's training
iterations, with the heuristics as horizontal lines; there is no table of numbers. Qualitatively
the paper's claim is that the learned TRPO tutor is competitive with, and on some student models
better than, the heuristic tutors. This summary is from the paper as we read it (the PDF was not
reachable when these results were made: not re-verified); no number here is copied from it.
Studygym has no TRPO tutor row: a learned agent for these set-ups is `studygym train` (PPO) work.

## How this set-up differs

- Time unit: one day (the paper's unit is abstract); 5 days between steps.
- Interface: Review-v0's (history features, a rest action); the paper's tutors saw the raw
  (item, outcome, delay) stream and could not rest.
- The review happens at the start of a step and recall is scored 5 days later; the paper stamps
  the review at the end of the step, when the reward is scored (the reviewed item counts at
  full recall).
- Threshold here predicts recall with its own FSRS-6 estimate, not the true student model; that
  privileged variant is closest to `oracle_greedy` (reward-greedy on the true student).
- Students start with every item studied once, about 4 days before the first step (the paper's
  `init_tlasts`); the tutor's record starts empty.
"""


def pct_better(values: np.ndarray, reference: np.ndarray, n_boot: int = 2000, seed: int = 0):
    """100 (mean - mean_ref) / |mean_ref| and its bootstrap CI (students resampled, paired)."""
    def stat(idx):
        ref = reference[idx].mean()
        return 100.0 * (values[idx].mean() - ref) / abs(ref)

    rng = np.random.default_rng(seed)
    n = len(values)
    boots = [stat(rng.integers(0, n, n)) for _ in range(n_boot)]
    return stat(np.arange(n)), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/papers/deeptutor")
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    episodes, rows, margins = [], [], {}
    for env_id in ENV_IDS:
        start = time.perf_counter()
        env, _ = studygym.make(env_id)
        record = suite_tuning(env_id, {})
        tuned = [p for p in tuned_policies(env, record) if p.name.removesuffix("_tuned") in POLICIES]
        policies = [make_policy(name, env) for name in POLICIES] + tuned
        policies.append(make_policy("oracle_greedy", env, horizon="step"))
        policies.append(make_policy("planner", env))
        df = evaluate(policies, env_id, n_learners=args.learners, seed=args.seed, curves=False)
        margins[env_id] = planner_margin(df, summarize(df))
        knobs = {name + "_tuned": f"{entry['setting']} {entry['chosen'][entry['setting']]:g}"
                 for name, entry in record["policies"].items()}
        df.insert(0, "env", env_id)
        episodes.append(df)
        random_auc = df[df["policy"] == "random"].sort_values("learner")["knowledge_auc"].to_numpy()
        for policy, part in df.groupby("policy", sort=False):
            part = part.sort_values("learner")
            auc = part["knowledge_auc"].to_numpy()
            pct, lo, hi = pct_better(auc, random_auc)
            auc_lo, auc_hi = bootstrap_ci(auc)
            rows.append({
                "env": env_id, "policy": policy + (f" ({knobs[policy]})" if policy in knobs else ""),
                "privileged": bool(part["privileged"].any()), "learners": len(part),
                "mean_recall": auc.mean(), "mean_recall_lo": auc_lo, "mean_recall_hi": auc_hi,
                "pct_better_than_random": pct, "pct_lo": lo, "pct_hi": hi,
                "final_recall": part["knowledge_final"].mean(), "reviews": part["reviews"].mean(),
                "failed": bool(part["failed"].any()),
            })
        print(f"{env_id}: {time.perf_counter() - start:.0f} s", flush=True)

    summary = pd.DataFrame(rows)
    summary.to_csv(out / "summary.csv", index=False)
    pd.concat(episodes).to_csv(out / "episodes.csv", index=False)
    lines = [
        "# Reddy et al. 2017's DeepTutor set-ups: classic tutors, % better than Random",
        "",
        f"Generated by `scripts/run_papers_deeptutor.py` ({args.learners} simulated students per set-up, "
        f"seed {args.seed}, the same students for every tutor). Score: mean recall over the items, "
        "averaged over the 200 steps (the paper's episode score for its likelihood reward). "
        "\"% better than Random\" = 100 (score − Random's) / |Random's|, 95% bootstrap CI over students. "
        "Privileged tutors read the true student (no real app can). `<tutor>_tuned` rows carry the knob "
        "chosen on training students (`results/tuning`, `scripts/tune_baselines.py`) beside the published "
        "defaults.",
        "",
    ]
    for env_id in ENV_IDS:
        part = summary[summary["env"] == env_id].sort_values("pct_better_than_random", ascending=False)
        rows = [[r.policy + (" (privileged)" if r.privileged else "") + (" FAILED" if r.failed else ""),
                 f"{r.mean_recall:.3f} [{r.mean_recall_lo:.3f}, {r.mean_recall_hi:.3f}]",
                 f"{r.pct_better_than_random:+.1f} [{r.pct_lo:+.1f}, {r.pct_hi:+.1f}]", f"{r.final_recall:.3f}",
                 f"{r.reviews:.0f}"] for r in part.itertuples()]
        lines += [f"## {env_id}", "",
                  *table_lines(["tutor", "mean recall [95% CI]", "% better than Random [95% CI]", "final recall",
                                "reviews"], rows, right=[False, True, True, True, True])]
        margin = margins[env_id]
        if margin is not None:
            lines += ["", f"Upper reference: planner - {margin['best']} (the best other tutor) = "
                      f"{margin['margin']:+.3f} [{margin['lo']:+.3f}, {margin['hi']:+.3f}] episode return "
                      "(sum of the 200 rewards; paired bootstrap over students, 95% CI)."]
        lines.append("")
    lines.append(PAPER)
    (out / "deeptutor.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
