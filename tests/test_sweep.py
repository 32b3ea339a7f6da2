"""`studygym sweep`: a grid of evaluations on Ray gives evaluate's table and leaderboard."""

import pandas as pd
import pytest

from studygym.cli import main
from studygym.evaluation.harness import COLUMNS, evaluate
from studygym.evaluation.sweep import GRID_COLUMNS, config_from_dict, grid, run_sweep

TINY = {"envs": ["Review-v0"], "policies": ["fsrs", "random"], "seeds": [0, 1], "learners": 4,
        "overrides": {"n_items": 5, "n_days": 3}, "reference": "random"}
TOML = """
envs = ["Review-v0"]
policies = ["fsrs", "random"]
seeds = [0, 1]
learners = 4
reference = "random"
[overrides]
n_items = 5
n_days = 3
"""


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs, started by this test module (slow: ~10-20 s) and shut down after."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # Ray starts its daemons after jax is imported
def test_sweep_on_ray_matches_evaluate_and_writes_a_leaderboard(local_ray, tmp_path, capsys):
    config = config_from_dict(TINY)
    df = run_sweep(config, backend="ray")
    assert list(df.columns) == [*COLUMNS, *GRID_COLUMNS] and df.attrs["cells"] == 4
    assert len(df) == 4 * 4 and not df["failed"].any()
    # Each cell is exactly what evaluate gives for that (policy, seed): the same learners.
    for seed in (0, 1):
        direct = evaluate(["fsrs", "random"], "Review-v0", n_learners=4, seed=seed, n_items=5, n_days=3)
        cells = df[df["seed"] == seed].drop(columns=list(GRID_COLUMNS)).reset_index(drop=True)
        pd.testing.assert_frame_equal(cells, direct.reset_index(drop=True), check_exact=True)
    assert df[df["seed"] == 0]["knowledge_final"].tolist() != df[df["seed"] == 1]["knowledge_final"].tolist()

    # The CLI on the same (already running) Ray: files, a leaderboard pooled over seeds, no overwrite.
    path = tmp_path / "sweep.toml"
    path.write_text(TOML)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    episodes = pd.read_csv(out / "episodes.csv")
    assert len(episodes) == 16 and set(GRID_COLUMNS) <= set(episodes.columns)
    board = (out / "leaderboard.md").read_text()
    assert "8 learners (seeds 0, 1)" in board and "| fsrs |" in board and "vs random (paired)" in board
    assert (out / "Review-v0__default" / "knowledge_over_time.png").stat().st_size > 0
    before = (out / "episodes.csv").read_bytes()
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "episodes.csv").read_bytes() == before


def test_grid_expands_every_combination():
    config = config_from_dict({**TINY, "presets": {"fsrs": {}, "hlr": {"learner": "hlr"}}})
    cells = grid(config)
    assert len(cells) == 1 * 2 * 2 * 2
    assert {(c.preset, c.policy, c.seed) for c in cells} == {(p, q, s) for p in ("fsrs", "hlr")
                                                             for q in ("fsrs", "random") for s in (0, 1)}
    hlr = [c for c in cells if c.preset == "hlr"][0]
    assert hlr.overrides == {"n_items": 5, "n_days": 3, "learner": "hlr"}


@pytest.mark.parametrize("change, message", [
    ({"envs": ["Reveiw-v0"]}, "Review-v0"),
    ({"policies": ["fsrss"]}, "fsrs"),
    ({"seeds": [0, 0]}, "seeds"),
    ({"learners": 0}, "learners"),
    ({"reference": "sm2"}, "reference"),
    ({"presets": {"bad": {"n_itemz": 3}}}, "n_items"),
    ({"horizon": 3}, "horizon"),
])
def test_bad_config_names_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict({**TINY, **change})


def test_cli_rejects_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("envs = [")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--serial"]) == 2
    assert "TOML" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "not a file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="backend"):
        run_sweep(config_from_dict(TINY), backend="dask")
