"""Evaluation equals sed_eval called directly; scene accuracy and EER."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audioscene.audio import info
from audioscene.datasets import read_task2
from audioscene.evaluate import equal_error_rate, scene_accuracy, sed_metrics, tagging_eer
from audioscene.events import Event, EventList


def _perturb(ev: EventList, seed: int) -> EventList:
    rng = np.random.default_rng(seed)
    labels = ev.labels
    out = []
    for e in ev:
        if rng.random() < 0.15:
            continue  # deletion
        lab = labels[int(rng.integers(len(labels)))] if rng.random() < 0.1 else e.label
        on = max(0.0, e.onset + rng.normal(0, 0.15))
        out.append(replace(e, onset=on, offset=max(on + 0.05, e.offset + rng.normal(0, 0.3)),
                           label=lab))
        if rng.random() < 0.1:  # insertion
            out.append(replace(e, onset=e.onset + 3.0, offset=e.offset + 3.0))
    return EventList(out)


def test_sed_metrics_equal_sed_eval_directly(shared_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dcase_util
        import sed_eval
    dev = read_task2(shared_data, "dev")
    ref = EventList([e for it in dev for e in it.events])
    est = _perturb(ref, 0)
    durations = {it.path.name: info(it.path).duration for it in dev}
    ours = sed_metrics(ref, est, durations=durations)

    labels = dev.classes
    seg = sed_eval.sound_event.SegmentBasedMetrics(labels, time_resolution=1.0)
    on = sed_eval.sound_event.EventBasedMetrics(labels, t_collar=0.2, evaluate_offset=False)
    onoff = sed_eval.sound_event.EventBasedMetrics(labels, t_collar=0.2,
                                                   percentage_of_length=0.5)
    for it in dev:
        r = dcase_util.containers.MetaDataContainer(
            [{"filename": it.path.name, "event_label": e.label, "onset": e.onset,
              "offset": e.offset} for e in ref.filter(filename=it.path.name)])
        e = dcase_util.containers.MetaDataContainer(
            [{"filename": it.path.name, "event_label": x.label, "onset": x.onset,
              "offset": x.offset} for x in est.filter(filename=it.path.name)])
        seg.evaluate(r, e, evaluated_length_seconds=durations[it.path.name])
        on.evaluate(r, e)
        onoff.evaluate(r, e)
    for mine, theirs in ((ours.segment_based, seg), (ours.event_onset, on),
                         (ours.event_onset_offset, onoff)):
        o = theirs.results()["overall"]
        assert mine.overall.f1 == pytest.approx(o["f_measure"]["f_measure"])
        assert mine.overall.error_rate == pytest.approx(o["error_rate"]["error_rate"])
        assert mine.overall.insertion_rate == pytest.approx(o["error_rate"]["insertion_rate"])
        for lab, r in theirs.results()["class_wise"].items():
            assert mine.class_wise[lab].f1 == pytest.approx(r["f_measure"]["f_measure"])
            assert mine.class_wise[lab].error_rate == pytest.approx(r["error_rate"]["error_rate"])
    # the perturbation hurts onset+offset more than onset only, and it is far from perfect
    assert 0.3 < ours.event_onset_offset.overall.f1 < ours.event_onset.overall.f1 < 0.95
    assert "segment-based" in ours.report() and "keys" in ours.report()
    d = ours.to_dict()
    assert d["event_onset"]["overall"]["f1"] == ours.event_onset.overall.f1


def test_files_without_events_and_true_lengths() -> None:
    ref = EventList([Event(1.0, 2.0, "a", filename="x.wav")])
    est = EventList([Event(1.0, 2.0, "a", filename="x.flac"),  # matched by stem
                     Event(5.0, 6.0, "a", filename="empty.wav")])  # a file with no reference
    res = sed_metrics(ref, est, durations={"x.wav": 10.0, "empty.wav": 10.0})
    assert res.files == ["empty", "x"]
    assert res.event_onset.overall.precision == 0.5 and res.event_onset.overall.recall == 1.0
    assert res.event_onset.overall.insertion_rate == pytest.approx(1.0)
    # a class with no reference events has an undefined error rate, not a huge number
    res2 = sed_metrics(ref, est + EventList([Event(0, 1, "b", filename="x.wav")]))
    assert res2.segment_based.class_wise["b"].error_rate is None


def test_scene_accuracy() -> None:
    r = scene_accuracy(["a", "a", "b", "c"], ["a", "b", "b", "c"])
    assert r.accuracy == 0.75 and r.per_class == {"a": 0.5, "b": 1.0, "c": 1.0}
    np.testing.assert_array_equal(r.confusion, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    assert "75.0 %" in r.report()
    with pytest.raises(ValueError):
        scene_accuracy(["a"], [])


def test_equal_error_rate() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(2000), np.ones(2000)]
    s = np.r_[rng.normal(0, 1, 2000), rng.normal(2, 1, 2000)]
    # two unit Gaussians 2 apart: EER = Phi(-1) = 0.1587
    assert equal_error_rate(y, s) == pytest.approx(0.1587, abs=0.015)
    assert equal_error_rate(y, y) == 0.0
    assert equal_error_rate(y, -y) == 1.0
    assert np.isnan(equal_error_rate(np.ones(4), np.arange(4)))
    res = tagging_eer(np.c_[y, y], np.c_[s, y], ["noisy", "perfect"])
    assert res.eer["perfect"] == 0.0 and res.mean_eer == pytest.approx(res.eer["noisy"] / 2)


# ----------------------------------------------------------------------------- fast counts

_GRID = st.integers(0, 120).map(lambda k: k * 0.05)  # ties, touching events, collar edges


@st.composite
def _event_lists(draw: st.DrawFn) -> tuple[EventList, EventList]:
    files = draw(st.integers(1, 4))
    labels = "abc"

    def one() -> list[Event]:
        out = []
        for _ in range(draw(st.integers(0, 25))):
            on = draw(_GRID)
            length = draw(st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5]))
            out.append(Event(on, on + length, draw(st.sampled_from(labels)),
                             filename=f"f{draw(st.integers(0, files - 1))}.wav"))
        return out

    return EventList(one()), EventList(one())


def _sed_eval_direct(ref: EventList, est: EventList, labels: list[str],
                     lengths: dict[str, float]) -> dict:
    """sed_eval run file by file, as its documentation shows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dcase_util
        import sed_eval
    seg = sed_eval.sound_event.SegmentBasedMetrics(labels, time_resolution=1.0)
    on = sed_eval.sound_event.EventBasedMetrics(labels, t_collar=0.2, evaluate_offset=False)
    onoff = sed_eval.sound_event.EventBasedMetrics(labels, t_collar=0.2,
                                                   percentage_of_length=0.5)
    for f, length in sorted(lengths.items()):
        def dicts(ev: EventList, f: str = f) -> dcase_util.containers.MetaDataContainer:
            return dcase_util.containers.MetaDataContainer(
                [{"filename": f, "event_label": e.label, "onset": e.onset,
                  "offset": e.offset} for e in ev.filter(filename=f)])
        seg.evaluate(dicts(ref), dicts(est), evaluated_length_seconds=length)
        on.evaluate(dicts(ref), dicts(est))
        onoff.evaluate(dicts(ref), dicts(est))
    return {"segment_based": seg, "event_onset": on, "event_onset_offset": onoff}


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k])
                                                                    for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b  # the same counts through sed_eval's own formulas: exactly equal


