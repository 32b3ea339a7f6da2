"""Real review logs: load py-fsrs CSVs and Anki exports into one tidy table.

Every loader returns a pandas DataFrame with one row per review, sorted by card then time:

============  ==========================  ==================================================
column        dtype                       meaning
============  ==========================  ==================================================
card_id       object (str) / int64        the card: a CSV's id text as written (``01`` and ``1``
                                          are two cards); an Anki card id (int64)
review_time   datetime64[ns, UTC]         when it was reviewed
rating        int64                       1 Again, 2 Hard, 3 Good, 4 Easy
duration_ms   Int64 (nullable)            time spent answering, milliseconds (<NA> unknown)
============  ==========================  ==================================================

Sources:

- **py-fsrs CSV** (``card_id,review_rating,review_time,review_duration``), the format of the logs in
  py-fsrs's test suite. ``review_time`` is ISO 8601 (a naive time is taken as UTC; an 8-digit
  ``YYYYMMDD`` is ISO 8601's compact date, not milliseconds) or integer milliseconds since the epoch,
  between 2006 and 2200 (:data:`EARLIEST_REVIEW`, :data:`LATEST_REVIEW`); ``review_duration`` may be
  empty (unknown), else milliseconds up to :data:`MAX_DURATION_MS`. Card ids stay the text written.
- **Anki exports** ``.colpkg`` / ``.apkg`` in every format current Anki writes: modern (Anki >= 2.1.50,
  the default: ``collection.anki21b``, zstd-compressed SQLite, beside a *placeholder*
  ``collection.anki2``) and legacy ("Support older Anki versions": ``collection.anki21``; Anki 2.0:
  ``collection.anki2``), and bare ``.anki2``/``.anki21``/``.anki21b`` collection files. The newest
  member is used and the placeholder is recognised by its content and skipped
  (:mod:`studygym.fitting.anki_formats`). The collection's ``revlog`` table has one row per answer: ``id``
  (ms timestamp), ``cid`` (card), ``ease`` (the button, 1-4; 0 = none), ``time`` (ms spent),
  ``factor`` and ``type`` (Anki's ``RevlogReviewKind``, ``rslib/src/revlog/mod.rs``: 0 learning,
  1 review, 2 relearning, 3 filtered (cram), 4 manual, 5 rescheduled). The mapping is the one
  Anki's FSRS applies before handing reviews to fsrs-rs (``reviews_for_fsrs`` in
  ``rslib/src/scheduler/fsrs/params.rs``): learning, review and relearning answers are kept, with
  ``ease`` as the rating; filtered-deck answers are kept unless they are previews that do not
  reschedule (``factor`` 0, Anki's ``RevlogEntry::is_cramming``); manual and rescheduled rows
  (set due date, FSRS reschedule) and rows with ``ease`` 0 are not memory tests and are dropped;
  and a card's history restarts after it was reset to new ("Forget": a manual row with
  ``factor`` 0, Anki's ``RevlogEntry::is_reset``). The archive is extracted to a
  temporary folder and the collection opened read-only there; nothing is written next to the
  user's file. A bare ``.anki2``/``.anki21`` collection is copied to a temporary folder first.
- ``builtin``: the real log shipped with studygym (:func:`builtin_log`).

Malformed input raises ``ValueError`` naming the file and the CSV line (1 = header) or the revlog
row id.
"""

from __future__ import annotations

import csv
import sqlite3
import tempfile
import zipfile
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pandas as pd

from studygym.fitting.anki_formats import COLLECTION_MEMBERS, extract_collection

#: Columns of the tidy review table returned by every loader.
REVIEW_COLUMNS = ("card_id", "review_time", "rating", "duration_ms")
#: Columns a py-fsrs review-log CSV must have.
CSV_COLUMNS = ("card_id", "review_rating", "review_time", "review_duration")
#: The real log shipped with the package (py-fsrs test data, MIT licence; see datasets/NOTICE).
BUILTIN_LOG = "py-fsrs_review_logs_josh_1711744352250_to_1728234780857.csv"
#: Collection files inside an Anki export, preferred first (see :mod:`studygym.fitting.anki_formats`).
ANKI_COLLECTIONS = COLLECTION_MEMBERS
#: revlog.type values that are not answers: 4 manual (set due date, forget), 5 rescheduled.
ANKI_MANUAL_TYPES = (4, 5)
ANKI_SUFFIXES = (".colpkg", ".apkg", ".anki2", ".anki21", ".anki21b")
#: Timestamps before Anki existed are corrupt rows (fsrs-optimizer drops years < 2006 too).
EARLIEST_REVIEW = pd.Timestamp("2006-01-01", tz="UTC")
#: Timestamps after this are corrupt rows too (and pandas' nanosecond times end in 2262).
LATEST_REVIEW = pd.Timestamp("2200-01-01", tz="UTC")
#: Longest answer time accepted (a day, in ms; Anki caps an answer at 9,999 s): longer is a corrupt row.
MAX_DURATION_MS = 86_400_000


# ----------------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------------


