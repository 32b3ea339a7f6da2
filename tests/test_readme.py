"""The README's generated sections are current and it shows the two commands at the top."""

from pathlib import Path

import pytest
from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def test_two_commands_at_the_top():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head


README = (ROOT / "README.md").read_text()
UPDATER = load_script("update_readme")


def test_every_generator_has_its_section_in_the_readme():
    marked = UPDATER.marked_sections(README)
    assert sorted(set(UPDATER.SECTIONS) - set(marked)) == [], "a generated section is missing from README.md"
    assert sorted(set(marked) - set(UPDATER.SECTIONS)) == [], "README.md marks a section with no generator"
    assert len(marked) == len(set(marked)), "a section is marked twice"


@pytest.mark.parametrize("name", sorted(UPDATER.SECTIONS))
def test_generated_section_is_current(name):
    body = UPDATER.current_body(README, name)
    assert body is not None, f"README.md has no <!-- BEGIN {name} --> ... <!-- END {name} --> section"
    assert body == UPDATER.SECTIONS[name](), f"README section {name!r} is stale: run scripts/update_readme.py"


def test_render_rejects_a_section_without_a_generator():
    with pytest.raises(ValueError, match="no-such-section"):
        UPDATER.render("<!-- BEGIN no-such-section -->\nx\n<!-- END no-such-section -->\n")


def test_render_only_regenerates_the_named_sections(monkeypatch):
    monkeypatch.setitem(UPDATER.SECTIONS, "agents", lambda: "new agents")
    monkeypatch.setitem(UPDATER.SECTIONS, "throughput", lambda: "new throughput")
    text = ("<!-- BEGIN agents -->\nold agents\n<!-- END agents -->\n"
            "<!-- BEGIN throughput -->\nold throughput\n<!-- END throughput -->\n")
    out = UPDATER.render(text, only=["agents"])
    assert "new agents" in out and "old throughput" in out and "old agents" not in out
    with pytest.raises(ValueError, match="papers-sspmmc"):
        UPDATER.render(text, only=["papers-sspmmc"])
