"""``studygym evaluate``: score policies on one env, write episodes.csv, leaderboard.md and figures.

``--learner-from LOG`` answers "which schedule is best for this person": LOG (a review log that
``studygym fit`` reads, or ``builtin``) is fitted with FSRS-6, the population around the fit is
estimated from the log (:mod:`studygym.fitting.population`: per-card difficulty spread, the fit's
uncertainty, the spread between people where the log has a ``user_id`` column), the tunable
schedulers are tuned on training learners of that population (``--tune-learners``, another seed than
the evaluation's), and every scheduler is ranked on held-out learners of it. The planner (``planner``
in ``--policies``), the privileged upper reference, takes as its base the best app-side policy on
those training learners (its defaults were chosen for the registered populations). LOG may also be a fit
result (a ``params.json``, or a ``studygym fit`` folder) that carries its population.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

from studygym.fitting.data import load_log
from studygym.envs.core import check_nonnegative_int, check_positive_int, check_seed
from studygym.errors import did_you_mean
from studygym.files import write_json
from studygym.fitting.core import FitResult, fit
from studygym.agents.schedulers.planner import portfolio_kind
from studygym.evaluation.harness import evaluate, resolve_policies
from studygym.fitting.population import with_population
from studygym.registry import make
from studygym.evaluation.report import PLANNER, check_writable, write_results
from studygym.evaluation.tuning import planner_on_training_learners, tunable_names, tune, tuned_policies


def parse_override(text: str) -> tuple[str, object]:
    """``key=value`` with the value read as a Python literal when it is one (``n_items=50``)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"override must look like key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="Review-v0", help="registered env id (default Review-v0)")
    parser.add_argument("--policies", default="all", help="comma-separated policy names, or 'all'")
    parser.add_argument("--learners", type=int, default=100, help="simulated learners per policy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference", default=None, help="policy for paired differences")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--force", action="store_true", help="overwrite existing result files in --out")
    parser.add_argument("--set", dest="overrides", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="env override, e.g. --set n_items=50 (repeatable)")
    parser.add_argument("--learner-from", dest="learner_from", default=None, metavar="LOG",
                        help="simulate learners around this person's fitted FSRS-6 memory: a review log "
                             "(.csv, .colpkg, .apkg, 'builtin') or a fit result (params.json or a fit folder)")
    parser.add_argument("--fit-steps", type=int, default=300, help="with --learner-from LOG: gradient steps of "
                                                                   "the fit (default 300)")
    parser.add_argument("--tune-learners", type=int, default=64,
                        help="with --learner-from: training learners to tune each scheduler's knob and "
                             "choose the planner's base on (0: neither; default 64)")


def check_reference(reference: str | None, names) -> None:
    """Raise ``ValueError`` (before any learner runs) unless ``reference`` is None or one of ``names``."""
    names = list(names)
    if reference is not None and reference not in names:
        hint = did_you_mean(reference, names, cutoff=0.5, before=" (")
        hint = f"{hint})" if hint else ""
        raise ValueError(f"--reference {reference!r} is not among the evaluated policies{hint}: {', '.join(names)}")


def personal_fit(source: str, fit_steps: int = 300) -> FitResult:
    """The FSRS-6 fit of ``source`` (a log, or a fit result with its population), with the population
    spreads estimated from the log. Errors name the path and what is wrong."""
    path = Path(source)
    if path.is_dir() or path.suffix.lower() == ".json":
        if path.is_dir() and not (path / "params.json").exists():
            raise ValueError(f"--learner-from {source}: a folder must hold a fit's params.json (studygym fit "
                             "--out DIR)")
        result = FitResult.load(path)
        if result.model != "fsrs":
            raise ValueError(f"--learner-from {source}: the fit is of model {result.model!r}; the personal "
                             "population needs an FSRS-6 fit (studygym fit LOG --model fsrs)")
        if not result.population:
            if not result.source or not (result.source == "builtin" or Path(result.source).exists()):
                raise ValueError(f"--learner-from {source}: the fit result has no population spreads and its "
                                 f"log ({result.source or 'not recorded'}) cannot be read; pass the log itself")
            result = with_population(result, load_log(result.source))
        return result
    if source != "builtin" and not path.exists():
        raise ValueError(f"--learner-from {source}: no such file")
    log = load_log(source)  # ValueError naming the file and what is wrong
    return with_population(fit(log, "fsrs", steps=fit_steps), log)


