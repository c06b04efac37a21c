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
    ev = EVENTS if fmt in ("csv", "json", "dcase", "raven") else \
        EVENTS.filter(filename="a.wav").with_filename(None)
    p = tmp_path / f"events.{ 'json' if fmt == 'json' else 'csv' if fmt == 'csv' else 'txt'}"
    ev.write(p, format=fmt)
    back = EventList.read(p, format=fmt)
    if fmt in ("dcase", "audacity"):  # no confidence column in these
        ev = EventList(Event(e.onset, e.offset, e.label, None, e.filename) for e in ev)
    assert back == ev
    if fmt in ("csv", "json", "raven"):
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


# ----------------------------------------------------------------------------- Raven

RAVEN_HEAD = ("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\t"
              "High Freq (Hz)")


def test_raven_round_trip_is_exact(tmp_path: Path) -> None:
    p = tmp_path / "rec.selections.txt"
    EVENTS.write(p, high_freq=11025)
    lines = p.read_text().splitlines()
    assert lines[0] == RAVEN_HEAD + "\tAnnotation\tBegin File\tFile Offset (s)\tConfidence"
    # list order, numbered from 1; times and confidences as the text that reads back
    assert lines[1].split("\t") == ["1", "Spectrogram 1", "1", "0.5", "1.51", "0", "11025",
                                    "knock", "a.wav", "0.5", "0.9"]
    assert lines[4].split("\t")[:5] == ["4", "Spectrogram 1", "1", repr(1 / 3), repr(2 / 3)]
    assert len(lines) == 1 + len(EVENTS)
    back = EventList.read(p)  # format guessed from the name
    assert back == EVENTS
    assert [e.confidence for e in back] == [e.confidence for e in EVENTS]
    # without file names or confidences: the eight standard columns only
    bare = EventList([Event(0.25, 1.0, "wren"), Event(2.0, 2.5, None)])
    text = bare.to_text(format="raven")
    assert text.splitlines()[0] == RAVEN_HEAD + "\tAnnotation"
    assert text.splitlines()[1].split("\t")[-2:] == ["22050", "wren"]
    assert EventList.from_text(text, format="raven") == bare
    with pytest.raises(ValueError, match="high_freq"):
        bare.to_text(format="raven", high_freq=0)


def test_raven_two_views_extra_columns_and_label_column(tmp_path: Path) -> None:
    p = tmp_path / "night.txt"  # a plain .txt: recognised by its header
    p.write_text(
        "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\t"
        "High Freq (Hz)\tDelta Time (s)\tSpecies\tCall Type\tNotes\n"
        "1\tWaveform 1\t1\t1.250000\t2.000000\t0\t11025\t0.75\tWREN\tsong\tclose\n"
        "1\tSpectrogram 1\t1\t1.250000\t2.000000\t900\t8000\t0.75\tWREN\tsong\tclose\n"
        "2\tWaveform 1\t1\t0.100000\t0.400000\t0\t11025\t0.3\tROBI\tcall\t\n"
        "2\tSpectrogram 1\t1\t0.100000\t0.400000\t2000\t6000\t0.3\tROBI\tcall\t\n"
        "3\tSpectrogram 1\t1\t5.5\t6.0\t1000\t3000\t0.5\t\tcall\n"  # short row, no species
        "4\tSpectrogram 1\t1\t7\t8\t0\t0\t1\tWREN\tcall\t\t\t\n")  # empty fields after
    want = EventList([Event(0.1, 0.4, "ROBI"), Event(1.25, 2.0, "WREN"), Event(5.5, 6.0),
                      Event(7.0, 8.0, "WREN")])
    assert EventList.read(p) == want  # Species: the first common label column present
    by_type = EventList.read(p, label_column="call type")  # any case
    assert [(e.onset, e.label) for e in by_type] == [(0.1, "call"), (1.25, "song"),
                                                     (5.5, "call"), (7.0, "call")]
    # Annotation wins over Species; Begin File names the recording
    q = tmp_path / "b.selections.txt"
    q.write_text("Selection\tView\tBegin Time (s)\tEnd Time (s)\tSpecies\tAnnotation\t"
                 "Begin File\n1\tSpectrogram 1\t3\t4\tWREN\twren song\trec 7.wav\n")
    assert list(EventList.read(q)) == [Event(3.0, 4.0, "wren song", None, "rec 7.wav")]
    # a table of a file sequence: File Offset (s) is the time within Begin File
    r = tmp_path / "seq.selections.txt"
    r.write_text("Selection\tView\tBegin Time (s)\tEnd Time (s)\tBegin File\t"
                 "File Offset (s)\tAnnotation\n"
                 "1\tSpectrogram 1\t61.5\t62.5\tb.wav\t1.5\tx\n")
    assert list(EventList.read(r)) == [Event(1.5, 2.5, "x", None, "b.wav")]
    with pytest.raises(ValueError, match="label_column applies to the 'raven' format"):
        EventList.from_text("1\t2\tdog\n", label_column="Species")


