"""Review-log loading: py-fsrs CSVs, Anki exports built here with sqlite3 + zipfile, bad input."""

import hashlib
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from studygym.fitting.data import CSV_COLUMNS, REVIEW_COLUMNS, builtin_log, load_anki, load_csv, load_log

HEADER = ",".join(CSV_COLUMNS)


def write_csv(tmp_path: Path, lines: list[str], name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# -- py-fsrs CSV ---------------------------------------------------------------------------------


def test_csv_is_tidy_sorted_and_utc(tmp_path):
    path = write_csv(tmp_path, [
        HEADER,
        "7,3,2024-03-02T10:00:00+02:00,5000",  # 08:00 UTC
        "5,1,2024-03-01T09:00:00Z,",  # duration unknown
        "7,4,2024-03-01T09:00:00,1200",  # naive: taken as UTC
        "5,2,1709370000000,800",  # ms since epoch: 2024-03-02T09:00:00Z
    ])
    log = load_csv(path)
    assert list(log.columns) == list(REVIEW_COLUMNS)
    assert str(log["review_time"].dt.tz) == "UTC"
    assert log["card_id"].tolist() == ["5", "5", "7", "7"]  # CSV ids stay text
    assert log["rating"].tolist() == [1, 2, 4, 3]
    times = log["review_time"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert times == ["2024-03-01 09:00", "2024-03-02 09:00", "2024-03-01 09:00", "2024-03-02 08:00"]
    assert pd.isna(log["duration_ms"].iloc[0]) and log["duration_ms"].iloc[1] == 800
    assert log.attrs["source"] == str(path)


def test_csv_columns_in_any_order_and_extra_columns(tmp_path):
    path = write_csv(tmp_path, ["review_time,deck,review_duration,review_rating,card_id",
                                "2024-01-01T00:00:00+00:00,x,10,3,1"])
    log = load_log(path)
    assert log[["card_id", "rating"]].values.tolist() == [["1", 3]]


@pytest.mark.parametrize("lines, match", [
    ([HEADER.replace(",review_time", "")], r"line 1: missing column\(s\) review_time"),
    ([HEADER, "1,3,2024-01-01T00:00:00+00:00,10", "1,x,2024-01-02T00:00:00+00:00,10"],
     r"line 3: review_rating must be an integer in 1..4, got 'x'"),
    ([HEADER, "1,5,2024-01-01T00:00:00+00:00,10"], r"line 2: review_rating must be an integer in 1..4, got 5"),
    ([HEADER, "1,0,2024-01-01T00:00:00+00:00,10"], r"line 2: review_rating must be an integer in 1..4, got 0"),
    ([HEADER, "1,2.5,2024-01-01T00:00:00+00:00,10"], r"line 2: review_rating must be an integer"),
    ([HEADER, "1,3,yesterday,10"], r"line 2: review_time must be an ISO 8601 time.*'yesterday'"),
    ([HEADER, "1,3,2024-13-45T00:00:00,10"], r"line 2: review_time"),
    ([HEADER, "1,3,,10"], r"line 2: review_time"),
    ([HEADER, "1,3,2024-01-01T00:00:00+00:00,-5"], r"line 2: review_duration must be >= 0 ms, got -5"),
    ([HEADER, "1,3,2024-01-01T00:00:00+00:00,fast"], r"line 2: review_duration must be a non-negative"),
    ([HEADER, "1,3"], r"line 2: 2 field\(s\), expected 4"),
    ([HEADER, ",3,2024-01-01T00:00:00+00:00,10"], r"line 2: card_id is empty"),
    ([HEADER], r"no reviews after the header"),
])
def test_bad_csv_names_file_and_line(tmp_path, lines, match):
    path = write_csv(tmp_path, lines, name="bad.csv")
    with pytest.raises(ValueError, match=match) as error:
        load_csv(path)
    assert "bad.csv" in str(error.value)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"empty\.csv: empty file"):
        load_log(path)


def test_non_utf8_csv(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "\n1,3,2024-01-01T00:00:00,5\n\xe9t\xe9,3,2024-01-02T00:00:00,5\n").encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv: not UTF-8 text"):
        load_csv(path)


def test_missing_file_and_builtin_dispatch(tmp_path):
    with pytest.raises(ValueError, match="nope.csv: no such file"):
        load_log(tmp_path / "nope.csv")
    assert load_log("builtin").attrs["source"] == "builtin"


def test_builtin_log_matches_its_documentation():
    log = builtin_log()
    assert len(log) == 12_580 and log["card_id"].nunique() == 1_205
    assert log["review_time"].min().date().isoformat() == "2024-03-29"
    assert log["review_time"].max().date().isoformat() == "2024-10-06"
    assert set(log["rating"].unique()) <= {1, 2, 3, 4}
    # sorted by card, then time
    assert log.equals(log.sort_values(["card_id", "review_time"], kind="stable").reset_index(drop=True))


def test_builtin_log_ships_with_its_licence():
    from importlib import resources

    files = resources.files("studygym.datasets")
    notice = files.joinpath("NOTICE").read_text()
    assert "MIT License" in notice and "Copyright (c) 2022 Open Spaced Repetition" in notice
    data = files.joinpath("py-fsrs_review_logs_josh_1711744352250_to_1728234780857.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() in notice


# -- Anki collections ----------------------------------------------------------------------------

REVLOG_SCHEMA = """CREATE TABLE revlog (
    id integer primary key, cid integer not null, usn integer not null, ease integer not null,
    ivl integer not null, lastIvl integer not null, factor integer not null, time integer not null,
    type integer not null)"""
DAY_MS = 86_400_000
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def make_collection(path: Path, rows) -> Path:
    """An SQLite file with Anki's revlog schema; rows are (id, cid, ease, factor, time_ms, type)."""
    connection = sqlite3.connect(path)
    connection.execute(REVLOG_SCHEMA)
    connection.executemany("INSERT INTO revlog VALUES (?, ?, 0, ?, 1, 0, ?, ?, ?)", rows)
    connection.commit()
    connection.close()
    return path


def make_export(tmp_path: Path, rows, name="deck.colpkg", inner="collection.anki2", stub=False) -> Path:
    collection = make_collection(tmp_path / f"{name}.sqlite", rows)
    export = tmp_path / name
    with zipfile.ZipFile(export, "w") as archive:
        archive.write(collection, inner)
        if stub:  # newer exports: a stub collection.anki2 for old clients beside collection.anki21
            archive.write(make_collection(tmp_path / "stub.sqlite", []), "collection.anki2")
        archive.writestr("media", "{}")
    collection.unlink()
    return export


ROWS = [
    # id, cid, ease, factor, time_ms, type
    (T0, 11, 3, 2500, 8000, 0),
    (T0 + 60_000, 11, 3, 2500, 4000, 0),
    (T0 + 2 * DAY_MS, 11, 1, 2300, 9000, 1),
    (T0 + 2 * DAY_MS + 1, 11, 0, 2300, 0, 4),  # manual "set due date": not a review
    (T0 + 3 * DAY_MS, 11, 4, 2300, 3000, 2),
    (T0 + 1000, 22, 2, 2500, 5000, 0),
    (T0 + 4 * DAY_MS, 22, 0, 2500, 0, 3),  # filtered deck without an answer (ease 0)
    (T0 + 4 * DAY_MS + 5, 22, 3, 0, 1500, 3),  # filtered-deck preview (factor 0): not a memory test
    (T0 + 5 * DAY_MS, 22, 3, 2500, 2000, 3),  # filtered deck, answered and rescheduled: a review
    (T0 + 6 * DAY_MS, 22, 2, 2500, 2500, 5),  # rescheduled: not a review
]


def tree_state(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def test_colpkg_revlog_becomes_tidy_reviews(tmp_path):
    export = make_export(tmp_path, ROWS)
    before = tree_state(tmp_path)
    log = load_log(export)
    assert tree_state(tmp_path) == before  # nothing written beside (or into) the user's file
    assert list(log.columns) == list(REVIEW_COLUMNS)
    assert log["card_id"].tolist() == [11, 11, 11, 11, 22, 22]
    assert log["rating"].tolist() == [3, 3, 1, 4, 2, 3]
    assert log["duration_ms"].tolist() == [8000, 4000, 9000, 3000, 5000, 2000]
    assert log["review_time"].iloc[0] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert log["review_time"].iloc[3] == pd.Timestamp(T0 + 3 * DAY_MS, unit="ms", tz="UTC")


def test_apkg_prefers_anki21_over_the_stub(tmp_path):
    export = make_export(tmp_path, ROWS, name="deck.apkg", inner="collection.anki21", stub=True)
    log = load_anki(export)
    assert len(log) == 6


def test_forget_restarts_a_cards_history(tmp_path):
    rows = ROWS + [(T0 + 7 * DAY_MS, 11, 0, 0, 0, 4),  # "Forget": reset to new (manual, factor 0)
                   (T0 + 8 * DAY_MS, 11, 2, 1, 7000, 0)]
    log = load_log(make_export(tmp_path, rows))
    card = log[log["card_id"] == 11]
    assert card["rating"].tolist() == [2]
    assert len(log[log["card_id"] == 22]) == 2


def test_bare_collection_is_read_without_touching_it(tmp_path):
    collection = make_collection(tmp_path / "collection.anki2", ROWS)
    before = tree_state(tmp_path)
    log = load_log(collection)
    assert len(log) == 6 and tree_state(tmp_path) == before


@pytest.mark.parametrize("bad_row, match", [
    ((T0 + 50, 33, 7, 2500, 100, 1), rf"row id {T0 + 50}: ease must be in 0..4, got 7"),
    ((T0 + 51, 33, 3, 2500, -100, 1), rf"row id {T0 + 51}: time must be >= 0 ms, got -100"),
    ((T0 + 52, 33, 3, 2500, 100, 9), rf"row id {T0 + 52}: type must be in 0..5, got 9"),
    ((1234, 33, 3, 2500, 100, 1), r"row id 1234: id is not a millisecond timestamp"),
])
def test_bad_revlog_row_names_file_and_row_id(tmp_path, bad_row, match):
    export = make_export(tmp_path, ROWS + [bad_row], name="bad.colpkg")
    with pytest.raises(ValueError, match=match) as error:
        load_log(export)
    assert "bad.colpkg" in str(error.value)


def test_zip_without_collection(tmp_path):
    export = tmp_path / "photos.apkg"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("media", "{}")
    with pytest.raises(ValueError, match=r"photos\.apkg: the zip holds no Anki collection"):
        load_log(export)


def test_zstd_member_cut_short_names_file_and_member(tmp_path):
    # Modern exports are read (tests/test_anki_formats.py); a zstd stream that stops is an error.
    export = tmp_path / "new.colpkg"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("collection.anki21b", b"\x28\xb5\x2f\xfd")
    with pytest.raises(ValueError, match=r"new\.colpkg \(collection\.anki21b\): truncated zstd"):
        load_log(export)


def test_collection_without_revlog_or_reviews(tmp_path):
    no_table = tmp_path / "other.apkg"
    sqlite_file = tmp_path / "x.sqlite"
    connection = sqlite3.connect(sqlite_file)
    connection.execute("CREATE TABLE notes (id integer)")
    connection.commit()
    connection.close()
    with zipfile.ZipFile(no_table, "w") as archive:
        archive.write(sqlite_file, "collection.anki2")
    with pytest.raises(ValueError, match=r"other\.apkg \(collection\.anki2\): no revlog table"):
        load_log(no_table)
    empty = make_export(tmp_path, [], name="empty.colpkg")
    with pytest.raises(ValueError, match=r"empty\.colpkg.*revlog table is empty"):
        load_log(empty)
    unanswered = make_export(tmp_path, [(T0, 1, 0, 0, 0, 4)], name="manual.colpkg")
    with pytest.raises(ValueError, match=r"manual\.colpkg.*no answered reviews"):
        load_log(unanswered)


def test_corrupt_collection(tmp_path):
    export = tmp_path / "corrupt.colpkg"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("collection.anki2", b"not sqlite at all" * 100)
    with pytest.raises(ValueError, match=r"corrupt\.colpkg"):
        load_log(export)
    junk = tmp_path / "junk.anki2"
    junk.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"junk\.anki2: neither a zip"):
        load_log(junk)
