"""Every file current Anki writes, built by the real Anki library, loads with every review.

The collection is made with the ``anki`` package (PyPI, the library inside the Anki app; a test
dependency only): notes are added and answered through Anki's v3 scheduler (learning, review,
relearning), cards are given a due date (a manual revlog row), studied in a filtered deck that
does not reschedule (preview rows) and one is reset to new ("Forget"). It is then exported as
modern and legacy ``.colpkg`` and ``.apkg``, and each export is loaded by studygym and compared
with the collection's own revlog table, read through the anki library.
"""

from __future__ import annotations

import time
import zipfile

import pandas as pd
import pytest

anki_collection = pytest.importorskip(
    "anki.collection", reason="the anki package (pip install studygym[test]) builds the Anki files")
from anki.import_export_pb2 import ExportAnkiPackageOptions  # noqa: E402
from anki.scheduler.v3 import CardAnswer  # noqa: E402

from studygym.fitting.anki_formats import PLACEHOLDER_TEXT, extract_collection  # noqa: E402
from studygym.fitting.data import load_anki, load_log  # noqa: E402

RATINGS = {1: CardAnswer.AGAIN, 2: CardAnswer.HARD, 3: CardAnswer.GOOD, 4: CardAnswer.EASY}


def answer_queue(col, ratings, seconds):
    """Answer the scheduler's queue with ``ratings`` in turn (cycled) until it is empty; the card's
    timer is started ``seconds`` (cycled) earlier so the revlog gets known answer times."""
    answered = 0
    while True:
        queued = col.sched.get_queued_cards()
        if not queued.cards or answered > 60:
            return answered
        top = queued.cards[0]
        card = col.get_card(top.card.id)
        card.start_timer()
        card.timer_started = time.time() - seconds[answered % len(seconds)]
        rating = RATINGS[ratings[answered % len(ratings)]]
        col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=rating))
        answered += 1


@pytest.fixture(scope="module")
def anki_files(tmp_path_factory):
    """Build one collection through Anki's scheduler; export it in every format. Returns the paths
    and the collection's revlog rows (id, cid, ease, time, type, factor) read by the anki library."""
    folder = tmp_path_factory.mktemp("anki")
    col = anki_collection.Collection(str(folder / "collection.anki2"))
    basic, deck = col.models.by_name("Basic"), col.decks.id("Default")
    for i in range(5):
        note = col.new_note(basic)
        note["Front"], note["Back"] = f"question {i}", f"answer {i}"
        col.add_note(note, deck)
    cards = list(col.find_cards(""))
    answer_queue(col, [1, 3, 4, 3, 4, 2], [1.5, 3.0, 7.25])  # new -> learning -> review
    col.sched.set_due_date(cards, "0")  # manual rows (type 4); the cards are due again today
    answer_queue(col, [1, 2, 3, 4], [2.0, 4.5])  # reviews, lapses -> relearning
    # A filtered deck that does not reschedule: preview answers are filtered rows with factor 0.
    filtered = col.sched.get_or_create_filtered_deck(deck_id=0)
    filtered.name = "cram"
    filtered.config.reschedule = False
    filtered.config.search_terms[0].search = "deck:Default"
    filtered.config.search_terms[0].limit = 2
    col.decks.select(col.sched.add_or_update_filtered_deck(filtered).id)
    answer_queue(col, [3], [1.0])
    col.sched.empty_filtered_deck(col.decks.selected())
    col.decks.select(deck)
    col.sched.schedule_cards_as_new([cards[0]])  # "Forget": a manual row with factor 0
    answer_queue(col, [3, 4], [5.0])
    revlog = col.db.all("SELECT id, cid, ease, time, type, factor FROM revlog ORDER BY cid, id")
    files = {}
    for legacy in (False, True):
        path = folder / f"deck-{'legacy' if legacy else 'modern'}.apkg"
        col.export_anki_package(out_path=str(path), limit=None, options=ExportAnkiPackageOptions(
            with_scheduling=True, with_deck_configs=True, with_media=False, legacy=legacy))
        files[("apkg", legacy)] = path
    for legacy in (False, True):
        path = folder / f"collection-{'legacy' if legacy else 'modern'}.colpkg"
        col.export_collection_package(str(path), include_media=False, legacy=legacy)  # closes col
        files[("colpkg", legacy)] = path
        col.reopen()
    col.close()
    return {"files": files, "revlog": revlog, "cards": cards, "folder": folder}


def expected_reviews(revlog) -> pd.DataFrame:
    """The reviews studygym must return, by the mapping documented in studygym.fitting.data: answered
    learning/review/relearning/filtered rows (ease > 0), not previews (type 3 with factor 0), not
    manual/rescheduled (type 4/5), and only those after a card's last reset (type 4, factor 0)."""
    last_reset = {}
    for rid, cid, ease, spent, kind, factor in revlog:
        if kind == 4 and factor == 0:
            last_reset[cid] = rid
    rows = [(cid, rid, ease, spent) for rid, cid, ease, spent, kind, factor in revlog
            if kind in (0, 1, 2, 3) and ease > 0 and not (kind == 3 and factor == 0)
            and rid > last_reset.get(cid, 0)]
    return pd.DataFrame(rows, columns=["card_id", "id", "rating", "duration_ms"])


