"""``studygym replicate``: classic human experiments replicated through a learner; a scorecard."""

from __future__ import annotations

from pathlib import Path

from studygym.envs.learners import get_learner
from studygym.envs.learners.brain import brain_preset
from studygym.envs.learners.skill import PRESETS as SKILL_PRESETS, skill_preset
from studygym.files import check_writable
from studygym.evaluation.replicate import (FILES, Context, experiment_names, header, run_experiments, select,
                                write_results)


def add_arguments(parser) -> None:
    parser.add_argument("--only", default=None,
                        help="comma-separated experiment names (default: all): " + ", ".join(experiment_names()))
    parser.add_argument("--learners", type=int, default=256, help="simulated learners per group (default 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learner", default="brain", help="item learner to run (default brain)")
    parser.add_argument("--preset", default="lab_novice", help="brain preset (only with --learner brain)")
    parser.add_argument("--skill-preset", default="calibrated", choices=sorted(SKILL_PRESETS),
                        help="skill-learner preset for the skill experiments (default calibrated: discrimination and "
                             "sleep-dependent speed-up on; default: the learner behind Practice-v0)")
    parser.add_argument("--out", required=True,
                        help="folder for replications.csv, replications.md (scorecard), replications.png")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files in --out")


def run(args) -> int:
    if args.learners < 2:
        raise ValueError(f"--learners must be at least 2, got {args.learners}")
    experiments = select(args.only)
    check_writable(Path(args.out), args.force, FILES)
    learner = get_learner(args.learner)
    params = brain_preset(args.preset) if args.learner == "brain" else learner.default_params()
    learner.validate_params(params)
    ctx = Context(learner, params, skill_preset(args.skill_preset), args.learners, args.seed)
    df = run_experiments(experiments, ctx, item_learner_name=args.learner)
    title = header(args.learner, args.preset if args.learner == "brain" else None, args.learners, args.seed,
                   skill_preset=args.skill_preset)
    out = write_results(df, args.out, title, force=args.force)
    print(f"{int(df.within.sum())}/{len(df)} rows within the paper's interval; wrote {out}/replications.csv, "
          "replications.md, replications.png")
    return 0
