"""Source-disjoint folds of the task 2 recipe: what each fold's training and tuning
actually read (a spy on the synthesis), never what the recipe reports about itself."""

from __future__ import annotations

from pathlib import Path

import pytest

import audioscene.audio
import audioscene.datasets.synth as synth
import audioscene.recipes.task2 as task2
from audioscene.datasets.readers import task2_label
from audioscene.datasets.synth import script_scene, source_files
from audioscene.recipes import load_config
from audioscene.recipes.task2 import recording_folds


def test_recording_folds_are_contiguous_and_balanced() -> None:
    files = {"a": [Path(f"a{i:03d}.wav") for i in range(16)],
             "b": [Path(f"b{i:03d}.wav") for i in range(5)]}
    f = recording_folds(files, 4)
    assert f["a"] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert f["b"] == [0, 0, 1, 2, 3]
    with pytest.raises(ValueError, match="fewer than 6 folds"):
        recording_folds(files, 6)


def test_script_scene_has_the_official_statistics(shared_data: Path) -> None:
    root = shared_data / "dcase2016_task2" / "dcase2016_task2_train"
    files = source_files(root)
    src = {c: [audioscene.audio.load(p, sr=22050)[0] for p in ps[:2]] for c, ps in files.items()}
    bg = audioscene.audio.load(sorted((shared_data / "backgrounds").glob("*.wav"))[0],
                               sr=22050)[0]
    for nec, poly in ((3, 0), (2, 1)):
        s = script_scene(src, bg, sr=22050, duration=120.0, events_per_class=nec,
                         ebr_db=-6.0, polyphony=poly, rng=nec)
        assert len(s.audio) == 120 * 22050
        labels = [e.label for e in s.events]
        assert sorted(labels) == sorted(c for c in files for _ in range(nec))
        ev = sorted(s.events, key=lambda e: e.onset)
        # most events active at once: 1 without polyphony, at most 2 with it
        most = max(sum(1 for o in ev if o.onset <= e.onset < o.offset) for e in ev)
        assert most == 1 if poly == 0 else most <= 2


