"""Regenerate the generated sections of README.md from the code and from results/.

    .venv/bin/python scripts/update_readme.py                       # every section
    .venv/bin/python scripts/update_readme.py --only agents,papers-deeptutor   # only these

Each generated section sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers; text
outside the markers is left alone. Sections whose source file does not exist yet say so.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env_table() -> str:
    import studygym
    from studygym.markdown import markdown_table
    from studygym.registry import REGISTRY

    rows = []
    for env_id in studygym.registered_ids():
        env, params = studygym.make(env_id)
        obs = env.observation_space(params)
        act = env.action_space(params)
        act_text = f"Discrete({act.n})" if hasattr(act, "n") else f"Box{tuple(act.shape)}"
        learner = getattr(env.config, "learner", "-")
        rows.append([f"`{env_id}`", f"Box{tuple(obs.shape)}", act_text, learner, REGISTRY[env_id].description])
    return markdown_table(["id", "observation", "action", "default learner", "what the agent decides"], rows)


def include(path: str, missing: str) -> str:
    file = ROOT / path
    if not file.exists():
        return f"_{missing}_"
    # Headings of an included file sit under the README's "##" sections: demote "#" and "##".
    return re.sub(r"^(#{1,2}) ", lambda m: "##" + m.group(1) + " ", file.read_text().strip(), flags=re.M)


def figure(path: str, alt: str) -> str:
    return f"![{alt}]({path})" if (ROOT / path).exists() else f"_({path} not generated yet)_"


SECTIONS = {
    "env-table": env_table,
    "leaderboard-review": lambda: include("results/classic/review-v0/leaderboard.md",
                                          "run `studygym bench --suite classic` to generate"),
    "figure-review": lambda: figure("results/classic/review-v0/knowledge_over_time.png", "knowledge over time"),
    "leaderboard-deck": lambda: include("results/classic/deck-v0/leaderboard.md",
                                        "run `studygym bench --suite classic` to generate"),
    "agents": lambda: include("results/agents/summary.md", "run `scripts/run_agents.py` to generate"),
    "sleep-objective": lambda: include("results/sleep/objective.md", "run `scripts/run_brain_tasks.py`"),
    "tagging-objective": lambda: include("results/tagging/objective.md", "run `scripts/run_brain_tasks.py`"),
    "curriculum": lambda: include("results/curriculum/order_gaps.md", "run `scripts/run_curriculum.py`"),
    "curriculum-leaderboard": lambda: include("results/curriculum/all/leaderboard.md",
                                              "run `scripts/run_curriculum.py --all-only`"),
    "practice-leaderboard": lambda: include("results/practice/leaderboard.md", "run `scripts/run_practice.py`"),
    "practice-facts": lambda: include("results/practice/facts.md", "run `scripts/run_practice.py`"),
    "practice-figure": lambda: figure("results/practice/practice_facts.png", "skill practice facts"),
    "papers-deeptutor": lambda: include("results/papers/deeptutor/deeptutor.md", "run `scripts/run_papers_deeptutor.py`"),
    "papers-sspmmc": lambda: include("results/papers/ssp-mmc/sspmmc.md", "run `scripts/run_papers_sspmmc.py`"),
    "throughput-gpu": lambda: include("results/bench/throughput_gpu.md", "run `scripts/bench_throughput.py` on a GPU"),
    "training-gpu": lambda: include("results/bench/training_gpu.md", "run `scripts/bench_training.py` on a GPU"),
    "training": lambda: include("results/bench/training.md", "run `scripts/bench_training.py`"),
    "sb3-throughput": lambda: include("results/sb3/throughput.md", "run `scripts/bench_sb3.py`"),
    "sb3-learning-curve": lambda: include("results/sb3/review-v0-ppo/comparison.md",
                                          "run `scripts/sb3_learning_curve.py`"),
    "sb3-learning-curve-figure": lambda: figure("results/sb3/review-v0-ppo/learning_curve.png",
                                                "SB3 PPO learning curve on Review-v0"),
    "sb3-a2c-learning-curve": lambda: include("results/sb3/review-v0-a2c/comparison.md",
                                              "run `scripts/sb3_learning_curve.py --algo a2c`"),
    "sb3-masked-learning-curve": lambda: include("results/sb3/review-v0-ppo_mask/comparison.md",
                                                 "run `scripts/sb3_learning_curve.py --algo ppo_mask`"),
    "scaling": lambda: include("results/bench/scaling.md", "run `scripts/bench_scaling.py`"),
    "scaling-gpu": lambda: include("results/bench/scaling_gpu.md", "run `scripts/bench_scaling.py --platform gpu`"),
    "scaling-figure": lambda: figure("results/bench/scaling.png", "scaling on this machine"),
    "scaling-gpu-figure": lambda: figure("results/bench/scaling_gpu.png", "scaling on one H200"),
    "science-table": lambda: include("results/science/science_table.md", "run `scripts/science_figure.py`"),
    "science-figure": lambda: figure("results/science/stylized_facts.png", "stylized facts"),
    "replications": lambda: include("results/science/replications.md", "run `scripts/run_replications.py`"),
    "replications-before-after": lambda: include("results/science/replications_before_after.md",
                                                 "run `scripts/run_replications.py` with two presets"),
    "replications-figure": lambda: figure("results/science/replications.png", "model vs paper per experiment"),
    "fit-table": lambda: include("results/fit/model_table.md", "run `scripts/fit_models.py` to generate"),
    "personal-schedule": lambda: include("results/personal/personal.md", "run `scripts/personal_schedule.py`"),
    "throughput": lambda: include("results/bench/throughput.md", "run `scripts/bench_throughput.py`"),
    "throughput-medians": lambda: include("results/bench/throughput_runs/medians.md",
                                          "run `scripts/bench_throughput.py --json` three times, then `--medians`"),
}


def section_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- BEGIN {re.escape(name)} -->\n)(.*?)(<!-- END {re.escape(name)} -->)", re.S)


def marked_sections(text: str) -> list[str]:
    """Names of the generated sections marked in ``text``, in order."""
    return re.findall(r"<!-- BEGIN (\S+) -->", text)


def current_body(text: str, name: str) -> str | None:
    """The text between ``name``'s markers in ``text`` (without the final newline), or None."""
    match = section_pattern(name).search(text)
    return None if match is None else match.group(2).removesuffix("\n")


def render(text: str, only: list[str] | None = None) -> str:
    """``text`` with every marked section (or only the sections named in ``only``) regenerated; a
    marker without a generator is an error, and so is a name in ``only`` that the README does not mark."""
    unknown = sorted(set(marked_sections(text)) - set(SECTIONS))
    if unknown:
        raise ValueError(f"README.md marks sections with no generator in scripts/update_readme.py: {unknown}")
    unmarked = sorted(set(only or ()) - set(marked_sections(text)))
    if unmarked:
        raise ValueError(f"README.md has no markers for {unmarked}; marked: {', '.join(marked_sections(text))}")
    for name in marked_sections(text):
        if only is not None and name not in only:
            continue
        body = SECTIONS[name]()
        text = section_pattern(name).sub(lambda m: m.group(1) + body + "\n" + m.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None,
                        help=f"comma-separated sections to regenerate (default every one: {', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    only = None if args.only is None else args.only.split(",")
    readme = ROOT / "README.md"
    text = readme.read_text()
    missing = [name for name in SECTIONS if name not in marked_sections(text)]
    if missing:
        print(f"note: README.md has no markers for {missing}; those sections are not shown", file=sys.stderr)
    readme.write_text(render(text, only))
    print(f"updated {readme}" + ("" if only is None else f" (only {', '.join(only)})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
