"""scripts/run_brain_tasks.py: the Sleep-v0 / Tagging-v0 result files from a board's episodes."""

import re

import pandas as pd

from conftest import load_script

#: A few rows of the committed Sleep-v0 board (results/agents/sleep: the same policies the script runs).
POLICIES = ["spaced+sleep", "fsrs", "fsrs_tuned", "threshold_tuned", "oracle_greedy", "planner"]


def test_objective_ranks_by_return_and_states_the_planner_headroom(tmp_path):
    script = load_script("run_brain_tasks")
    df = pd.read_csv("results/agents/sleep/episodes.csv", dtype={"failure": str})
    df["failure"] = df["failure"].fillna("")
    df = df[df["policy"].isin(POLICIES) & (df["learner"] < 64)].reset_index(drop=True)
    df.attrs.update(env_id="Sleep-v0", objective="episode_return", seed=1)
    script.write_env(df, "Sleep-v0", tmp_path, force=False)
    text = (tmp_path / "objective.md").read_text()
    means = df.groupby("policy")["episode_return"].mean()
    best = means.drop(["oracle_greedy", "planner"]).idxmax()
    rows = [line.split("|")[1].strip().removesuffix(" (privileged)") for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| policy")]
    assert rows == list(means.sort_values(ascending=False).index)
    assert f"paired differences against the best tuned classic ({best})" in text
    gap = (df[df.policy == "planner"].set_index("learner")["episode_return"]
           - df[df.policy == best].set_index("learner")["episode_return"]).mean()
    match = re.search(rf"Headroom: planner - {re.escape(best)} \(the best tuned classic\) = ([+-][0-9.]+)", text)
    assert match and abs(float(match.group(1)) - gap) < 5e-5
    assert "planner (privileged)" in text and "Upper reference: planner -" in text
    assert "Sorted by episode return" in (tmp_path / "leaderboard.md").read_text()
