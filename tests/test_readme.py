"""The README's generated sections are current and it shows the two commands at the top."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_updater():
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts" / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_commands_at_the_top():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head


def test_env_table_is_current():
    readme = (ROOT / "README.md").read_text()
    table = load_updater().env_table()
    assert table in readme, "README env table is stale: run scripts/update_readme.py"
