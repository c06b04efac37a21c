"""`audioscene classify` / `tag` with --window/--hop (a timeline of one row per window,
read block by block) and --top-k, on real ESC-10 clips."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.audio import load
from audioscene.cli import _windows
from audioscene.features import extract, extract_file
from audioscene.models import ClipClassifier
from audioscene.models.clip import CNN_FEATURES

SR = CNN_FEATURES.sr  # the models' rate: 22050 Hz
TINY = {"net_params": {"channels": [4], "strides": [2]}, "max_epochs": 1,
        "validation_fraction": 0.0, "progress": False}


@pytest.fixture(scope="module")
def clips(shared_data: Path) -> dict[str, list[Path]]:
    esc = shared_data / "esc10"
    return {lab: sorted((esc / folder).glob("4-*.ogg"))[:2]
            for lab, folder in (("dog", "001 - Dog bark"), ("rain", "002 - Rain"))}


@pytest.fixture(scope="module")
def models(clips: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, Path]:
    """A single-label and a tagging model, trained in seconds on four real clips."""
    paths = clips["dog"] + clips["rain"]
    X = [extract_file(p, CNN_FEATURES)[0] for p in paths]
    out = tmp_path_factory.mktemp("models")
    ClipClassifier(**TINY).fit(X, ["dog", "dog", "rain", "rain"]).save(out / "single")
    ClipClassifier(multi_label=True, **TINY).fit(
        X, [("dog",), ("dog", "outdoor"), ("rain", "outdoor"), ("rain",)],
        classes=["dog", "outdoor", "rain"]).save(out / "multi")
    return {"single": out / "single", "multi": out / "multi"}


def test_a_window_row_is_the_classification_of_that_cut(clips: dict, models: dict,
                                                        tmp_path: Path,
                                                        run_cli: Callable) -> None:
    clf = ClipClassifier.load(models["single"])
    src = clips["dog"][0]
    y, _ = load(src, sr=SR)
    assert len(y) == 110272  # 5.001 s at 22050 Hz
    # window 1 s, hop 0.5 s: nine whole windows, then the last 0.501 s (at least half a
    # window) ending at the end of the file; the 22 samples after that are no row
    rows = list(_windows(clf, str(src), 1.0, 0.5))
    want = [(k * 0.5, k * 0.5 + 1.0) for k in range(9)] + [(4.5, 110272 / SR)]
    assert [(a, b) for a, b, _ in rows] == want
    # the window starting at 1.5 s, cut into a file at the model's rate, classified alone
    cut = tmp_path / "cut.wav"
    sf.write(cut, y[33075:33075 + SR], SR, subtype="FLOAT")
    np.testing.assert_array_equal(extract_file(cut, CNN_FEATURES)[0],
                                  extract(y[33075:33075 + SR], CNN_FEATURES)[0])
    np.testing.assert_array_equal(rows[3][2], clf.predict_proba([cut])[0])
    # the partial last window too
    tail = tmp_path / "tail.wav"
    sf.write(tail, y[99225:], SR, subtype="FLOAT")
    np.testing.assert_array_equal(rows[-1][2], clf.predict_proba([tail])[0])
    # the command line prints the same numbers (to 4 decimals) with the times
    code, out, err = run_cli(["classify", str(src), "--model", str(models["single"]),
                              "--window", "1", "--hop", "0.5"])
    assert code == 0, err
    lines = [ln.split("\t") for ln in out.splitlines()]
    assert lines[0] == ["file", "start", "end", "label", "dog", "rain"]
    assert [ln[1:3] for ln in lines[1:]] == [[f"{k * 0.5:g}", f"{k * 0.5 + 1:g}"]
                                             for k in range(9)] + [["4.5", "5.000998"]]
    for ln, (_, _, p) in zip(lines[1:], rows):
        assert ln[0] == str(src)
        assert ln[3] == ("dog", "rain")[int(np.argmax(p))]
        assert ln[4:] == [f"{v:.4f}" for v in p]


def test_windows_do_not_depend_on_blocks_and_skip_audio_between_windows(
        clips: dict, models: dict) -> None:
    clf = ClipClassifier.load(models["single"])
    src = str(clips["rain"][0])
    y, _ = load(src, sr=SR)
    # hop longer than the window: the samples between windows are read and dropped
    small = list(_windows(clf, src, 1.0, 1.5, block_length=1000))
    big = list(_windows(clf, src, 1.0, 1.5))
    # 4.5 s is the last start: 0.501 s are left, at least half a window
    assert [r[:2] for r in small] == [r[:2] for r in big] == [(0.0, 1.0), (1.5, 2.5),
                                                                (3.0, 4.0), (4.5, 110272 / SR)]
    for (a, _, p), (_, _, q) in zip(small, big):
        s = round(a * SR)
        direct = clf.predict_proba([extract(y[s:s + SR], CNN_FEATURES)[0]])[0]
        np.testing.assert_array_equal(p, direct)
        np.testing.assert_array_equal(q, direct)
    # hop 1.6 s: 0.2 s are left after the window at 3.2 s, under half a window: no row
    assert [r[:2] for r in _windows(clf, src, 1.0, 1.6)] == [(0.0, 1.0), (1.6, 2.6),
                                                             (3.2, 4.2)]
    # a window longer than the file: one row, the whole file, as clip classification
    (row,) = list(_windows(clf, src, 10.0, 10.0))
    assert row[:2] == (0.0, 110272 / SR)
    np.testing.assert_array_equal(row[2], clf.predict_proba([src])[0])
    # ... also when the hop is shorter than the window
    (row2,) = list(_windows(clf, src, 10.0, 0.25))
    assert row2[:2] == row[:2]
    np.testing.assert_array_equal(row2[2], row[2])


def test_windows_hold_at_most_one_window_and_one_block(clips: dict, models: dict,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    clf = ClipClassifier.load(models["single"])
    src = str(clips["rain"][0])
    biggest = [0]
    concatenate = np.concatenate

    def spy(arrays, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        out = concatenate(arrays, *a, **k)
        if sys._getframe(1).f_code.co_name == "_windows":  # the window buffer only
            biggest[0] = max(biggest[0], len(out))
        return out

    monkeypatch.setattr(np, "concatenate", spy)
    # a window of 0.2 s every 2 s, blocks of 1000 samples: the buffer never grows past
    # one window and one block, although 2 s lie between windows
    rows = list(_windows(clf, src, 0.2, 2.0, block_length=1000))
    monkeypatch.undo()
    assert [r[0] for r in rows] == [0.0, 2.0, 4.0]
    from audioscene.audio import blocks

    block = max(len(b.samples) for b in blocks(src, block_length=1000, sr=SR))
    assert 0 < biggest[0] <= round(0.2 * SR) + block


def test_top_k_for_classify_and_tag(clips: dict, models: dict, tmp_path: Path,
                                    run_cli: Callable) -> None:
    src = [str(clips["dog"][1]), str(clips["rain"][1])]
    code, out, err = run_cli(["classify", *src, "--model", str(models["single"]), "--top-k", "2",
                              "--format", "csv"])
    assert code == 0, err
    lines = [ln.split(",") for ln in out.splitlines()]
    assert lines[0] == ["file", "label", "top_k", "dog", "rain"] and len(lines) == 3
    for ln in lines[1:]:
        probs = {"dog": ln[3], "rain": ln[4]}
        pairs = [x.split(":") for x in ln[2].split(";")]
        assert [c for c, _ in pairs] == sorted(probs, key=lambda c: -float(probs[c]))
        assert ln[1] == pairs[0][0] and all(v == probs[c] for c, v in pairs)
    # json: a list of {label, probability}; K above the number of classes gives them all
    code, out, err = run_cli(["classify", src[0], "--model", str(models["single"]), "--top-k",
                              "5", "--format", "json", "--window", "2.5"])
    assert code == 0, err
    recs = json.loads(out)
    assert [(r["start"], r["end"]) for r in recs] == [(0.0, 2.5), (2.5, 5.0)]
    for r in recs:
        assert [t["label"] for t in r["top_k"]][0] == r["label"] and len(r["top_k"]) == 2
        assert {t["label"]: t["probability"] for t in r["top_k"]} == r["probabilities"]
    # tag: the K best of the tags that pass the threshold, best first
    tagger = ClipClassifier.load(models["multi"])
    P = tagger.predict_proba(src)
    for k in (1, 2):
        code, out, err = run_cli(["tag", *src, "--model", str(models["multi"]), "--top-k", str(k),
                                  "--threshold", "0", "--format", "json"])
        assert code == 0, err
        for rec, p in zip(json.loads(out), P):
            order = [tagger.classes_[j] for j in np.argsort(-p, kind="stable")]
            assert rec["tags"] == order[:k]
    code, out, err = run_cli(["tag", src[0], "--model", str(models["multi"]), "--top-k", "3",
                              "--threshold", "1.01"])
    assert out.splitlines()[1].split("\t")[1] == ""  # none passes the threshold
    code, out, err = run_cli(["tag", src[0], "--model", str(models["multi"]), "--window", "2",
                              "--hop", "1.5", "--top-k", "2", "--threshold", "0"])
    lines = [ln.split("\t") for ln in out.splitlines()]
    assert code == 0 and lines[0] == ["file", "start", "end", "tags", "dog", "outdoor", "rain"]
    # the 0.501 s from 4.5 s are under half a 2 s window: no row
    assert [ln[1:3] for ln in lines[1:]] == [["0", "2"], ["1.5", "3.5"], ["3", "5"]]
    assert all(len(ln[3].split(";")) == 2 for ln in lines[1:])


@pytest.mark.parametrize("argv,text", [
    (["--window", "0"], "--window: must be a positive number, got 0"),
    (["--window=-1"], "--window: must be a positive number, got -1"),
    (["--window", "abc"], "--window: expected a number, got 'abc'"),
    (["--window", "1", "--hop", "0"], "--hop: must be a positive number, got 0"),
    (["--window", "1", "--hop=-0.5"], "--hop: must be a positive number, got -0.5"),
    (["--hop", "1"], "--hop applies to --window"),
    (["--window", "0.01"], "--window 0.01: shorter than one analysis frame of the model "
                           "(0.0464 s)"),
    (["--top-k", "0"], "--top-k: must be at least 1, got 0"),
])
@pytest.mark.parametrize("cmd", ["classify", "tag"])
def test_bad_window_hop_and_top_k_are_one_line_and_exit_2(
        argv: list[str], text: str, cmd: str, clips: dict, models: dict, tmp_path: Path,
        run_cli: Callable) -> None:
    model = models["single" if cmd == "classify" else "multi"]
    out_file = tmp_path / "o.tsv"
    code, out, err = run_cli([cmd, str(clips["dog"][0]), "--model", str(model), "-o",
                              str(out_file), *argv])
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert code == 2 and len(errors) == 1 and text in errors[0], err
    assert "Traceback" not in err and out == "" and not out_file.exists()


def test_windowed_batch_reports_bad_inputs_and_keeps_the_others(
        clips: dict, models: dict, tmp_path: Path, run_cli: Callable) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(500, np.float32), SR)  # under one frame (1024 samples)
    out_file = tmp_path / "t.json"
    code, out, err = run_cli(["classify", str(bad), str(clips["dog"][0]), str(short),
                              "--model", str(models["single"]), "--window", "2", "--format",
                              "json", "-o", str(out_file)])
    assert code == 1
    assert "bad.wav: not a readable audio file" in err
    assert "short.wav: shorter than one frame (500 samples" in err
    assert "2 of 3 input(s) failed" in err
    recs = json.loads(out_file.read_text())
    assert [(r["file"], r["start"], r["end"]) for r in recs] == [
        (str(clips["dog"][0]), 0.0, 2.0), (str(clips["dog"][0]), 2.0, 4.0),
        (str(clips["dog"][0]), 4.0, 5.000998)]  # the last: 1.001 s, over half a window


def test_windowed_classify_reads_standard_input(clips: dict, models: dict,
                                                tmp_path: Path) -> None:
    y, _ = load(clips["rain"][0], sr=SR)
    wav = tmp_path / "rain.wav"
    sf.write(wav, y, SR, subtype="FLOAT")
    r = subprocess.run([sys.executable, "-m", "audioscene", "classify", "-", "--model",
                        str(models["single"]), "--window", "1.25"], input=wav.read_bytes(),
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    got = [ln.split("\t") for ln in r.stdout.decode().splitlines()[1:]]
    clf = ClipClassifier.load(models["single"])
    want = list(_windows(clf, str(wav), 1.25, 1.25))
    # 1.25 s is 27562 samples at 22050 Hz (rounded to whole samples): 1.249977 s
    assert want[0][:2] == (0.0, 27562 / SR) and len(want) == 4
    us = [[f"{t:.6f}".rstrip("0").rstrip(".") for t in w[:2]] for w in want]
    assert us[:2] == [["0", "1.249977"], ["1.249977", "2.499955"]]
    assert [g[:3] for g in got] == [["-", *u] for u in us]
    assert [g[4:] for g in got] == [[f"{v:.4f}" for v in p] for _, _, p in want]
