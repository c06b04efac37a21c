"""Dataset readers: miniature official layouts built here, and the real shared data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.datasets import (
    DatasetError,
    load_dataset,
    read_annotated,
    read_esc10,
    read_esc50,
    read_task1,
    read_task2,
    read_task3,
    read_task4,
    task2_label,
)
from audioscene.datasets.readers import list_audio


def _wav(path: Path, seconds: float = 0.2, sr: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(seconds * sr), dtype=np.float32), sr)


# ----------------------------------------------------------------------------- task 1


@pytest.fixture
def task1_root(tmp_path: Path) -> Path:
    base = tmp_path / "TUT-acoustic-scenes-2016-development"
    scenes = ["beach", "bus", "home"]
    meta = []
    files = {}
    for s in scenes:
        for rec in range(4):
            rid = f"{s[:2]}{rec:03d}"
            for seg in range(2):  # two segments per recording
                name = f"audio/{rid}_{seg * 30}_{seg * 30 + 30}.wav"
                _wav(base / name)
                meta.append(f"{name}\t{s}\t{rid}")
                files.setdefault(rec, []).append((name, s))
    (base / "meta.txt").write_text("\n".join(meta) + "\n")
    setup = base / "evaluation_setup"
    setup.mkdir()
    for k in range(1, 5):
        test = files[k - 1]
        train = [f for r, fl in files.items() if r != k - 1 for f in fl]
        (setup / f"fold{k}_train.txt").write_text("".join(f"{n}\t{s}\n" for n, s in train))
        (setup / f"fold{k}_test.txt").write_text("".join(f"{n}\n" for n, _ in test))
        (setup / f"fold{k}_evaluate.txt").write_text("".join(f"{n}\t{s}\n" for n, s in test))
    return tmp_path


def test_task1_layout(task1_root: Path) -> None:
    ds = read_task1(task1_root)  # a folder above the dataset folder
    assert len(ds) == 24 and ds.classes == ["beach", "bus", "home"] and ds.task == "scene"
    assert ds.folds == [1, 2, 3, 4]
    train, test = ds.split(2)
    assert len(train) == 18 and len(test) == 6
    assert {it.recording for it in train}.isdisjoint({it.recording for it in test})
    assert all(it.fold == 2 for it in test) and all(it.path.exists() for it in ds)
    assert {it.label for it in test} == {"beach", "bus", "home"}


def test_task1_missing_file_is_named(task1_root: Path) -> None:
    base = task1_root / "TUT-acoustic-scenes-2016-development"
    with open(base / "evaluation_setup" / "fold1_train.txt", "a") as f:
        f.write("audio/zzz_0_30.wav\tbeach\n")
    with pytest.raises(DatasetError, match=r"fold1_train\.txt: zzz_0_30\.wav is not in"):
        read_task1(base)


# ----------------------------------------------------------------------------- task 3


def test_task3_layout(tmp_path: Path) -> None:
    base = tmp_path / "TUT-sound-events-2016-development"
    anns = {"home": {"a001": "0.5\t1.5\tobject rustling\n2.0\t3.0\tcupboard\n",
                     "a002": "1.0\t1.2\tcupboard\n"},
            "residential_area": {"b001": "0.1\t0.9\tcar passing by\n",
                                 "b002": "0.0\t4.0\tbird singing\n0.5\t1.0\tcar passing by\n"}}
    setup = base / "evaluation_setup"
    setup.mkdir(parents=True)
    for scene, recs in anns.items():
        names = sorted(recs)
        for r, text in recs.items():
            _wav(base / "audio" / scene / f"{r}.wav", 5.0)
            (base / "meta" / scene).mkdir(parents=True, exist_ok=True)
            (base / "meta" / scene / f"{r}.ann").write_text(text)
        for k, test_rec in enumerate(names, start=1):
            train_rec = [n for n in names if n != test_rec]
            rows = [f"audio/{scene}/{n}.wav\t{scene}\t{line}" for n in train_rec
                    for line in recs[n].strip().split("\n")]
            (setup / f"{scene}_fold{k}_train.txt").write_text("\n".join(rows) + "\n")
            (setup / f"{scene}_fold{k}_test.txt").write_text(f"audio/{scene}/{test_rec}.wav\n")
    ds = read_task3(tmp_path)
    assert len(ds) == 4 and ds.task == "events"
    assert ds.classes == ["bird singing", "car passing by", "cupboard", "object rustling"]
    assert ds.folds == [1, 2]
    train, test = ds.split(1)
    assert sorted(it.stem for it in test) == ["a001", "b001"]
    assert sorted(it.stem for it in train) == ["a002", "b002"]
    a001 = next(it for it in ds if it.stem == "a001")
    assert a001.label == "home" and [(e.onset, e.label) for e in a001.events] == [
        (0.5, "object rustling"), (2.0, "cupboard")]
    assert a001.events[0].filename == "a001.wav"


# ----------------------------------------------------------------------------- task 4


def test_task4_layout(tmp_path: Path) -> None:
    base = tmp_path / "chime_home"
    votes = {"CR_lounge_200110_1601.s0_chunk0": "cmp", "CR_lounge_200110_1601.s0_chunk1": "S",
             "CR_lounge_220110_0731.s1_chunk3": "vfo", "CR_kitchen_1.s2_chunk0": "bp"}
    rows = []
    for i, (chunk, vote) in enumerate(votes.items()):
        _wav(base / "chunks" / f"{chunk}.16kHz.wav", 4.0)
        _wav(base / "chunks" / f"{chunk}.48kHz.wav", 4.0, 48000)
        (base / "chunks" / f"{chunk}.csv").write_text(
            f"segmentname,{chunk.split('_chunk')[0]}\nchunknumber,{i}\nannotation_a1,{vote}\n"
            f"majorityvote,{vote}\n")
        rows.append(f"{i},{chunk},{i % 2}")
    (base / "development_chunks_refined_crossval_dcase2016.csv").write_text("\n".join(rows) + "\n")
    ds = read_task4(tmp_path)
    assert ds.classes == ["c", "m", "f", "v", "p", "b", "o"] and ds.task == "tagging"
    tags = {it.path.name.split(".16kHz")[0]: it.tags for it in ds}
    assert tags == {"CR_lounge_200110_1601.s0_chunk0": ("c", "m", "p"),
                    "CR_lounge_200110_1601.s0_chunk1": (),
                    "CR_lounge_220110_0731.s1_chunk3": ("f", "v", "o"),
                    "CR_kitchen_1.s2_chunk0": ("p", "b")}
    assert ds.folds == [0, 1] and len(ds.split(0)[1]) == 2
    assert all(it.path.name.endswith(".16kHz.wav") for it in ds)
    assert read_task4(base, rate="48kHz")[0].path.name.endswith(".48kHz.wav")


# ----------------------------------------------------------------------------- ESC-50


def test_esc50_layout(tmp_path: Path) -> None:
    base = tmp_path / "ESC-50-master"
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for i, (cat, esc10) in enumerate([("dog", True), ("rooster", True), ("pig", False)] * 2):
        name = f"{i % 5 + 1}-{100 + i}-A-{i}.wav"
        _wav(base / "audio" / name)
        rows.append(f"{name},{i % 5 + 1},{i},{cat},{esc10},{100 + i},A")
    (base / "meta").mkdir()
    (base / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    ds = read_esc50(tmp_path)
    assert len(ds) == 6 and ds.classes == ["dog", "pig", "rooster"]
    assert len(read_esc50(base, esc10_only=True)) == 4
    assert sorted(ds.folds) == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- real data


def test_task2_real(shared_data: Path) -> None:
    dev = read_task2(shared_data, "dev")
    assert len(dev) == 18 and dev.task == "events"
    assert all(it.path.suffix == ".flac" and it.path.exists() for it in dev)
    train = read_task2(shared_data / "dcase2016_task2", "train")
    assert len(train) == 176 and len(train.classes) == 11
    assert dev.classes == train.classes  # keysDrop files are labelled keys
    assert "keys" in train.classes and "keysDrop" not in train.classes
    n_events = sum(len(it.events) for it in dev)
    assert n_events == sum(len((shared_data / "dcase2016_task2" / "dcase2016_task2_dev" /
                                "annotation" / f"{it.stem}.txt").read_text().split("\n")) - 1
                           for it in dev)
    nec = {it.stem: int(it.stem.split("_nec_")[1].split("_")[0]) for it in dev}
    for it in dev:  # nec = number of events per class, from the official file names
        counts = {lab: len(it.events.filter(label=lab)) for lab in it.events.labels}
        assert set(counts.values()) == {nec[it.stem]}, it.stem
    with pytest.raises(DatasetError, match="dcase2016_task2_test"):
        read_task2(shared_data, "test")


def test_esc10_real(shared_data: Path) -> None:
    ds = load_dataset("esc10", shared_data)
    assert len(ds) == 320 and len(ds.classes) == 10 and ds.folds == [1, 2, 3, 4]
    assert all(sum(1 for it in ds if it.label == c) == 32 for c in ds.classes)
    train, test = ds.split(4)
    assert len(test) == 80 and len(train) == 240
    assert read_esc10(shared_data / "esc10").classes == ds.classes


def test_task2_label() -> None:
    assert task2_label("keysDrop001.wav") == "keys"
    assert task2_label(Path("x/clearthroat077.wav")) == "clearthroat"


def test_list_audio_skips_hidden_names(tmp_path: Path) -> None:
    # AppleDouble files (._x.wav), other dot-files and hidden folders are not recordings
    for name in ("b.wav", "sub/a.ogg", "._b.wav", ".hidden.wav", "sub/._a.ogg",
                 ".cache/c.wav", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = list_audio(tmp_path, recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["b.wav", "sub/a.ogg"]
    assert [p.name for p in list_audio(tmp_path)] == ["b.wav"]
    # only names below the folder count: a hidden folder itself is listed
    assert [p.name for p in list_audio(tmp_path / ".cache")] == ["c.wav"]


def test_annotated_layout_finds_audio_by_stem(tmp_path: Path) -> None:
    _wav(tmp_path / "sound" / "m1.ogg", 2.0)
    (tmp_path / "annotation").mkdir()
    (tmp_path / "annotation" / "m1.txt").write_text("0.1\t0.5\tdog\n")
    (tmp_path / "annotation" / "m2.txt").write_text("0.1\t0.5\tdog\n")
    with pytest.raises(DatasetError, match="no audio file for 'm2'"):
        read_annotated(tmp_path)
    (tmp_path / "annotation" / "m2.txt").unlink()
    ds = read_annotated(tmp_path)
    assert ds[0].path.name == "m1.ogg" and ds.classes == ["dog"]
