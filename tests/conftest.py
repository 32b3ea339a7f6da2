"""Shared test helpers, and the hypothesis profiles.

The default profile ("ci") is derandomized: property tests draw the same examples on every run, so
a CI run is reproducible and a red run is never a lucky draw. ``HYPOTHESIS_PROFILE=fuzz`` draws new
random examples on each run to hunt for new defects; a failure found there becomes a fixed
example or a fix.
"""

import importlib.util
import os
from pathlib import Path

from hypothesis import settings

from studygym.agents.schedulers import CLASSIC
from studygym.evaluation.harness import evaluate


def assert_classic_schedulers_run_unchanged(env_id: str, n_learners: int = 2, **overrides) -> None:
    """Every classic scheduler, as registered (no env-specific wrapper), runs a whole episode of
    ``env_id``: no failure, no invalid action, and it reviews something. One evaluate call, so the
    message names every scheduler that broke."""
    df = evaluate(list(CLASSIC), env_id, n_learners=n_learners, curves=False, **overrides)
    by = df.groupby("policy")
    assert sorted(by.groups) == sorted(CLASSIC)
    broken = {name: part["failure"].iloc[0] for name, part in by if part["failed"].any()}
    assert not broken, broken
    invalid = {name: int(part["invalid_actions"].sum()) for name, part in by if (part["invalid_actions"] > 0).any()}
    assert not invalid, f"invalid actions on {env_id}: {invalid}"
    idle = [name for name, part in by if (part["reviews"] <= 0).any()]
    assert not idle, f"schedulers that never reviewed on {env_id}: {idle}"


def load_script(name: str):
    """Import ``scripts/<name>.py`` (the scripts folder is not a package) as a module."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