@pytest.mark.parametrize("body,line,what", [
    ("Selection\tView\tBegin Time\tEnd Time\n1\tS\t1\t2\n", 1,
     "header row needs 'Begin Time \\(s\\)' and 'End Time \\(s\\)' columns"),
    ("\n" + RAVEN_HEAD + "\n1\tS\t1\t0.5\t2.0\t0\t0\n2\tS\t1\tabc\t2.0\t0\t0\n", 4,
     "Begin Time \\(s\\) is not a number: 'abc'"),
    (RAVEN_HEAD + "\n1\tS\t1\t3.0\t2.0\t0\t0\n", 2, "onset <= offset"),
    (RAVEN_HEAD + "\n1\tS\t1\t1.0\t2.0\t0\t0\t9\n", 2, "8 fields for 7 header columns"),
    (RAVEN_HEAD + "\nx\tS\t1\t1.0\t2.0\t0\t0\n", 2, "Selection is not a whole number"),
    (RAVEN_HEAD + "\n1\tWaveform 1\t1\t1.0\t2.0\t0\t0\n1\tSpectrogram 1\t1\t1.0\t2.5\t0\t0\n",
     3, "selection 1 differs from its row on line 2"),
])
def test_raven_errors_name_the_line(tmp_path: Path, body: str, line: int, what: str) -> None:
    p = tmp_path / "bad.selections.txt"
    p.write_text(body)
    with pytest.raises(EventFormatError, match=rf"bad\.selections\.txt:{line}: .*{what}"):
        EventList.read(p)
    q = tmp_path / "t.selections.txt"
    q.write_text(RAVEN_HEAD + "\tAnnotation\n")
    assert len(EventList.read(q)) == 0  # a header without rows: no events
    with pytest.raises(EventFormatError, match=r"t\.selections\.txt:1: no label column "
                                               r"'Species'"):
        EventList.read(q, label_column="Species")


def test_guess_format_by_name_and_by_raven_header(tmp_path: Path) -> None:
    from audioscene.events import event_list_stem, guess_format

    assert [guess_format(n) for n in ("a.json", "a.csv", "a.labels.txt", "a.lab",
                                      "a.Selections.TXT", "missing.txt")] == \
        ["json", "csv", "audacity", "audacity", "raven", "dcase"]
    raven, dcase = tmp_path / "r.txt", tmp_path / "d.tsv"
    raven.write_text("\ufeff" + RAVEN_HEAD + "\n", encoding="utf-8")  # with a BOM
    dcase.write_text("onset\toffset\tevent_label\n1\t2\tBegin Time (s)\n")
    assert (guess_format(raven), guess_format(dcase)) == ("raven", "dcase")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    assert guess_format(tmp_path / "bin.txt") == "dcase"
    assert guess_format(tmp_path) == "dcase"  # a folder: no content to look at
    # writing goes by the name alone, not by what the destination held before
    EventList([Event(0, 1, "a")]).write(raven)
    assert raven.read_text() == "0.0\t1.0\ta\n"
    assert [event_list_stem(n) for n in ("x/rec.selections.txt", "rec.labels.txt", "rec.txt",
                                         ".selections.txt")] == \
        ["rec", "rec", "rec", ".selections"]


