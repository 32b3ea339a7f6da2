"""Tuned baselines: every classic scheduler's knob set on training learners, as its authors tuned it.

Reddy et al. (2017) tuned their baselines' thresholds on the reward they rank; FSRS's authors pick
the desired retention by simulating the learner (Anki's "compute minimum recommended retention");
Settles & Meeder's and Tabibian et al.'s thresholds and q are application choices. A learned
agent trained on an env's objective is only fairly compared with schedulers whose knobs were set
for that same objective, so :func:`tune` grid-searches each knob on **training learners** (the
harness's learner keys under :data:`TUNING_SEED`, a seed no evaluation uses) and saves the grid and
the chosen values; the suites and ``scripts/run_agents.py`` then evaluate, on held-out learners,
both the published-default row (``hlr``) and the tuned row (``hlr_tuned``).

Only the knob the authors expose for this purpose is tuned (one per scheduler, see
:data:`TUNABLE`); weights and model parameters keep their published values. Schedulers without such
a knob (random, round_robin, massed, pimsleur, sm2, anki_sm2) run as published.

``scripts/tune_baselines.py`` regenerates ``results/tuning/``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from studygym.agents.policy import Constant
from studygym.agents.schedulers import practice
from studygym.agents.schedulers.planner import Planner, portfolio_kind
from studygym.agents.schedulers.sspmmc import ThresholdIntervalScheduler
from studygym.evaluation.harness import evaluate, summarize
from studygym.evaluation.report import is_learned
from studygym.markdown import table_lines
from studygym.policies import all_policies, is_deck, policy_by_name
from studygym.registry import make

#: Seed of the training learners (``learner_keys(TUNING_SEED, j)``). Evaluation uses seeds 0 and 1
#: (suites, ``run_agents.py``); PPO trains on keys from ``jax.random.key(train_seed)`` split per
#: update, a different derivation: no learner is shared.
TUNING_SEED = 104_729

#: Tuned rows are named ``<policy><TUNED_SUFFIX>``.
TUNED_SUFFIX = "_tuned"


@dataclass(frozen=True)
class Knob:
    """The one setting of a scheduler that its authors leave to the application, and its grid."""

    setting: str
    grid: tuple
    why: str  # what the knob is, and whose tuning it follows
    bounds: str = ""  # the knob's natural range, shown where a chosen value sits at its grid's edge


#: scheduler -> its knob. Grids span the published defaults and reach past the values chosen on the
#: committed envs (Sleep-v0 chose the old grids' edges: FSRS 0.97, HLR 0.9, THRESHOLD 0.95, Ebisu 0.7,
#: MEMORIZE q 0.01, fixed 1 day), up to the knob's natural bounds (a recall threshold or a desired
#: retention below 1, q above 0, an interval of at least one 15-minute slot).
TUNABLE: dict[str, Knob] = {
    "fixed": Knob("interval_days", (0.125, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0),
                  "the review interval (a user's choice)", "at least one slot"),
    "leitner": Knob("base", (1.5, 2.0, 3.0, 4.0, 6.0), "box k is reviewed every base^(k-1) days (base 2 is the "
                    "popular variant in Settles & Meeder 2016, Fig. 3)", "above 1"),
    "fsrs": Knob("desired_retention", (0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.97, 0.98, 0.99),
                 "desired retention, set in Anki by simulating the learner (FSRS's CMRR)", "below 1"),
    "hlr": Knob("threshold", (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99),
                "recall threshold below which an item is due (Settles & Meeder leave it to the app)", "between 0 and 1"),
    "memorize": Knob("q", (1e-6, 1e-5, 0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0),
                     "q, the cost of reviewing in MEMORIZE's objective (Tabibian et al.)", "above 0"),
    "threshold": Knob("threshold", (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99),
                      "recall threshold, tuned on the reward by Reddy et al. 2017", "between 0 and 1"),
    # Ebisu has no threshold (its README: the app quizzes "the facts most in danger of being
    # forgotten"); low values matter: Ebisu 2.x's half-life grows slowly per recall, so reviews at
    # 0.5 crowd out new items (0.60 episode return on Review-v0 with 60 items, below random).
    "ebisu": Knob("threshold", (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9, 0.95),
                  "recall threshold at which Ebisu's lowest-recall item is reviewed (Ebisu leaves it to the app)",
                  "between 0 and 1"),
    # Deck-v0: the app's FSRS scheduler at one desired retention for the whole run.
    "fsrs_dr": Knob("desired_retention", (0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.97),
                    "Deck-v0's FSRS desired retention (Anki's setting, chosen by simulation)"),
    # Practice-v0: each difficulty rule's own knob.
    "fixed_level_2": Knob("level", tuple(range(12)), "the one difficulty level practised (a tutor's choice); "
                          "levels beyond the env's are skipped"),
    "staircase_2down1up": Knob("down", (1, 2, 3, 4), "successes in a row before a step up: the staircase's "
                               "target success rate (Levitt 1971: 2-down converges to 70.7%)"),
    "adaptive_85": Knob("target", (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95),
                        "the weighted up-down rule's target success rate (Kaernbach 1991; 0.85 after "
                        "Wilson et al. 2019)"),
    "adaptive_85_blocked": Knob("target", (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95),
                                "the same target, in blocked order"),
    # SSPMMC-DHP-v0: the paper's THRESHOLD baseline (its recall threshold r).
    "dhp_threshold": Knob("threshold", (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
                          "THRESHOLD's recall level r (the paper's simulator 0.8, peers.md 0.9)"),
}

#: Practice-v0 rules by knob: (factory ``(env, value)``), for :func:`build_policy`.
_PRACTICE_BUILDERS = {
    "fixed_level_2": lambda env, level: ("FixedDifficulty", {"level": int(level)}),
    "staircase_2down1up": lambda env, down: ("Staircase", {"down": int(down)}),
    "adaptive_85": lambda env, target: ("Adaptive", {"target": float(target)}),
    "adaptive_85_blocked": lambda env, target: ("Adaptive", {"target": float(target), "order": "blocked"}),
}


def build_policy(name: str, env, settings: dict):
    """Policy ``name`` for ``env`` with its knob set (Deck-v0's ``fsrs_dr`` is a constant retention)."""
    if is_deck(env) and name == "fsrs_dr":
        return Constant(float(settings["desired_retention"]), name=name)
    if env.family == "practice" and name in _PRACTICE_BUILDERS:
        (value,) = settings.values()
        cls, kwargs = _PRACTICE_BUILDERS[name](env, value)
        return getattr(practice, cls)(env, **kwargs)
    if env.family == "sspmmc" and name == "dhp_threshold":
        return ThresholdIntervalScheduler(env, float(settings["threshold"]))
    return policy_by_name(name, env, **settings)


def base_scheduler(policy_name: str) -> str:
    """The classic scheduler inside a policy name: ``fsrs+bed23`` -> ``fsrs``."""
    return re.split(r"[+]", policy_name, maxsplit=1)[0]


def canonical_overrides(overrides: dict) -> str:
    return json.dumps(overrides or {}, sort_keys=True, default=str)


def tuning_path(root: str | Path, env_id: str, overrides: dict) -> Path:
    """``root/<env>[_<k>-<v>...].json``: one file per env configuration."""
    parts = [env_id.lower()] + [f"{k}-{v}" for k, v in sorted((overrides or {}).items())]
    slug = re.sub(r"[^a-z0-9_.-]+", "-", "_".join(parts).lower())
    return Path(root) / f"{slug}.json"


def tunable_policies(env) -> list[str]:
    """Names of the env's non-privileged baselines whose scheduler has a knob in :data:`TUNABLE`."""
    if is_deck(env):
        return ["fsrs_dr"]
    return tunable_names(all_policies(env))


def tunable_names(policies) -> list[str]:
    """Names of the non-privileged ``policies`` whose scheduler has a knob in :data:`TUNABLE`."""
    return [p.name for p in policies if not getattr(p, "privileged", False) and base_scheduler(p.name) in TUNABLE]


def tune(env_id: str, overrides: dict | None = None, *, objective: str | None = None, n_learners: int = 256,
         seed: int = TUNING_SEED, policies: Sequence[str] | None = None, grids: dict | None = None,
         progress: bool = False, log: Callable[[str], None] | None = None) -> dict:
    """Grid-search each tunable baseline's knob on training learners; returns the tuning record.

    ``objective``: the metric to maximise (default the env's declared ``objective``).
    ``policies``: baseline names to tune (default: every tunable baseline of the env). ``grids``:
    ``{scheduler: values}`` replacing :data:`TUNABLE`'s grids (e.g. a small grid in CI). The record
    holds, per policy, every grid value's mean objective with its 95% bootstrap CI, and the chosen
    settings (the grid value of highest mean; ties go to the earlier value).
    """
    overrides = dict(overrides or {})
    env, _ = make(env_id, **overrides)
    objective = objective or env.objective
    names = list(policies) if policies is not None else tunable_policies(env)
    unknown = [n for n in names if base_scheduler(n) not in TUNABLE]
    if unknown:
        raise ValueError(f"no tunable knob for {unknown}; tunable schedulers: {', '.join(TUNABLE)}")
    record: dict[str, Any] = {"env_id": env_id, "overrides": overrides, "objective": objective,
                              "seed": seed, "n_learners": n_learners, "policies": {}}
    start = time.perf_counter()
    for name in names:
        knob = TUNABLE[base_scheduler(name)]
        grid = tuple((grids or {}).get(base_scheduler(name), knob.grid))
        if env.family == "practice" and knob.setting == "level":  # the env's levels only
            grid = tuple(v for v in grid if v < env.config.n_levels)
        candidates = []
        for value in grid:
            policy = build_policy(name, env, {knob.setting: value})
            policy.name = f"{name}[{knob.setting}={value}]"
            candidates.append(policy)
        df = evaluate(candidates, env_id, n_learners=n_learners, seed=seed, curves=False, progress=progress,
                      **overrides)
        summary = summarize(df, metrics=(objective,))
        rows = []
        for value, policy in zip(grid, candidates):
            row = summary[summary["policy"] == policy.name].iloc[0]
            rows.append({"value": value, "mean": row[objective], "lo": row[f"{objective}_lo"],
                         "hi": row[f"{objective}_hi"], "failed": bool(row["failed"])})
        best = best_row(rows, f"{name}.{knob.setting}", env_id)
        record["policies"][name] = {"setting": knob.setting, "why": knob.why, "grid": rows,
                                    "chosen": {knob.setting: best["value"]}}
        if log:
            log(f"{env_id} {name}: {knob.setting} = {best['value']} ({objective} {best['mean']:.4f} on "
                f"{n_learners} training learners)")
    record["seconds"] = round(time.perf_counter() - start, 1)
    return record


def best_row(rows: list[dict], knob: str, env_id: str) -> dict:
    """The grid row with the best mean among those that neither failed nor are NaN (the first of equal
    means: grids ascend, so ties go to the smaller value)."""
    ok = [r for r in rows if not r["failed"] and np.isfinite(r["mean"])]
    if not ok:
        raise ValueError(f"every grid value of {knob} failed on {env_id}")
    return max(ok, key=lambda r: r["mean"])


def check_same_configuration(old: dict, new: dict, verb: str) -> None:
    """Raise unless two tuning records are of the same env, objective and overrides (``verb``: what
    the caller would do with them, for the message)."""
    for field in ("env_id", "objective"):
        if old[field] != new[field]:
            raise ValueError(f"cannot {verb} tunings of different {field}: {old[field]!r} vs {new[field]!r}")
    if canonical_overrides(old["overrides"]) != canonical_overrides(new["overrides"]):
        raise ValueError(f"cannot {verb} tunings of different overrides: {old['overrides']} vs {new['overrides']}")


def merge_tuning(old: dict | None, new: dict) -> dict:
    """``old`` with the baselines tuned in ``new`` added or replaced, the others kept as they were
    (e.g. one newly tunable scheduler tuned without re-running the rest). Each merged entry records
    its own ``n_learners`` and ``seed``; both records must be of the same env configuration and
    objective."""
    if old is None:
        return new
    check_same_configuration(old, new, "merge")
    merged = {**old, "policies": dict(old["policies"])}
    for name, entry in new["policies"].items():
        merged["policies"][name] = {**entry, "n_learners": new["n_learners"], "seed": new["seed"]}
    merged["seconds"] = round(old.get("seconds", 0.0) + new.get("seconds", 0.0), 1)
    return merged


#: A re-evaluated grid value must reproduce its saved mean within this (float32 sums of a return).
REPRODUCE_ATOL = 1e-5


def extension_grid(entry: dict, grid: Sequence) -> tuple:
    """The values to evaluate to extend a saved baseline's ``entry`` to ``grid``: the value chosen
    before (re-evaluated, to check that the saved means still hold) and the values the entry lacks.
    Empty when the entry already holds the whole grid."""
    have = {r["value"] for r in entry["grid"]}
    missing = [v for v in grid if v not in have]
    return (entry["chosen"][entry["setting"]], *missing) if missing else ()


def extend_tuning(old: dict, new: dict, atol: float = REPRODUCE_ATOL) -> dict:
    """``old`` with the grid values evaluated in ``new`` added to its baselines' grids and each chosen
    value picked again over the union (ties to the smaller value, as :func:`tune`'s ascending grids).

    Each of ``new``'s baselines must be in ``old``, tuned on the same learners (``n_learners`` and
    ``seed``), and every value both evaluated must agree within ``atol``; otherwise the env or the
    harness changed since ``old`` was saved and the union would mix unlike runs (re-tune instead).
    """
    if old is None:
        raise ValueError("nothing to extend: no saved tuning of this env configuration")
    check_same_configuration(old, new, "extend")
    merged = {**old, "policies": dict(old["policies"])}
    for name, entry in new["policies"].items():
        if name not in old["policies"]:
            raise ValueError(f"cannot extend {name}: not in the saved tuning (tune it with --merge)")
        saved = old["policies"][name]
        learners, seed = saved.get("n_learners", old["n_learners"]), saved.get("seed", old["seed"])
        if (learners, seed) != (new["n_learners"], new["seed"]):
            raise ValueError(f"cannot extend {name}: saved on {learners} learners (seed {seed}), "
                             f"new values on {new['n_learners']} (seed {new['seed']})")
        rows = {r["value"]: r for r in saved["grid"]}
        for row in entry["grid"]:
            if row["value"] in rows:
                gap = abs(rows[row["value"]]["mean"] - row["mean"])
                if not gap <= atol:
                    raise ValueError(f"{name} at {entry['setting']}={row['value']}: the saved mean "
                                     f"{rows[row['value']]['mean']:.6f} does not reproduce ({row['mean']:.6f}); "
                                     "the env or the harness changed, re-tune instead of extending")
            else:
                rows[row["value"]] = row
        grid = [rows[v] for v in sorted(rows)]
        best = best_row(grid, f"{name}.{saved['setting']}", old["env_id"])
        merged["policies"][name] = {**saved, "grid": grid, "chosen": {saved["setting"]: best["value"]},
                                    "n_learners": learners, "seed": seed}
    merged["seconds"] = round(old.get("seconds", 0.0) + new.get("seconds", 0.0), 1)
    return merged


def save_tuning(record: dict, root: str | Path, force: bool = False) -> Path:
    path = tuning_path(root, record["env_id"], record["overrides"])
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n")
    return path


def load_tuning(root: str | Path, env_id: str, overrides: dict | None = None) -> dict | None:
    """The saved tuning record of this env configuration, or None. A record for another objective or
    configuration (the file's own fields) is rejected with a clear error."""
    path = tuning_path(root, env_id, overrides or {})
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if record.get("env_id") != env_id or canonical_overrides(record.get("overrides")) != canonical_overrides(overrides):
        raise ValueError(f"{path}: records env {record.get('env_id')!r} {record.get('overrides')}, "
                         f"expected {env_id!r} {overrides or {}}")
    return record


def tuned_policies(env, record: dict | None) -> list:
    """The tuned rows (``<name>_tuned``) of a tuning record, built for ``env``."""
    if not record:
        return []
    out = []
    for name, entry in record["policies"].items():
        policy = build_policy(name, env, entry["chosen"])
        policy.name = name + TUNED_SUFFIX
        out.append(policy)
    return out


def planner_on_training_learners(env, env_id: str, overrides: dict, policies: Sequence, n_learners: int,
                                 seed: int = TUNING_SEED) -> tuple[Any, str, float]:
    """The planner for a population its defaults were not chosen on (a user's fitted learners):
    ``(planner, base name, base score)``, its base the best of ``policies`` (app-side ones: not
    privileged, not learned) on ``n_learners`` training learners (``seed``, disjoint from evaluation)
    by the env's objective, the way :func:`~studygym.agents.schedulers.planner.default_settings` chose
    each env's base. Measured on 16 learners around the fit of the shipped log (Review-v0, 60 items):
    with its default base (tuned HLR) the planner scored 0.298, below ``pimsleur``'s 0.385; with
    ``pimsleur`` as its base, 0.428."""
    if portfolio_kind(env):
        raise ValueError(f"on {env.name} the planner chooses among whole policies (PortfolioPlanner); "
                         "its base is not chosen here")
    apps = [p for p in policies if not getattr(p, "privileged", False) and not is_learned(p.name)]
    if not apps:
        raise ValueError("the planner's base is chosen among app-side policies; none was given")
    df = evaluate(apps, env_id, n_learners=n_learners, seed=seed, curves=False, **overrides)
    means = df[~df["failed"]].groupby("policy")[env.objective].mean()
    best = str(means.idxmax())
    return Planner(env, base=next(p for p in apps if p.name == best)), best, float(means[best])


def edge_note(name: str, entry: dict) -> str:
    """`` (flat)`` where every grid value scored the same (the knob does nothing here); `` (grid edge;
    <bounds>)`` where the chosen value is the grid's smallest or largest (a value beyond it might do
    better, up to the knob's natural bounds); else empty."""
    means = [r["mean"] for r in entry["grid"] if not r["failed"]]
    if len(means) > 1 and max(means) - min(means) <= REPRODUCE_ATOL:
        return " (flat)"
    values = [r["value"] for r in entry["grid"]]
    chosen = entry["chosen"][entry["setting"]]
    if len(values) > 1 and chosen in (min(values), max(values)):
        knob = TUNABLE.get(base_scheduler(name))
        return " (grid edge" + (f"; {knob.bounds}" if knob is not None and knob.bounds else "") + ")"
    return ""


def tuning_markdown(record: dict) -> str:
    """One table: per tuned baseline, the knob, the grid's objective means, the chosen value."""
    objective = record["objective"]
    lines = [f"### Tuning: {record['env_id']} {record['overrides'] or ''}",
             "",
             f"{objective} on {record['n_learners']} training learners (seed {record['seed']}, disjoint from "
             "evaluation); the chosen value is the grid's best mean; *grid edge*: the chosen value is the "
             "grid's smallest or largest (with the knob's natural bounds); *flat*: every value scored the same.",
             ""]
    rows = []
    for name, entry in record["policies"].items():
        chosen = entry["chosen"][entry["setting"]]
        cells = ", ".join(("**" if r["value"] == chosen else "") + f"{r['value']:g}: {r['mean']:.4f}"
                          + ("**" if r["value"] == chosen else "") for r in entry["grid"])
        learners = entry.get("n_learners", record["n_learners"])
        label = name if learners == record["n_learners"] else f"{name} ({learners} learners)"
        rows.append([label, entry["setting"], cells, f"{chosen:g}" + edge_note(name, entry)])
    lines += table_lines(["baseline", "knob", f"grid: mean {objective}", "chosen"], rows)
    return "\n".join(lines) + "\n"


__all__ = ["TUNABLE", "TUNING_SEED", "TUNED_SUFFIX", "Knob", "tune", "save_tuning", "load_tuning",
           "tuned_policies", "tuning_markdown", "merge_tuning", "extend_tuning", "extension_grid", "tuning_path", "tunable_policies", "tunable_names", "base_scheduler",
           "planner_on_training_learners"]
