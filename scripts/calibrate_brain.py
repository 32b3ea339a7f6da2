"""Fit the brain learner's ``calibrated`` preset to the classic experiments of ``studygym replicate``.

    .venv/bin/python scripts/calibrate_brain.py [--learners 32] [--minutes 20] [--out results/science]
        [--record calibration.json] [--force] [--start JSON] [--fields a,b,...] [--loss squared_z|hinge]
        [--provenance TEXT]

Fits, jointly, the parameters below (starting from ``lab_novice``) to every item-learner experiment of
``studygym.evaluation.replicate.EXPERIMENTS`` except those in ``HELD_OUT`` (and the skill-learner ones, which
this preset does not touch). The protocols are not differentiable (learning to criterion counts
passes; effect sizes come from sampled tests), so the optimiser is derivative-free: SciPy's
Nelder-Mead on transformed parameters (logit for shares, log for positive values), with common
random numbers (fixed seeds) so the loss is deterministic. Loss (``--loss``): ``squared_z`` (the default and
every record before calibration_refit_multiscale.json), the sum over fitted rows of the squared deviation z from
the paper in units of the interval's half-width on that side, linear beyond 3 half-widths (Huber) so one far-off
row does not dominate but still pulls; or ``hinge`` (:func:`hinge_loss`), which counts the rows outside their
interval (the scorecard's measure: squared z can lower the loss while losing a row, as stage 3 did). ``--fields``
fits a subset of FIELDS, the rest held at their start values.

An existing ``--record`` is never overwritten without ``--force`` (checked before the fit starts).

Writes ``--record`` (fitted values, loss, evaluations, fitted and held-out rows at the fit's size; default
``calibration.json``, the record of the first ``calibrated`` preset, forget_sd at its bound 3.0).
``calibration_refit.json`` is the 2026-12-05 refit with the spread and within-session mechanisms,
``calibration_refit_acquisition.json`` the one after it with gradual, forgettable acquisition (neither
promoted), and ``calibration_refit_transfer.json`` the one with retrieval as online consolidation from the
FIELDS start below, promoted to ``PRESETS["calibrated"]`` in ``envs/learners/brain.py`` (by hand, rounded to
4 digits) until calibration_refit_multiscale.json replaced it. ``calibration_refit_stage3.json`` is a further
stage from that preset at 256 learners with forget_sd's cap raised to 1.5 (not promoted: 14/28 rows within
at 256 learners, seed 0, held-out 1/9, vs the preset's 15/28 and 2/9). ``calibration_refit_multiscale.json``
adds the slow multiscale trace (slow_gain, slow_tau_days: the spacing optimum at long retention intervals)
and pressure_slope (encoding after a night awake) to the fit, with the hinge loss at 256 learners and seed 0
(the scorecard's own draws), promoted to ``PRESETS["calibrated"]`` (rounded to 4 digits; replaced since by
the sleep-sparing fit below): item rows within 9/23 -> 12/23 at seed 0, and 11/23, 12/23, 12/23 vs the
previous preset's 11/23, 10/23, 11/23 at seeds 1-3, which the fit never saw.
``calibration_refit_sleep_sparing.json`` adds sleep_labile_sparing (the labile trace skips a share of the
night's decay: Jenkins & Dallenbach 1924) and refits labile_tau_days, sleep_transfer and sleep_retention from
that preset (hinge loss, 256 learners, seed 0, 15 min), promoted to ``PRESETS["calibrated"]`` (rounded to 4
digits): all rows within 18/29 -> 19/29 at seed 0, 17/29 -> 17/29 at seed 1.
``calibration_refit_exposures.json`` adds the forgetting of accumulated exposures (exposure_forgetting 1) with
Ebbinghaus's nonsense syllables and refits 8 fields; ``calibration_refit_encoded_forgetting.json`` refits from it
the four fields that shape forgetting over minutes to days (``--fields
acquisition_floor,labile_tau_days,labile_fast_share,labile_fast_tau_hours``, two stages, the second after
``replicate.NONSENSE_SYLLABLES`` was set again by its rule); each was promoted in turn (its provenance says how).
``calibration_refit_fast_share.json`` refits the same four fields with Ebbinghaus's repetitions experiment moved from
``HELD_OUT`` into the fit (its rows had informed the previous refit's choice of fields), promoted in turn.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

from studygym.envs.learners.brain import BRAIN, brain_preset
from studygym.envs.learners.skill import skill_params
from studygym.files import check_writable, write_json
from studygym.evaluation.replicate import EXPERIMENTS, HELD_OUT, Context, run_experiments

ROOT = Path(__file__).resolve().parents[1]

#: (field, transform, start): "logit" for (0, 1) shares, "log" for positive values; w10 is FSRS's
#: w[10] (how fast the stability gain of a success grows as recall at review falls: the spacing ridge).
FIELDS = (("encoding_strength", "logit", 0.35), ("acquisition_rate", "logit", 0.922),
          ("acquisition_floor", "logit", 0.5), ("initial_consolidated_fraction", "log", 0.0383),
          ("labile_fast_share", "logit", 0.625), ("labile_fast_tau_hours", "log", 0.541),
          ("labile_tau_days", "log", 0.537), ("sleep_transfer", "log", 0.169), ("sleep_retention", "logit", 0.464),
          ("forget_sd", "log", 0.6), ("encoding_sd", "log", 0.5), ("same_day_retrieval_share", "logit", 0.05),
          ("w10", "log", 0.246), ("retrieval_transfer", "log", 0.3),
          ("slow_gain", "logit", 0.01), ("slow_tau_days", "log", 365.0), ("pressure_slope", "logit", 0.03),
          ("sleep_labile_sparing", "logit", 0.5))
#: The start is the first ``calibrated`` preset (calibration.json) with its degenerate forget_sd (3.0, the
#: validator's bound: a population of learners who never forget and learners who forget everything, which
#: flattens every difference in S and swamps Hedges' g) brought to 0.6, encoding_sd 0.5, acquisition_floor 0.5,
#: same_day_retrieval_share 0.05 and retrieval as online consolidation on (retrieval_transfer 0.3). A restudy's
#: share of it stays lab_novice's restudy_gain_fraction (0.3), not fitted: every study in the fitted protocols is
#: an item's first exposure, so the fitted rows do not depend on it (it acts on held-out rows only). Earlier
#: records started elsewhere: calibration_refit.json from ``calibrated`` with forget_sd 0.3, sleep_transfer 1,
#: encoding_sd 0.6, same_day_retrieval_share 0.3;
#: calibration_refit_acquisition.json from that refit with acquisition_rate 0.2 and acquisition_floor 0.3
#: (their ``values`` keep the fields they fitted; the rest are lab_novice's).
#: Nelder-Mead's first simplex: the start plus this step along each transformed coordinate (wide, because
#: the loss is piecewise constant at small scales: passes to criterion are counts).
SIMPLEX_STEP = 0.7


class Budget(Exception):
    pass


#: Upper bounds a log-transformed value may not cross: BrainParams' valid ranges, and, for the two spreads,
#: a plausibility cap, so the fit cannot buy agreement with a degenerate population. forget_sd's cap is a fit
#: bound, not a physical one (the validator allows 3.0): 1.0 (a 2.7x forgetting-rate ratio between learners one
#: SD apart) for every record up to calibration_refit_transfer.json, which ended on it; raised to 1.5 (4.5x one SD
#: apart) from calibration_refit_stage3.json on, half the validator's 3.0 whose mixture of never- and
#: always-forgetting learners flattened every difference in S. Each record stores the caps it ran under.
CAPS = dict(forget_sd=1.5, encoding_sd=1.5, sleep_transfer=100.0, labile_tau_days=365.0,
            initial_consolidated_fraction=10.0, retrieval_transfer=100.0)


def decode(theta, fields=FIELDS) -> dict:
    out = {}
    for (name, kind, _), x in zip(fields, theta):
        value = float(1.0 / (1.0 + np.exp(-x)) if kind == "logit" else np.exp(x))
        out[name] = min(value, CAPS.get(name, np.inf))
    return out


def encode(values: dict, fields=FIELDS) -> np.ndarray:
    return np.array([np.log(values[n] / (1 - values[n])) if k == "logit" else np.log(values[n]) for n, k, _ in fields])


def params_for(values: dict):
    fields = {k: v for k, v in values.items() if k != "w10"}
    params = brain_preset("lab_novice", **fields)
    return params.replace(w=params.w.at[10].set(jnp.float32(values["w10"])))


def deviations(df) -> np.ndarray:
    """|model - paper| of each row in units of the interval's half-width on the model's side."""
    side = np.where(df.model >= df.paper, df.paper_high - df.paper, df.paper - df.paper_low)
    return np.abs(df.model - df.paper) / np.maximum(side, 1e-6)


def loss(df) -> float:
    """Squared z, linear beyond 3 half-widths (Huber)."""
    z = deviations(df)
    return float(np.where(z <= 3.0, z ** 2, 9.0 + 6.0 * (z - 3.0)).sum())


def hinge_loss(df) -> float:
    """A loss that counts rows outside their interval: 1 per row outside (z > 1) plus its distance beyond the
    edge (2 (z - 1), so a far row still pulls), and a small 0.1 min(z, 3)^2 for every row so rows inside keep a
    margin from the edge (the within-count at another seed or size is what it is judged on). Squared z alone
    can trade a row just inside for two rows brought nearer but still outside."""
    z = deviations(df)
    return float((0.1 * np.minimum(z, 3.0) ** 2 + (z > 1.0) * (1.0 + 2.0 * (z - 1.0))).sum())


LOSSES = dict(squared_z=loss, hinge=hinge_loss)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget of the fit")
    parser.add_argument("--out", default=str(ROOT / "results" / "science"))
    parser.add_argument("--start", default=None,
                        help="JSON object of start values (default: FIELDS); with --minutes 0 they are only evaluated")
    parser.add_argument("--record", default="calibration.json", help="file name of the fit record under --out")
    parser.add_argument("--loss", default="squared_z", choices=sorted(LOSSES), help="fit objective over fitted rows")
    parser.add_argument("--fields", default="",
                        help="comma-separated FIELDS to fit (default: all); the others stay at their start values")
    parser.add_argument("--force", action="store_true",
                        help="replace --record if it exists (without it an existing record is never overwritten)")
    parser.add_argument("--provenance", default="", help="a note stored in calibration.json (e.g. the fit run)")
    args = parser.parse_args(argv)
    try:  # before any work, so a fit never runs only to be refused (or to overwrite a committed record)
        check_writable(args.out, args.force, [args.record])
    except OSError as error:
        parser.error(str(error))
    known = [name for name, _, _ in FIELDS]
    chosen = [f for f in args.fields.split(",") if f] or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        parser.error(f"--fields: unknown {unknown}; known: {', '.join(known)}")
    fields = tuple(f for f in FIELDS if f[0] in chosen)
    objective_loss = LOSSES[args.loss]
    fitted = [e for e in EXPERIMENTS if e.learner == "item" and e.name not in HELD_OUT]
    held = [e for e in EXPERIMENTS if e.learner == "item" and e.name in HELD_OUT]
    skill = skill_params()
    best = dict(loss=np.inf, values=None)
    start, evals = time.time(), [0]

    def objective(theta):
        if args.minutes > 0 and time.time() - start > 60 * args.minutes:
            raise Budget
        values = {**start_values, **decode(theta, fields)}
        ctx = Context(BRAIN, params_for(values), skill, args.learners, args.seed)
        value = objective_loss(run_experiments(fitted, ctx))
        evals[0] += 1
        if value < best["loss"]:
            best.update(loss=value, values=values)
            print(f"[{time.time() - start:6.0f}s] eval {evals[0]}: loss {value:.2f} "
                  + ", ".join(f"{k}={v:.4g}" for k, v in values.items()), flush=True)
        return value

    start_values = {name: value for name, _, value in FIELDS}
    start_values.update(json.loads(args.start) if args.start else {})
    x0 = encode(start_values, fields)
    simplex = np.vstack([x0] + [x0 + SIMPLEX_STEP * np.eye(len(x0))[i] for i in range(len(x0))])
    if args.minutes <= 0:
        objective(x0)
    try:
        if args.minutes > 0:
            minimize(objective, x0, method="Nelder-Mead",
                     options=dict(maxfev=100000, xatol=1e-3, fatol=1e-3, initial_simplex=simplex))
    except Budget:
        print(f"budget of {args.minutes} min reached after {evals[0]} evaluations")
    ctx = Context(BRAIN, params_for(best["values"]), skill, args.learners, args.seed)
    before = Context(BRAIN, brain_preset("lab_novice"), skill, args.learners, args.seed)
    result = dict(
        method="scipy.optimize.minimize Nelder-Mead (derivative-free), transformed parameters, common random numbers",
        learners=args.learners, seed=args.seed, evaluations=evals[0], loss_kind=args.loss, loss=best["loss"],
        caps=CAPS, fitted_fields=[f[0] for f in fields], loss_lab_novice=objective_loss(run_experiments(fitted, before)),
        values=best["values"], fitted_experiments=[e.name for e in fitted], held_out=[e.name for e in held],
        fitted_rows=run_experiments(fitted, ctx).drop(columns="citation").to_dict("records"),
        held_out_rows=run_experiments(held, ctx).drop(columns="citation").to_dict("records"))
    result["provenance"] = args.provenance
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out) / args.record, result, indent=1)
    print(json.dumps(result["values"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
