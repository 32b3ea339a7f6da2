"""Sweeps: a grid of (env, learner preset, policy, seed) evaluations run as Ray tasks.

A sweep is a TOML file (``tomllib``: no extra dependency to read it)::

    envs = ["Review-v0"]                  # registered env ids
    policies = ["fsrs", "sm2", "random"]  # evaluate's names: schedulers, "constant:<a>", "ppo:DIR"
    seeds = [0, 1]                        # each seed is a fresh set of simulated learners
    learners = 100                        # learners per cell
    reference = "random"                  # optional: paired differences against this policy

    [overrides]                           # optional: env overrides for every cell
    n_days = 10

    [presets.fast_forgetting]             # learner presets: named env overrides (default: one, "default")
    forget_sd = 0.8
    [presets.hlr]
    learner = "hlr"

Every cell of the grid is one :func:`studygym.evaluation.harness.evaluate` call (one policy, one env with
its preset's overrides, one seed), run as one Ray task: on this machine by default
(``ray.init`` with ``workers`` CPUs), or on an existing Ray cluster given its ``address``
(``"auto"`` or ``"ray://head:10001"``). ``backend="serial"`` runs the cells in this process
without Ray. Results are gathered into evaluate's tidy DataFrame (same columns) plus the grid
columns ``env``, ``preset`` and ``seed``; every policy of an (env, preset, seed) meets the same
learners (common random numbers), so the leaderboard per (env, preset) pairs policies learner by
learner over all seeds. Ray is the optional extra ``studygym[ray]``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from studygym.envs.core import check_positive_int
from studygym.evaluation.harness import COLUMNS, evaluate, resolve_policies
from studygym.registry import make
from studygym.evaluation.report import RESULT_FILES, check_writable, write_results

#: Columns a sweep adds to ``studygym.evaluation.harness.COLUMNS``.
GRID_COLUMNS = ("env", "preset", "seed")
#: Keys a sweep file may hold.
CONFIG_KEYS = ("envs", "policies", "seeds", "learners", "reference", "overrides", "presets", "chunk_size")
BACKENDS = ("ray", "serial")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: the grid is envs x presets x policies x seeds."""

    envs: tuple[str, ...]
    policies: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    learners: int = 100
    presets: dict = dataclasses.field(default_factory=lambda: {"default": {}})  # name -> env overrides
    overrides: dict = dataclasses.field(default_factory=dict)  # env overrides for every cell
    reference: str | None = None
    chunk_size: int = 256


@dataclasses.dataclass(frozen=True)
class Cell:
    """One evaluation of the grid."""

    env: str
    preset: str
    policy: str
    seed: int
    overrides: dict  # the cell's env overrides (common ones, then the preset's)


def _names(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name} must be a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{name} must not repeat a name, got {list(value)}")
    return tuple(value)


def config_from_dict(data: dict) -> SweepConfig:
    """A :class:`SweepConfig` from a parsed sweep file; checks every env and policy name up front."""
    if not isinstance(data, dict):
        raise ValueError(f"a sweep config must be a table, got {type(data).__name__}")
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown sweep key(s) {unknown}; known: {', '.join(CONFIG_KEYS)}")
    for required in ("envs", "policies"):
        if required not in data:
            raise ValueError(f"sweep config needs {required!r}")
    envs = _names("envs", data["envs"])
    policies = _names("policies", data["policies"])
    seeds = data.get("seeds", [0])
    seeds = [seeds] if isinstance(seeds, int) and not isinstance(seeds, bool) else seeds
    if not isinstance(seeds, (list, tuple)) or not seeds or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct non-negative integers, got {seeds!r}")
    learners = data.get("learners", 100)
    check_positive_int("learners", learners)
    chunk_size = data.get("chunk_size", 256)
    check_positive_int("chunk_size", chunk_size)
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a table of env overrides, got {overrides!r}")
    presets = data.get("presets", {"default": {}}) or {"default": {}}
    if not isinstance(presets, dict) or not all(isinstance(v, dict) for v in presets.values()):
        raise ValueError(f"presets must be a table of named tables of env overrides, got {presets!r}")
    folders: dict[str, tuple[str, str]] = {}
    for env_id, preset in itertools.product(envs, presets):
        folder = group_folder(env_id, str(preset))
        if folder in folders:  # "a b" and "a/b" would write (and overwrite) the same folder
            other = folders[folder]
            raise ValueError(f"presets {other[1]!r} (env {other[0]}) and {preset!r} (env {env_id}) would both write "
                             f"the folder {folder!r}; rename one (letters, digits, '_', '.', '-' are kept)")
        folders[folder] = (env_id, str(preset))
    reference = data.get("reference")
    if reference is not None and reference not in policies:
        raise ValueError(f"reference {reference!r} is not among the policies {list(policies)}")
    # Build every (env, preset) once here, so a typo fails now, not in a Ray worker minutes later.
    for env_id, (preset, preset_overrides) in itertools.product(envs, presets.items()):
        try:
            env, _ = make(env_id, **{**overrides, **preset_overrides})
            resolve_policies(list(policies), env)
        except ValueError as error:
            raise ValueError(f"sweep cell env={env_id} preset={preset}: {error}") from None
    return SweepConfig(envs, policies, tuple(int(s) for s in seeds), int(learners), dict(presets), dict(overrides),
                       reference, int(chunk_size))


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a TOML sweep file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"sweep config {str(path)!r} is not a file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"sweep config {path} is not valid TOML: {error}") from None
    return config_from_dict(data)


