"""Clip recipes (ESC-10, DCASE 2016 tasks 1 and 4, task 2 tagging) and the classify / tag
command line: miniature official layouts built here, and the real shared data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.cli import main
from audioscene.datasets.synth import procedural_background, procedural_event
from audioscene.recipes import load_config, run_recipe
from audioscene.recipes.tagging import chunk_tags

TINY_CNN = ["cnn.max_epochs=2", "cnn.net_params.channels=[8,8]",
            "cnn.net_params.strides=[2,2]", "cnn.batch_size=8"]
TINY_LTE = ["lte.n_estimators=10", "lte.n_folds=2", "lte_cnn.max_epochs=3",
            "lte_cnn.net_params.filters=8"]


def _scene(kind: str, bg: str, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A 'scene': a background with repeated events of one kind."""
    y = procedural_background(bg, sr=sr, duration=seconds, rng=rng) * 0.3
    for t in np.arange(0.2, seconds - 0.6, 0.8):
        ev = procedural_event(kind, sr=sr, rng=rng, duration=0.3)
        i = int(t * sr)
        y[i:i + len(ev)] += ev[: len(y) - i]
    return y.astype(np.float32)


@pytest.fixture
def task1_mini(tmp_path: Path) -> Path:
    """TUT Acoustic Scenes 2016 layout: meta.txt, evaluation_setup/fold{1..4}_*.txt."""
    base = tmp_path / "TUT-acoustic-scenes-2016-development"
    rng = np.random.default_rng(0)
    scenes = {"beach": ("whoosh", "pink"), "bus": ("buzz", "brown"), "home": ("knock", "hum")}
    meta, recs = [], {}
    for s, (ev, bg) in scenes.items():
        for r in range(4):
            rid = f"{s[:2]}{r:02d}"
            for seg in range(2):
                name = f"audio/{rid}_{seg}.wav"
                (base / "audio").mkdir(parents=True, exist_ok=True)
                sf.write(base / name, _scene(ev, bg, 3.0, 16000, rng), 16000)
                meta.append(f"{name}\t{s}\t{rid}")
                recs.setdefault(r, []).append((name, s))
    (base / "meta.txt").write_text("\n".join(meta) + "\n")
    setup = base / "evaluation_setup"
    setup.mkdir()
    for k in range(1, 5):
        test = recs[k - 1]
        train = [f for r, fl in recs.items() if r != k - 1 for f in fl]
        (setup / f"fold{k}_train.txt").write_text("".join(f"{n}\t{s}\n" for n, s in train))
        (setup / f"fold{k}_test.txt").write_text("".join(f"{n}\n" for n, _ in test))
        (setup / f"fold{k}_evaluate.txt").write_text("".join(f"{n}\t{s}\n" for n, s in test))
    return tmp_path


