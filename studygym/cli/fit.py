"""``studygym fit LOG --model fsrs --out DIR``: fit a memory model to a review log.

LOG is a py-fsrs CSV (card_id,review_rating,review_time,review_duration), an Anki ``.colpkg`` or
``.apkg`` export, or ``builtin`` (the real log shipped with studygym). Writes params.json,
metrics.json, metrics.md and calibration.png into DIR; a fitted FSRS result also carries the population
spreads estimated from the log (:mod:`studygym.fitting.population`) and then drives Review-v0:
``studygym.make("Review-v0", learner=FitResult.load("DIR/params.json"))``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from studygym.fitting.data import load_log
from studygym.files import check_writable
from studygym.fitting.core import FIT_FILES, MODELS, fit, get_model, metrics_markdown, write_fit
from studygym.fitting.population import with_population


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="LOG", help="review log: a .csv (py-fsrs format), an Anki .colpkg/.apkg, "
                                                    "or 'builtin'")
    parser.add_argument("--model", default="fsrs", help=f"model to fit: {', '.join(sorted(MODELS))} (default fsrs)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files in --out")
    parser.add_argument("--train-fraction", type=float, default=0.8,
                        help="fraction of reviews (earliest first) to fit on; the rest are held out (default 0.8)")
    parser.add_argument("--steps", type=int, default=300, help="gradient steps (default 300)")
    parser.add_argument("--learning-rate", type=float, default=0.04, help="Adam learning rate (default 0.04)")


def run(args: argparse.Namespace) -> int:
    """The model, --out and the log are checked before the fit; errors reach ``studygym.cli.main``,
    which prints one line."""
    out = Path(args.out)
    get_model(args.model)
    check_writable(out, args.force, FIT_FILES)  # refuse before spending time on the fit
    log = load_log(args.log)
    result = fit(log, args.model, train_fraction=args.train_fraction, steps=args.steps,
                 learning_rate=args.learning_rate)
    if get_model(args.model).learner == "fsrs":
        result = with_population(result, log)
    write_fit(result, out, force=args.force)
    print(metrics_markdown(result))
    print(f"wrote {', '.join(str(out / n) for n in FIT_FILES)}")
    return 0
