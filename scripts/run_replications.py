"""Regenerate ``results/science/replications.*``: the classic-experiment scorecard at full size.

    .venv/bin/python scripts/run_replications.py [--learners 256] [--seed 0] [--presets lab_novice,calibrated]
        [--records results/science/calibration_refit.json] [--skill-preset calibrated]

Runs every experiment of ``studygym.evaluation.replicate.EXPERIMENTS`` (``studygym replicate``) for each brain
preset named (those that exist). The last preset's results are written as
``replications.csv`` / ``replications.md`` (scorecard) / ``replications.png``; with more than one preset,
``replications_before_after.md`` puts every preset's model value side by side, marking the experiments
held out of the calibration fit (``studygym.evaluation.replicate.HELD_OUT``). ``--records`` adds columns for
fit records of ``scripts/calibrate_brain.py`` that were not made presets (their ``values`` on ``lab_novice``),
so a refit's agreement at full size is shown beside the presets without promoting it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from studygym.envs.learners.brain import BRAIN, PRESETS, brain_preset
from studygym.envs.learners.skill import PRESETS as SKILL_PRESETS, skill_preset
from studygym.markdown import table_lines
from calibrate_brain import params_for
from studygym.evaluation.replicate import (EXPERIMENTS, HELD_OUT, Context, header, paper_cell, run_experiments, write_results,
                               yes_no)

ROOT = Path(__file__).resolve().parents[1]


def before_after(results: dict[str, pd.DataFrame]) -> str:
    presets = list(results)
    first = results[presets[0]]
    lines = ["### Before / after calibration: paper vs the brain learner's presets", "",
             "Same protocols, learners and seeds for every column; **held out** = the experiment took no part "
             "in fitting the `calibrated` preset, nor any fit record's values (the records up to "
             "`calibration_refit_encoded_forgetting` also held out `ebbinghaus_1885_repetitions`, see each record's "
             "`held_out`). Columns "
             "named after a fit record (`results/science/<name>.json`) are not presets. Share within: " + ", ".join(
                 f"`{p}` {int(df.within.sum())}/{len(df)} ({df.within.mean():.0%})" for p, df in results.items())
             + "; held-out rows only: " + ", ".join(
                 f"`{p}` {int(df[df.experiment.isin(HELD_OUT)].within.sum())}/"
                 f"{int(df.experiment.isin(HELD_OUT).sum())}" for p, df in results.items()) + ".", ""]
    rows = []
    for i, r in enumerate(first.itertuples()):
        name = r.experiment + (" (**held out**)" if r.experiment in HELD_OUT else "")
        models = [results[p].iloc[i] for p in presets]
        rows.append([name, r.condition, paper_cell(r)] + [f"{m.model:.3g} {yes_no(m.within)}" for m in models])
    lines += table_lines(["experiment", "condition", "paper [interval]"] + [f"`{p}`" for p in presets], rows)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presets", default="lab_novice,calibrated")
    parser.add_argument("--records", default="",
                        help="comma-separated calibrate_brain.py fit records to add as columns (not presets)")
    parser.add_argument("--skill-preset", default="calibrated", choices=sorted(SKILL_PRESETS),
                        help="skill-learner preset for the skill experiments (every column uses it)")
    parser.add_argument("--out", default=str(ROOT / "results" / "science"))
    args = parser.parse_args(argv)
    skill = skill_preset(args.skill_preset)
    presets = [p for p in args.presets.split(",") if p in PRESETS]
    results = {}
    for preset in presets:
        ctx = Context(BRAIN, brain_preset(preset), skill, args.learners, args.seed)
        results[preset] = run_experiments(EXPERIMENTS, ctx)
        print(f"{preset}: {int(results[preset].within.sum())}/{len(results[preset])} within")
    for record in filter(None, args.records.split(",")):
        name = Path(record).stem
        ctx = Context(BRAIN, params_for(json.loads(Path(record).read_text())["values"]), skill, args.learners,
                      args.seed)
        results[name] = run_experiments(EXPERIMENTS, ctx)
        print(f"{name}: {int(results[name].within.sum())}/{len(results[name])} within")
    last = presets[-1]
    write_results(results[last], args.out, header("brain", last, args.learners, args.seed, args.skill_preset),
                  force=True)
    if len(results) > 1:
        (Path(args.out) / "replications_before_after.md").write_text(before_after(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
