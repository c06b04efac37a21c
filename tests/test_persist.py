"""One model format: every model kind round-trips through audioscene.persist, and a newer
format, a damaged or changed array file, a model of another kind and an earlier
version's folder each give one clear error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audioscene.datasets.synth import procedural_background, procedural_event, random_scene
from audioscene.features import FeatureConfig
from audioscene.models import MODEL_KINDS, CaRForest, EventDetector, GMMEventDetector, load_model
from audioscene.persist import (
    FORMAT_VERSION,
    ModelFileError,
    ModelRecord,
    load_record,
    read_manifest,
    save_record,
)

SR = 16000
FC = FeatureConfig(sr=SR, n_fft=512, hop_length=256, n_mels=24, fmin=50.0)
FC_MFCC = FeatureConfig(sr=SR, n_fft=512, hop_length=256, kind="mfcc", n_mels=24, n_mfcc=10,
                        deltas=1)


@pytest.fixture(scope="module")
def scenes():
    rng = np.random.default_rng(0)
    sources = {k: [procedural_event(k, sr=SR, rng=rng) for _ in range(3)]
               for k in ("beep", "knock")}
    bgs = [procedural_background("pink", sr=SR, duration=6.0, rng=rng)]
    return [random_scene(sources, bgs, sr=SR, duration=20.0, events_per_minute=30,
                         ebr_db=(0.0, 10.0), max_polyphony=2, rng=rng) for _ in range(4)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, scenes) -> dict[str, tuple[object, Path]]:
    root = tmp_path_factory.mktemp("models")
    audio = [s.audio for s in scenes[:3]]
    events = [s.events for s in scenes[:3]]
    det = EventDetector(feature_config=FC, n_estimators=3, max_depth=6).fit(audio, events)
    gmm = GMMEventDetector(feature_config=FC_MFCC, n_components=2).fit(audio, events)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    D = np.where(y[:, None] == 1, rng.uniform(0.1, 1.0, size=(300, 2)), np.nan)
    forest = CaRForest(n_estimators=4, max_depth=5).fit(X, y, displacements=D)
    out = {}
    for name, m in (("EventDetector", det), ("GMMEventDetector", gmm), ("CaRForest", forest)):
        out[name] = (m, m.save(root / name))
    out["_X"] = (X, root)
    return out


def test_detectors_round_trip_exactly(saved, scenes) -> None:
    test = scenes[3].audio
    det, d = saved["EventDetector"]
    back = load_model(d)
    assert isinstance(back, EventDetector)
    assert back.predict(test, filename="t") == det.predict(test, filename="t")
    c0, c1 = det.curves(test), back.curves(test)
    assert np.array_equal(c0.onset, c1.onset) and np.array_equal(c0.presence, c1.presence)
    gmm, d = saved["GMMEventDetector"]
    back = load_model(d)
    assert np.array_equal(back.scores(test)[0], gmm.scores(test)[0])
    assert back.predict(test, filename="t") == gmm.predict(test, filename="t")
    forest, d = saved["CaRForest"]
    X = saved["_X"][0]
    back = load_model(d)
    assert np.array_equal(back.predict_proba(X), forest.predict_proba(X))
    assert np.array_equal(back.apply(X), forest.apply(X))


def test_manifest_records_kind_versions_and_arrays(saved) -> None:
    _, d = saved["EventDetector"]
    m = json.loads((d / "model.json").read_text())
    assert m["format"] == "audioscene.model" and m["format_version"] == FORMAT_VERSION
    assert m["kind"] == "EventDetector"
    assert set(m["written_by"]) == {"audioscene", "numpy", "scikit-learn", "torch", "python"}
    assert m["params"]["n_estimators"] == 3 and m["state"]["classes"] == ["beep", "knock"]
    with np.load(d / "arrays.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted(m["arrays"])
    assert sorted(p.name for p in d.iterdir()) == ["arrays.npz", "model.json"]


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def _one_line(exc: pytest.ExceptionInfo, path: Path) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(path)), msg
    return msg


def test_newer_format_version_is_refused(saved, tmp_path) -> None:
    d = _copy(saved["EventDetector"][1], tmp_path / "m")
    m = json.loads((d / "model.json").read_text())
    m["format_version"] = FORMAT_VERSION + 1
    (d / "model.json").write_text(json.dumps(m))
    with pytest.raises(ModelFileError) as exc:
        load_model(d)
    assert "newer than this audioscene reads" in _one_line(exc, d / "model.json")


@pytest.mark.parametrize("damage", ["truncated", "empty", "changed", "missing"])
def test_damaged_array_file_is_named(saved, tmp_path, damage: str) -> None:
    d = _copy(saved["GMMEventDetector"][1], tmp_path / "m")
    a = d / "arrays.npz"
    data = a.read_bytes()
    if damage == "truncated":
        a.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        a.write_bytes(b"")
    elif damage == "changed":  # one byte flipped in the middle
        a.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    else:
        a.unlink()
    with pytest.raises(ModelFileError) as exc:
        load_model(d)
    msg = _one_line(exc, a)
    assert {"truncated": "does not match", "empty": "empty file",
            "changed": "does not match", "missing": "no such file"}[damage] in msg


def test_wrong_kind_is_refused(saved) -> None:
    _, d = saved["GMMEventDetector"]
    with pytest.raises(ModelFileError) as exc:
        EventDetector.load(d)
    assert "a GMMEventDetector model, not an EventDetector" in _one_line(exc, d / "model.json")
    with pytest.raises(ModelFileError, match="not a ClipClassifier"):
        load_model(d, kinds=("ClipClassifier",))


def test_manifest_entry_that_does_not_fit_is_one_line(saved, tmp_path) -> None:
    d = _copy(saved["EventDetector"][1], tmp_path / "m")
    m = json.loads((d / "model.json").read_text())
    del m["state"]["durations"]
    (d / "model.json").write_text(json.dumps(m))
    with pytest.raises(ModelFileError) as exc:
        load_model(d)
    assert "EventDetector entry does not fit this version" in _one_line(exc, d / "model.json")


def test_not_a_model_folder_and_earlier_versions(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match=r"not a model folder \(no model\.json\)"):
        load_model(tmp_path / "empty")
    old = tmp_path / "old"
    old.mkdir()
    (old / "detector.json").write_text('{"type": "audioscene.EventDetector"}')
    with pytest.raises(ModelFileError) as exc:
        load_model(old)
    assert "earlier audioscene version" in _one_line(exc, old / "detector.json")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelFileError, match="not an audioscene model manifest"):
        read_manifest(tmp_path / "bad")


def test_children_and_no_object_arrays(tmp_path) -> None:
    child = ModelRecord("Child", params={"k": 2}, arrays={"w": np.ones(2)})
    rec = ModelRecord("Parent", state={"s": [1, 2]}, arrays={"x": np.arange(3)},
                      children={"emb": child})
    save_record(tmp_path / "p", rec)
    back = load_record(tmp_path / "p", "Parent")
    assert back.state == {"s": [1, 2]} and list(back.arrays) == ["x"]
    assert back.children["emb"].params == {"k": 2}
    assert np.array_equal(back.children["emb"].arrays["w"], np.ones(2))
    with pytest.raises(TypeError, match="no pickle"):
        save_record(tmp_path / "o", ModelRecord("X", arrays={"o": np.array([{}], object)}))


def test_every_kind_has_a_loader() -> None:
    import importlib

    for kind, (module, cls) in MODEL_KINDS.items():
        c = getattr(importlib.import_module(module), cls)
        assert c.__name__ == kind
        for name in ("to_record", "from_record", "save", "load"):
            assert callable(getattr(c, name)), f"{kind}.{name}"