def grid(config: SweepConfig) -> list[Cell]:
    """Every cell: envs x presets x policies x seeds, in that order."""
    return [Cell(env, preset, policy, seed, {**config.overrides, **config.presets[preset]})
            for env, preset, policy, seed in itertools.product(config.envs, config.presets, config.policies,
                                                               config.seeds)]


def run_cell(cell: Cell, learners: int, chunk_size: int = 256) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One cell: ``(episodes with the grid columns, mean knowledge curve)``."""
    df = evaluate([cell.policy], cell.env, n_learners=learners, seed=cell.seed, chunk_size=chunk_size,
                  **cell.overrides)
    curves = df.attrs.get("curves", pd.DataFrame())
    df = df.assign(env=cell.env, preset=cell.preset, seed=cell.seed)
    df.attrs = {}
    return df, curves.assign(env=cell.env, preset=cell.preset, seed=cell.seed)


def run_sweep(config: SweepConfig, *, backend: str = "ray", workers: int | None = None, address: str | None = None,
              progress: bool = False) -> pd.DataFrame:
    """Run every cell of the grid and gather one tidy DataFrame (``COLUMNS`` + ``GRID_COLUMNS``).

    ``backend="ray"``: one Ray task per cell, on a local Ray started with ``workers`` CPUs (default:
    this machine's cores) or on the cluster at ``address``. A Ray already initialised in this
    process is used as it is. ``backend="serial"``: the cells one after the other, here.
    ``df.attrs``: ``curves`` (mean knowledge per step per cell), ``wall_seconds``, ``cells``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if address is not None and workers is not None:
        raise ValueError("give workers (a local Ray) or address (an existing cluster), not both")
    cells = grid(config)
    start = time.perf_counter()
    if backend == "serial":
        outputs = []
        for i, cell in enumerate(cells):
            outputs.append(run_cell(cell, config.learners, config.chunk_size))
            if progress:
                print(f"[{i + 1}/{len(cells)}] {cell.env} {cell.preset} {cell.policy} seed {cell.seed}", flush=True)
    else:
        outputs = _run_on_ray(cells, config, workers, address, progress)
    df = pd.concat([o[0] for o in outputs], ignore_index=True)[[*COLUMNS, *GRID_COLUMNS]]
    df.attrs["curves"] = pd.concat([o[1] for o in outputs], ignore_index=True)
    df.attrs["wall_seconds"] = time.perf_counter() - start
    df.attrs["cells"] = len(cells)
    return df


def _run_on_ray(cells, config, workers, address, progress):
    try:
        import ray
    except ImportError:
        raise ImportError("studygym sweep needs Ray: pip install 'studygym[ray]' (or use backend='serial')") from None
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=1)(run_cell)
    pending = [task.remote(cell, config.learners, config.chunk_size) for cell in cells]
    if progress:
        done = 0
        remaining = list(pending)
        while remaining:
            finished, remaining = ray.wait(remaining)
            done += len(finished)
            print(f"[{done}/{len(cells)}] cells done", flush=True)
    return ray.get(pending)  # in grid order