def test_read_annotated_reads_raven_annotations(tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    from audioscene.datasets.readers import DatasetError, read_annotated

    base = tmp_path / "mix"
    (base / "sound").mkdir(parents=True)
    (base / "annotation").mkdir()
    for stem in ("r1", "r2"):
        sf.write(base / "sound" / f"{stem}.wav", np.zeros(1600, np.float32), 16000)
    EventList([Event(0.5, 1.0, "dog", 0.75), Event(0.25, 0.5, "cat")]).write(
        base / "annotation" / "r1.selections.txt")
    (base / "annotation" / "r2.txt").write_text(  # a Raven table named .txt, two views
        RAVEN_HEAD + "\tAnnotation\n1\tWaveform 1\t1\t0.1\t0.2\t0\t0\tbird\n"
        "1\tSpectrogram 1\t1\t0.1\t0.2\t0\t0\tbird\n")
    ds = read_annotated(base)
    assert [it.recording for it in ds.items] == ["r1", "r2"]
    assert [it.path.name for it in ds.items] == ["r1.wav", "r2.wav"]
    assert list(ds.items[0].events) == [Event(0.25, 0.5, "cat", None, "r1.wav"),
                                        Event(0.5, 1.0, "dog", None, "r1.wav")]
    assert list(ds.items[1].events) == [Event(0.1, 0.2, "bird", None, "r2.wav")]
    assert ds.classes == ["bird", "cat", "dog"]
    (base / "annotation" / "r2.txt").write_text(RAVEN_HEAD + "\tAnnotation\n1\tS\t1\t2\t1\n")
    with pytest.raises(DatasetError, match=r"r2\.txt:2: .*onset <= offset"):
        read_annotated(base)
    (base / "annotation" / "r1.txt").write_text("0.1\t0.2\tdog\n")
    with pytest.raises(DatasetError, match=r"r1\.txt: a second annotation of 'r1'"):
        read_annotated(base)


def test_evaluate_with_a_raven_reference(tmp_path: Path, capsys: pytest.CaptureFixture
                                         ) -> None:
    import json

    from audioscene.cli import main

    ref_events = EventList([Event(1.0, 2.0, "dog"), Event(4.0, 5.5, "bird"),
                            Event(7.0, 8.0, "dog")])
    ref = tmp_path / "ref" / "rec1.selections.txt"
    ref.parent.mkdir()
    # as Raven writes it: a waveform and a spectrogram row per selection
    rows = [RAVEN_HEAD + "\tAnnotation"]
    for i, e in enumerate(ref_events, 1):
        for view in ("Waveform 1", "Spectrogram 1"):
            rows.append(f"{i}\t{view}\t1\t{e.onset}\t{e.offset}\t0\t22050\t{e.label}")
    ref.write_text("\n".join(rows) + "\n")
    est = tmp_path / "est" / "rec1.txt"
    EventList([Event(1.05, 2.0, "dog"), Event(4.0, 5.5, "bird")]).write(est)
    out = tmp_path / "m.json"
    # two files, a folder each: the recording is 'rec1' on both sides
    for r, e in ((ref, est), (ref.parent, est.parent)):
        assert main(["evaluate", "--ref", str(r), "--est", str(e), "--json", str(out)]) == 0
        d = json.loads(out.read_text())
        assert d["files"] == ["rec1"]
        onset = d["event_onset"]
        # one event per selection: 2 dogs and 1 bird, not a copy per view
        assert [onset["class_wise"][c]["n_ref"] for c in ("bird", "dog")] == [1, 2]
        assert onset["overall"]["precision"] == 1.0
        assert onset["overall"]["recall"] == pytest.approx(2 / 3)
    # and in a --pairs file, keyed by the reference's recording
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"{ref}\t{est}\n")
    assert main(["evaluate", "--pairs", str(pairs), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["files"] == ["rec1"]
    # an unlabelled Raven row is named by its line
    bad = tmp_path / "bad.selections.txt"
    bad.write_text(RAVEN_HEAD + "\tAnnotation\n1\tS\t1\t1\t2\t0\t0\tdog\n2\tS\t1\t3\t4\t0\t0\t\n")
    capsys.readouterr()
    assert main(["evaluate", "--ref", str(bad), "--est", str(est)]) == 1
    assert "bad.selections.txt:3: an event without a label" in capsys.readouterr().err


def test_detect_writes_raven_tables_as_selections_txt(tmp_path: Path) -> None:
    from audioscene.cli import build_parser
    from audioscene.detect.batch import EXTENSIONS, plan_jobs

    assert set(EXTENSIONS) == set(FORMATS)
    jobs, refused = plan_jobs([str(tmp_path / "a.wav"), str(tmp_path / "b.flac")],
                              output=str(tmp_path / "out"), fmt="raven", scores=True)
    assert [(Path(j.events_out).name, Path(j.scores_out).name) for j in jobs] == \
        [("a.selections.txt", "a.scores.tsv"), ("b.selections.txt", "b.scores.tsv")]
    assert refused == []
    args = build_parser().parse_args(["detect", "a.wav", "--model", "m", "--format", "raven"])
    assert args.format == "raven"


# ----------------------------------------------------------------------------- fuzz

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FIELD = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.integers(-5, 10**6).map(str), st.sampled_from(["dog", "", "a b", "é", "-"]),
                   st.text(alphabet="0123456789.,;-eE\t abc", max_size=8))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(_FIELD, min_size=0, max_size=6), max_size=8),
       delim=st.sampled_from(["\t", ",", ";", " "]),
       fmt=st.sampled_from(["dcase", "csv", "audacity", "json", "raven"]))
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
       st.sampled_from(["dcase", "csv", "json", "raven"]))
def test_written_lists_read_back_identically(items: list, fmt: str) -> None:
    ev = EventList(Event(on, on + d, lab, conf, f"{name}.wav") for on, d, lab, name, conf in items)
    back = EventList.from_text(ev.to_text(format=fmt), format=fmt)
    key = (lambda e: (e.filename, e.onset, e.offset, e.label)) if fmt == "dcase" else \
        (lambda e: (e.filename, e.onset, e.offset, e.label, e.confidence))
    assert [key(e) for e in back] == [key(e) for e in ev]


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.sampled_from(["1", "2", "0.5", "-1", "x", "", "nan",
                                                "Spectrogram 1", "1e400"]),
                              min_size=0, max_size=9), max_size=6))
def test_raven_reader_accepts_or_names_the_line(rows: list[list[str]]) -> None:
    text = "\n".join([RAVEN_HEAD + "\tAnnotation", *("\t".join(r) for r in rows)])
    try:
        ev = EventList.from_text(text, format="raven", source="f.txt")
    except EventFormatError as exc:
        assert str(exc).startswith("f.txt:")
    else:
        assert len(ev) <= len(rows)