def load_log(source: str | Path) -> pd.DataFrame:
    """Load a review log: a py-fsrs CSV, an Anki ``.colpkg``/``.apkg`` export, or ``"builtin"``."""
    if str(source) == "builtin":
        return builtin_log()
    path = Path(source)
    if not path.exists():
        raise ValueError(f"{path}: no such file (expected a .csv review log, an Anki .colpkg/.apkg, "
                         f"or 'builtin')")
    if not path.is_file():
        raise ValueError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix in ANKI_SUFFIXES:
        return load_anki(path)
    if suffix == ".csv":
        return load_csv(path)
    if zipfile.is_zipfile(path):  # an export renamed by the user
        return load_anki(path)
    return load_csv(path)


def builtin_log() -> pd.DataFrame:
    """The real review log shipped with studygym: 12,580 Anki reviews of 1,205 cards by one learner
    (2024-03-29 to 2024-10-06), from py-fsrs's test suite (MIT licence, Copyright (c) 2022 Open
    Spaced Repetition)."""
    resource = resources.files("studygym.datasets").joinpath(BUILTIN_LOG)
    with resources.as_file(resource) as path:
        log = load_csv(path)
    log.attrs["source"] = "builtin"
    return log


# ----------------------------------------------------------------------------------------------
# py-fsrs CSV
# ----------------------------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    """ISO 8601 (naive = UTC; 8 digits ``YYYYMMDD`` is the compact date) or integer milliseconds
    since the epoch -> aware UTC datetime in [2006, 2200) (else ``ValueError`` saying why)."""
    text = text.strip()
    if not text:
        raise ValueError("empty")
    if text.lstrip("-").isdigit() and not (len(text) == 8 and text.isdigit()):
        if len(text.lstrip("-")) > 16:  # beyond any millisecond time pandas can hold
            raise ValueError("out of range")
        stamp = datetime.fromtimestamp(int(text) / 1000.0, tz=timezone.utc)
    else:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        stamp = stamp.astimezone(timezone.utc)
    if not EARLIEST_REVIEW <= pd.Timestamp(stamp) < LATEST_REVIEW:
        raise ValueError(f"{stamp.isoformat()} is outside {EARLIEST_REVIEW.year}..{LATEST_REVIEW.year - 1}")
    return stamp


def parse_rating(text: str) -> int:
    try:
        rating = int(text.strip())
    except ValueError:
        raise ValueError(f"review_rating must be an integer in 1..4, got {text!r}") from None
    if not 1 <= rating <= 4:
        raise ValueError(f"review_rating must be an integer in 1..4, got {rating}")
    return rating


def read_csv_rows(reader, path: Path) -> tuple[list, list, list, list]:
    """Parse and check the rows of a py-fsrs CSV; errors name the file and the line."""
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ValueError(f"{path}: empty file (expected a header {','.join(CSV_COLUMNS)} and reviews)")
    header = [cell.strip() for cell in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                         f"expected {','.join(CSV_COLUMNS)}, got {','.join(header)}")
    column = {name: header.index(name) for name in CSV_COLUMNS}
    card_ids, times, ratings, durations = [], [], [], []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line (e.g. a trailing newline)
        if len(row) < len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} field(s), expected {len(header)} "
                             f"({','.join(header)})")
        card_id = row[column["card_id"]].strip()
        if not card_id:
            raise ValueError(f"{path}, line {line}: card_id is empty")
        try:
            rating = parse_rating(row[column["review_rating"]])
        except ValueError as error:
            raise ValueError(f"{path}, line {line}: {error}") from None
        try:
            stamp = parse_time(row[column["review_time"]])
        except (ValueError, OverflowError, OSError) as error:
            raise ValueError(f"{path}, line {line}: review_time must be an ISO 8601 time or integer "
                             f"milliseconds since 1970, between {EARLIEST_REVIEW.year} and "
                             f"{LATEST_REVIEW.year - 1}, got {row[column['review_time']]!r} ({error})") from None
        duration_text = row[column["review_duration"]].strip()
        if duration_text in ("", "None", "NA", "nan"):
            duration = None
        else:
            try:
                duration = int(float(duration_text))
            except (ValueError, OverflowError):
                raise ValueError(f"{path}, line {line}: review_duration must be a non-negative "
                                 f"number of milliseconds, got {duration_text!r}") from None
            if duration < 0:
                raise ValueError(f"{path}, line {line}: review_duration must be >= 0 ms, got {duration}")
            if duration > MAX_DURATION_MS:
                raise ValueError(f"{path}, line {line}: review_duration must be at most {MAX_DURATION_MS} ms "
                                 f"(a day), got {duration_text}")
        card_ids.append(card_id)
        times.append(stamp)
        ratings.append(rating)
        durations.append(duration)
    return card_ids, times, ratings, durations


def load_csv(path: str | Path) -> pd.DataFrame:
    """Load a py-fsrs review-log CSV (``card_id,review_rating,review_time,review_duration``)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            card_ids, times, ratings, durations = read_csv_rows(csv.reader(handle), path)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise ValueError(f"{path}: malformed CSV: {error}") from None
    if not card_ids:
        raise ValueError(f"{path}: no reviews after the header line")
    log = tidy(card_ids, times, ratings, durations)
    log.attrs["source"] = str(path)
    return log


