"""Named benchmark suites: ``studygym bench --suite classic`` writes ``results/<suite>/``.

A suite is a list of (env id, policies, learners, overrides). Each env gets its own folder with
``episodes.csv``, ``summary.csv``, ``leaderboard.md`` and figures; the suite's ``leaderboard.md``
collects the env leaderboards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from studygym.envs.core import check_positive_int, check_seed
from studygym.files import check_writable as check_files
from studygym.evaluation.harness import evaluate, resolve_policies
from studygym.policies import DECK_RETENTIONS, all_policies, deck_policies, policy_by_name  # noqa: F401
from studygym.registry import make, registered_ids
from studygym.evaluation.report import check_writable, write_results
from studygym.evaluation.tuning import load_tuning, save_tuning, tune, tuned_policies

# The policy lookups moved to studygym.policies; imported here so ``studygym.evaluation.suites.all_policies`` etc.
# keep working.


@dataclass(frozen=True)
class SuiteEntry:
    env_id: str
    policies: str = "all"
    learners: int = 1000
    overrides: dict = field(default_factory=dict)
    reference: str | None = None


#: Review-v0 as the classic suite runs it: 60 items for the default 300 slots (10 a day, 30 days), so
#: the study budget binds and every scheduler spends about the same time. With the default 30 items
#: the slots outnumber what interval schedulers ask for: they rest while Random and Round-robin
#: review in every slot, and win on retention by studying twice as long (see the README).
REVIEW_SUITE_OVERRIDES = {"n_items": 60}

#: Deck-v0 as the classic suite runs it: a 1,000-card deck over a year (the 10,000-card default for
#: 1,000 learners x 9 policies would take ~6 minutes here; the suite's budget is 5).
DECK_SUITE_OVERRIDES = {"deck_size": 1000}

SUITES: dict[str, list[SuiteEntry]] = {
    "classic": [
        SuiteEntry("Review-v0", reference="fsrs", overrides=REVIEW_SUITE_OVERRIDES),
        SuiteEntry("Deck-v0", reference="fsrs_dr_0.90", overrides=DECK_SUITE_OVERRIDES),
    ],
}


#: The committed tuning of the suites' baselines (``scripts/tune_baselines.py`` regenerates it).
TUNING_DIR = Path(__file__).resolve().parents[2] / "results" / "tuning"


def suite_tuning(env_id: str, overrides: dict, tuning_dir: str | Path | None = None, *, force: bool = False,
                 progress: bool = False) -> dict:
    """The tuning record of one env configuration: read from ``tuning_dir`` (default the committed
    ``results/tuning``); when there is none, tuned now on training learners and saved there."""
    root = Path(tuning_dir) if tuning_dir is not None else TUNING_DIR
    record = load_tuning(root, env_id, overrides)
    if record is None:
        print(f"{env_id}: no tuning in {root}; tuning the baselines on training learners", flush=True)
        record = tune(env_id, overrides, progress=progress, log=print)
        save_tuning(record, root, force=force)
    return record


def board_policies(env_id: str, overrides: dict | None = None, *, env=None,
                   tuning_dir: str | Path | None = None) -> list:
    """Every policy of an env's leaderboard: :func:`all_policies` (the baselines at their published
    settings, the privileged references oracle_greedy and the planner) and the tuned rows
    ``<name>_tuned`` of :func:`suite_tuning` (read from ``tuning_dir``, default ``results/tuning``).
    ``env``: the env already made with ``overrides`` (made here when omitted)."""
    overrides = dict(overrides or {})
    if env is None:
        env, _ = make(env_id, **overrides)
    return all_policies(env) + tuned_policies(env, suite_tuning(env_id, overrides, tuning_dir))


def check_suite_writable(name: str, out_root: str | Path = "results", force: bool = False) -> None:
    """Raise before any work if :func:`run_suite` would overwrite a result (an env's files or the
    suite's ``leaderboard.md``) without ``force``, or could not write ``out_root``."""
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    out = Path(out_root) / name
    for entry in SUITES[name]:
        if entry.env_id in registered_ids():
            check_writable(out / entry.env_id.lower(), force)
    check_files(out, force, ("leaderboard.md",))


def run_suite(name: str, out_root: str | Path = "results", *, learners: int | None = None, seed: int = 0,
              force: bool = False, progress: bool = True, extra_policies: dict | None = None,
              tuning_dir: str | Path | None = None, env_ids: list[str] | None = None) -> dict[str, str]:
    """Run a suite; returns ``{env_id: leaderboard markdown}`` and writes ``out_root/name/``.

    Every env is evaluated with its baselines at their published defaults and tuned
    (``<name>_tuned``, from :func:`suite_tuning`), ranked by the env's objective.
    ``extra_policies`` (``{env_id: [policy, ...]}``) are evaluated beside the suite's own, on the
    same learners (e.g. the demo's freshly trained PPO agent). ``env_ids``: evaluate only these of the
    suite's envs (the others' files are kept; the suite's ``leaderboard.md`` is rebuilt from every
    env's file that exists).
    """
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    if learners is not None:  # 0 is an error, not "the suite's default"
        check_positive_int("learners", learners)
    check_seed("seed", seed)
    out = Path(out_root) / name
    entries = [e for e in SUITES[name] if e.env_id in registered_ids()]
    if env_ids is not None:
        unknown = sorted(set(env_ids) - {e.env_id for e in entries})
        if unknown:
            raise ValueError(f"suite {name!r} has no env {unknown}; its envs: {', '.join(e.env_id for e in entries)}")
    check_suite_writable(name, out_root, force)
    boards = {}
    for entry in entries:
        if env_ids is not None and entry.env_id not in env_ids:
            continue
        start = time.perf_counter()
        env, _ = make(entry.env_id, **entry.overrides)
        record = suite_tuning(entry.env_id, entry.overrides, tuning_dir, force=force)
        extra = list((extra_policies or {}).get(entry.env_id, []))
        policies = resolve_policies(entry.policies, env) + tuned_policies(env, record) + extra
        df = evaluate(policies, entry.env_id, n_learners=learners or entry.learners, seed=seed,
                      progress=progress, **entry.overrides)
        _, board = write_results(df, out / entry.env_id.lower(), force=force, reference=entry.reference)
        boards[entry.env_id] = board
        print(f"{entry.env_id}: {learners or entry.learners} learners x {df['policy'].nunique()} policies "
              f"in {time.perf_counter() - start:.1f}s", flush=True)
    parts = [f"# Suite `{name}`\n"]
    for entry in entries:
        board_file = out / entry.env_id.lower() / "leaderboard.md"
        if board_file.exists():
            parts.append(board_file.read_text())
    (out / "leaderboard.md").write_text("\n".join(parts))
    return boards


__all__ = ["SUITES", "SuiteEntry", "run_suite", "check_suite_writable", "all_policies", "board_policies", "policy_by_name", "deck_policies"]
