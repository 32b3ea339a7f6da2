"""Markdown tables, as every script and report of the package writes them (GitHub's pipe tables).

One header row, one separator row (``---``, or ``---:`` for a right-aligned column), then one row
per entry; each cell is ``str(value)``, separated by ``" | "`` inside ``"| "`` and ``" |"``::

    >>> print(markdown_table(["policy", "return"], [["fsrs", 0.91], ["random", 0.78]], right=[False, True]))
    | policy | return |
    |---|---:|
    | fsrs | 0.91 |
    | random | 0.78 |
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence


def table_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]], right: Sequence[bool] | None = None) -> list[str]:
    """The table's lines (no newlines): header, separator, rows. ``right``: per column, whether it is
    right-aligned (numbers); default none. A row with another number of cells than the header raises
    ``ValueError`` naming the row."""
    header = [str(h) for h in header]
    if right is None:
        right = [False] * len(header)
    if len(right) != len(header):
        raise ValueError(f"right has {len(right)} entries for {len(header)} columns")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    for i, row in enumerate(rows):
        cells = [str(v) for v in row]
        if len(cells) != len(header):
            raise ValueError(f"row {i} has {len(cells)} cells for {len(header)} columns: {cells}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]], right: Sequence[bool] | None = None) -> str:
    """The table as one string, lines joined by newlines (no trailing newline)."""
    return "\n".join(table_lines(header, rows, right))


__all__ = ["markdown_table", "table_lines"]
