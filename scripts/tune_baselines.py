"""Tune every classic baseline's knob on training learners: results/tuning/ (read by the suites).

    .venv/bin/python scripts/tune_baselines.py                      # every setting below
    .venv/bin/python scripts/tune_baselines.py --only review-fsrs --learners 128 --force
    .venv/bin/python scripts/tune_baselines.py --only review-fsrs --policies ebisu --merge  # one more baseline
    .venv/bin/python scripts/tune_baselines.py --only sleep --policies ebisu --extend  # grid grew past the edge

For each env configuration that a suite or ``scripts/run_agents.py`` ranks, each baseline with a
knob (studygym.evaluation.tuning.TUNABLE: FSRS desired retention, HLR / THRESHOLD thresholds, MEMORIZE q,
the fixed interval, Leitner's base) is evaluated over its grid on training learners (seed
``studygym.evaluation.tuning.TUNING_SEED``, never used for evaluation), for the objective the leaderboards
rank (the episode return), and the best grid value is saved with the whole grid as
``results/tuning/<env>_<overrides>.json``; ``results/tuning/tuning.md`` collects the tables.
``--extend`` evaluates only the grid values a saved baseline lacks (after a grid grew past a chosen
edge value), with the value chosen before re-evaluated to check that the saved means reproduce
(studygym.evaluation.tuning.extend_tuning), and picks the best over the union: the same record a full
re-tuning on the same learners gives, at a fraction of the cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: setting -> (env id, overrides): every configuration a committed leaderboard ranks.
SETTINGS = {
    "review-fsrs": ("Review-v0", {"n_items": 60}),
    "review-brain": ("Review-v0", {"n_items": 60, "learner": "brain"}),
    "sleep": ("Sleep-v0", {}),
    "tagging": ("Tagging-v0", {}),
    "deck": ("Deck-v0", {"deck_size": 1000}),
    "practice": ("Practice-v0", {}),
    "curriculum": ("Curriculum-v0", {}),
    "sspmmc": ("SSPMMC-DHP-v0", {}),
    "deeptutor-efc": ("DeepTutor-EFC-v0", {}),
    "deeptutor-hlr": ("DeepTutor-HLR-v0", {}),
    "deeptutor-gpl": ("DeepTutor-GPL-v0", {}),
}

#: Training learners per grid value where the default (256) would not fit the machine: one
#: SSPMMC-DHP-v0 episode (10,000 words, 365 days) takes seconds per learner on 2 cores, so it is
#: tuned on as many learners as scripts/run_papers_sspmmc.py evaluates (8).
LEARNERS = {"sspmmc": 8, "curriculum": 64, "deeptutor-efc": 100, "deeptutor-hlr": 100, "deeptutor-gpl": 100}
# Curriculum-v0 and DeepTutor-*: as many training learners as their scripts evaluate (64 and 100),
# so a tuned row's compiled episode has the tuning's shape (JAX's persistent cache can reuse it).

#: Smaller grids (and, on DeepTutor, only the tutors its table shows) where TUNABLE's full grids would
#: not fit this shared 2-core machine: every grid value is one compile of the whole episode (about a
#: minute under load). Each holds the published default and a neighbour or two, among them the values
#: that won on Review-v0 (60 items, FSRS and brain learners).
# Values past the first grid's edges (leitner 4, 6; fsrs 0.75, 0.8; hlr 0.03, 0.05; memorize 30, 100;
# threshold 0.5, 0.6; ebisu 0.03, 0.05) were added with --extend where the first grid's best sat at its edge,
# then leitner 8, 12 (base 6 won the first extension), then 16, 24 (base 12 won; at 24 >= the 20-day
# episode a box-2 item is never due again, so larger bases change nothing).
_CURRICULUM = {"grids": {"fixed": [6.0, 8.0, 12.0], "leitner": [2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0],
                         "fsrs": [0.75, 0.8, 0.85, 0.9],
                         "hlr": [0.03, 0.05, 0.1, 0.3, 0.5], "memorize": [1.0, 10.0, 30.0, 100.0],
                         "threshold": [0.5, 0.6, 0.7, 0.8, 0.9], "ebisu": [0.03, 0.05, 0.1, 0.2, 0.5]}}
_DEEPTUTOR = {"policies": ["leitner", "fsrs", "hlr", "memorize", "threshold", "ebisu"],
              # Reddy et al. tune Threshold's threshold; {0.3, ..., 0.9} is the script's old grid.
              # Values past the first grid's edges (leitner 1.5, 4, 6; fsrs 0.6, 0.7; hlr 0.03, 0.05, 0.2;
              # memorize 30, 100; threshold 0.1, 0.2; ebisu 0.05, 0.1) were added with --extend where the
              # first grid's best sat at its edge on one of the three set-ups. The widened grid's best sat at
              # its new edge again (leitner 6 on EFC/HLR; fsrs 0.6 on GPL; hlr 0.03, memorize 100, ebisu 0.05
              # on all three; threshold 0.1 tied with 0.2 and 0.3 on EFC/GPL), so a second --extend added
              # leitner 8, 12; fsrs 0.5; hlr 0.01, 0.02; memorize 300, 1000; threshold 0.05; ebisu 0.02, 0.03.
              # Its best sat at the edge once more for hlr (0.01), memorize (1000) and ebisu (0.02) on all three
              # and fsrs (0.5) on GPL, so a third --extend added fsrs 0.3, 0.4; hlr 0.003, 0.005; memorize 3000,
              # 10000; ebisu 0.005, 0.01. Threshold's smallest value is not widened: on EFC and GPL 0.05 to 0.3
              # score exactly the same (a plateau; ties go to the smaller value), below HLR's chosen 0.5.
              # A fourth --extend added hlr 0.001, memorize 30000, 100000 and ebisu 0.002 (hlr 0.003,
              # memorize 10000 and GPL's ebisu 0.005 were at the edge again). A fifth added hlr 0.0001, 0.0003
              # and ebisu 0.0005, 0.001, as both thresholds approached their natural bound 0. HLR's kept rising
              # on EFC and HLR (0.0001 chosen), Ebisu's on GPL (0.0005), so a sixth added hlr 1e-6, 1e-9 and
              # ebisu 0.0001, 0.0002, and a seventh (GPL's Ebisu at 0.0001 again) ebisu 1e-6, 1e-5.
              # Ebisu's best is now inside the grid on all three. HLR's score keeps growing about linearly in
              # log(threshold) all the way down (1e-9 chosen on all three): on EFC (32 training learners) HLR
              # reviews at every one of the 200 steps at every threshold from 0.5 to 1e-9, so a smaller
              # threshold only narrows the due set to its lowest predictions. Its tuned value sits at the
              # knob's bound 0, not at a grid edge one could widen; hlr_tuned stays below the best tuned classic.
              "grids": {"leitner": [1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0], "fsrs": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                        "hlr": [1e-9, 1e-6, 0.0001, 0.0003, 0.001, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5],
                        "memorize": [1.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0],
                        "threshold": [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9],
                        "ebisu": [1e-6, 1e-5, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5]}}
REDUCED = {"curriculum": _CURRICULUM,
           "deeptutor-efc": _DEEPTUTOR, "deeptutor-hlr": _DEEPTUTOR, "deeptutor-gpl": _DEEPTUTOR}


def extend(out: Path, env_id: str, overrides: dict, learners: int, grids: dict, policies: list[str] | None) -> dict:
    """The saved tuning of ``env_id`` with each baseline's missing grid values evaluated and added
    (saved after each baseline, so an interrupted run keeps what it finished)."""
    from studygym.evaluation.tuning import (TUNABLE, base_scheduler, extend_tuning, extension_grid, load_tuning,
                                            save_tuning, tune)

    record = load_tuning(out, env_id, overrides)
    names = list(record["policies"]) if policies is None else policies
    for name in names:
        if name not in record["policies"]:
            raise SystemExit(f"--extend: {name} is not in the saved tuning of {env_id} (tune it with --merge)")
        scheduler = base_scheduler(name)
        values = extension_grid(record["policies"][name], grids.get(scheduler, TUNABLE[scheduler].grid))
        if not values:
            print(f"{env_id} {name}: the saved grid already holds every value", flush=True)
            continue
        new = tune(env_id, overrides, n_learners=learners, policies=[name], grids={scheduler: values},
                   log=lambda line: print(line, flush=True))
        record = extend_tuning(record, new)
        save_tuning(record, out, force=True)
        entry = record["policies"][name]
        print(f"{env_id} {name}: evaluated {list(values)}; chosen now {entry['chosen']}", flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    from studygym.evaluation.tuning import load_tuning, merge_tuning, save_tuning, tune, tuning_markdown, tuning_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help=f"comma-separated settings (default all: {', '.join(SETTINGS)})")
    parser.add_argument("--learners", type=int, default=None,
                        help=f"training learners per grid value (default 256; {LEARNERS})")
    parser.add_argument("--out", default=str(ROOT / "results" / "tuning"))
    parser.add_argument("--grids", default="{}", help='JSON {scheduler: [values]} replacing the default grids')
    parser.add_argument("--policies", default=None, help="comma-separated baselines to tune (default: all tunable)")
    parser.add_argument("--env", default=None, help="tune this env id instead of the settings (with --overrides)")
    parser.add_argument("--overrides", default="{}", help="JSON env overrides for --env")
    parser.add_argument("--force", action="store_true", help="overwrite existing tuning files")
    parser.add_argument("--merge", action="store_true",
                        help="add the baselines tuned now (--policies) to the existing file, keeping the others")
    parser.add_argument("--extend", action="store_true",
                        help="evaluate only the grid values the saved baselines (--policies, default all saved) "
                             "lack, re-checking the value chosen before, and add them to the saved file")
    args = parser.parse_args(argv)
    if args.extend and args.merge:
        parser.error("--extend and --merge are exclusive (--merge re-tunes whole grids)")
    settings = dict(SETTINGS)
    if args.env is not None:
        settings = {"custom": (args.env, json.loads(args.overrides))}
        names = ["custom"]
    else:
        names = list(SETTINGS) if args.only is None else args.only.split(",")
    unknown = [n for n in names if n not in settings]
    if unknown:
        parser.error(f"unknown setting(s) {unknown}; known: {', '.join(SETTINGS)}")
    policies = None if args.policies is None else args.policies.split(",")
    out = Path(args.out)
    for name in names:
        env_id, overrides = settings[name]
        saved = load_tuning(out, env_id, overrides) is not None
        if args.extend and not saved:
            parser.error(f"--extend: no saved tuning of {name} in {out}")
        if saved and not (args.force or args.merge or args.extend):
            parser.error(f"tuning of {name} exists in {out}; pass --force to overwrite or --merge to add to it")
    for name in names:
        env_id, overrides = settings[name]
        learners = args.learners if args.learners is not None else LEARNERS.get(name, 256)
        reduced = REDUCED.get(name, {})
        grids = {**reduced.get("grids", {}), **json.loads(args.grids)}
        if args.extend:  # extend() saves after each baseline it extends
            extend(out, env_id, overrides, learners, grids, policies)
            print(f"{name}: extended {tuning_path(out, env_id, overrides)}", flush=True)
            continue
        record = tune(env_id, overrides, n_learners=learners, grids=grids,
                      policies=policies if policies is not None else reduced.get("policies"),
                      log=lambda line: print(line, flush=True))
        if args.merge:
            record = merge_tuning(load_tuning(out, env_id, overrides), record)
        path = save_tuning(record, out, force=args.force or args.merge)
        print(f"{name}: wrote {path} ({record['seconds']} s)", flush=True)
    tables = []
    for name, (env_id, overrides) in settings.items():
        record = load_tuning(out, env_id, overrides)
        if record is not None:
            tables.append(tuning_markdown(record))
    (out / "tuning.md").write_text("# Tuned baselines\n\nRegenerated by `scripts/tune_baselines.py`.\n\n"
                                   + "\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
