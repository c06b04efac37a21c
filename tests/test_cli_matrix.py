"""Bad input, command by command: the exit code, a message naming the input, no
traceback, no partial output, and the other inputs still processed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    d = tmp_path / "events"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in ("beep001.wav", "beep002.wav", "knock001.wav"):
        sf.write(d / name, (0.3 * rng.standard_normal(4000)).astype(np.float32), 16000)
    (d / "knock002.wav").write_text("not audio")  # one bad file among good ones
    return d


CASES = {
    # name: (argv after the subcommand, exit code, text in the last stderr line)
    "synth polyphony 0": (["synth", "-o", "{tmp}/o", "--polyphony", "0"], 2,
                          "--polyphony: must be at least 1"),
    "synth duration 0": (["synth", "-o", "{tmp}/o", "--duration", "0"], 2,
                         "--duration: must be a positive number"),
    "synth duration -5": (["synth", "-o", "{tmp}/o", "--duration=-5"], 2,
                          "--duration: must be a positive number"),
    "synth rate -1": (["synth", "-o", "{tmp}/o", "--rate=-1"], 2, "--rate: must be a number"),
    "synth sr 0": (["synth", "-o", "{tmp}/o", "--sr", "0"], 2, "--sr: must be at least 1"),
    "synth n abc": (["synth", "-o", "{tmp}/o", "-n", "abc"], 2, "-n: expected an integer"),
    "synth unknown class": (["synth", "-o", "{tmp}/o", "--classes", "beep,trumpet"], 2,
                            "unknown procedural class(es) ['trumpet']"),
    "synth missing backgrounds": (["synth", "-o", "{tmp}/o", "--backgrounds",
                                   "{tmp}/nowhere"], 2, "--backgrounds {tmp}/nowhere: no such"),
    "synth output is a file": (["synth", "-o", "{tmp}/file.txt"], 2,
                               "-o {tmp}/file.txt: exists and is not a folder"),
    "detect jobs 0": (["detect", "{tmp}/a.wav", "--model", "{tmp}/m", "--jobs", "0"], 2,
                      "--jobs: must be at least 1"),
    "recipe setting not a number": (["recipe", "esc10", "--data", "{tmp}", "--out", "{tmp}/r",
                                     "--set", "cnn.max_epochs=abc"], 1,
                                    "setting cnn.max_epochs: expected an integer, got 'abc'"),
    "recipe setting negative": (["train", "esc10", "--data", "{tmp}", "--out", "{tmp}/r",
                                 "--set", "cnn.max_epochs=-1"], 1,
                                "setting cnn.max_epochs: expected an integer >= 1, got -1"),
    "recipe seed negative": (["train", "esc10", "--data", "{tmp}", "--out", "{tmp}/r",
                              "--set", "seed=-3"], 1,
                             "setting seed: expected an integer >= 0, got -3"),
    "recipe setting bad yaml": (["recipe", "esc10", "--data", "{tmp}", "--out", "{tmp}/r",
                                 "--set", "cnn.max_epochs=[1"], 1,
                                "--set cnn.max_epochs: not a YAML value"),
    "recipe config bad yaml": (["recipe", "{tmp}/bad.yaml", "--data", "{tmp}", "--out",
                                "{tmp}/r"], 1, "bad.yaml:3: not valid YAML"),
    "recipe print-config unknown recipe": (["recipe", "nosuch", "--print-config"], 1,
                                           "unknown recipe 'nosuch'"),
    "recipe print-config unknown setting": (["train", "esc10", "--print-config", "--set",
                                             "cnn.epochs=3"], 1,
                                            "unknown recipe setting 'cnn.epochs'"),
    "recipe print-config bad yaml": (["recipe", "{tmp}/bad.yaml", "--print-config"], 1,
                                     "bad.yaml:3: not valid YAML"),
    "recipe without data": (["recipe", "esc10", "--out", "{tmp}/r"], 2,
                            "the following arguments are required: --data"),
    "evaluate json is a folder": (["evaluate", "--ref", "{tmp}/ref.txt", "--est",
                                   "{tmp}/ref.txt", "--json", "{tmp}"], 2,
                                  "--json {tmp}: is a folder, not a file"),
    "classify output is a folder": (["classify", "{tmp}/a.wav", "--model", "{tmp}/m", "-o",
                                     "{tmp}/emptydir"], 2, "-o {tmp}/emptydir: is a folder"),
    "tag output under a file": (["tag", "{tmp}/a.wav", "--model", "{tmp}/m", "-o",
                                 "{tmp}/file.txt/t.tsv"], 2,
                                "{tmp}/file.txt is not a folder"),
    "synth output under a file": (["synth", "-o", "{tmp}/file.txt/sub"], 2,
                                  "{tmp}/file.txt is not a folder"),
    "evaluate plots under a file": (["evaluate", "--ref", "{tmp}/ref.txt", "--scores",
                                     "{tmp}/ref.txt", "--plots", "{tmp}/file.txt/p"], 2,
                                    "{tmp}/file.txt is not a folder"),
    "evaluate dtc above 1": (["evaluate", "--ref", "{tmp}/ref.txt", "--scores",
                              "{tmp}/ref.txt", "--dtc", "1.5"], 2, "--dtc: must lie in (0, 1]"),
    "detect block length 0": (["detect", "{tmp}/a.wav", "--model", "{tmp}/m",
                               "--block-length", "0"], 2, "--block-length: must be at least 1"),
    "synth no class": (["synth", "-o", "{tmp}/o", "--classes", ","], 2,
                       "--classes: no class given"),
    "features raw without stdin": (["features", "{tmp}/a.wav", "-o", "{tmp}/f", "--raw",
                                    "s16le:16000"], 2, "--raw describes standard input"),
    "features output is a file": (["features", "{tmp}/a.wav", "-o", "{tmp}/file.txt"], 2,
                                   "-o {tmp}/file.txt: exists and is not a folder"),
    "features raw bad format": (["features", "-", "-o", "{tmp}/f", "--raw", "s16le:fast"], 2,
                                "--raw: raw format 's16le:fast': rate and channels"),
    "evaluate empty estimate folder": (["evaluate", "--ref", "{tmp}/ref.txt", "--est",
                                        "{tmp}/emptydir"], 1,
                                       "{tmp}/emptydir: no event lists"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_matrix(case: str, tmp_path: Path, run_cli: Callable) -> None:
    argv, code, text = CASES[case]
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "bad.yaml").write_text("recipe: esc10\ncnn: {max_epochs: [\n")
    (tmp_path / "ref.txt").write_text("1.0\t2.0\tdog\n")
    (tmp_path / "emptydir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    got, out, err = run_cli([a.replace("{tmp}", str(tmp_path)) for a in argv])
    lines = err.strip().splitlines()
    assert got == code, err
    assert lines and text.replace("{tmp}", str(tmp_path)) in lines[-1], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_synth_skips_a_bad_event_file(events_dir: Path, tmp_path: Path,
                                      run_cli: Callable) -> None:
    code, out, err = run_cli(["synth", "-o", str(tmp_path / "o"), "--events", str(events_dir),
                              "-n", "2", "--duration", "5", "--sr", "16000"])
    assert code == 1
    errors = [x for x in err.splitlines() if x.startswith("audioscene: error:")]
    assert len(errors) == 1 and "knock002.wav: not a readable audio file" in errors[0]
    assert len(list((tmp_path / "o" / "sound").glob("*.wav"))) == 2  # the rest still ran
    assert "2 mixture(s)" in out


def test_cli_subprocess_has_no_traceback_on_bad_setting(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "audioscene", "train", "esc10", "--data",
                        str(tmp_path), "--out", str(tmp_path / "r"), "--set",
                        "cnn.max_epochs=abc"], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0
    assert "expected an integer" in r.stderr


def test_help_names_every_recipe_and_only_real_options(run_cli: Callable) -> None:
    from audioscene.recipes import RECIPES

    for cmd in ("recipe", "train"):
        code, out, _ = run_cli([cmd, "--help"])
        assert code == 0
        text = " ".join(out.split())
        assert all(name in text for name in RECIPES), text
    code, out, _ = run_cli(["classify", "--help"])
    assert "--threshold" not in out
    code, out, _ = run_cli(["tag", "--help"])
    assert "--threshold" in out
    code, out, _ = run_cli(["features", "--help"])
    assert out.count("default:") >= 7


def test_truncated_input_is_one_warning_line(tmp_path: Path,
                                             run_cli: Callable) -> None:
    y = np.zeros(32000, np.float32)
    sf.write(tmp_path / "cut.wav", y, 16000, subtype="PCM_16")
    data = (tmp_path / "cut.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    code, out, err = run_cli(["features", str(tmp_path / "cut.wav"), "-o", str(tmp_path / "f"),
                              "--sr", "16000", "--n-fft", "512", "--hop-length", "256"])
    assert code == 0
    warns = [x for x in err.splitlines() if "truncated" in x]
    assert len(warns) == 1 and warns[0].startswith("audioscene: warning: ")
    assert "cut.wav: truncated: its header states 2.000 s" in warns[0]
