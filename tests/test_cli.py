"""The audioscene command line, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioscene.cli import main
from audioscene.features import FeatureConfig, extract_file


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audioscene", *args], input=stdin,
                          capture_output=True)


@pytest.mark.parametrize("cmd", ["features", "synth", "evaluate"])
def test_every_subcommand_has_help(cmd: str) -> None:
    r = run(cmd, "--help")
    assert r.returncode == 0 and b"usage: audioscene " + cmd.encode() in r.stdout


def test_features_batch_with_failures(tmp_path: Path, dev_mixture: Path) -> None:
    good = tmp_path / "in" / "good.wav"
    good.parent.mkdir()
    y, sr = sf.read(dev_mixture, frames=3 * 44100, dtype="float32")
    sf.write(good, y, sr)
    bad = tmp_path / "in" / "bad.wav"
    bad.write_text("not audio")
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(50, np.float32), 44100)
    out = tmp_path / "out"
    r = run("features", str(tmp_path / "in"), str(short), str(tmp_path / "missing.flac"),
            "-o", str(out), "--kind", "mfcc", "--deltas", "1")
    err = r.stderr.decode()
    assert r.returncode == 1
    assert "bad.wav: not a readable audio file" in err
    assert "short.wav: shorter than one frame" in err
    assert "missing.flac: no such file" in err
    assert "3 of 4 input(s) failed" in err
    assert sorted(p.name for p in out.iterdir()) == ["good.npz"]  # no partial outputs
    z = np.load(out / "good.npz")
    cfg = FeatureConfig.from_json(str(z["config"]))
    assert cfg.kind == "mfcc" and cfg.deltas == 1
    np.testing.assert_array_equal(z["features"], extract_file(good, cfg)[0])
    assert z["features"].shape[0] == len(z["times"])


def test_features_from_stdin(tmp_path: Path, dev_mixture: Path) -> None:
    y, sr = sf.read(dev_mixture, frames=2 * 44100, dtype="float32")
    wav = tmp_path / "x.wav"
    sf.write(wav, y, sr)
    r = run("features", "-", "-o", str(tmp_path / "s.npz"), stdin=wav.read_bytes())
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "s.npz")["features"], extract_file(wav)[0],
                               atol=1e-4)


def test_synth_then_evaluate(tmp_path: Path) -> None:
    out = tmp_path / "mix"
    assert main(["synth", "-o", str(out), "-n", "2", "--duration", "15", "--sr", "16000",
                 "--ebr=-3,3", "--polyphony", "2", "--rate", "20", "--seed", "3"]) == 0
    assert len(list((out / "sound").glob("*.wav"))) == 2
    # perfect estimate: written as CSV into another folder, evaluated with true lengths
    est = tmp_path / "est"
    from audioscene.evaluate import read_event_lists

    ref = read_event_lists(out / "annotation")
    for stem, ev in ref.by_file().items():
        ev.write(est / f"{stem}.csv")
    res = tmp_path / "res.json"
    r = run("evaluate", "--ref", str(out / "annotation"), "--est", str(est), "--audio-dir",
            str(out / "sound"), "--json", str(res))
    assert r.returncode == 0, r.stderr
    d = json.loads(res.read_text())
    assert d["segment_based"]["overall"]["f1"] == 1.0
    assert d["event_onset_offset"]["overall"]["error_rate"] == 0.0
    assert d["files"] == ["mix000", "mix001"]
    assert b"event-based onset+offset" in r.stdout


def test_evaluate_bad_file_names_line(tmp_path: Path) -> None:
    ref = tmp_path / "ref.txt"
    ref.write_text("1.0\t2.0\tdog\n1.0\tdog\t2.0\n")
    r = run("evaluate", "--ref", str(ref), "--est", str(ref))
    assert r.returncode == 1 and b"ref.txt:2:" in r.stderr


def test_synth_with_real_sounds(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "real"
    r = run("synth", "-o", str(out), "-n", "1", "--duration", "20", "--sr", "22050",
            "--events", str(shared_data / "dcase2016_task2" / "dcase2016_task2_train"),
            "--backgrounds", str(shared_data / "backgrounds"), "--rate", "15")
    assert r.returncode == 0, r.stderr
    labels = {line.split("\t")[2] for line in
              (out / "annotation" / "mix000.txt").read_text().strip().split("\n")}
    assert labels <= {"clearthroat", "cough", "doorslam", "drawer", "keyboard", "keys",
                      "knock", "laughter", "pageturn", "phone", "speech"}


def test_demo_runs(tmp_path: Path) -> None:
    from audioscene.demo import run as demo

    figures = demo(tmp_path / "demo", minutes=1.0)
    assert figures["event_onset_f1"] > 0.5  # a detector trained in seconds, far above chance
    assert (tmp_path / "demo" / "event_roll.png").stat().st_size > 10000
    assert (tmp_path / "demo" / "model" / "model.json").exists()


@pytest.mark.parametrize("command, recipe, shown", [
    ("train", "classifier", True),  # a recipe on your own data reports under train too
    ("train", "esc10", False),  # train runs of the clip recipes write no report
    ("recipe", "esc10", True),
])
def test_recipe_file_reports_as_the_recipe_it_names(
        run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        command: str, recipe: str, shown: bool) -> None:
    from audioscene.recipes import RECIPES

    def fake_run(cfg: dict, *, data: Path, out: Path, **_: object) -> dict:
        (out / "model").mkdir(parents=True)
        (out / "results.md").write_text("# results\n")
        return {}

    monkeypatch.setitem(RECIPES, recipe, fake_run)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"recipe: {recipe}\n")
    out = tmp_path / "out"
    code, stdout, err = run_cli([command, str(cfg), str(tmp_path), "--out", str(out)])
    assert code == 0, err
    assert (f"results: {out / 'results.md'}" in stdout) is shown
    assert f"model: {out / 'model'}" in stdout
