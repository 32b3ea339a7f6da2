"""Learned agents against the classic schedulers: results/agents/ (the README's agents section).

    .venv/bin/python scripts/run_agents.py                    # every setting, default budgets
    .venv/bin/python scripts/run_agents.py --only review-fsrs --steps 400000 --learners 200
    .venv/bin/python scripts/run_agents.py --eval-only --learners 500 --add ebisu,ebisu_tuned  # new rows only

For each setting: train the JAX PPO (agents/ppo.py) with seed 0, save it to
``results/agents/<setting>/ppo``, then evaluate it with the harness beside every baseline of that
env at its published defaults and tuned (``<name>_tuned``: the knob grid-searched on training
learners, ``results/tuning/``, see scripts/tune_baselines.py), the env's own baselines, and the
privileged references (oracle_greedy, and the planner, the upper reference) on held-out learners:
the harness draws learner ``j`` from ``fold_in(key(eval_seed), j)``, a key stream neither training
nor tuning uses (training keys come from ``key(train_seed)`` split per update; tuning uses
``studygym.evaluation.tuning.TUNING_SEED``). Ranking is by the env's own objective, the episode return (what
PPO is trained to maximise). Reported per setting: PPO minus the best tuned classic and the
planner minus it (learner by learner, 95% bootstrap CI), and the share of the headroom PPO
captures, (PPO - best) / (planner - best), with a paired bootstrap CI.
``results/agents/summary.md`` collects one line per setting; each setting's folder holds
episodes.csv, summary.csv, leaderboard.md and figures (studygym.evaluation.report).

The training budget is an argument: on a GPU the defaults take minutes; on this 2-core CPU use
``--steps`` to shorten (the summary records the steps used).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: setting -> (env id, env overrides, PPO env steps, PPO hyper-parameters)
SETTINGS = {
    "review-fsrs": ("Review-v0", {"n_items": 60}, 3_000_000, {}),
    "review-brain": ("Review-v0", {"n_items": 60, "learner": "brain"}, 3_000_000, {}),
    "sleep": ("Sleep-v0", {}, 3_000_000, {}),
    "tagging": ("Tagging-v0", {}, 3_000_000, {}),
}
METRIC = "episode_return"


def paired_line(setting: str, env_id: str, overrides: dict, steps: int, df, summary, train_seconds: float) -> dict:
    """PPO against the best tuned classic (paired by learner) and the planner, with the headroom share."""
    from studygym.evaluation.report import PLANNER, best_classic, headroom_lines, is_learned

    ok = summary[~summary["failed"]]
    best_name = best_classic(summary, METRIC)
    classics = ok[~ok["privileged"] & ~ok["policy"].map(is_learned)]
    best = ok[ok["policy"] == best_name].iloc[0]
    ppo = ok[ok["policy"] == "ppo"].iloc[0]
    planner = ok[ok["policy"] == PLANNER]
    line = {
        "setting": setting, "env": env_id, "overrides": overrides, "train_steps": steps,
        "train_seconds": round(train_seconds, 1), "learners": int(ppo["learners"]),
        "ppo": float(ppo[METRIC]), "best_baseline": best_name, "best": float(best[METRIC]),
        "rank": int((classics[METRIC] > ppo[METRIC]).sum()) + 1, "n_baselines": int(len(classics)),
        "diff": float(ppo[f"{METRIC}_diff"]), "diff_lo": float(ppo[f"{METRIC}_diff_lo"]),
        "diff_hi": float(ppo[f"{METRIC}_diff_hi"]), "planner": None,
    }
    if len(planner):
        row = planner.iloc[0]
        line.update(planner=float(row[METRIC]), planner_diff=float(row[f"{METRIC}_diff"]),
                    planner_diff_lo=float(row[f"{METRIC}_diff_lo"]), planner_diff_hi=float(row[f"{METRIC}_diff_hi"]),
                    planner_is_max=bool(row[METRIC] >= ok[METRIC].max() - 1e-12))
        (head,) = [h for h in headroom_lines(df, summary, METRIC) if h["agent"] == "ppo"]
        line.update(headroom=head["share"], headroom_lo=head["lo"], headroom_hi=head["hi"])
    return line


#: With ``--add``: the policy re-evaluated to check that the saved episodes reproduce (cheap, deterministic).
CHECK_POLICY = "fixed"


def add_to_saved(saved, fresh, add: list[str]):
    """The saved episodes with the rows of ``add`` replaced by (or extended with) ``fresh``'s.

    ``fresh`` also holds :data:`CHECK_POLICY` on the same learners: its every episode must equal the
    saved one (same env, harness and learners), or mixing the two runs would compare unlike things. It
    checks the env and the harness, not the other saved policies' own code: after a change to a
    policy, re-run it with ``--add`` too, or run a full ``--eval-only``.
    """
    import numpy as np
    import pandas as pd

    def episodes(df, name):
        return df[df["policy"] == name].sort_values("learner")[["learner", METRIC]].to_numpy(float)

    old, new = episodes(saved, CHECK_POLICY), episodes(fresh, CHECK_POLICY)
    # 1e-5: float32 rounding of a return summed over hundreds of steps (seen: 1.2e-6 on Sleep-v0), far
    # below any gap the leaderboards resolve (CIs of 1e-3).
    if old.shape != new.shape or not np.allclose(old, new, rtol=0.0, atol=1e-5):
        gap = float(np.abs(old - new).max()) if old.shape == new.shape else float("nan")
        raise SystemExit(f"the saved {CHECK_POLICY} episodes do not reproduce (max gap {gap:g}): the env or the "
                         "harness changed since they were saved; run a full --eval-only instead of --add")
    df = pd.concat([saved[~saved["policy"].isin(add)], fresh[fresh["policy"].isin(add)]], ignore_index=True)
    df.attrs = {k: v for k, v in fresh.attrs.items() if k != "curves"}
    return df


def run_setting(setting: str, out_root: Path, steps: int, learners: int, train_seed: int, eval_seed: int,
                hyper: dict, *, train_only: bool = False, eval_only: bool = False,
                add: list[str] | None = None) -> dict | None:
    import pandas as pd

    from studygym import make
    from studygym.agents.ppo import load_ppo, train
    from studygym.evaluation.harness import evaluate, summarize
    from studygym.evaluation.report import best_classic, write_results
    from studygym.evaluation.suites import board_policies

    env_id, overrides, _, default_hyper = SETTINGS[setting]
    folder = out_root / setting
    run_dir = folder / "ppo"
    if eval_only:  # evaluate the saved run (trained by an earlier --train-only call)
        config = json.loads((run_dir / "config.json").read_text())
        steps, train_seconds = int(config["env_steps"]), float(config.get("train_seconds", float("nan")))
    else:
        start = time.perf_counter()
        trained = train(env_id, steps, seed=train_seed, overrides=overrides, **{**default_hyper, **hyper})
        train_seconds = time.perf_counter() - start
        run_dir = trained.save(run_dir, force=True)
        print(f"{setting}: trained {steps:,} steps in {train_seconds:.0f}s", flush=True)
        if train_only:
            return None
    env, _ = make(env_id, **overrides)
    policies = [*board_policies(env_id, overrides, env=env), load_ppo(run_dir, env=env)]
    if add:  # only the named policies, added to the saved episodes (their learners: same seed and count)
        by_name = {p.name: p for p in policies}
        unknown = [n for n in add if n not in by_name]
        if unknown:
            raise SystemExit(f"{setting}: --add {unknown} not among its policies: {', '.join(by_name)}")
        saved = pd.read_csv(folder / "episodes.csv", dtype={"failure": str})
        saved["failure"] = saved["failure"].fillna("")  # read back as NaN where the policy did not fail
        if saved["learner"].nunique() != learners:
            raise SystemExit(f"{setting}: the saved episodes have {saved['learner'].nunique()} learners, not {learners}")
        fresh = evaluate([by_name[n] for n in [CHECK_POLICY, *add]], env_id, n_learners=learners, seed=eval_seed,
                         curves=False, **overrides)
        df = add_to_saved(saved, fresh, add)
    else:
        df = evaluate(policies, env_id, n_learners=learners, seed=eval_seed, **overrides)
    # Paired differences against the best tuned classic on the objective.
    best = best_classic(summarize(df, metrics=(METRIC,)), METRIC)
    summary, _ = write_results(df, folder, force=True, reference=best, sort_by=METRIC,
                               title=f"{setting}: {env_id} {overrides or ''}, PPO vs baselines, {learners} held-out learners")
    return paired_line(setting, env_id, overrides, steps, df, summary, train_seconds)


def summary_markdown(lines: list[dict]) -> str:
    from studygym.markdown import markdown_table

    header = ["setting", "env", "held-out learners", "PPO steps", "PPO return", "best tuned classic",
              "its return", "PPO - best (paired, 95% CI)", "planner return", "planner - best (paired, 95% CI)",
              "headroom captured by PPO (95% CI)", "PPO rank"]
    right = [False, False, True, True, True, False, True, False, True, False, False, False]
    rows = []
    for r in lines:
        if r.get("planner") is None:
            planner_cells = ["-", "-", "-"]
        else:
            planner_cells = [f"{r['planner']:.4f}",
                             f"{r['planner_diff']:+.4f} [{r['planner_diff_lo']:+.4f}, {r['planner_diff_hi']:+.4f}]",
                             f"{r['headroom']:.2f} [{r['headroom_lo']:.2f}, {r['headroom_hi']:.2f}]"]
        rows.append([r["setting"], f"{r['env']} {r['overrides'] or ''}", f"{r['learners']:,}",
                     f"{r['train_steps']:,}", f"{r['ppo']:.4f}", r["best_baseline"], f"{r['best']:.4f}",
                     f"{r['diff']:+.4f} [{r['diff_lo']:+.4f}, {r['diff_hi']:+.4f}]", *planner_cells,
                     f"{r['rank']} of {r['n_baselines'] + 1}"])
    verdicts = []
    for r in lines:
        if r["diff_lo"] > 0:
            verdict = f"PPO beats the best tuned classic ({r['best_baseline']}); the CI excludes 0"
        elif r["diff_hi"] < 0:
            verdict = (f"PPO does NOT beat the best tuned classic ({r['best_baseline']}): it is worse by "
                       f"{-r['diff']:.4f} (CI excludes 0)")
        else:
            verdict = f"PPO and the best tuned classic ({r['best_baseline']}) are tied (the CI includes 0)"
        if r.get("planner") is not None:
            verdict += ("; the planner scores highest of all policies" if r["planner_is_max"]
                        else "; the planner is NOT the highest-scoring policy here")
        verdicts.append(f"- **{r['setting']}**: {verdict}.")
    return markdown_table(header, rows, right) + "\n\n" + "\n".join(verdicts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help=f"comma-separated settings (default all: {', '.join(SETTINGS)})")
    parser.add_argument("--steps", type=int, default=None, help="PPO env steps (default: each setting's)")
    parser.add_argument("--learners", type=int, default=1000, help="held-out learners per policy")
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--eval-seed", type=int, default=1)
    parser.add_argument("--hyper", default="{}", help="JSON dict of PPO hyper-parameters for every setting")
    parser.add_argument("--out", default=str(ROOT / "results" / "agents"))
    parser.add_argument("--train-only", action="store_true", help="train and save PPO, evaluate later")
    parser.add_argument("--eval-only", action="store_true", help="evaluate the saved PPO runs without training")
    parser.add_argument("--add", default=None,
                        help="with --eval-only: evaluate only these comma-separated policies and add them to the "
                             f"saved episodes (same --learners and --eval-seed), after checking that {CHECK_POLICY}'s "
                             "saved episodes reproduce; the knowledge-over-time figure is then left as it was")
    args = parser.parse_args(argv)
    if args.add and not args.eval_only:
        parser.error("--add needs --eval-only (it adds rows to a saved evaluation)")
    names = list(SETTINGS) if args.only is None else args.only.split(",")
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        parser.error(f"unknown setting(s) {unknown}; known: {', '.join(SETTINGS)}")
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    lines_path = out_root / "lines.json"
    lines = {r["setting"]: r for r in json.loads(lines_path.read_text())} if lines_path.exists() else {}
    for name in names:
        steps = args.steps or SETTINGS[name][2]
        what = "evaluating the saved PPO" if args.eval_only else f"training PPO for {steps:,} steps, then evaluating it"
        print(f"== {name}: {what} on {args.learners} held-out learners", flush=True)
        line = run_setting(name, out_root, steps, args.learners, args.train_seed, args.eval_seed,
                           json.loads(args.hyper), train_only=args.train_only, eval_only=args.eval_only,
                           add=None if args.add is None else args.add.split(","))
        if line is None:
            continue
        lines[name] = line
        print(json.dumps(lines[name]), flush=True)
        lines_path.write_text(json.dumps(list(lines.values()), indent=1))
    ordered = [lines[n] for n in SETTINGS if n in lines]
    (out_root / "summary.md").write_text(summary_markdown(ordered))
    print(summary_markdown(ordered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
