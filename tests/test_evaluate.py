"""Evaluation equals sed_eval called directly; scene accuracy and EER."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

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