# ----------------------------------------------------------------------------------------------
# Summaries and output files
# ----------------------------------------------------------------------------------------------

#: Files ``write_sweep`` writes at the top of OUT (each (env, preset) also gets a folder).
SWEEP_FILES = ("episodes.csv", "summary.csv", "leaderboard.md")


def group_folder(env: str, preset: str) -> str:
    """Folder name of one (env, preset) inside OUT."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{env}__{preset}")


def groups(df: pd.DataFrame):
    """``((env, preset), episodes)`` per group, with ``learner`` made unique across seeds for pairing."""
    for (env, preset), part in df.groupby(["env", "preset"], sort=False):
        seeds = sorted(part["seed"].unique())
        per_seed = int(part["learner"].max()) + 1
        part = part.assign(learner=part["seed"].map({s: i for i, s in enumerate(seeds)}) * per_seed + part["learner"])
        yield (env, preset), part


def check_sweep_writable(config: SweepConfig, out_dir: str | Path, force: bool = False) -> None:
    """Raise before any cell runs if :func:`write_sweep` would refuse (or could not write) its files:
    OUT's own files and every (env, preset) folder's result files, old group folders included."""
    out_dir = Path(out_dir)
    check_writable(out_dir, force, SWEEP_FILES)
    for env, preset in itertools.product(config.envs, config.presets):
        check_writable(out_dir / group_folder(env, preset), force, RESULT_FILES)


def write_sweep(df: pd.DataFrame, out_dir: str | Path, *, force: bool = False, reference: str | None = None) -> str:
    """Write OUT/episodes.csv (every row, grid columns included), OUT/summary.csv and OUT/leaderboard.md
    (one leaderboard per (env, preset), learners of all seeds pooled and paired), and per group the
    files of ``studygym evaluate`` (``studygym.evaluation.report.write_results``) in ``OUT/<env>__<preset>/``.
    Returns the leaderboard markdown. Refuses to overwrite anything unless ``force``.
    """
    out_dir = Path(out_dir)
    keys = [key for key, _ in groups(df)]
    check_writable(out_dir, force, SWEEP_FILES)
    for env, preset in keys:
        check_writable(out_dir / group_folder(env, preset), force, RESULT_FILES)
    out_dir.mkdir(parents=True, exist_ok=True)
    curves = df.attrs.get("curves")
    sections, summaries = [], []
    for (env, preset), part in groups(df):
        seeds = sorted(part["seed"].unique())
        part = part.drop(columns=list(GRID_COLUMNS))
        part.attrs = {"env_id": env, "seed": seeds[0]}
        if curves is not None and len(curves):
            mine = curves[(curves["env"] == env) & (curves["preset"] == preset)]
            part.attrs["curves"] = mine.groupby(["policy", "step", "day"], sort=False, as_index=False)["knowledge"].mean()
        title = f"{env}, preset {preset}: {part['learner'].nunique()} learners (seeds {', '.join(map(str, seeds))})"
        ref = reference if reference in set(part["policy"]) else None
        summary, board = write_results(part, out_dir / group_folder(env, preset), force=force, reference=ref,
                                       title=title)
        summaries.append(summary.assign(env=env, preset=preset))
        sections.append(f"### {title}\n\n{board}")
    df.to_csv(out_dir / "episodes.csv", index=False)
    pd.concat(summaries, ignore_index=True).to_csv(out_dir / "summary.csv", index=False)
    text = ("Mean [95% bootstrap CI] over learners; in each (env, preset) every policy met the same learners "
            "(common random numbers), pooled over seeds.\n\n" + "\n".join(sections))
    (out_dir / "leaderboard.md").write_text(text)
    return text


__all__ = ["SweepConfig", "Cell", "config_from_dict", "load_config", "grid", "run_cell", "run_sweep", "write_sweep",
           "check_sweep_writable",
           "groups", "group_folder", "GRID_COLUMNS", "SWEEP_FILES", "BACKENDS"]