def _spy_synthesis(monkeypatch: pytest.MonkeyPatch, recipe: object
                   ) -> tuple[dict[int, str], list[tuple[str, set[int], int]]]:
    """Spies on what a recipe module's mixtures are rendered from. Returns ``loaded``
    (id of every array read from a file -> the file's name) and ``log`` (per rendered
    mixture: "train" for random_scene mixtures, training and validation, or "test" for
    script_scene ones; the ids of its event arrays; the id of its background)."""
    loaded: dict[int, str] = {}
    log: list[tuple[str, set[int], int]] = []
    phase = ["?"]

    def remember(real):  # noqa: ANN001, ANN202
        def spy(path, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
            y, sr = real(path, *a, **k)
            loaded[id(y)] = Path(path).name
            return y, sr
        return spy

    def in_phase(name, real):  # noqa: ANN001, ANN202
        def spy(*a, **k):  # noqa: ANN002, ANN003, ANN202
            phase[0] = name
            return real(*a, **k)
        return spy

    real_render = synth.render

    def spy_render(background, events, **k):  # noqa: ANN001, ANN003, ANN202
        log.append((phase[0], {id(e.audio) for e in events}, id(background)))
        return real_render(background, events, **k)

    kept: list = []  # altered copies stay alive, so their ids are never reused

    def alter(real):  # noqa: ANN001, ANN202
        def spy(x, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
            y = real(x, *a, **k)
            loaded[id(y)] = loaded[id(x)]  # an altered recording is still that recording
            kept.append(y)
            return y
        return spy

    if hasattr(recipe, "augment_event"):
        monkeypatch.setattr(recipe, "augment_event", alter(recipe.augment_event))
    monkeypatch.setattr(synth, "load", remember(synth.load))
    monkeypatch.setattr(recipe, "load", remember(recipe.load))
    monkeypatch.setattr(synth, "render", spy_render)
    monkeypatch.setattr(recipe, "random_scene", in_phase("train", recipe.random_scene))
    monkeypatch.setattr(task2, "script_scene", in_phase("test", task2.script_scene))
    return loaded, log


def _check_folds(loaded: dict[int, str], log: list[tuple[str, set[int], int]], k: int,
                 shared: Path) -> None:
    """A fold is its training (and validation) mixtures, then its test mixtures: no
    recording or background of a fold's test mixtures is in its training ones, and every
    recording a test mixture used belongs to exactly one fold."""
    folds: list[dict[str, list]] = []
    for ph, ev, bg in log:
        if ph == "train" and (not folds or folds[-1]["test"]):
            folds.append({"train": [], "test": []})
        folds[-1][ph].append((ev, bg))
    assert len(folds) >= k and all(not f["test"] for f in folds[k:])  # then the seen row
    tested: list[str] = []
    for f in folds[:k]:
        train_rec = {loaded[i] for ev, _ in f["train"] for i in ev}
        test_rec = {loaded[i] for ev, _ in f["test"] for i in ev}
        assert train_rec and test_rec and not train_rec & test_rec
        assert not {loaded[bg] for _, bg in f["train"]} & {loaded[bg] for _, bg in f["test"]}
        tested += sorted(test_rec)
    assert len(tested) == len(set(tested))
    assert {task2_label(Path(name)) for name in tested} == set(source_files(
        shared / "dcase2016_task2" / "dcase2016_task2_train"))


def test_each_fold_trains_and_tunes_without_its_test_recordings(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded, log = _spy_synthesis(monkeypatch, task2)

    def fake_evaluate(items, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        for _ in items:  # render every test mixture; detection is not under test here
            pass
        return {}, None

    monkeypatch.setattr(task2, "_evaluate", fake_evaluate)
    monkeypatch.setattr(task2, "_fold_summary", lambda *a, **k: {})
    monkeypatch.setattr(task2, "_fold_tables", lambda *a, **k: [])

    real_train = task2._train
    calls: list = []

    def spy_train(cfg, sources, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(sources)
        return real_train(cfg, sources, *a, **k)

    monkeypatch.setattr(task2, "_train", spy_train)
    real_synth = task2._synth
    spans: list[tuple[str, int, int]] = []  # (desc, first, end) of each _synth in `log`

    def spy_synth(*a, **k):  # noqa: ANN002, ANN003, ANN202
        first = len(log)
        out = real_synth(*a, **k)
        spans.append((a[6], first, len(log)))
        return out

    monkeypatch.setattr(task2, "_synth", spy_synth)
    _, cfg = load_config("dcase2016-task2", [
        "synth.train_mixtures=4", "synth.validation_mixtures=2", "synth.duration=30",
        "synth.events_per_minute=60", "synth.validation_recordings=2",
        "forest.n_estimators=1", "forest.max_depth=4", "tuning.onset_threshold=[4.0]",
        "tuning.presence_threshold=[0.6]", "baseline.enabled=false", "psds=false",
        "folds.duration=40", "folds.events_per_class=[1]", "folds.ebr_db=[0.0]",
        "folds.polyphony=[0, 1]", "seen=false", "backend=[carforest, cnn]",
        "cnn.max_epochs=1", "cnn.channels=[4, 4]", "cnn.dilations=[1, 2]",
        "cnn.threshold_grid=[0.5]", "cnn.min_gap_grid=null",
        "cnn.competition_grid=[0.0, 1.0]", "cnn.competition_recordings=3"])
    res = task2.run(cfg, data=shared_data, out=tmp_path, log=lambda *a: None)
    # seen: false stops after the folds: no fifth training, no model, no official set
    assert len(calls) == 4 and res["sets"] == {} and not (tmp_path / "model").exists()
    with pytest.raises(ValueError, match="nothing to run"):
        task2.run({**cfg, "folds": {**cfg["folds"], "k": 0}}, data=shared_data, out=tmp_path)
    _check_folds(loaded, log, 4, shared_data)
    # validation mixtures: only the last 2 recordings (by name) of each class of the
    # fold's own training recordings, none of which its training mixtures used; the
    # preliminary CNN that chooses the competition trains on the training recordings but
    # their last 3 and validates on those 3
    assert [d for d, _, _ in spans] == [f"fold{i}-{p}" for i in range(4)
                                        for p in ("train", "val", "pre-train", "pre-val")]
    files = source_files(shared_data / "dcase2016_task2" / "dcase2016_task2_train")

    def read(span: tuple[str, int, int]) -> set[str]:
        return {loaded[j] for _, ev, _ in log[span[1]:span[2]] for j in ev}

    for i in range(4):
        train_rec, val_rec, pre_train, pre_val = (read(sp) for sp in spans[4 * i:4 * i + 4])
        rest = {lab: [p.name for p, g in zip(ps, recording_folds(files, 4)[lab]) if g != i]
                for lab, ps in files.items()}
        allowed = {n for names in rest.values() for n in names[-2:]}
        assert val_rec and val_rec <= allowed and not val_rec & train_rec
        assert train_rec <= {n for names in rest.values() for n in names[:-2]}
        assert pre_val and pre_val <= {n for names in rest.values() for n in names[-5:-2]}
        assert pre_train and pre_train <= {n for names in rest.values() for n in names[:-5]}
        assert res["tuning"][f"fold{i}"]["cnn_competition_preliminary"] in (0.0, 1.0)


def test_validation_recordings_split() -> None:
    src = {"a": [0, 1, 2, 3], "b": [4, 5]}
    assert task2.validation_recordings(src, 0) == (src, src)
    assert task2.validation_recordings(src, 1) == ({"a": [0, 1, 2], "b": [4]},
                                                   {"a": [3], "b": [5]})
    with pytest.raises(ValueError, match="no training recording for \\['b'\\]"):
        task2.validation_recordings(src, 2)
    with pytest.raises(ValueError, match=">= 0"):
        task2.validation_recordings(src, -1)


def test_each_tagging_fold_trains_without_its_test_recordings(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The task2-tagging recipe: the same spy on what each fold's training mixtures and
    test mixtures were rendered from; what the networks learn is not under test."""
    import numpy as np

    import audioscene.recipes.tagging as tagging

    loaded, log = _spy_synthesis(monkeypatch, tagging)

    class Constant:  # a stand-in for a trained system: the same score for every tag
        def decision_function(self, X):  # noqa: ANN001, ANN202
            return np.zeros((len(X), 11))

    fits: list[int] = []

    def fake_fit(cfg, systems, X, Y, tags, **k):  # noqa: ANN001, ANN003, ANN202
        fits.append(len(Y))
        return {s: Constant() for s in systems}

    monkeypatch.setattr(tagging, "_fit_systems", fake_fit)
    monkeypatch.setattr(tagging, "_features",
                        lambda pieces, sr, configs, jobs: {s: [np.zeros((2, 2))] * len(pieces)
                                                           for s in configs})
    _, cfg = load_config("task2-tagging", [
        "systems=[gmm]", "synth.train_mixtures=3", "synth.validation_mixtures=1",
        "synth.duration=20", "folds.duration=40", "folds.events_per_class=[1]",
        "folds.ebr_db=[0.0]", "folds.polyphony=[0, 1]"])
    res = tagging.run_task2_tagging(cfg, data=shared_data, out=tmp_path, log=lambda *a: None)
    assert len(fits) == 5  # four folds, then every recording for the seen row
    assert res["folds"]["k"] == 4 and len(res["folds"]["per_fold"]) == 4
    assert sum(1 for ph, _, _ in log if ph == "train") == 5 * (3 + 1)
    _check_folds(loaded, log, 4, shared_data)


def test_augmentation_alters_training_mixtures_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """synth.augment alters every event of the mixtures rendered with augment=True (the
    training ones) and none of the others (validation)."""
    import numpy as np

    from audioscene.datasets.synth import procedural_background, procedural_event
    from audioscene.features import FeatureConfig

    calls: list[int] = []
    real = task2.augment_event

    def counting(x, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(len(x))
        return real(x, *a, **k)

    monkeypatch.setattr(task2, "augment_event", counting)
    _, cfg = load_config("dcase2016-task2", ["synth.augment.enabled=true", "synth.sr=8000",
                                             "synth.duration=20"])
    s = cfg["synth"]
    src = {k: [procedural_event(k, sr=8000, rng=0)] for k in ("beep", "knock")}
    bgs = [procedural_background("pink", sr=8000, duration=5.0, rng=0)]
    fc = [FeatureConfig(sr=8000, n_fft=256, hop_length=128, n_mels=16)]
    _, ann = task2._synth(src, bgs, 2, s, np.random.default_rng(0), fc, "t", augment=True)
    assert len(calls) == sum(len(a) for a in ann) > 0
    calls.clear()
    task2._synth(src, bgs, 2, s, np.random.default_rng(0), fc, "v", augment=False)
    assert calls == []
    s_off = {**s, "augment": {**s["augment"], "enabled": False}}
    task2._synth(src, bgs, 2, s_off, np.random.default_rng(0), fc, "t", augment=True)
    assert calls == []