def test_the_collection_has_every_entry_kind(anki_files):
    """The fixture really exercises learning, review, relearning, filtered previews, manual rows
    and a reset (else the comparisons below would prove little)."""
    kinds = {(kind, factor == 0) for _, _, _, _, kind, factor in anki_files["revlog"]}
    assert {0, 1, 2, 3, 4} <= {kind for kind, _ in kinds}
    assert (3, True) in kinds and (4, True) in kinds and (4, False) in kinds
    assert len(anki_files["revlog"]) > 20


@pytest.mark.parametrize("kind,legacy", [("colpkg", False), ("colpkg", True), ("apkg", False), ("apkg", True)])
def test_every_export_loads_with_every_review(anki_files, kind, legacy):
    path = anki_files["files"][(kind, legacy)]
    names = set(zipfile.ZipFile(path).namelist())
    if not legacy:  # the modern layout: zstd collection beside the placeholder
        assert {"collection.anki21b", "collection.anki2"} <= names
    else:
        assert "collection.anki21b" not in names
    log = load_log(path)
    expected = expected_reviews(anki_files["revlog"])
    assert len(log) == len(expected) > 12
    assert log["card_id"].tolist() == expected["card_id"].tolist()
    assert log["rating"].tolist() == expected["rating"].tolist()
    assert log["duration_ms"].astype(int).tolist() == expected["duration_ms"].tolist()
    assert (log["review_time"] == pd.to_datetime(expected["id"], unit="ms", utc=True)).all()
    assert set(log["rating"]) == {1, 2, 3, 4}
    assert sorted(set(log["card_id"])) == sorted(anki_files["cards"])
    assert log["duration_ms"].min() >= 1000  # the answer times the timers recorded
    member = "collection.anki21b" if not legacy else ("collection.anki21" if "collection.anki21" in names
                                                       else "collection.anki2")
    assert log.attrs["source"] == f"{path} ({member})"


def test_reset_card_restarts_its_history(anki_files):
    log = load_log(anki_files["files"][("colpkg", False)])
    reset_card = anki_files["cards"][0]
    answered = [r for r in anki_files["revlog"] if r[1] == reset_card and r[2] > 0]
    kept = log[log["card_id"] == reset_card]
    assert 0 < len(kept) < len(answered)
    assert kept["rating"].iloc[0] == 3  # the first answer after "Forget", as a new card


def test_placeholder_alone_is_an_error_naming_the_file(anki_files, tmp_path):
    modern = anki_files["files"][("colpkg", False)]
    only_placeholder = tmp_path / "stub.colpkg"
    with zipfile.ZipFile(modern) as src, zipfile.ZipFile(only_placeholder, "w") as dst:
        for name in src.namelist():
            if name != "collection.anki21b":
                dst.writestr(name, src.read(name))
    with pytest.raises(ValueError, match=r"stub\.colpkg: holds only the placeholder collection"):
        load_log(only_placeholder)
    # The placeholder is known by content, not name: renamed to collection.anki21 it is still skipped.
    renamed = tmp_path / "renamed.colpkg"
    with zipfile.ZipFile(modern) as src, zipfile.ZipFile(renamed, "w") as dst:
        dst.writestr("collection.anki21", src.read("collection.anki2"))
        dst.writestr("collection.anki2", src.read("collection.anki2"))
    with pytest.raises(ValueError, match=r"renamed\.colpkg: holds only the placeholder"):
        load_log(renamed)
    # A bare placeholder file says what it is.
    bare = tmp_path / "collection.anki2"
    bare.write_bytes(zipfile.ZipFile(modern).read("collection.anki2"))
    with pytest.raises(ValueError, match="placeholder collection") as error:
        load_anki(bare)
    assert str(bare) in str(error.value) and PLACEHOLDER_TEXT in str(error.value)


def test_bare_zstd_collection_loads(anki_files, tmp_path):
    modern = anki_files["files"][("colpkg", False)]
    bare = tmp_path / "collection.anki21b"
    bare.write_bytes(zipfile.ZipFile(modern).read("collection.anki21b"))
    assert len(load_log(bare)) == len(expected_reviews(anki_files["revlog"]))


def test_malformed_exports_name_the_file_and_the_problem(anki_files, tmp_path):
    modern = anki_files["files"][("colpkg", False)]
    data = modern.read_bytes()
    truncated = tmp_path / "truncated.colpkg"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.colpkg: not a readable zip"):
        load_log(truncated)

    compressed = zipfile.ZipFile(modern).read("collection.anki21b")
    cases = {
        "garbage.colpkg": (b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 20, "corrupt zstd"),
        "cut.colpkg": (compressed[: len(compressed) // 2], "truncated zstd"),
        "text.colpkg": (b"hello, this is not a collection", "neither zstd nor an SQLite collection"),
    }
    for name, (member, message) in cases.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("collection.anki21b", member)
        with pytest.raises(ValueError, match=message) as error:
            load_log(path)
        assert f"{path} (collection.anki21b)" in str(error.value)

    empty = tmp_path / "nothing.apkg"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("media", b"")
    with pytest.raises(ValueError, match=r"nothing\.apkg: the zip holds no Anki collection"):
        load_log(empty)


def test_nothing_is_written_next_to_the_export(anki_files, tmp_path):
    source = anki_files["files"][("colpkg", False)]
    copy = tmp_path / "mine.colpkg"
    copy.write_bytes(source.read_bytes())
    load_log(copy)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.colpkg"]
    out = tmp_path / "out"
    out.mkdir()
    collection, where = extract_collection(copy, out)
    assert collection.parent == out and where.endswith("(collection.anki21b)")