def test_task1_recipe_on_official_layout(task1_mini: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_recipe("dcase2016-task1", data=task1_mini, out=out,
                     overrides=[*TINY_CNN, *TINY_LTE, "gmm.n_components=2", "jobs=1",
                                "lte.segment_frames=20", "lte.hop_frames=10"],
                     log=lambda *a: None)
    assert res["folds"] == [1, 2, 3, 4]
    assert set(res["systems"]) == {"cnn", "lte-cnn", "fusion", "gmm"}
    # every clip is a test clip exactly once, in the fold the official lists put it
    rows = (out / "predictions" / "gmm.tsv").read_text().splitlines()[1:]
    assert len(rows) == 24 and len({r.split("\t")[0] for r in rows}) == 24
    fold_of = {r.split("\t")[0]: int(r.split("\t")[1]) for r in rows}
    assert all(fold_of[f"{s}{k - 1:02d}_{g}.wav"] == k
               for s in ("be", "bu", "ho") for k in range(1, 5) for g in (0, 1))
    assert res["systems"]["gmm"]["mean"] >= 0.8  # distinct synthetic scenes
    assert (out / "confusion_gmm.png").stat().st_size > 1000
    assert (out / "models" / "fold4" / "model.json").exists()
    lte = json.loads((out / "models" / "lte_fold4" / "model.json").read_text())
    assert lte["children"]["embedder"]["kind"] == "LabelTreeEmbedder"
    md = (out / "results.md").read_text()
    assert "| gmm |" in md and "| beach |" in md and "Label tree (fold 1)" in md
    assert (out / "lte_tree.png").exists() and len(list((out / "lte_images").glob("*.png"))) == 3
    # fusion is the average of the two networks' probabilities
    def probs(s: str) -> np.ndarray:
        rows = (out / "predictions" / f"{s}.tsv").read_text().splitlines()[1:]
        return np.array([[float(v) for v in r.split("\t")[4:]] for r in rows])
    np.testing.assert_allclose(probs("fusion"), (probs("cnn") + probs("lte-cnn")) / 2,
                               atol=2e-6)
    # `backend: lte-cnn`: `audioscene train` trains the LTE-CNN, `classify` reads it
    rc = main(["train", "dcase2016-task1", "--data", str(task1_mini), "--out",
               str(tmp_path / "lte"), "--set", "backend=lte-cnn", "--set", "jobs=1",
               "--set", "lte.segment_frames=20", "--set", "lte.hop_frames=10",
               *(a for o in TINY_LTE for a in ("--set", o))])
    model = tmp_path / "lte" / "model"
    assert rc == 0
    assert json.loads((model / "model.json").read_text())["children"]["embedder"]["kind"] == \
        "LabelTreeEmbedder"
    wav = sorted((task1_mini / "TUT-acoustic-scenes-2016-development" / "audio").glob("*.wav"))
    assert main(["classify", str(wav[0]), "--model", str(model)]) == 0


@pytest.fixture
def task4_mini(tmp_path: Path) -> Path:
    """CHiME-Home layout: the fold list, chunks/<chunk>.csv and <chunk>.16kHz.wav."""
    base = tmp_path / "chime_home"
    (base / "chunks").mkdir(parents=True)
    rng = np.random.default_rng(1)
    rows = []
    for i in range(20):
        tags = "".join(t for t, on in (("c", i % 2), ("m", i % 3 == 0), ("o", True)) if on)
        y = procedural_background("pink", sr=16000, duration=4.0, rng=rng) * 0.02
        t = np.arange(32000) / 16000
        if "c" in tags:  # a steady 700 Hz tone in the first half
            y[:32000] += 0.3 * np.sin(2 * np.pi * 700 * t + rng.uniform(0, 6))
        if "m" in tags:  # a 2.5 kHz tone in the second half
            y[32000:] += 0.3 * np.sin(2 * np.pi * 2500 * t + rng.uniform(0, 6))
        chunk = f"CR_lounge_{i // 4}.s0_chunk{i % 4}"
        sf.write(base / "chunks" / f"{chunk}.16kHz.wav", y.astype(np.float32), 16000)
        (base / "chunks" / f"{chunk}.csv").write_text(
            f"segmentname,x\nchunknumber,{i}\nmajorityvote,{tags}\n")
        rows.append(f"{i},{chunk},{i % 5}")
    (base / "development_chunks_refined_crossval_dcase2016.csv").write_text("\n".join(rows))
    return tmp_path


def test_task4_recipe_on_official_layout(task4_mini: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = run_recipe("dcase2016-task4", data=task4_mini, out=out,
                     overrides=[*TINY_CNN, "gmm.n_components=8", "jobs=1"], log=lambda *a: None)
    assert res["folds"] == [0, 1, 2, 3, 4] and res["n_clips"] == 20
    assert res["positives"]["c"] == 10 and res["positives"]["o"] == 20
    gmm = res["systems"]["gmm"]["eer"]
    assert gmm["o"] is None  # present in every clip: no EER
    assert gmm["c"] <= 0.2 and gmm["m"] <= 0.2  # steady tones are easy
    header = (out / "scores" / "cnn.tsv").read_text().splitlines()[0].split("\t")
    assert header[:2] == ["file", "true_c"] and header[-7:] == ["c", "m", "f", "v", "p", "b", "o"]
    clf = json.loads((out / "models" / "fold0" / "model.json").read_text())
    assert clf["state"]["classes"] == ["c", "m", "f", "v", "p", "b", "o"]
    assert clf["params"]["multi_label"]


def test_clip_recipe_ensemble_members(task1_mini: Path, tmp_path: Path) -> None:
    """With two members per network, member 0 is the single-member run's network weight
    for weight, member 1 has seed + 1, the reported probabilities are the mean of the
    saved members' and the members' record agrees with the accuracies."""
    from audioscene.models import load_model

    common = [*TINY_CNN, *TINY_LTE, "jobs=1", "lte.segment_frames=20", "lte.hop_frames=10",
              "systems=[cnn,lte-cnn,fusion]", "test_folds=4"]
    one = run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "one",
                     overrides=common, log=lambda *a: None)
    two = run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "two",
                     overrides=[*common, "cnn.members=2", "lte_cnn.members=2"],
                     log=lambda *a: None)
    assert "members" not in one["systems"]["cnn"]
    audio = task1_mini / "TUT-acoustic-scenes-2016-development" / "audio"
    for s, name in (("cnn", "fold4"), ("lte-cnn", "lte_fold4")):
        a, b = load_model(tmp_path / "one" / "models" / name), \
            load_model(tmp_path / "two" / "models" / name)
        m1 = load_model(tmp_path / "two" / "models" / f"{name}_m1")
        assert (a.random_state, b.random_state, m1.random_state) == (0, 0, 1)
        sa, sb = a.network_.state_dict(), b.network_.state_dict()
        assert all(np.array_equal(sa[key].numpy(), sb[key].numpy()) for key in sa)
        rows = (tmp_path / "two" / "predictions" / f"{s}.tsv").read_text().splitlines()[1:]
        clips = [audio / r.split("\t")[0] for r in rows]
        reported = np.array([[float(v) for v in r.split("\t")[4:]] for r in rows])
        order = [list(b.classes_).index(c) for c in ("beach", "bus", "home")]
        mean = (b.predict_proba(clips) + m1.predict_proba(clips))[:, order] / 2
        np.testing.assert_allclose(reported, mean, atol=2e-6)
        rec = two["systems"][s]["members"][4]
        assert rec["first_members"][0] == rec["accuracy"][0] == one["systems"][s]["per_fold"][4]
        assert rec["first_members"][1] == two["systems"][s]["per_fold"][4]
        assert len(rec["validation_accuracy"]) == 2
    assert "Ensemble members" in (tmp_path / "two" / "results.md").read_text()
    # an allconv and an lte-cnn network of the same features make one ClipEnsemble
    from audioscene.models import ClipEnsemble

    cnn, lte = (load_model(tmp_path / "two" / "models" / n) for n in ("fold4", "lte_fold4"))
    mixed = ClipEnsemble([cnn, lte])
    np.testing.assert_array_equal(mixed.predict_proba(clips),
                                  (cnn.predict_proba(clips) + lte.predict_proba(clips)) / 2)


