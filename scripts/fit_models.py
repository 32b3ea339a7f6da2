"""Fit every model to the real review log shipped with studygym; write results/fit/.

    .venv/bin/python scripts/fit_models.py [--out results/fit] [--steps 300] [--no-pyfsrs] [--only ROWS]

Writes ``model_table.md`` / ``model_table.csv`` (one row per model: parameters, train/test reviews,
held-out log loss, RMSE(bins), AUC), ``calibration.png`` (predicted vs observed recall on held-out
reviews) and ``params_<row>.json`` per fitted row. Rows: every model registered in
``studygym.fitting.core.MODELS`` fitted by studygym's projected Adam; FSRS-6 with its default weights,
ACT-R and DHP with their published parameters (no fit); and FSRS-6 fitted by py-fsrs's own optimizer (``fsrs[optimizer]``, torch) on the same
training reviews, scored by the same code, and by fsrs-rs (``fsrs-rs-python``, the Rust optimiser
Anki uses). Takes about ten minutes on two CPU cores (most of it py-fsrs's optimizer and ACT-R).
``--only fsrs,fsrs-rs`` refits just those rows (labels as in the table; ``fsrs-rs`` and ``py-fsrs``
name the peers) and merges them into the existing ``model_table.csv`` (the calibration plot is then
left as it was).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from studygym.fitting.data import builtin_log
from studygym.fitting.core import (MODELS, FitResult, evaluate_params, fit, fit_fsrs_rs, fit_pyfsrs_optimizer, get_model,
                          plot_calibration)
from studygym.markdown import markdown_table

PYFSRS_ROW, FSRS_RS_ROW = "fsrs (py-fsrs optimizer)", "fsrs (fsrs-rs)"
#: --only aliases for the peer rows.
ALIASES = {"py-fsrs": PYFSRS_ROW, "fsrs-rs": FSRS_RS_ROW}


def params_file(out: Path, label: str) -> Path:
    return out / f"params_{label.replace(' ', '_').replace('(', '').replace(')', '')}.json"


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


def frame_markdown(table: pd.DataFrame) -> str:
    """The table in markdown, numeric columns right-aligned."""
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]
    return markdown_table(table.columns, table.itertuples(index=False), right=numeric)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/fit")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--no-pyfsrs", action="store_true", help="skip py-fsrs's optimizer (torch)")
    parser.add_argument("--only", default="", help="comma-separated row labels to refit and merge into the "
                        "existing model_table.csv (py-fsrs, fsrs-rs: the peers)")
    args = parser.parse_args(argv)
    only = {ALIASES.get(x.strip(), x.strip()) for x in args.only.split(",") if x.strip()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    log = builtin_log()
    results, rows = {}, []

    def record(label, run):
        if only and label not in only:
            return
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        results[label] = result
        rows.append(table_row(label, result, seconds))
        result.save_params(params_file(out, label))
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
                         ("dash", "Reddy et al. 2017"), ("ebisu", "ebisu.defaultModel(1 day), alpha 3")):
        record(f"{name} (default params)",
               lambda name=name, source=source: evaluate_params(name, get_model(name).default_params, log,
                                                                args.train_fraction, fitter=f"none: {source}"))
    if not args.no_pyfsrs:
        record(PYFSRS_ROW, lambda: fit_pyfsrs_optimizer(log, args.train_fraction))
    record(FSRS_RS_ROW, lambda: fit_fsrs_rs(log, args.train_fraction))

    table = pd.DataFrame(rows)
    if only:  # merge into the existing table: refitted rows replace theirs, new ones go last
        unknown = only - set(table["model"] if len(table) else [])
        if unknown:
            parser.error(f"--only: no row(s) {sorted(unknown)}")
        old = pd.read_csv(out / "model_table.csv")
        for row in rows:
            if row["model"] in set(old["model"]):
                old.loc[old["model"] == row["model"], list(row)] = list(row.values())
            else:
                old = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
        table = old
        for label in ("fsrs", PYFSRS_ROW, FSRS_RS_ROW):
            if label not in results and params_file(out, label).exists():
                results[label] = FitResult.load(params_file(out, label))
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
        frame_markdown(table),
        "",
    ]
    peers = [label for label in (PYFSRS_ROW, FSRS_RS_ROW) if label in results]
    if peers:
        ours = results["fsrs"].metrics["test"]["log_loss"]
        losses = {label: results[label].metrics["test"]["log_loss"] for label in peers}
        best = min(losses.values())
        lines += ["Held-out log loss: studygym's FSRS fit (MAP, fsrs-rs's weight SDs as prior) "
                  f"{ours:.4f} vs " + ", ".join(f"{label} {loss:.4f}" for label, loss in losses.items())
                  + f" ({(ours / best - 1) * 100:+.2f}% against the better peer; the acceptance bar is +1%).", ""]
    (out / "model_table.md").write_text("\n".join(lines))
    if not only:
        plot_calibration(results, out / "calibration.png", title="Held-out calibration on the py-fsrs log")
    print("\n".join(lines))
    print(f"wrote {out}/model_table.md, model_table.csv" + ("" if only else ", calibration.png") + ", params_*.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
