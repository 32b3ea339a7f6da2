"""scripts/calibrate_brain.py never overwrites an existing fit record unless asked (--force)."""

import json

import pandas as pd
import pytest

from conftest import load_script

CALIBRATE = load_script("calibrate_brain")


def _stub_rows(experiments, ctx):
    """A cheap stand-in for the replications (the overwrite rule does not depend on them)."""
    return pd.DataFrame(dict(experiment=[e.name for e in experiments], condition="c", measure="m", paper=0.5,
                             paper_low=0.4, paper_high=0.6, model=0.55, within=True, citation="x"))


def test_an_existing_record_is_refused_without_force_and_named(tmp_path, capsys):
    """Refused before any replication runs (no stand-in needed: the check comes first)."""
    record = tmp_path / "calibration.json"
    record.write_text('{"kept": true}')
    with pytest.raises(SystemExit) as exit_info:
        CALIBRATE.main(["--out", str(tmp_path), "--minutes", "0", "--learners", "2"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(record) in err and "--force" in err
    assert json.loads(record.read_text()) == {"kept": True}


def test_force_replaces_the_record_and_a_new_name_needs_no_force(tmp_path, monkeypatch):
    monkeypatch.setattr(CALIBRATE, "run_experiments", _stub_rows)
    record = tmp_path / "calibration.json"
    record.write_text('{"kept": true}')
    assert CALIBRATE.main(["--out", str(tmp_path), "--minutes", "0", "--learners", "2", "--force"]) == 0
    assert "values" in json.loads(record.read_text())
    assert CALIBRATE.main(["--out", str(tmp_path), "--minutes", "0", "--learners", "2", "--record", "new.json"]) == 0
    assert "values" in json.loads((tmp_path / "new.json").read_text())