def test_distilled_network_from_the_members(task1_mini: Path, tmp_path: Path) -> None:
    """cnn.distil trains one more network on a teacher's knowledge: in cross-validation it
    is saved beside the members, equals ClipEnsemble.distil of the saved teacher networks
    weight for weight (the CNN's members, or with distil_teacher fusion the CNN's then
    the LTE-CNN's), and its record agrees with it; `train` saves it as the model."""
    from audioscene.datasets import load_dataset
    from audioscene.features import FeatureConfig
    from audioscene.models import ClipClassifier, ClipEnsemble, load_model
    from audioscene.recipes.clips import frames_for, plan_folds

    base = [*TINY_CNN, *TINY_LTE, "jobs=1", "lte.segment_frames=20", "lte.hop_frames=10",
            "test_folds=4", "cnn.distil=0.5"]
    cases = {"members": [*base, "systems=[cnn]", "cnn.members=2"],
             "fusion": [*base, "systems=[cnn,lte-cnn]", "cnn.distil_teacher=fusion",
                        "lte_cnn.distil=0.5", "lte_cnn.distil_teacher=fusion"]}
    for teacher_kind, overrides in cases.items():
        out = tmp_path / teacher_kind
        res = run_recipe("dcase2016-task1", data=task1_mini, out=out, overrides=overrides,
                         log=lambda *a: None)
        models = out / "models"
        _, cfg = load_config("dcase2016-task1", overrides)
        fcfg = FeatureConfig.from_dict(cfg["features"])
        [(_, train, test)] = plan_folds(load_dataset(cfg["dataset"], task1_mini), None, "4")
        F = frames_for([it.path for it in train + test], fcfg)
        # the student is a clone of the first teacher network (its own system's member 0)
        teachers = {"cnn": ["fold4", "fold4_m1"] if teacher_kind == "members"
                    else ["fold4", "lte_fold4"]}
        if teacher_kind == "fusion":
            teachers["lte-cnn"] = ["lte_fold4", "fold4"]
        assert ("distilled" in res["systems"].get("lte-cnn", {})) == (teacher_kind == "fusion")
        for s, names in teachers.items():
            student = load_model(models / f"{names[0]}_distilled")
            nets = [load_model(models / n) for n in names]
            again = ClipEnsemble(nets).distil([F[it.path] for it in train],
                                              [it.label for it in train],
                                              groups=[it.recording or it.stem for it in train],
                                              weight=0.5)
            sa, sb, s0 = (m.network_.state_dict() for m in (student, again, nets[0]))
            assert all(np.array_equal(sa[key].numpy(), sb[key].numpy()) for key in sa)
            assert not all(np.array_equal(sa[key].numpy(), s0[key].numpy()) for key in sa)
            assert student.random_state == nets[0].random_state == 0
            assert student.backend == nets[0].backend == ("allconv" if s == "cnn" else "lte-cnn")
            d = res["systems"][s]["distilled"]
            assert (d["weight"], d["teacher"]) == (0.5, teacher_kind)
            rec = d["per_fold"][4]
            assert rec["validation_loss"] == \
                student.history_[student.best_epoch_ - 1]["val_loss"]
            assert rec["member0_validation_loss"] == \
                nets[0].history_[nets[0].best_epoch_ - 1]["val_loss"]
            y_te = np.array([it.label for it in test])
            assert rec["accuracy"] == np.mean(student.predict([F[it.path] for it in test])
                                              == y_te)
            assert f"| {s} | {teacher_kind} | 0.5 |" in (out / "results.md").read_text()
    for bad, match in ((["cnn.distil=0.5"], r"cnn.distil needs cnn.members > 1"),
                       (["cnn.distil=0.5", "cnn.distil_teacher=fusion", "systems=[cnn]"],
                        "cnn.distil_teacher 'fusion' needs both cnn and lte-cnn"),
                       (["cnn.distil=1.5", "cnn.members=2"],
                        r"cnn.distil must be in \[0, 1\]")):
        with pytest.raises(ValueError, match=match):
            run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "bad",
                       overrides=[*TINY_CNN, *bad], log=lambda *a: None)
    logged: list[str] = []
    out = run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "train",
                     overrides=[*TINY_CNN, *TINY_LTE, "jobs=1", "cnn.distil=0.5",
                                "cnn.distil_teacher=fusion"],
                     train_only=True, log=lambda *a: logged.append(" ".join(map(str, a))))
    assert any("one network distilled from 2 networks" in m for m in logged)
    assert out["distilled"] and out["members"] == 1
    model = load_model(tmp_path / "train" / "model")
    assert isinstance(model, ClipClassifier) and model.backend == "allconv"