def population_line(result: FitResult) -> str:
    p = result.population
    between = ("no spread between people (one person's log)" if p.get("forget_sd_between") is None
               else f"between people {p['forget_sd_between']:g}")
    return (f"Fitted FSRS-6 to {result.source or 'the log'} ({result.split['cards']} cards; held-out log loss "
            f"{result.metrics['test']['log_loss']:.4f}). Population from the log: difficulty_sd "
            f"{p['difficulty_sd']:g} (95% likelihood interval {p['difficulty_sd_interval'][0]:g}-"
            f"{p['difficulty_sd_interval'][1]:g}), forget_sd {p['forget_sd']:g} (the fit's uncertainty "
            f"{p['forget_sd_fit']:g}; {between}).")


def run_personal(args: argparse.Namespace, overrides: dict) -> int:
    """``--learner-from``: fit, population, tuning on training learners, ranking on held-out ones."""
    check_positive_int("--fit-steps", args.fit_steps)
    check_nonnegative_int("--tune-learners", args.tune_learners)
    if "learner" in overrides:
        raise ValueError("--learner-from sets the learner; drop --set learner=...")
    env_probe, _ = make(args.env, **overrides)
    if env_probe.learner.name != "fsrs":
        raise ValueError(f"--learner-from simulates FSRS-6 learners; {args.env} uses learner "
                         f"{env_probe.learner.name!r}")
    policies = resolve_policies(args.policies, env_probe)  # unknown names fail before the fit
    result = personal_fit(args.learner_from, args.fit_steps)
    overrides = {**result.overrides(), **overrides}
    env, _ = make(args.env, **overrides)
    policies = resolve_policies(args.policies, env)
    tunable = tunable_names(policies)
    if args.tune_learners and tunable:
        record = tune(args.env, overrides, n_learners=args.tune_learners, policies=tunable)
        policies = policies + tuned_policies(env, record)
    base_line = ""
    if args.tune_learners and PLANNER in [p.name for p in policies] and not portfolio_kind(env):
        planner, base, score = planner_on_training_learners(env, args.env, overrides, policies, args.tune_learners)
        policies = [planner if p.name == PLANNER else p for p in policies]
        base_line = (f"The planner's base: {base}, the best app-side policy on the {args.tune_learners} "
                     f"training learners ({env.objective} {score:.4f}).")
    check_reference(args.reference, [p.name for p in policies])
    df = evaluate(policies, args.env, n_learners=args.learners, seed=args.seed, progress=True, **overrides)
    title = f"{args.env}: {args.learners} learners around the fit of {result.source or args.learner_from}"
    _, board = write_results(df, args.out, force=args.force, reference=args.reference, title=title)
    result.save_params(Path(args.out) / "params.json")
    write_json(Path(args.out) / "population.json", result.population, indent=2)
    print(population_line(result))
    if base_line:
        print(base_line)
    print(board)
    print(f"wrote {args.out}/episodes.csv, leaderboard.md, summary.csv, params.json, population.json and figures")
    return 1 if df["failed"].any() else 0


def run(args: argparse.Namespace) -> int:
    """Everything a user gave is checked before the first learner runs (--out, --learners, --seed,
    --set, the policies, --reference); errors reach ``studygym.cli.main``, which prints one line."""
    check_positive_int("--learners", args.learners)
    check_seed("--seed", args.seed)
    check_writable(Path(args.out), args.force)
    overrides = dict(args.overrides)
    if getattr(args, "learner_from", None) is not None:
        return run_personal(args, overrides)
    env, _ = make(args.env, **overrides)
    policies = resolve_policies(args.policies, env)
    check_reference(args.reference, [p.name for p in policies])
    df = evaluate(policies, args.env, n_learners=args.learners, seed=args.seed, progress=True, **overrides)
    _, board = write_results(df, args.out, force=args.force, reference=args.reference)
    print(board)
    print(f"wrote {args.out}/episodes.csv, leaderboard.md, summary.csv and figures")
    return 1 if df["failed"].any() else 0
