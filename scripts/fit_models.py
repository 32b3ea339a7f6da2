"""Fit every model to the real review log shipped with studygym; write results/fit/.

    .venv/bin/python scripts/fit_models.py [--out results/fit] [--steps 300] [--no-pyfsrs]

Writes ``model_table.md`` / ``model_table.csv`` (one row per model: parameters, train/test reviews,
held-out log loss, RMSE(bins), AUC), ``calibration.png`` (predicted vs observed recall on held-out
reviews) and ``params_<row>.json`` per fitted row. Rows: every model registered in
``studygym.fit.MODELS`` fitted by studygym's projected Adam; FSRS-6 with its default weights,
ACT-R and DHP with their published parameters (no fit); and FSRS-6 fitted by py-fsrs's own optimizer (``fsrs[optimizer]``, torch) on the same
training reviews, scored by the same code. Takes about two minutes on two CPU cores (most of it
py-fsrs's optimizer).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from studygym.data import builtin_log
from studygym.fit import MODELS, evaluate_params, fit, fit_pyfsrs_optimizer, get_model, plot_calibration


def table_row(label: str, result, seconds: float) -> dict:
    test, train = result.metrics["test"], result.metrics["train"]
    return {
        "model": label,
        "fitter": result.fitter,
        "params": len(result.params),
        "train reviews (scored)": f"{result.split['train_reviews']} ({train['reviews']})",
        "test reviews (scored)": f"{result.split['test_reviews']} ({test['reviews']})",
        "train log loss": round(train["log_loss"], 4),
        "test log loss": round(test["log_loss"], 4),
        "test RMSE(bins)": round(test["rmse_bins"], 4),
        "test AUC": round(test["auc"], 4),
        "fit seconds": round(seconds, 1),
    }


def markdown_table(table: pd.DataFrame) -> str:
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/fit")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--no-pyfsrs", action="store_true", help="skip py-fsrs's optimizer (torch)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    log = builtin_log()
    results, rows = {}, []

    def record(label, run):
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        results[label] = result
        rows.append(table_row(label, result, seconds))
        result.save_params(out / f"params_{label.replace(' ', '_').replace('(', '').replace(')', '')}.json")
        print(f"{label:28s} test log loss {result.metrics['test']['log_loss']:.4f}  ({seconds:.1f} s)", flush=True)

    for name in MODELS:
        record(name, lambda name=name: fit(log, name, train_fraction=args.train_fraction, steps=args.steps))
    record("fsrs (default weights)",
           lambda: evaluate_params("fsrs", get_model("fsrs").default_params, log, args.train_fraction,
                                   fitter="none: py-fsrs DEFAULT_PARAMETERS"))
    # Published parameters, unfitted: ACT-R's from Pavlik & Anderson (2005), DHP's from Ye et al.'s
    # MaiMemo fit (maimemo/SSP-MMC) with a guessed initial difficulty per first rating.
    for name, source in (("actr", "Pavlik & Anderson 2005"), ("dhp", "maimemo/SSP-MMC model/utils.py")):
        record(f"{name} (published params)",
               lambda name=name, source=source: evaluate_params(name, get_model(name).default_params, log,
                                                                args.train_fraction, fitter=f"none: {source}"))
    # The unfitted starting points of HLR, EFC and GPL/DASH: Reddy et al. 2017's student distributions'
    # centres (EFC, DASH) and hand-set Settles-style weights (HLR; studygym.envs.learners.hlr).
    for name, source in (("hlr", "hand-set Settles-style weights"), ("efc", "Reddy et al. 2017"),
                         ("dash", "Reddy et al. 2017")):
        record(f"{name} (default params)",
               lambda name=name, source=source: evaluate_params(name, get_model(name).default_params, log,
                                                                args.train_fraction, fitter=f"none: {source}"))
    if not args.no_pyfsrs:
        record("fsrs (py-fsrs optimizer)", lambda: fit_pyfsrs_optimizer(log, args.train_fraction))

    table = pd.DataFrame(rows)
    table.to_csv(out / "model_table.csv", index=False)
    split = results["fsrs"].split
    lines = [
        "# Memory models fitted to a real review log",
        "",
        f"Log: the py-fsrs test log shipped with studygym ({len(log)} reviews of {split['cards']} cards, "
        f"one learner, MIT). Time-series split: the first {args.train_fraction:.0%} of reviews by time train "
        f"(until {split['cutoff'][:10]}), the rest are held out. Scored: non-first reviews at least one "
        "whole day after the card's previous one (as py-fsrs's optimizer scores them). RMSE(bins) as "
        "srs-benchmark (bins by interval, review number and lapses). Generated by "
        "`scripts/fit_models.py`.",
        "",
        markdown_table(table),
        "",
    ]
    if "fsrs (py-fsrs optimizer)" in results:
        ours = results["fsrs"].metrics["test"]["log_loss"]
        theirs = results["fsrs (py-fsrs optimizer)"].metrics["test"]["log_loss"]
        lines += [f"Held-out log loss: studygym's FSRS fit {ours:.4f} vs py-fsrs's optimizer {theirs:.4f} "
                  f"({(ours / theirs - 1) * 100:+.2f}%; the acceptance bar is +1%).", ""]
    (out / "model_table.md").write_text("\n".join(lines))
    plot_calibration(results, out / "calibration.png", title="Held-out calibration on the py-fsrs log")
    print("\n".join(lines))
    print(f"wrote {out}/model_table.md, model_table.csv, calibration.png, params_*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
