"""studygym.markdown: the one helper that writes markdown tables (scripts/*.py use it)."""

import pytest

from studygym.markdown import markdown_table, table_lines


def test_a_table_is_header_separator_and_rows():
    text = markdown_table(["policy", "return", "n"], [["fsrs", 0.91, 3], ["random", 0.78, 12]],
                          right=[False, True, True])
    assert text == ("| policy | return | n |\n"
                    "|---|---:|---:|\n"
                    "| fsrs | 0.91 | 3 |\n"
                    "| random | 0.78 | 12 |")


def test_default_alignment_is_left_and_cells_are_str():
    lines = table_lines(("a", "b"), iter([(None, True), ("x|y", 1.5)]))
    assert lines == ["| a | b |", "|---|---|", "| None | True |", "| x|y | 1.5 |"]


def test_a_header_alone_is_a_table_without_rows():
    assert markdown_table(["only"], []) == "| only |\n|---|"


def test_ragged_rows_and_alignment_are_rejected_naming_the_row():
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2 columns"):
        markdown_table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="right has 1 entries for 2 columns"):
        markdown_table(["a", "b"], [], right=[True])
