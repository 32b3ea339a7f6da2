"""`studygym evaluate`: writes the table, leaderboard and figures; never overwrites unasked."""

import pandas as pd

from studygym.cli import main

ARGS = ["evaluate", "--env", "Review-v0", "--policies", "fsrs,random", "--learners", "8",
        "--set", "n_items=5", "--set", "n_days=3", "--reference", "fsrs"]


def test_evaluate_writes_results_and_protects_them(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*ARGS, "--out", str(out)]) == 0
    for name in ("episodes.csv", "summary.csv", "leaderboard.md", "knowledge_over_time.png",
                 "reviews_vs_retention.png"):
        assert (out / name).stat().st_size > 0, name
    episodes = pd.read_csv(out / "episodes.csv")
    assert sorted(episodes["policy"].unique()) == ["fsrs", "random"] and len(episodes) == 16
    board = (out / "leaderboard.md").read_text()
    assert "| fsrs |" in board and "vs fsrs (paired)" in board
    before = (out / "episodes.csv").read_bytes()
    capsys.readouterr()
    assert main([*ARGS, "--out", str(out), "--seed", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "episodes.csv").read_bytes() == before
    assert main([*ARGS, "--out", str(out), "--seed", "1", "--force"]) == 0
    assert (out / "episodes.csv").read_bytes() != before


def test_evaluate_unknown_policy_suggests(tmp_path, capsys):
    assert main(["evaluate", "--env", "Review-v0", "--policies", "fsrss", "--out", str(tmp_path / "x")]) == 2
    assert "fsrs" in capsys.readouterr().err