def tidy(card_ids, times, ratings, durations) -> pd.DataFrame:
    """Assemble the tidy review table, sorted by card then time (ties keep file order). Card ids
    keep their type: strings stay strings (``"01"`` and ``"1"`` are two cards), ints are int64."""
    if all(isinstance(c, str) for c in card_ids):
        ids = pd.Series(card_ids, dtype=object)
    else:
        ids = pd.Series(card_ids, dtype="int64")
    log = pd.DataFrame({
        "card_id": ids,
        "review_time": pd.to_datetime(pd.Series(times), utc=True).astype("datetime64[ns, UTC]"),
        "rating": pd.Series(ratings, dtype="int64"),
        "duration_ms": pd.array(durations, dtype="Int64"),
    })
    log = log.sort_values(["card_id", "review_time"], kind="stable").reset_index(drop=True)
    return log


# ----------------------------------------------------------------------------------------------
# Anki collections
# ----------------------------------------------------------------------------------------------


def load_anki(path: str | Path) -> pd.DataFrame:
    """Load the review log of an Anki export (``.colpkg``/``.apkg``) or a bare collection file."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="studygym-anki-") as tmp:
        collection, where = extract_collection(path, tmp)  # newest member first, placeholder skipped
        return read_revlog(collection, where)


def read_revlog(collection: Path, where: str) -> pd.DataFrame:
    """Read and clean the ``revlog`` table of a (temporary copy of an) Anki collection."""
    try:
        connection = sqlite3.connect(f"file:{collection}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ValueError(f"{where}: cannot open the collection: {error}") from None
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(revlog)")}
        if not columns:
            raise ValueError(f"{where}: no revlog table (not an Anki collection?)")
        needed = ("id", "cid", "ease", "factor", "time", "type")
        missing = [c for c in needed if c not in columns]
        if missing:
            raise ValueError(f"{where}: revlog lacks column(s) {', '.join(missing)}")
        rows = connection.execute("SELECT id, cid, ease, factor, time, type FROM revlog ORDER BY cid, id").fetchall()
    except sqlite3.DatabaseError as error:
        raise ValueError(f"{where}: not a readable SQLite collection: {error}") from None
    finally:
        connection.close()
    if not rows:
        raise ValueError(f"{where}: the revlog table is empty (no reviews)")

    card_ids, times, ratings, durations = [], [], [], []
    reset_after: dict[int, int] = {}  # card -> id of its last "Forget" (reset to new)
    for review_id, card_id, ease, ease_factor, spent_ms, kind in rows:
        for name, value in (("id", review_id), ("cid", card_id), ("ease", ease), ("type", kind)):
            if not isinstance(value, int):
                raise ValueError(f"{where}: revlog row id {review_id}: {name} must be an integer, got {value!r}")
        if kind in ANKI_MANUAL_TYPES:
            if kind == 4 and ease_factor == 0:
                reset_after[card_id] = review_id
            continue
        if not 0 <= kind <= 5:
            raise ValueError(f"{where}: revlog row id {review_id}: type must be in 0..5, got {kind}")
        if not 0 <= ease <= 4:
            raise ValueError(f"{where}: revlog row id {review_id}: ease must be in 0..4, got {ease}")
        if ease == 0 or (kind == 3 and ease_factor == 0):
            continue  # no answer, or a filtered-deck preview that does not reschedule: not a memory test
        if isinstance(spent_ms, bool) or not isinstance(spent_ms, (int, float)) or not spent_ms >= 0:
            raise ValueError(f"{where}: revlog row id {review_id}: time must be >= 0 ms, got {spent_ms!r}")
        if spent_ms > MAX_DURATION_MS:
            raise ValueError(f"{where}: revlog row id {review_id}: time must be at most {MAX_DURATION_MS} ms "
                             f"(a day), got {spent_ms!r}")
        earliest_ms, latest_ms = (int(t.value // 1_000_000) for t in (EARLIEST_REVIEW, LATEST_REVIEW))
        if not earliest_ms <= review_id < latest_ms:
            raise ValueError(f"{where}: revlog row id {review_id}: id is not a millisecond timestamp "
                             f"between {EARLIEST_REVIEW.year} and {LATEST_REVIEW.year - 1}")
        stamp = pd.Timestamp(review_id, unit="ms", tz="UTC")
        card_ids.append(card_id)
        times.append(stamp)
        ratings.append(ease)
        durations.append(int(spent_ms))
    if not card_ids:
        raise ValueError(f"{where}: the revlog holds no answered reviews (only manual or ease-0 rows)")
    log = tidy(card_ids, times, ratings, durations)
    if reset_after:
        reset_time = log["card_id"].map(
            {card: pd.Timestamp(rid, unit="ms", tz="UTC") for card, rid in reset_after.items()})
        log = log[reset_time.isna() | (log["review_time"] > reset_time)].reset_index(drop=True)
        if log.empty:
            raise ValueError(f"{where}: every card was reset after its last review; no history left")
    log.attrs["source"] = where
    return log