def test_train_saves_an_ensemble_that_classify_reads(task1_mini: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    """`train` with cnn.members=2 saves one ClipEnsemble: member 0 is the single-member
    model weight for weight, member 1 has seed + 1, its probabilities are the mean of
    its members', and `classify` prints them."""
    from audioscene.models import ClipClassifier, ClipEnsemble, load_model

    common = [*TINY_CNN, "jobs=1"]
    one = run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "one",
                     overrides=common, train_only=True, log=lambda *a: None)
    two = run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "two",
                     overrides=[*common, "cnn.members=2"], train_only=True,
                     log=lambda *a: None)
    assert (one["members"], two["members"]) == (1, 2)
    single, ens = load_model(tmp_path / "one" / "model"), load_model(tmp_path / "two" / "model")
    assert isinstance(single, ClipClassifier) and isinstance(ens, ClipEnsemble)
    assert [m.random_state for m in ens.members] == [0, 1]
    sa, sb = single.network_.state_dict(), ens.members[0].network_.state_dict()
    assert all(np.array_equal(sa[key].numpy(), sb[key].numpy()) for key in sa)
    clips = sorted((task1_mini / "TUT-acoustic-scenes-2016-development" / "audio")
                   .glob("*.wav"))[:4]
    P = ens.predict_proba(clips)
    assert np.array_equal(P, np.mean([m.predict_proba(clips) for m in ens.members], axis=0))
    assert not np.allclose(P, single.predict_proba(clips))
    capsys.readouterr()
    assert main(["classify", *map(str, clips), "--model", str(tmp_path / "two" / "model")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "file\tlabel\t" + "\t".join(map(str, ens.classes_))
    printed = np.array([[float(v) for v in ln.split("\t")[2:]] for ln in lines[1:]])
    np.testing.assert_allclose(printed, P, atol=5e-5)  # printed to 4 decimals
    # members must agree on classes
    other = ClipClassifier(net_params={"channels": [4], "strides": [2]}, max_epochs=1,
                           feature_config=single.fconfig, progress=False
                           ).fit([single.frames(c) for c in clips[:3]], ["x", "y", "x"])
    with pytest.raises(ValueError, match="other classes"):
        ClipEnsemble([single, other])
    import copy

    tagger = copy.deepcopy(single).set_params(multi_label=True)
    with pytest.raises(ValueError, match="multi_label"):
        ClipEnsemble([single, tagger])
    other_features = copy.deepcopy(single).set_params(
        feature_config=single.fconfig.replace(n_fft=2 * single.fconfig.n_fft))
    with pytest.raises(ValueError, match="other features"):
        ClipEnsemble([single, other_features])
    with pytest.raises(ValueError, match="at least one"):
        ClipEnsemble([])
    with pytest.raises(ValueError, match="backend must be 'allconv' or 'lte-cnn', got 'gmm'"):
        run_recipe("dcase2016-task1", data=task1_mini, out=tmp_path / "bad",
                   overrides=["backend=gmm"], train_only=True, log=lambda *a: None)


def test_esc10_recipe_fixed_split_and_train(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "esc"
    res = run_recipe("esc10", data=shared_data, out=out,
                     overrides=[*TINY_CNN, "train_folds=1", "test_folds=4",
                                "systems=[cnn,gmm,rf]",
                                "gmm.n_components=2", "rf.n_estimators=50"],
                     log=lambda *a: None)
    assert res["folds"] == [4] and set(res["systems"]) == {"cnn", "gmm", "rf"}
    assert res["systems"]["rf"]["pooled"]["n"] == 80
    assert res["systems"]["rf"]["mean"] > 0.4 and res["systems"]["gmm"]["mean"] > 0.4
    for s in ("cnn", "gmm", "rf"):
        assert (out / f"confusion_{s}.png").exists()
    # `audioscene train` writes a model that `classify` reads
    rc = main(["train", "esc10", "--data", str(shared_data), "--out", str(tmp_path / "t"),
               "--train-folds", "1", "--set", "cnn.max_epochs=1",
               "--set", "cnn.net_params.channels=[4,4]", "--set", "cnn.net_params.strides=[2,2]"])
    assert rc == 0 and (tmp_path / "t" / "model" / "model.json").exists()


def test_classify_and_tag_cli(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
                              ) -> None:
    from audioscene.models import ClipClassifier

    esc = sorted((shared_data / "esc10").rglob("4-*.ogg"))[:3]
    clf = ClipClassifier(net_params={"channels": [4], "strides": [2]}, max_epochs=1,
                         progress=False).fit(esc, ["x", "y", "x"])
    clf.save(tmp_path / "single")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    rc = main(["classify", *map(str, esc), str(bad), "--model", str(tmp_path / "single")])
    out, err = capsys.readouterr()
    assert rc == 1 and "bad.wav" in err
    lines = out.splitlines()
    assert lines[0] == "file\tlabel\tx\ty" and len(lines) == 4
    probs = np.array([[float(v) for v in ln.split("\t")[2:]] for ln in lines[1:]])
    np.testing.assert_allclose(probs, clf.predict_proba(esc), atol=5e-5)  # printed to 4 decimals
    rc = main(["classify", str(esc[0]), "--model", str(tmp_path / "single"), "--format", "json",
               "-o", str(tmp_path / "o.json")])
    rec = json.loads((tmp_path / "o.json").read_text())[0]
    assert rc == 0 and rec["label"] in ("x", "y") and set(rec["probabilities"]) == {"x", "y"}
    # a tagging model: `tag` works, `classify` refuses with a pointer
    tagger = ClipClassifier(multi_label=True, net_params={"channels": [4], "strides": [2]},
                            max_epochs=1, progress=False).fit(esc, [("a",), ("a", "b"), ()],
                                                              classes=["a", "b"])
    tagger.save(tmp_path / "multi")
    assert main(["classify", str(esc[0]), "--model", str(tmp_path / "multi")]) == 2
    rc = main(["tag", *map(str, esc), "--model", str(tmp_path / "multi"), "--format", "csv",
               "--threshold", "0"])
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert rc == 0 and lines[0] == "file,tags,a,b" and lines[1].split(",")[1] == "a;b"
    assert main(["detect", str(esc[0]), "--model", str(tmp_path / "multi")]) == 2


def test_task2_tagging_recipe_plumbing(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "tag"
    res = run_recipe("task2-tagging", data=shared_data, out=out, log=lambda *a: None,
                     overrides=[*TINY_CNN, "synth.train_mixtures=3", "synth.validation_mixtures=1",
                                "synth.duration=20", "gmm.n_components=2", "folds.k=2",
                                "folds.duration=60", "folds.events_per_class=[1]",
                                "folds.ebr_db=[0.0]", "folds.polyphony=[0]"])
    assert res["n_train_chunks"] == 15 and res["n_val_chunks"] == 5
    folds = res["folds"]
    assert folds["k"] == 2 and folds["n_test_chunks"] == [15, 15]
    for s in ("cnn", "gmm"):
        per = [f[s]["mean_eer"] for f in folds["per_fold"]]
        assert folds["summary"][s]["mean_eer"]["mean"] == pytest.approx(np.mean(per))
        assert (out / "folds" / "fold1" / "scores" / f"{s}.tsv").is_file()
    assert len(list((out / "folds" / "fold0" / "reference").glob("*.txt"))) == 1
    md = (out / "results.md").read_text()
    assert md.index("Unseen recordings") < md.index("Seen recordings")
    assert res["n_clips"] >= 18 * 25  # dev mixtures are about two minutes each
    assert len(res["tags"]) == 11 and all(res["positives"][t] > 0 for t in res["tags"])
    for s in ("cnn", "gmm"):
        assert 0 <= res["systems"][s]["mean_eer"] <= 1
    assert (out / "model" / "model.json").exists()


def test_chunk_tags_need_min_overlap() -> None:
    from audioscene.events import Event, EventList

    ev = EventList([Event(3.0, 4.05, "a"), Event(7.5, 9.0, "b")])
    assert chunk_tags(ev, 4.0, 8.0, ["a", "b"]).tolist() == [0, 1]
    assert chunk_tags(ev, 4.0, 8.0, ["a", "b"], min_overlap=0.01).tolist() == [1, 1]


def test_recipe_configs_resolve() -> None:
    for name in ("esc10", "dcase2016-task1", "dcase2016-task4", "task2-tagging"):
        _, cfg = load_config(name)
        assert cfg["cnn"]["max_epochs"] >= 10
    with pytest.raises(KeyError, match="unknown recipe setting"):
        load_config("esc10", ["cnn.epochs=3"])