@settings(max_examples=150, deadline=None)
@given(_event_lists())
def test_fast_counts_equal_sed_eval(lists: tuple[EventList, EventList]) -> None:
    ref, est = lists
    labels = ["a", "b", "c"]
    files = sorted(set(ref.filenames) | set(est.filenames)) or ["f0.wav"]
    lengths = {f: 8.0 for f in files}
    theirs = _sed_eval_direct(ref, est, labels, lengths)
    ours = sed_metrics(ref, est, labels=labels, durations=lengths)
    assert ours.files == sorted(Path(f).stem for f in files)
    for kind, metric in theirs.items():
        mine = ours.raw[kind]
        for k, v in mine.overall.items():  # every count, Nsubs included
            assert v == metric.overall[k], (kind, k)
        for lab in labels:
            for k, v in mine.class_wise[lab].items():
                assert v == metric.class_wise[lab][k], (kind, lab, k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert _same(mine.results(), metric.results())  # every rate


def test_fast_counts_many_events_one_file() -> None:
    rng = np.random.default_rng(5)
    n = 1500
    on = np.round(rng.uniform(0, 600, n), 2)
    ref = EventList(Event(float(o), float(o + rng.exponential(1.5)), str(rng.integers(4)),
                          filename="long.wav") for o in on)
    est = EventList(Event(max(0.0, e.onset + float(rng.normal(0, 0.12))),
                          e.offset + abs(float(rng.normal(0, 0.4))) + 0.3,
                          e.label if rng.random() < 0.9 else "0", filename="long.wav")
                    for e in ref if rng.random() < 0.85)
    labels = ["0", "1", "2", "3"]
    theirs = _sed_eval_direct(ref, est, labels, {"long.wav": 620.0})
    ours = sed_metrics(ref, est, labels=labels, durations={"long.wav": 620.0})
    for kind, metric in theirs.items():
        assert ours.raw[kind].overall == {k: metric.overall[k] for k in ours.raw[kind].overall}
        for lab in labels:
            mine = ours.raw[kind].class_wise[lab]
            assert mine == {k: metric.class_wise[lab][k] for k in mine}, (kind, lab)
    assert 0 < ours.event_onset.overall.substitution_rate < 0.2
    ref_impl = sed_metrics(ref, est, labels=labels, durations={"long.wav": 620.0},
                           impl="sed_eval")
    assert ref_impl.to_dict() == ours.to_dict()


def test_per_file_and_bootstrap() -> None:
    ref = EventList([Event(1.0, 2.0, "a", filename="x.wav"), Event(3.0, 4.0, "a", filename="y.wav")])
    est = EventList([Event(1.0, 2.0, "a", filename="x.wav"), Event(7.0, 8.0, "a", filename="y.wav")])
    res = sed_metrics(ref, est, durations={"x.wav": 10.0, "y.wav": 10.0})
    rows = {r["file"]: r for r in res.per_file()}
    assert rows["x"]["onset_f1"] == 1.0 and rows["y"]["onset_f1"] == 0.0
    assert rows["y"]["onset_er"] == pytest.approx(2.0)
    ci = res.bootstrap(200, seed=3)
    assert ci == res.bootstrap(200, seed=3)  # seeded
    lo, hi = ci["onset"]["f1"]
    assert lo == 0.0 and hi == 1.0  # draws of only y, and of only x
    with pytest.raises(ValueError):
        res.bootstrap(0)


# ----------------------------------------------------------------------------- CLI


def _table(path: Path, classes: list[str], active: dict[str, list[tuple[float, float]]],
           length: float = 10.0, hop: float = 0.1) -> None:
    t = np.round(np.arange(0, length + hop / 2, hop), 6)
    rows = ["onset\toffset\t" + "\t".join(classes)]
    for a, b in zip(t[:-1], t[1:]):
        mid = (a + b) / 2
        vals = [0.9 if any(on <= mid < off for on, off in active.get(c, [])) else 0.1
                for c in classes]
        rows.append(f"{a:.3f}\t{b:.3f}\t" + "\t".join(f"{v:.4f}" for v in vals))
    path.write_text("\n".join(rows) + "\n")


def test_evaluate_cli_event_lists(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from audioscene.cli import main

    (tmp_path / "ref").mkdir()
    (tmp_path / "est").mkdir()
    (tmp_path / "ref" / "a.txt").write_text("1.0\t2.0\tdog\n5.0\t6.0\tcat\n")
    (tmp_path / "ref" / "b.txt").write_text("3.0\t4.0\tdog\n")
    (tmp_path / "est" / "a.txt").write_text("1.1\t2.1\tdog\n")
    (tmp_path / "est" / "b.txt").write_text("3.0\t4.0\tdog\n8.0\t9.0\tcat\n")
    js = tmp_path / "m.json"
    assert main(["evaluate", "--ref", str(tmp_path / "ref"), "--est", str(tmp_path / "est"),
                 "--json", str(js), "--per-file", str(tmp_path / "pf.tsv"),
                 "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    assert "2 files" in out and "bootstrap intervals over 2 files" in out
    doc = json.loads(js.read_text())
    assert doc["event_onset"]["overall"]["f1"] == pytest.approx(2 / 3)
    assert set(doc["bootstrap"]["intervals"]) == {"segment", "onset", "onset+offset"}
    lines = (tmp_path / "pf.tsv").read_text().splitlines()
    assert lines[0].startswith("file\tn_ref\tn_sys") and len(lines) == 3
    assert lines[1].split("\t")[:3] == ["a", "2", "1"]
    # the reference implementation gives the same document
    assert main(["evaluate", "--ref", str(tmp_path / "ref"), "--est", str(tmp_path / "est"),
                 "--json", str(tmp_path / "r.json"), "--reference-impl"]) == 0
    ref_doc = json.loads((tmp_path / "r.json").read_text())
    doc.pop("bootstrap")
    assert ref_doc == doc
    # pairs from a list
    (tmp_path / "pairs.tsv").write_text("ref/a.txt\test/a.txt\n# comment\nref/b.txt\test/b.txt\n")
    assert main(["evaluate", "--pairs", str(tmp_path / "pairs.tsv"), "--json",
                 str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text()) == doc


def test_evaluate_cli_single_files_are_one_recording(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    from audioscene.cli import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "rec.txt").write_text("1.0\t2.0\tdog\n")  # no file-name column
    (tmp_path / "b" / "rec.txt").write_text("rec.wav\t1.0\t2.0\tdog\n")
    assert main(["evaluate", "--ref", str(tmp_path / "a" / "rec.txt"), "--est",
                 str(tmp_path / "b" / "rec.txt"), "--json", str(tmp_path / "m.json")]) == 0
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["files"] == ["rec"] and doc["event_onset"]["overall"]["f1"] == 1.0


def test_evaluate_cli_scores(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from audioscene.cli import main

    (tmp_path / "ref").mkdir()
    (tmp_path / "sc").mkdir()
    (tmp_path / "ref" / "a.txt").write_text("1.0\t2.0\tdog\n5.0\t6.0\tcat\n")
    (tmp_path / "ref" / "b.txt").write_text("3.0\t4.0\tdog\n")
    # 20 minutes of audio: one false alarm is 3 per hour, well under PSDS's 100
    _table(tmp_path / "sc" / "a.scores.tsv", ["cat", "dog"],
           {"dog": [(1.0, 2.0)], "cat": [(5.0, 6.0), (8.0, 9.0)]}, length=600.0)
    _table(tmp_path / "sc" / "b.scores.tsv", ["cat", "dog"], {"dog": [(3.0, 4.0)]},
           length=600.0)
    js = tmp_path / "m.json"
    assert main(["evaluate", "--ref", str(tmp_path / "ref"), "--scores", str(tmp_path / "sc"),
                 "--threshold", "0.5", "--plots", str(tmp_path / "plots"),
                 "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "PSDS1" in out and "PSDS2" in out
    doc = json.loads(js.read_text())
    assert doc["intersection_best"]["dog"]["f1"] == 1.0
    assert doc["intersection_at"]["cat"]["precision"] == 0.5  # one false alarm of two
    assert doc["psds1"] > 0.9 and doc["files"] == ["a", "b"]
    assert doc["params"]["durations"] == {"a": 600.0, "b": 600.0}
    # the same values as sed_scores_eval's own entry points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sed_scores_eval as sse
    from audioscene.evaluate.scores import read_score_tables

    tables = read_score_tables(tmp_path / "sc")
    gt = {"a": [(1.0, 2.0, "dog"), (5.0, 6.0, "cat")], "b": [(3.0, 4.0, "dog")]}
    f, p, r, thr, _ = sse.collar_based.best_fscore(tables, gt, onset_collar=0.2,
                                                   offset_collar=0.2, offset_collar_rate=0.5)
    assert doc["collar_best"]["cat"] == {"f1": f["cat"], "precision": p["cat"],
                                         "recall": r["cat"], "threshold": thr["cat"]}
    f, p, r, _ = sse.intersection_based.fscore(tables, gt, 0.5, dtc_threshold=0.5,
                                               gtc_threshold=0.5)
    assert doc["intersection_at"]["macro"]["f1"] == f["macro_average"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "pr_collar.png", "pr_intersection.png", "psd_roc_1.png", "psd_roc_2.png"]


@pytest.mark.parametrize("case", ["missing", "columns", "empty_ref", "json_dir", "both"])
def test_evaluate_cli_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture,
                                 case: str) -> None:
    from audioscene.cli import main

    (tmp_path / "ref").mkdir()
    (tmp_path / "sc").mkdir()
    (tmp_path / "ref" / "a.txt").write_text("1.0\t2.0\tdog\n")
    (tmp_path / "ref" / "b.txt").write_text("3.0\t4.0\tdog\n")
    _table(tmp_path / "sc" / "a.scores.tsv", ["dog"], {"dog": [(1.0, 2.0)]})
    args = ["evaluate", "--ref", str(tmp_path / "ref"), "--scores", str(tmp_path / "sc")]
    expect = "no score table for reference recording 'b'"
    if case == "columns":
        _table(tmp_path / "sc" / "b.scores.tsv", ["cat"], {})
        expect = "b.scores.tsv: class columns ['cat'] differ from ['dog']"
    elif case == "empty_ref":
        _table(tmp_path / "sc" / "b.scores.tsv", ["dog"], {})
        for f in ("a.txt", "b.txt"):
            (tmp_path / "ref" / f).write_text("")
        expect = "the reference has no events"
    elif case == "json_dir":
        args += ["--json", str(tmp_path)]
        expect = "is a folder, not a file"
    elif case == "both":
        args += ["--est", str(tmp_path / "ref")]
        expect = "either --est"
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code in (1, 2) and len(err) == 1 and expect in err[0], err
    assert "Traceback" not in err[0]


def test_evaluate_cli_bad_list_in_a_folder_is_left_out(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    from audioscene.cli import main

    for d in ("ref", "est"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "a.txt").write_text("1.0\t2.0\tdog\n")
        (tmp_path / d / "b.txt").write_text("3.0\t4.0\tdog\n")
    (tmp_path / "est" / "b.txt").write_text("3.0\t4.0\tdog\n5.0\tfive\tcat\n")
    code = main(["evaluate", "--ref", str(tmp_path / "ref"), "--est", str(tmp_path / "est"),
                 "--json", str(tmp_path / "m.json")])
    out, err = capsys.readouterr()
    errors = [x for x in err.splitlines() if x.startswith("audioscene: error:")]
    assert code == 1 and len(errors) == 1
    assert "est/b.txt:2:" in errors[0] and "recording 'b' left out" in errors[0]
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["files"] == ["a"] and doc["event_onset"]["overall"]["f1"] == 1.0
    # Audacity label files (b.labels.txt): the recording is 'b', left out on both sides
    for d in ("ref2", "est2"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "a.labels.txt").write_text("1.0\t2.0\tdog\n")
        (tmp_path / d / "b.labels.txt").write_text("3.0\t4.0\tdog\n")
    (tmp_path / "ref2" / "b.labels.txt").write_text("3.0\tfour\tdog\n")
    code = main(["evaluate", "--ref", str(tmp_path / "ref2"), "--est", str(tmp_path / "est2"),
                 "--json", str(tmp_path / "m2.json")])
    err = capsys.readouterr().err
    assert code == 1 and "recording 'b' left out" in err
    doc = json.loads((tmp_path / "m2.json").read_text())
    assert doc["files"] == ["a"] and doc["event_onset"]["overall"]["precision"] == 1.0
    # an event without a label is named with its line
    (tmp_path / "one.txt").write_text("1.0\t2.0\tdog\n3.0\t4.0\n")
    code = main(["evaluate", "--ref", str(tmp_path / "one.txt"), "--est",
                 str(tmp_path / "ref" / "a.txt")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "one.txt:2: an event without a label" in err[0]


@settings(max_examples=60, deadline=None)
@given(_event_lists())
def test_offset_only_counts_equal_sed_eval(lists: tuple[EventList, EventList]) -> None:
    from audioscene.evaluate.counts import event_counts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dcase_util
        import sed_eval
    ref, est = lists
    labels = ["a", "b", "c"]
    for f in sorted(set(ref.filenames) | set(est.filenames)):
        def tuples(ev: EventList, f: str = f) -> list:
            return [(e.onset, e.offset, e.label) for e in ev.filter(filename=f)]

        m = sed_eval.sound_event.EventBasedMetrics(labels, evaluate_onset=False,
                                                   evaluate_offset=True, t_collar=0.2)
        m.evaluate(*(dcase_util.containers.MetaDataContainer(
            [{"filename": f, "onset": a, "offset": b, "event_label": c} for a, b, c in t])
            for t in (tuples(ref), tuples(est))))
        overall, class_wise = event_counts(tuples(ref), tuples(est), labels,
                                           evaluate_onset=False)
        assert overall == {k: m.overall[k] for k in overall}
        for lab in labels:
            assert class_wise[lab] == {k: m.class_wise[lab][k] for k in class_wise[lab]}


@pytest.mark.parametrize("label", ["none", " dog", "None", ""])
def test_labels_sed_eval_would_rewrite_are_refused(label: str) -> None:
    ref = EventList([Event(1.0, 2.0, label or None, filename="a")]) if label else \
        EventList([Event(1.0, 2.0, "x", filename="a")])
    with pytest.raises(ValueError, match="cannot be evaluated|needs a label"):
        sed_metrics(ref, ref, labels=[label] if label else ["x", ""])
