"""Event lists: every reader and writer round-trips; sed_eval reads what we write."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from audioscene.events import FORMATS, Event, EventFormatError, EventList

EVENTS = EventList([
    Event(0.5, 1.51, "knock", 0.9, "a.wav"),
    Event(6.1, 7.19, "knock", None, "a.wav"),
    Event(6.0, 6.529, "laughter", 0.25, "a.wav"),
    Event(12.0, 12.69, "object rustling", None, "b.wav"),  # a label with a space
    Event(1.0 / 3.0, 2.0 / 3.0, "cough", 1e-7, "b.wav"),
])


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(tmp_path: Path, fmt: str) -> None:
    ev = EVENTS if fmt in ("csv", "json", "dcase") else EVENTS.filter(filename="a.wav") \
        .with_filename(None)
    p = tmp_path / f"events.{ 'json' if fmt == 'json' else 'csv' if fmt == 'csv' else 'txt'}"
    ev.write(p, format=fmt)
    back = EventList.read(p, format=fmt)
    if fmt in ("dcase", "audacity"):  # no confidence column in these
        ev = EventList(Event(e.onset, e.offset, e.label, None, e.filename) for e in ev)
    assert back == ev
    if fmt in ("csv", "json"):
        assert [e.confidence for e in back] == [e.confidence for e in ev]


@pytest.mark.parametrize("delim", ["\t", ",", ";"])
@pytest.mark.parametrize("header", [False, True])
def test_every_sed_eval_variant(tmp_path: Path, delim: str, header: bool) -> None:
    variants = {
        2: (["onset", "offset"], ["1.0", "2.5"], Event(1.0, 2.5)),
        3: (["onset", "offset", "event_label"], ["1.0", "2.5", "dog"], Event(1.0, 2.5, "dog")),
        4: (["filename", "onset", "offset", "event_label"], ["x.wav", "1", "2.5", "dog"],
            Event(1.0, 2.5, "dog", None, "x.wav")),
        5: (["filename", "scene_label", "onset", "offset", "event_label"],
            ["x.wav", "home", "1", "2.5", "dog"], Event(1.0, 2.5, "dog", None, "x.wav")),
    }
    for k, (cols, row, expected) in variants.items():
        p = tmp_path / f"v{k}.txt"
        text = (delim.join(cols) + "\n" if header else "") + delim.join(row) + "\n"
        p.write_text(text)
        assert list(EventList.read(p)) == [expected], (k, delim, header)


def test_header_by_column_name_in_any_order(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("event_label,offset,confidence,onset,file\ndog,2.5,0.7,1.0,x.wav\n")
    (e,) = EventList.read(p, format="dcase")
    assert (e.onset, e.offset, e.label, e.confidence, e.filename) == (1.0, 2.5, "dog", 0.7,
                                                                       "x.wav")


def test_five_columns_with_confidence(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_text("x.wav\t1.0\t2.0\tdog\t0.8\n")
    (e,) = EventList.read(p)
    assert e.confidence == 0.8 and e.filename == "x.wav"


def test_audacity_skips_frequency_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.labels.txt"
    p.write_text("1.0\t2.0\tdog\n\\\t100.0\t2000.0\n3.0\t3.5\tcat\n")
    assert [e.label for e in EventList.read(p)] == ["dog", "cat"]


@pytest.mark.parametrize("text,line,what", [
    ("1.0\t2.0\tdog\nabc\tdef\tcat\n", 2, "cannot read 3 fields"),
    ("1.0\t2.0\tdog\n\n3.0\t1.0\tcat\n", 3, "onset <= offset"),
    ("1.0\t2.0\tdog\t1\t2\t3\n", 1, "2 to 5 fields"),
    ("onset\toffset\tevent_label\n1.0\tx\tdog\n", 2, "offset is not a number"),
])
def test_malformed_line_names_file_and_line(tmp_path: Path, text: str, line: int,
                                            what: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(EventFormatError, match=rf"bad\.txt:{line}: .*{what}"):
        EventList.read(p)


def test_malformed_json_and_csv(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"events": [{"onset": 1}]}')
    with pytest.raises(EventFormatError, match=r"bad\.json: event 0"):
        EventList.read(p)
    q = tmp_path / "bad.csv"
    q.write_text("1.0,2.0,dog\n")
    with pytest.raises(EventFormatError, match=r"bad\.csv:1: expected a header"):
        EventList.read(q)


def test_sed_eval_reads_what_we_write(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sed_eval
    p = tmp_path / "est.txt"
    EVENTS.write(p, format="dcase")
    loaded = sed_eval.io.load_event_list(str(p))
    got = sorted((d["filename"], d["onset"], d["offset"], d["event_label"]) for d in loaded)
    want = sorted((e.filename, e.onset, e.offset, e.label) for e in EVENTS)
    assert got == [(f, pytest.approx(a), pytest.approx(b), lab) for f, a, b, lab in want]


def test_write_is_atomic(tmp_path: Path) -> None:
    from audioscene.io_utils import atomic_open

    p = tmp_path / "out.txt"
    EVENTS.write(p)
    before = p.read_text()
    with pytest.raises(RuntimeError, match="disk full"), atomic_open(p) as f:
        f.write("half a line")
        raise RuntimeError("disk full")
    assert p.read_text() == before  # the old file is untouched, no partial file remains
    assert [q.name for q in tmp_path.iterdir()] == ["out.txt"]
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # the usual mode, not mkstemp's 0600


def test_event_validation_and_queries() -> None:
    with pytest.raises(ValueError):
        Event(2.0, 1.0, "x")
    with pytest.raises(ValueError):
        Event(float("nan"), 1.0, "x")
    assert EVENTS.labels == ["cough", "knock", "laughter", "object rustling"]
    assert EVENTS.filenames == ["a.wav", "b.wav"]
    assert len(EVENTS.by_file()["a.wav"]) == 3
    assert EVENTS[0].filename == "a.wav" and EVENTS[0].onset == 0.5


def test_atomic_write_removes_stale_parts_of_its_destination(tmp_path: Path) -> None:
    import os
    import time

    from audioscene.io_utils import atomic_write_text

    stale = tmp_path / ".out.txt.k1ll3d00.part"  # what a killed writer leaves
    stale.write_text("half")
    other = tmp_path / ".other.txt.abcd1234.part"  # another destination's: kept
    other.write_text("half")
    old = time.time() - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write_text(tmp_path / "out.txt", "done\n")
    assert (tmp_path / "out.txt").read_text() == "done\n"
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.txt.abcd1234.part",
                                                          "out.txt"]


# ----------------------------------------------------------------------------- fuzz

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FIELD = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.integers(-5, 10**6).map(str), st.sampled_from(["dog", "", "a b", "é", "-"]),
                   st.text(alphabet="0123456789.,;-eE\t abc", max_size=8))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(_FIELD, min_size=0, max_size=6), max_size=8),
       delim=st.sampled_from(["\t", ",", ";", " "]),
       fmt=st.sampled_from(["dcase", "csv", "audacity", "json"]))
def test_readers_accept_or_name_the_line(rows: list[list[str]], delim: str, fmt: str) -> None:
    text = "\n".join(delim.join(r) for r in rows)
    try:
        ev = EventList.from_text(text, format=fmt, source="f.txt")
    except EventFormatError as exc:
        assert str(exc).startswith("f.txt")  # one message naming the source
    else:
        assert isinstance(ev, EventList)  # read, or the one error above: nothing else


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 100), _NAME, _NAME,
                          st.one_of(st.none(), st.floats(0, 1))), max_size=20),
       st.sampled_from(["dcase", "csv", "json"]))
def test_written_lists_read_back_identically(items: list, fmt: str) -> None:
    ev = EventList(Event(on, on + d, lab, conf, f"{name}.wav") for on, d, lab, name, conf in items)
    back = EventList.from_text(ev.to_text(format=fmt), format=fmt)
    key = (lambda e: (e.filename, e.onset, e.offset, e.label)) if fmt == "dcase" else \
        (lambda e: (e.filename, e.onset, e.offset, e.label, e.confidence))
    assert [key(e) for e in back] == [key(e) for e in ev]
