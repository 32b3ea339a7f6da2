"""SB3 PPO (or MaskablePPO) on Review-v0 with the shipped hyper-parameters: learning curve and a paired comparison.

    .venv/bin/python scripts/sb3_learning_curve.py                  # 1M env steps (~10-25 min on 2 cores)
    .venv/bin/python scripts/sb3_learning_curve.py --steps 200000   # fewer (says so in the output)
    .venv/bin/python scripts/sb3_learning_curve.py --algo ppo_mask  # sb3-contrib MaskablePPO, action masks

Trains ``studygym.agents.sb3.train_sb3(ALGO, ...)`` with ``studygym/hyperparams/ALGO.yml``'s entry
for ``studygym/Review-v0`` (torch on 1 thread), then evaluates the exported JAX policy beside
Random and every tuned classic scheduler (``results/tuning``) on held-out learners (the harness's
learner keys, disjoint from the VecEnv's training seeds), paired by learner. Writes into
``results/sb3/review-v0-ALGO/``: ``curve.csv`` + ``learning_curve.png`` (mean training-episode
return against env steps), ``config.json`` (the run), ``comparison.json`` and ``comparison.md``
(episode return per policy, and SB3 PPO minus Random and minus the best tuned classic, mean and
95% bootstrap CI of the per-learner differences, and the share of Random-to-best-classic reached).
The SB3 model files (TensorBoard, checkpoints, model.zip) stay in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "sb3"  # review-v0-ALGO/ in it
GYM_ID = "studygym/Review-v0"
TITLES = {"ppo": "SB3 PPO", "ppo_mask": "sb3-contrib MaskablePPO (action masks)", "a2c": "SB3 A2C"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="env steps (default: the YAML's n_timesteps)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learners", type=int, default=500, help="held-out learners for the comparison")
    parser.add_argument("--eval-seed", type=int, default=0)
    parser.add_argument("--algo", choices=sorted(TITLES), default="ppo",
                        help="ppo (SB3 PPO), a2c (SB3 A2C) or ppo_mask (sb3-contrib MaskablePPO with the env's "
                             "action_masks())")
    parser.add_argument("--out", default=None, help="default: results/sb3/review-v0-ALGO")
    parser.add_argument("--force", action="store_true", help="overwrite --out's files")
    args = parser.parse_args(argv)

    import studygym
    from studygym.agents.sb3 import load_hyperparams, load_sb3, train_sb3
    from studygym.files import check_writable
    from studygym.evaluation.harness import bootstrap_ci, evaluate
    from studygym.evaluation.suites import policy_by_name
    from studygym.evaluation.tuning import TUNED_SUFFIX, load_tuning, tuned_policies
    from studygym.markdown import table_lines

    algo, title = args.algo, TITLES[args.algo]
    out = Path(args.out) if args.out else OUT / f"review-v0-{algo}"
    names = ("curve.csv", "learning_curve.png", "config.json", "params.npz", "comparison.json", "comparison.md")
    check_writable(out, args.force, names)
    entry = load_hyperparams(algo, GYM_ID)
    overrides, hyper, n_envs, default_steps = entry["overrides"], entry["hyper"], entry["n_envs"], entry["n_timesteps"]
    steps = int(args.steps or default_steps)
    env, _ = studygym.make("Review-v0", **overrides)
    record = load_tuning(ROOT / "results" / "tuning", "Review-v0", overrides)
    if record is None:
        raise SystemExit(f"no tuning record for Review-v0 {overrides} in results/tuning (scripts/tune_baselines.py)")
    tuned = tuned_policies(env, record)

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = train_sb3(algo, "Review-v0", steps, seed=args.seed, out=tmp, overrides=overrides, hyper=hyper,
                        n_envs=n_envs, progress=True, n_checkpoints=1, torch_threads=1)
        train_seconds = time.perf_counter() - start
        # SB3 stops after the first whole rollout (n_envs x n_steps) that reaches the steps asked for.
        env_steps = int(run.config["env_steps"])
        out.mkdir(parents=True, exist_ok=True)
        for name in ("curve.csv", "learning_curve.png", "config.json", "params.npz"):
            shutil.copy(Path(tmp) / name, out / name)

    # The saved policy (params.npz + config.json: re-evaluable as sb3:results/sb3/review-v0-ALGO), acting
    # by arg-max (SB3's predict(deterministic=True)) and by sampling its softmax (as in training).
    arg_max_name, sampled_name = f"sb3_{algo}", f"sb3_{algo}_sampled"
    policy = load_sb3(out, env=env, name=arg_max_name)
    sampled = load_sb3(out, env=env, name=sampled_name, sample=True)
    random_policy = policy_by_name("random", env)
    df = evaluate([policy, sampled, random_policy, *tuned], "Review-v0", args.learners, args.eval_seed, curves=False,
                  **overrides)
    table = df.pivot(index="learner", columns="policy", values="episode_return")
    means = table.mean().sort_values(ascending=False)
    classic = [p.name for p in tuned]
    best = max(classic, key=lambda n: means[n])

    def paired(a: str, b: str) -> dict:
        diff = (table[a] - table[b]).to_numpy()
        low, high = bootstrap_ci(diff)
        return {"mean": float(diff.mean()), "ci95": [low, high]}

    agent = max((arg_max_name, sampled_name), key=lambda n: means[n])  # the better way to act, reported
    vs_random, vs_best = paired(agent, "random"), paired(agent, best)
    gap = float(means[best] - means["random"])
    share = float((means[agent] - means["random"]) / gap) if gap > 0 else float("nan")
    result = {
        "algo": algo, "env_id": "Review-v0", "overrides": overrides, "hyper": hyper, "n_envs": n_envs, "env_steps": env_steps,
        "env_steps_requested": steps,
        "steps_requested_default": int(default_steps), "train_seconds": round(train_seconds, 1),
        "learners": args.learners, "eval_seed": args.eval_seed, "training_seed": args.seed,
        "episode_return": {k: float(v) for k, v in means.items()},
        "agent_row": agent, "best_tuned_classic": best, "agent_minus_random": vs_random,
        "agent_minus_best_classic": vs_best,
        "share_of_random_to_best_classic": share,
        "beats_random": bool(vs_random["ci95"][0] > 0), "at_least_halfway": bool(share >= 0.5),
    }
    (out / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    masked = " over the valid actions (the env's action mask)" if algo == "ppo_mask" else ""
    lines = [
        f"### {title}{' (ItemPolicy)' if hyper.get('network') == 'items' else ''} on Review-v0 {overrides}: "
        f"{env_steps:,} env steps, shipped hyper-parameters",
        "",
        f"Generated by `scripts/sb3_learning_curve.py --algo {algo}` (studygym/hyperparams/{algo}.yml; {n_envs} envs, "
        f"training seed {args.seed}, torch 1 thread, "
        f"{train_seconds / 60:.1f} min of training here). Episode return on {args.learners} held-out learners "
        f"(seed {args.eval_seed}), every policy on the same learners; differences are paired per learner, "
        "mean [95% bootstrap CI].",
        "",
        *table_lines(["policy", "episode_return"], [[name, f"{value:.4f}"] for name, value in means.items()]),
        "",
        f"`{arg_max_name}` acts by arg-max (SB3's `predict(deterministic=True)`), `{sampled_name}` samples its softmax "
        f"(as during training){masked}; "
        f"the better of the two, `{agent}`, is compared below.",
        "",
        f"- {agent} minus Random: {vs_random['mean']:+.4f} [{vs_random['ci95'][0]:+.4f}, {vs_random['ci95'][1]:+.4f}]"
        f" ({'beats Random' if result['beats_random'] else 'does not beat Random'})",
        f"- {agent} minus the best tuned classic ({best}): {vs_best['mean']:+.4f} "
        f"[{vs_best['ci95'][0]:+.4f}, {vs_best['ci95'][1]:+.4f}]",
        f"- share of the way from Random to {best}: {share:.0%} "
        f"({'at least' if result['at_least_halfway'] else 'less than'} halfway)",
        "",
        "Learning curve (mean return of training episodes against env steps): `learning_curve.png`, `curve.csv`.",
        "",
    ]
    (out / "comparison.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
