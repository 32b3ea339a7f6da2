"""``studygym replicate``: the registry's structure, the output files, and the protocols' plumbing."""

import math

import numpy as np
import pandas as pd
import pytest

from studygym.evaluation import replicate as R
from studygym.cli import main
from studygym.envs.learners.brain import BRAIN, brain_preset
from studygym.envs.learners.skill import skill_params

#: Item-learner experiments cheap enough for a default test (one compile of the protocol calls).
FAST = "roediger_karpicke_2006_exp2,mazza_2016_relearning,newbury_2022_deprivation"


def _check_outputs(out, names):
    df = pd.read_csv(out / "replications.csv")
    assert list(df.columns) == list(R.COLUMNS)
    by_name = {e.name: e for e in R.EXPERIMENTS}
    expected = [(name, t.condition) for name in names for t in by_name[name].targets]
    assert list(zip(df.experiment, df.condition)) == expected
    for col in ("paper", "paper_low", "paper_high", "model"):
        assert np.isfinite(df[col]).all(), col
    assert (df.paper_low <= df.paper).all() and (df.paper <= df.paper_high).all()
    assert (df.within == ((df.paper_low <= df.model) & (df.model <= df.paper_high))).all()
    assert df.citation.str.len().min() > 20
    card = (out / "replications.md").read_text()
    assert f"**{int(df.within.sum())} of {len(df)} rows within" in card
    assert card.count("\n| ") == len(df) + 1  # header + one line per row
    assert (out / "replications.png").stat().st_size > 1000
    return df


def test_replicate_cli_writes_a_finite_scorecard_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["replicate", "--only", FAST, "--learners", "6", "--out", str(out)]) == 0
    _check_outputs(out, FAST.split(","))
    assert main(["replicate", "--only", "mazza_2016_relearning", "--learners", "6", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["replicate", "--only", "mazza_2016_relearning", "--learners", "6", "--out", str(out),
                 "--force"]) == 0


def test_unknown_experiment_names_the_known_ones(tmp_path, capsys):
    assert main(["replicate", "--only", "cepeda_2008", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cepeda_2008_ridgeline" in err and "unknown experiment" in err


def test_registry_has_ten_experiments_with_sourced_numbers_and_capped_intervals():
    assert len(R.EXPERIMENTS) >= 10
    assert len({e.name for e in R.EXPERIMENTS}) == len(R.EXPERIMENTS)
    for e in R.EXPERIMENTS:
        assert e.citation and e.targets and e.learner in ("item", "skill")
        for t in e.targets:
            assert t.low <= t.paper <= t.high
            assert t.paper - t.low <= 0.10 + 1e-9 and t.high - t.paper <= 0.10 + 1e-9, (e.name, t)


def test_bounds_cap_and_floor():
    assert R.bounds(0.5, half=0.01) == pytest.approx((0.45, 0.55))  # proportion: at least 0.05
    assert R.bounds(0.5, half=0.3) == pytest.approx((0.40, 0.60))  # at most 0.10
    assert R.bounds(1.0, half=0.01, proportion=False) == pytest.approx((0.99, 1.01))
    assert R.bounds(0.6, 0.47, 0.77, proportion=False) == pytest.approx((0.50, 0.70))
    with pytest.raises(ValueError):
        R.bounds(0.5)


def test_optimal_gap_and_hedges_g():
    gaps = np.array([0, 1, 3, 7, 14, 30])
    recall = -(np.log1p(gaps) - np.log1p(5.0)) ** 2  # peak at gap 5 in log(1 + gap)
    assert R.optimal_gap(gaps, recall) == pytest.approx(5.0, rel=1e-6)
    assert R.optimal_gap(gaps, -gaps) == 0.0  # at the edge: the edge
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 1.0, 20000), rng.normal(0.0, 1.0, 20000)
    assert R.hedges_g(a, b) == pytest.approx(0.5, abs=0.03)
    assert math.isnan(R.hedges_g(np.ones(5), np.ones(5)))


def test_cohens_dz_standardises_paired_differences():
    rng = np.random.default_rng(1)
    base = rng.normal(0.0, 1.0, 20000)  # a large shared (between-learner) spread
    shifted = base + rng.normal(0.2, 0.5, 20000)
    assert R.cohens_dz(shifted, base) == pytest.approx(0.4, abs=0.03)  # 0.2 / 0.5: the spread cancels
    assert R.hedges_g(shifted, base) < 0.25  # independent groups would see it through the spread
    assert math.isnan(R.cohens_dz(np.ones(5), np.ones(5)))


def test_reward_timing_experiment_runs_for_a_learner_without_reward_events(tmp_path):
    out = tmp_path / "rme"
    assert main(["replicate", "--learner", "fsrs", "--only", "koevoet_postma_2024_rme", "--learners", "6",
                 "--out", str(out)]) == 0
    _check_outputs(out, ["koevoet_postma_2024_rme"])


def test_cohort_schedules_run_forwards_and_forks_are_paired():
    ctx = R.Context(BRAIN, brain_preset("lab_novice"), skill_params(), 4, 0)
    cohort = ctx.cohort()
    cohort.study(R.at(0, 10), np.arange(5))
    twin_a, twin_b = cohort.fork(), cohort.fork()
    assert (twin_a.test(R.at(1, 10), np.arange(5)) == twin_b.test(R.at(1, 10), np.arange(5))).all()
    with pytest.raises(ValueError, match="before the previous event"):
        twin_a.test(R.at(0, 12), np.arange(5))
    # A day later with a night in between, recall of the studied items is below what it was at once.
    assert cohort.recall(R.at(0, 10.1), np.arange(5)).mean() > twin_a.recall(R.at(2, 10), np.arange(5)).mean()


@pytest.mark.slow
def test_full_registry_runs_for_the_brain_and_fsrs_learners(tmp_path):
    out = tmp_path / "brain"
    assert main(["replicate", "--learners", "8", "--out", str(out)]) == 0
    _check_outputs(out, [e.name for e in R.EXPERIMENTS])
    fsrs_out = tmp_path / "fsrs"
    assert main(["replicate", "--learner", "fsrs", "--only", FAST, "--learners", "8", "--out", str(fsrs_out)]) == 0
    _check_outputs(fsrs_out, FAST.split(","))


def test_ebbinghaus_lists_are_nonsense_syllables_for_the_brain_learner_only():
    """Both Ebbinghaus experiments study NONSENSE_SYLLABLES (a material property): the brain learner's params get
    the material's exposure share, a learner without one keeps its params, and the calibrated learner then needs
    about Ebbinghaus's 31 readings for a fresh 16-syllable list (Memory, section 19), where it learns a list of
    ordinary items in a few passes."""
    from studygym.envs.learners.fsrs import FSRS
    fsrs_params = FSRS.default_params()
    assert R.nonsense_syllables(fsrs_params) is fsrs_params
    params = brain_preset("calibrated")
    assert float(R.nonsense_syllables(params).material_exposure_share) == pytest.approx(R.NONSENSE_SYLLABLES)
    assert float(params.material_exposure_share) == 1.0
    ctx = R.Context(BRAIN, params, skill_params(), 32, 0)
    words = ctx.cohort().to_criterion(R.at(0, 10), np.arange(16)).mean()
    syllables = ctx.cohort(params=R.nonsense_syllables(params)).to_criterion(R.at(0, 10), np.arange(16)).mean()
    assert words < 6 and 25 < syllables < 37
