"""Short SB3 screening runs on Review-v0 (60 items): a shipped YAML entry plus overrides, trained, then
compared with Random on held-out learners; one JSON line per run appended to results/sb3/screening.jsonl.

    .venv/bin/python scripts/sb3_screen.py ppo 200000 '{"gamma": 0.9, "ent_coef": 0.0}' /tmp/run

Arguments: the algorithm (``ppo``, ``ppo_mask``, ...; its ``studygym/hyperparams/<algo>.yml`` entry for
``studygym/Review-v0`` is the base), env steps, a JSON object of hyper-parameter overrides, and a
scratch folder for the run (its TensorBoard logs are read back). The line holds the mean episode
return of the arg-max and the sampled policy and of Random on 200 held-out learners (seed 0),
each agent minus Random paired per learner (mean, 95% bootstrap CI), the share of the way from
Random to ``hlr_tuned`` on the same learners, the last points of the training curve, and the last
PPO diagnostics SB3 logged (entropy, clip fraction, approximate KL, explained variance).
These runs choose settings; the shipped results are scripts/sb3_learning_curve.py's.
"""

from __future__ import annotations

import glob
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "sb3" / "screening.jsonl"
DIAGNOSTICS = ("train/entropy_loss", "train/clip_fraction", "train/approx_kl", "train/explained_variance")


def diagnostics(run_dir: str) -> dict:
    """The last value of each of ``DIAGNOSTICS`` in the run's TensorBoard log."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = {}
    for events in sorted(glob.glob(f"{run_dir}/tb/*/events*")):
        acc = EventAccumulator(events)
        acc.Reload()
        for tag in DIAGNOSTICS:
            if tag in acc.Tags()["scalars"]:
                out[tag.split("/")[1]] = round(float(acc.Scalars(tag)[-1].value), 4)
    return out


def main(argv: list[str]) -> int:
    import torch

    torch.set_num_threads(1)
    import studygym
    from studygym.agents.sb3 import load_hyperparams, load_sb3, train_sb3
    from studygym.evaluation.harness import bootstrap_ci, evaluate
    from studygym.evaluation.suites import policy_by_name
    from studygym.evaluation.tuning import load_tuning, tuned_policies

    algo, steps, extra, run_dir = argv[0], int(float(argv[1])), json.loads(argv[2]), argv[3]
    entry = load_hyperparams(algo, "studygym/Review-v0")
    hyper = {**entry["hyper"], **extra}
    start = time.perf_counter()
    run = train_sb3(algo, "Review-v0", steps, seed=0, out=run_dir, overrides=entry["overrides"], hyper=hyper,
                    n_envs=entry["n_envs"], progress=False, n_checkpoints=1, torch_threads=1, force=True)
    minutes = (time.perf_counter() - start) / 60
    env, _ = studygym.make("Review-v0", **entry["overrides"])
    record = load_tuning(ROOT / "results" / "tuning", "Review-v0", entry["overrides"])
    best = [p for p in tuned_policies(env, record) if p.name == "hlr_tuned"]
    policies = [load_sb3(run_dir, env=env, name="argmax"), load_sb3(run_dir, env=env, name="sampled", sample=True),
                policy_by_name("random", env), *best]
    df = evaluate(policies, "Review-v0", 200, 0, curves=False, **entry["overrides"])
    table = df.pivot(index="learner", columns="policy", values="episode_return")
    means = table.mean()
    result = {"algo": algo, "base": f"{algo}.yml", "steps": steps, "overrides": extra, "train_minutes": round(minutes, 1),
              "episode_return": {k: round(float(v), 4) for k, v in means.items()}}
    for name in ("argmax", "sampled"):
        diff = (table[name] - table["random"]).to_numpy()
        result[f"{name}_minus_random"] = [round(float(diff.mean()), 4), [round(x, 4) for x in bootstrap_ci(diff)]]
    if best:
        agent = max(means["argmax"], means["sampled"])
        result["share_random_to_hlr_tuned"] = round(float((agent - means["random"]) /
                                                          (means["hlr_tuned"] - means["random"])), 3)
    result["training_curve_last5"] = [round(float(x), 4) for x in run.curve["episode_return"][-5:]]
    result["diagnostics"] = diagnostics(run_dir)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a") as f:
        f.write(json.dumps(result) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
