"""Training on users' own audio from the command line: class folders with odd names, file
lists with missing files, annotated recordings, isolated sounds, too few examples."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from audioscene.cli import main
from audioscene.datasets import DatasetError
from audioscene.datasets.folders import (
    read_class_folders,
    read_detector_data,
    read_file_list,
    recording_id,
)
from audioscene.events import EventList

pytestmark = pytest.mark.shared_data

TINY_CLF = ["--set", "cnn.max_epochs=2", "--set", "cnn.net_params.channels=[8, 8, 8, 8, 8, 8, 8]"]
TINY_DET = ["--set", "cnn.max_epochs=1", "--set", "cnn.channels=[8, 8]",
            "--set", "cnn.dilations=[1, 2]",
            "--set", "synth={train_mixtures: 3, validation_mixtures: 2, test_mixtures: 2, "
                     "duration: 20.0}"]


def _esc(shared: Path, cls: str) -> list[Path]:
    (d,) = [p for p in (shared / "esc10").iterdir() if p.name.endswith(f" - {cls}")]
    return sorted(d.glob("*.ogg"))


def _odd_layout(shared: Path, root: Path) -> dict[str, list[Path]]:
    """Class folders named with spaces, unicode and mixed case; nested folders; upper-case
    extensions; a hidden file. Returns class -> the real clips placed there."""
    dogs, rain = _esc(shared, "Dog bark"), _esc(shared, "Rain")
    placed: dict[str, list[Path]] = {"Chien qui aboie ü": [], "RAIN on roof": []}
    for i, src in enumerate(dogs[:6]):
        sub = root / "Chien qui aboie ü" / ("séance 1" if i < 3 else "")
        sub.mkdir(parents=True, exist_ok=True)
        dest = sub / f"clip {i}.OGG"
        shutil.copy(src, dest)
        placed["Chien qui aboie ü"].append(dest)
    for src in rain[:6]:
        dest = root / "RAIN on roof" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
        placed["RAIN on roof"].append(dest)
    (root / "RAIN on roof" / ".hidden.ogg").write_bytes(b"not audio")
    (root / "notes.txt").write_text("not a class\n")
    return placed


def test_class_folders_with_odd_names(shared_data: Path, tmp_path: Path) -> None:
    placed = _odd_layout(shared_data, tmp_path / "data")
    ds = read_class_folders(tmp_path / "data")
    assert ds.classes == sorted(placed)
    assert sorted(it.path for it in ds) == sorted(p for v in placed.values() for p in v)
    by_path = {it.path: it for it in ds}
    nested = placed["Chien qui aboie ü"][:3]
    # files in one sub-folder of a class are one recording; the others are their own
    assert {by_path[p].recording for p in nested} == {"Chien qui aboie ü/séance 1"}
    assert len({by_path[p].recording for p in placed["Chien qui aboie ü"][3:]}) == 3
    # ESC/Freesound names F-ID-T: the Freesound id
    rain = placed["RAIN on roof"][0]
    assert by_path[rain].recording == f"freesound:{rain.stem.split('-')[1]}"


def test_recording_id_rules() -> None:
    assert recording_id("x/1-100032-A.ogg") == "freesound:100032"
    assert recording_id("c/a/b.wav", "c") == "c/a"
    assert recording_id("c/b.wav", "c") == "c/b.wav"
    assert recording_id("b.wav") == "b.wav"


def test_file_list_with_missing_files(shared_data: Path, tmp_path: Path) -> None:
    dogs, rain = _esc(shared_data, "Dog bark")[:6], _esc(shared_data, "Rain")[:6]
    rows = ["file,label"] + [f"{p},dog" for p in dogs] + ["missing one.wav,dog"] + \
        [f"{p},rain" for p in rain] + ["gone/also.flac,rain"]
    lst = tmp_path / "train.csv"
    lst.write_text("\n".join(rows) + "\n")
    said: list[str] = []
    ds = read_file_list(lst, warn=said.append)
    assert len(ds) == 12 and ds.classes == ["dog", "rain"]
    assert len(said) == 2
    assert said[0].startswith(f"{lst}:8: ") and "missing one.wav" in said[0]
    assert said[1].startswith(f"{lst}:15: ") and "also.flac" in said[1]

    tags = tmp_path / "tags.tsv"
    tags.write_text(f"{dogs[0]}\tdog;outdoor\n{rain[0]}\train\n")
    ds = read_file_list(tags, multi_label=True)
    assert [it.tags for it in ds] == [("dog", "outdoor"), ("rain",)]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{dogs[0]}\n")
    with pytest.raises(DatasetError, match=r"bad.csv:1: expected 'file,label'"):
        read_file_list(bad)


def test_train_classifier_from_odd_folders_then_classify(shared_data: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    placed = _odd_layout(shared_data, tmp_path / "data")
    out = tmp_path / "out"
    assert main(["train", "classifier", str(tmp_path / "data"), "--out", str(out),
                 *TINY_CLF]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["classes"] == sorted(placed)
    assert res["n_train"] + res["n_test"] == 12 and res["n_test"] >= 2
    # the held-out files are whole recordings: the nested session is on one side
    pred = (out / "predictions.tsv").read_text().splitlines()[1:]
    held = {Path(r.split("\t")[0]) for r in pred}
    nested = set(placed["Chien qui aboie ü"][:3])
    assert nested <= held or not nested & held
    md = (out / "results.md").read_text()
    assert "accuracy on the held-out files" in md and (out / "confusion.png").is_file()
    capsys.readouterr()
    assert main(["classify", str(placed["RAIN on roof"][0]), "--model", str(out / "model")]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split("\t") == ["file", "label", *sorted(placed)]
    assert row.split("\t")[1] in placed


def test_train_classifier_from_a_list_with_a_missing_file(shared_data: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    dogs, rain = _esc(shared_data, "Dog bark")[:6], _esc(shared_data, "Rain")[:6]
    lst = tmp_path / "list.csv"
    lst.write_text("\n".join([f"{p},dog" for p in dogs] + ["nowhere.wav,dog"]
                             + [f"{p},rain" for p in rain]) + "\n")
    assert main(["train", "classifier", str(lst), "--out", str(tmp_path / "o"), *TINY_CLF]) == 0
    err = capsys.readouterr()
    assert (err.out + err.err).count("nowhere.wav: no such file; left out") == 1
    assert json.loads((tmp_path / "o" / "results.json").read_text())["n_train"] + \
        json.loads((tmp_path / "o" / "results.json").read_text())["n_test"] == 12


def test_train_classifier_says_when_data_are_too_few(shared_data: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    for cls, n in (("Dog bark", 6), ("Rain", 3)):
        d = tmp_path / "data" / cls
        d.mkdir(parents=True)
        for p in _esc(shared_data, cls)[:n]:
            os.symlink(p, d / p.name)
    assert main(["train", "classifier", str(tmp_path / "data"), "--out",
                 str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "too few files ('Rain': 3); each class needs at least 5" in err


def _dev(shared: Path) -> Path:
    return shared / "dcase2016_task2" / "dcase2016_task2_dev"


def test_train_detector_from_annotated_recordings(shared_data: Path, tmp_path: Path) -> None:
    dev = _dev(shared_data)
    data = tmp_path / "recordings"
    stems = sorted(p.stem for p in (dev / "annotation").glob("*.txt"))[:4]
    for i, stem in enumerate(stems):
        # Audacity labels and DCASE text, audio and labels side by side or in two folders
        sub = data / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        os.symlink(dev / "sound" / f"{stem}.flac", sub / f"{stem}.flac")
        ev = EventList.read(dev / "annotation" / f"{stem}.txt")
        if i % 2:
            ev.write(sub / f"{stem}.labels.txt", format="audacity")
        else:
            ev.write(sub / f"{stem}.txt")
    annotated, isolated = read_detector_data(data)
    assert isolated is None and sorted(it.stem for it in annotated) == stems
    out = tmp_path / "det"
    assert main(["train", "detector", str(data), "--out", str(out), *TINY_DET,
                 "--set", "min_examples=1"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["annotated_recordings"] == {"train": 2, "validation": 1, "test": 1}
    from audioscene.models import load_model

    model = load_model(out / "model")
    assert {"min_gap": model.min_gap, **dict(zip(model.classes_, model.thresholds_.tolist()))} \
        == res["thresholds"]
    assert model.min_gap in (0.1, 0.3, 0.6, 1.0, 2.0)
    md = (out / "results.md").read_text()
    assert "onset F1" in md and "| class |" in md
    (test_ref,) = (out / "test_reference").glob("*.txt")
    folder, name = test_ref.name.split("__")
    assert folder in ("a", "b") and name.removesuffix(".flac.txt") in stems
    assert [p.name for p in (out / "test").glob("*.txt")] == [test_ref.name]


def _isolated(shared: Path, root: Path, n: int, classes: tuple[str, ...] = ("cough", "door")
              ) -> None:
    train = shared / "dcase2016_task2" / "dcase2016_task2_train"
    for c in classes:
        (root / c).mkdir(parents=True)
        for p in sorted(train.glob(f"{c}*.wav"))[:n]:
            os.symlink(p, root / c / p.name)


def test_train_detector_from_five_isolated_sounds_per_class(shared_data: Path, tmp_path: Path
                                                            ) -> None:
    _isolated(shared_data, tmp_path / "sounds", 5)
    out = tmp_path / "det"
    assert main(["train", "detector", str(tmp_path / "sounds"), "--out", str(out),
                 "--backgrounds", str(shared_data / "backgrounds"), *TINY_DET]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["classes"] == ["cough", "door"]
    # per class: 1 test, 1 validation, 3 training sounds
    assert res["isolated_sounds"] == {"train": 6, "validation": 2, "test": 2}
    assert "background recordings split by file" in (out / "results.md").read_text()
    assert len(list((out / "test_reference").glob("*.txt"))) == 2


def test_train_detector_refuses_too_few_or_no_backgrounds(shared_data: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    _isolated(shared_data, tmp_path / "few", 4)
    assert main(["train", "detector", str(tmp_path / "few"), "--out", str(tmp_path / "o"),
                 "--backgrounds", str(shared_data / "backgrounds")]) == 1
    assert "too few events or sounds ('cough': 4, 'door': 4)" in capsys.readouterr().err
    _isolated(shared_data, tmp_path / "nobg", 5)
    assert main(["train", "detector", str(tmp_path / "nobg"), "--out", str(tmp_path / "o")]) == 1
    assert "isolated sounds need backgrounds" in capsys.readouterr().err


def test_quiet_parts_become_backgrounds(shared_data: Path) -> None:
    from audioscene.audio import load
    from audioscene.recipes.user import quiet_parts

    dev = _dev(shared_data)
    y, sr = load(dev / "sound" / "dev_1_ebr_0_nec_1_poly_0.flac", sr=8000)
    ev = EventList.read(dev / "annotation" / "dev_1_ebr_0_nec_1_poly_0.txt")
    parts = quiet_parts(y, sr, ev, margin=0.5, min_length=2.0)
    # the expected stretches, computed on a sample grid: free of every event +- 0.5 s
    busy = np.zeros(len(y), bool)
    for e in ev:
        busy[max(0, int(round((e.onset - 0.5) * sr))):int(round((e.offset + 0.5) * sr))] = True
    edges = np.flatnonzero(np.diff(np.r_[1, busy.astype(int), 1]))
    want = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= 2 * sr]
    assert len(parts) == len(want) > 0
    for p, (a, b) in zip(parts, want):
        np.testing.assert_array_equal(p, y[a:b])


def test_detector_data_matches_annotations_by_folder(shared_data: Path, tmp_path: Path) -> None:
    """sound/ + annotation/ siblings, a Raven table beside its audio, the same file name
    in two folders, and a numbered isolated sound whose stem an annotation elsewhere has."""
    dev = _dev(shared_data)
    stems = sorted(p.stem for p in (dev / "annotation").glob("*.txt"))[:3]
    data = tmp_path / "data"
    for site in ("site 1", "site 2"):
        (data / site / "sound").mkdir(parents=True)
        (data / site / "annotation").mkdir()
        os.symlink(dev / "sound" / f"{stems[0]}.flac", data / site / "sound" / "rec.flac")
        EventList.read(dev / "annotation" / f"{stems[0 if site == 'site 1' else 1]}.txt") \
            .write(data / site / "annotation" / "rec.txt")
    os.symlink(dev / "sound" / f"{stems[2]}.flac", data / "site 2" / "birds.flac")
    raven = EventList.read(dev / "annotation" / f"{stems[2]}.txt")
    raven.write(data / "site 2" / "birds.selections.txt", format="raven")
    (data / "cough").mkdir()
    src = sorted((shared_data / "dcase2016_task2" / "dcase2016_task2_train").glob("cough*"))[0]
    os.symlink(src, data / "cough" / "rec.wav")  # same stem as the recordings: isolated
    annotated, isolated = read_detector_data(data)
    got = {it.path.relative_to(data).as_posix(): it.events for it in annotated}
    assert sorted(got) == ["site 1/sound/rec.flac", "site 2/birds.flac", "site 2/sound/rec.flac"]
    for rel, stem in (("site 1/sound/rec.flac", stems[0]), ("site 2/sound/rec.flac", stems[1])):
        want = EventList.read(dev / "annotation" / f"{stem}.txt")
        assert got[rel] == want.with_filename("rec.flac")
    assert got["site 2/birds.flac"] == raven.with_filename("birds.flac")
    assert [it.path.name for it in isolated] == ["rec.wav"] and isolated.classes == ["cough"]
    # a backgrounds folder inside DATA is not a class when it is excluded
    (data / "bg").mkdir()
    os.symlink(sorted((shared_data / "backgrounds").glob("*.wav"))[0], data / "bg" / "b.wav")
    assert read_detector_data(data)[1].classes == ["bg", "cough"]
    assert read_detector_data(data, exclude=[data / "bg"])[1].classes == ["cough"]


def test_split_by_recording_keeps_a_recording_on_one_side() -> None:
    from audioscene.datasets import Item
    from audioscene.recipes.user import split_by_recording

    # recording "a0" also has a file of class "b"; it belongs to "a" (ties: first by name)
    items = [Item(Path(f"{c}{i}.wav"), label=c, recording=f"{c}{i}") for c in "ab"
             for i in range(4)] + [Item(Path("extra.wav"), label="b", recording="a0")]
    for seed in range(20):
        sides = split_by_recording(items, np.random.default_rng(seed),
                                   [("test", 0.3), ("validation", 0.3)], need=3)
        by_rec: dict[str, set[str]] = {}
        for it, sd in zip(items, sides):
            by_rec.setdefault(str(it.recording), set()).add(sd)
        assert all(len(v) == 1 for v in by_rec.values())
    with pytest.raises(DatasetError, match="class 'b': 0 recording"):
        split_by_recording(items[:3] + items[-1:], np.random.default_rng(0), [("test", 0.3)],
                           need=2)


def test_train_classifier_refuses_distil_before_reading_features(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    import audioscene.recipes.user as user

    def no_features(*args: object, **kwargs: object) -> None:
        raise AssertionError("features were read")

    monkeypatch.setattr(user, "frames_for", no_features)
    rows = [f"{p},{c}" for c in ("Dog bark", "Rain") for p in _esc(shared_data, c)[:6]]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "c"
    assert main(["train", "classifier", str(tmp_path / "train.csv"), "--out", str(out),
                 *TINY_CLF, "--set", "cnn.distil=0.5"]) != 0
    assert "cnn.distil needs cnn.members > 1" in capsys.readouterr().err
    assert not (out / "model").exists()


def test_train_tagger_from_a_list_with_recordings_and_a_test_set(
        shared_data: Path, tmp_path: Path) -> None:
    dogs, rain = _esc(shared_data, "Dog bark")[:6], _esc(shared_data, "Rain")[:6]
    rows = ["file,tags,recording"] + [f"{p},dog;outdoor,d{i // 2}" for i, p in enumerate(dogs)] \
        + [f"{p},rain,r{i // 2}" for i, p in enumerate(rain)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "tagger"
    assert main(["train", "classifier", str(tmp_path / "train.csv"), "--multi-label",
                 "--out", str(out), *TINY_CLF]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["classes"] == ["dog", "outdoor", "rain"] and "tagging" in res
    pred = [r.split("\t") for r in (out / "predictions.tsv").read_text().splitlines()[1:]]
    held = {Path(r[0]).name for r in pred}
    pairs = [{dogs[k].name, dogs[k + 1].name} for k in (0, 2, 4)] + \
        [{rain[k].name, rain[k + 1].name} for k in (0, 2, 4)]
    assert all(pair <= held or not pair & held for pair in pairs)  # recordings stay whole
    assert not (out / "confusion.png").exists()
    # two members: one tagging ensemble whose first member is the model above and whose
    # scores on the held-out files are the mean of its members'
    from audioscene.models import ClipEnsemble, load_model

    ens_out = tmp_path / "tagger2"
    assert main(["train", "classifier", str(tmp_path / "train.csv"), "--multi-label",
                 "--out", str(ens_out), *TINY_CLF, "--set", "cnn.members=2"]) == 0
    ens, one = load_model(ens_out / "model"), load_model(out / "model")
    assert isinstance(ens, ClipEnsemble) and ens.multi_label
    assert [m.random_state for m in ens.members] == [0, 1]
    sa, sb = one.network_.state_dict(), ens.members[0].network_.state_dict()
    assert all(np.array_equal(sa[key].numpy(), sb[key].numpy()) for key in sa)
    rows = [r.split("\t") for r in (ens_out / "predictions.tsv").read_text().splitlines()[1:]]
    scores = np.array([[float(v) for v in r[3:]] for r in rows])
    files = [r[0] for r in rows]
    mean = np.mean([m.predict_proba(files) for m in ens.members], axis=0)
    np.testing.assert_allclose(scores, mean, atol=1e-6)  # written to 6 decimals
    assert "the mean of 2 networks seeded 0 to 1" in (ens_out / "results.md").read_text()
    # distilled from the two members: one tagger with member 0's settings and seed
    from audioscene.models import ClipClassifier

    dist_out = tmp_path / "tagger-distilled"
    assert main(["train", "classifier", str(tmp_path / "train.csv"), "--multi-label",
                 "--out", str(dist_out), *TINY_CLF, "--set", "cnn.members=2",
                 "--set", "cnn.distil=0.5"]) == 0
    student = load_model(dist_out / "model")
    assert isinstance(student, ClipClassifier) and student.multi_label
    assert student.get_params(deep=False) == one.get_params(deep=False)
    sd = student.network_.state_dict()
    assert not all(np.array_equal(sa[key].numpy(), sd[key].numpy()) for key in sa)
    assert json.loads((dist_out / "results.json").read_text())["distilled"] is True
    assert ("one network seeded 0, trained on 0.5 x the labels + 0.5 x the mean probability "
            "of 2 networks seeded 0 to 1") in (dist_out / "results.md").read_text()
    # a separate test set: every listed file is a test file
    test = tmp_path / "test.csv"
    test.write_text(f"{_esc(shared_data, 'Dog bark')[7]},dog\n{_esc(shared_data, 'Rain')[7]},rain\n")
    plain = tmp_path / "train-plain.csv"
    plain.write_text("\n".join(f"{p},{'dog' if p in dogs else 'rain'}" for p in dogs + rain))
    assert main(["train", "classifier", str(plain), "--test", str(test), "--out",
                 str(tmp_path / "c"), *TINY_CLF]) == 0
    res = json.loads((tmp_path / "c" / "results.json").read_text())
    assert (res["n_train"], res["n_test"]) == (12, 2)


def test_plain_folders_train_the_same_model_as_the_esc10_recipe(shared_data: Path,
                                                                 tmp_path: Path) -> None:
    """Three ESC-10 classes, fold 1 to train and fold 2 to test, laid out once as the
    ESC-10 tree and once as plain class folders: both flows train the same network,
    weight for weight, although they list the clips in another order (the ESC-10 tree
    by class number, the plain folders by class name)."""
    from audioscene.models import load_model
    from audioscene.recipes.bundle import layout_esc10

    mini = tmp_path / "esc10"
    for cls in ("Dog bark", "Rain", "Baby cry"):
        (d,) = [p for p in (shared_data / "esc10").iterdir() if p.name.endswith(f" - {cls}")]
        (mini / d.name).mkdir(parents=True)
        for p in sorted(d.glob("[12]-*.ogg")):
            os.symlink(p.resolve(), mini / d.name / p.name)
    tiny = [*TINY_CLF, "--set", "seed=3"]
    assert main(["recipe", "esc10", "--data", str(tmp_path), "--out", str(tmp_path / "r"),
                 "--train-folds", "1", "--test-folds", "2", "--set", "systems=[cnn]",
                 *tiny]) == 0
    train, test = layout_esc10(tmp_path, tmp_path / "folders", (1,), (2,))
    assert main(["train", "classifier", str(train), "--test", str(test),
                 "--out", str(tmp_path / "u"), *tiny]) == 0
    a, b = load_model(tmp_path / "r" / "models" / "fold2"), load_model(tmp_path / "u" / "model")
    assert list(a.classes_) == list(b.classes_) == ["Baby cry", "Dog bark", "Rain"]
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    assert sa.keys() == sb.keys() and a.best_epoch_ == b.best_epoch_
    for k in sa:
        assert np.array_equal(sa[k].numpy(), sb[k].numpy()), k
    np.testing.assert_array_equal(a.mean_, b.mean_)
    clips = sorted(test.rglob("*.ogg"))
    np.testing.assert_array_equal(a.predict_proba(clips), b.predict_proba(clips))
