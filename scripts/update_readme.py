"""Regenerate the generated sections of README.md from the code and from results/.

    .venv/bin/python scripts/update_readme.py

Each generated section sits between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers; text
outside the markers is left alone. Sections whose source file does not exist yet say so.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env_table() -> str:
    import studygym
    from studygym.registry import REGISTRY

    rows = ["| id | observation | action | default learner | what the agent decides |",
            "|---|---|---|---|---|"]
    for env_id in studygym.registered_ids():
        env, params = studygym.make(env_id)
        obs = env.observation_space(params)
        act = env.action_space(params)
        act_text = f"Discrete({act.n})" if hasattr(act, "n") else f"Box{tuple(act.shape)}"
        learner = getattr(env.config, "learner", "-")
        rows.append(f"| `{env_id}` | Box{tuple(obs.shape)} | {act_text} | {learner} | {REGISTRY[env_id].description} |")
    return "\n".join(rows)


def include(path: str, missing: str) -> str:
    file = ROOT / path
    if not file.exists():
        return f"_{missing}_"
    return file.read_text().strip()


def figure(path: str, alt: str) -> str:
    return f"![{alt}]({path})" if (ROOT / path).exists() else f"_({path} not generated yet)_"


SECTIONS = {
    "env-table": env_table,
    "leaderboard-review": lambda: include("results/classic/review-v0/leaderboard.md",
                                          "run `studygym bench --suite classic` to generate"),
    "figure-review": lambda: figure("results/classic/review-v0/knowledge_over_time.png", "knowledge over time"),
    "leaderboard-deck": lambda: include("results/classic/deck-v0/leaderboard.md",
                                        "run `studygym bench --suite classic` to generate"),
    "agents": lambda: include("results/agents/summary.md", "run `scripts/train_agents.py` to generate"),
    "science-table": lambda: include("results/science/science_table.md", "run `scripts/science_figure.py`"),
    "science-figure": lambda: figure("results/science/stylized_facts.png", "stylized facts"),
    "fit-table": lambda: include("results/fit/model_table.md", "run `scripts/fit_models.py` to generate"),
    "throughput": lambda: include("results/bench/throughput.md", "run `scripts/bench_throughput.py`"),
}


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if pattern.search(text):
            body = make()
            text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    readme.write_text(text)
    print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
