"""Regenerate the brain learner's science figure and table.

    .venv/bin/python scripts/science_figure.py [--learners 128] [--out results/science]

Writes ``stylized_facts.png`` (recall curves of simulated learners: forgetting after one study,
spaced vs massed vs all-nighter cram, sleep vs wake, the dopamine tag window) and
``science_table.md`` (mechanism -> equation -> parameters with their defaults -> source -> the test
that checks it), both from code: the schedules are those of ``tests/science`` (driven through the
same cohort helper), the table rows are ``studygym.envs.learners.brain.MECHANISMS`` with the
defaults of the ``lab_novice`` preset, and every test named must exist in ``tests/science``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCIENCE_TESTS = ROOT / "tests" / "science"
sys.path.insert(0, str(SCIENCE_TESTS))

from cohort import BED_HOUR, Cohort, at  # noqa: E402  (the tests' own schedule helper)

from studygym.envs.learners.brain import MECHANISMS, brain_preset  # noqa: E402
from studygym.markdown import markdown_table  # noqa: E402

ITEMS = range(10)


def run_curve(cohort: Cohort, events: list, grid: np.ndarray, skip_nights=()) -> np.ndarray:
    """Mean recall of the items studied so far at each ``grid`` time, with ``events`` applied in
    time order ((time, method, *args) on the cohort) and a night at every bedtime not skipped."""
    timeline = [(t, 1, name, args) for t, name, *args in events]
    last_day = int(np.ceil(max(grid.max(), max(t for t, *_ in events))))
    timeline += [(at(day, BED_HOUR), 2, "sleep", ()) for day in range(last_day + 1)
                 if day not in skip_nights and at(day, BED_HOUR) >= cohort.clock]  # nights already lived are not re-slept
    timeline += [(t, 0, "measure", ()) for t in grid]
    recall = []
    for t, _, name, args in sorted(timeline, key=lambda e: (e[0], e[1])):
        if name == "measure":
            studied = np.flatnonzero(cohort.exposures)
            recall.append(cohort.mean_recall(t, studied) if studied.size else np.nan)
        elif name == "sleep":
            cohort.sleep(t)
        else:
            getattr(cohort, name)(t, *args)
    return np.asarray(recall)


def forgetting_panel(ax, n_learners: int) -> None:
    grid = np.concatenate([np.linspace(at(0, 10.05), at(1, 10), 60), np.linspace(at(1, 11), at(30, 10), 120)])
    for preset, style in (("lab_novice", "-"), ("older_adult", "--"), ("anki_like", ":")):
        curve = run_curve(Cohort(preset, n_learners=n_learners), [(at(0, 10), "practice", ITEMS)], grid)
        ax.plot(grid - at(0, 10), curve, style, label=preset)
    ax.set_xscale("log")
    ax.set_xlabel("days since one study (log)")
    ax.set_ylabel("recall probability")
    ax.set_title("Forgetting: fast then slow")
    ax.legend(fontsize=8)


def cramming_panel(ax, n_learners: int) -> None:
    grid = np.linspace(0.0, 10.5, 400)
    spaced = [(at(d, h), "practice", ITEMS) for d in range(3) for h in (19, 19.5)]
    massed = [(at(2, 19 + k / 4), "practice", ITEMS) for k in range(6)]
    cram = [(at(2, 22 + 2 * k), "practice", ITEMS) for k in range(6)]
    for label, events, skip in (("spaced (3 evenings)", spaced, ()), ("massed (1 evening)", massed, ()),
                                ("all-nighter cram", cram, (2,))):
        ax.plot(grid, run_curve(Cohort(n_learners=n_learners), events, grid, skip), label=label)
    for t, text in ((at(3, 10), "exam"), (at(10, 10), "+1 week")):
        ax.axvline(t, color="grey", lw=0.8, ls=":")
        ax.text(t, 0.5, text, rotation=90, fontsize=8, va="center", ha="right")
    ax.set_xlabel("day")
    ax.set_ylabel("recall probability")
    ax.set_title("Six passes: spaced vs massed vs cram")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left")


def sleep_panel(ax, n_learners: int) -> None:
    hours = np.linspace(0.1, 48, 200)
    for label, study_hour, day in (("learnt 21:00, sleep after 2 h", 21, 0), ("learnt 09:00, sleep after 14 h", 9, 1)):
        start = at(day, study_hour)
        cohort = Cohort(n_learners=n_learners)
        if day:
            cohort.until(start)
        curve = run_curve(cohort, [(start, "practice", ITEMS)], start + hours / 24)
        ax.plot(hours, curve, label=label)
    ax.axvline(12, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("hours since one study")
    ax.set_ylabel("recall probability")
    ax.set_title("Sleep vs wake after learning")
    ax.legend(fontsize=8)


def tagging_panel(ax, n_learners: int) -> None:
    delays = np.array([-4, -2, -1, -0.5, -0.25, 0.25, 0.5, 1, 2, 3, 4, 6])
    week = at(7, 10)
    base = Cohort(n_learners=n_learners)
    none = base.fork().practice(at(0, 10), ITEMS).until(week).mean_recall(week, ITEMS)
    gains = []
    for delay in delays:
        reward_time = at(0, 10 + delay)
        events = sorted([(at(0, 10), "practice", ITEMS), (reward_time, "reward", 1.0)], key=lambda e: e[0])
        arm = base.fork()
        for t, name, *args in events:
            getattr(arm, name)(t, *args)
        gains.append(arm.until(week).mean_recall(week, ITEMS) - none)
    ax.plot(delays, 100 * np.asarray(gains), "o-")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("reward time relative to study (h)")
    ax.set_ylabel("recall gain at 1 week (points)")
    ax.set_title("Dopamine tag window")


def write_figure(out: Path, n_learners: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    forgetting_panel(axes[0, 0], n_learners)
    cramming_panel(axes[0, 1], n_learners)
    sleep_panel(axes[1, 0], n_learners)
    tagging_panel(axes[1, 1], n_learners)
    fig.suptitle(f"studygym brain learner: stylized facts ({n_learners} simulated learners, mean recall)")
    fig.tight_layout()
    path = out / "stylized_facts.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def test_functions() -> dict[str, set[str]]:
    """Test function names per file in tests/science (parsed, not imported)."""
    found = {}
    for path in SCIENCE_TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        found[path.name] = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return found


def write_table(out: Path) -> Path:
    defaults = brain_preset("lab_novice")
    tests = test_functions()
    rows = []
    for entry in MECHANISMS:
        params = [f"`{name}` = {float(getattr(defaults, name)):g}" for name in entry["parameters"]]
        if entry.get("decay"):
            params.insert(0, f"`w[20]` (d) = {float(defaults.w[20]):g}")
        checks = []
        for ref in entry["tests"]:
            file, name = ref.split("::")
            if name not in tests.get(file, set()):
                raise SystemExit(f"MECHANISMS names {ref}, which is not a test in tests/science")
            checks.append(f"`tests/science/{file}::{name}`")
        rows.append([entry["mechanism"], f"`{entry['equation']}`", ", ".join(params), entry["source"],
                     "<br>".join(checks)])
    text = ("# The brain learner: mechanisms, equations, sources and tests\n\n"
            "Generated by `scripts/science_figure.py` from `studygym.envs.learners.brain.MECHANISMS`; "
            "do not edit by hand. Every parameter's unit and rationale: `BrainParams` in "
            "`envs/learners/brain.py`. Figure: `stylized_facts.png`.\n\n"
            + markdown_table(["Mechanism", "Equation", "Parameters (lab_novice default)", "Source", "Checked by"], rows)
            + "\n")
    path = out / "science_table.md"
    path.write_text(text)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=128, help="simulated learners per curve")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "science")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(write_table(args.out))
    print(write_figure(args.out, args.learners))


if __name__ == "__main__":
    main()
