"""The bundled default models: listed with their cards, used without --model (and say
so), addressed by name, and rebuilt by their recipe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audioscene.bundled import BUNDLED_DIR, DEFAULTS, bundled_models, resolve_model
from audioscene.cli import main
from audioscene.events import EventList

ESC10 = ["Baby cry", "Chainsaw", "Clock tick", "Dog bark", "Fire crackling", "Helicopter",
         "Person sneeze", "Rain", "Rooster", "Sea waves"]


def test_bundled_models_are_listed_with_cards(capsys: pytest.CaptureFixture) -> None:
    models = {m.name: m for m in bundled_models()}
    assert set(models) == {"esc10-classifier", "esc10-detector"}
    assert {m.kind for m in models.values()} == {"ClipClassifier", "CNNEventDetector"}
    assert sum(m.size for m in models.values()) <= 15_000_000
    for m in models.values():
        assert m.classes == ESC10
        for needed in ("CC BY 3.0", "Piczak", "audioscene recipe bundled-models", "fold 4",
                       "## Held-out figures"):
            assert needed in m.card, (m.name, needed)
    assert "BSD-3" in models["esc10-detector"].card  # the backgrounds of its mixtures
    assert "BSD-3" not in models["esc10-classifier"].card
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "esc10-detector\tCNNEventDetector" in out and "default of 'audioscene detect'" in out
    assert main(["models", "esc10-classifier"]) == 0
    assert capsys.readouterr().out == models["esc10-classifier"].card
    assert main(["models", "nope"]) == 2
    assert "no bundled model 'nope'" in capsys.readouterr().err


def test_resolve_model(tmp_path: Path) -> None:
    assert resolve_model(None, "detect") == (BUNDLED_DIR / DEFAULTS["detect"], True)
    assert resolve_model("esc10-classifier", "classify") == (BUNDLED_DIR / "esc10-classifier",
                                                             True)
    assert resolve_model(tmp_path, "detect") == (tmp_path, False)
    with pytest.raises(FileNotFoundError, match="not a bundled model"):
        resolve_model(tmp_path / "missing", "detect")
    with pytest.raises(FileNotFoundError, match="no bundled model for 'tag'"):
        resolve_model(None, "tag")


@pytest.mark.shared_data
def test_detect_and_classify_without_a_model(shared_data: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    from audioscene.models import load_model

    (clip,) = [p for p in (shared_data / "esc10").glob("*Rooster*/4-*.ogg")][:1]
    assert main(["classify", str(clip)]) == 0
    got = capsys.readouterr()
    assert "bundled model esc10-classifier" in got.err
    header, row = got.out.splitlines()
    assert header.split("\t") == ["file", "label", *ESC10]
    clf = load_model(BUNDLED_DIR / "esc10-classifier")
    p = clf.predict_proba([clip])[0]
    assert row.split("\t")[1] == ESC10[int(np.argmax(p))]

    wav = tmp_path / "clip.ogg"
    shutil.copy(clip, wav)
    assert main(["detect", str(wav), "-o", str(tmp_path / "ev.txt")]) == 0
    assert "bundled model esc10-detector" in capsys.readouterr().err
    det = load_model(BUNDLED_DIR / "esc10-detector")
    assert EventList.read(tmp_path / "ev.txt") == det.predict(wav).rounded()
    # by name, the same model
    assert main(["detect", str(wav), "--model", "esc10-detector", "-o",
                 str(tmp_path / "ev2.txt")]) == 0
    assert (tmp_path / "ev2.txt").read_text() == (tmp_path / "ev.txt").read_text()
    assert main(["tag", str(wav)]) == 2
    assert "no bundled model for 'tag'" in capsys.readouterr().err


@pytest.mark.shared_data
def test_bundled_models_recipe_builds_both_with_cards(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "b"
    before = {p: p.stat().st_mtime_ns for p in BUNDLED_DIR.glob("esc10-*/*")}
    assert main(["recipe", "bundled-models", "--data", str(shared_data), "--out", str(out),
                 "--set", "classifier.cnn.max_epochs=1", "--set", "detector.cnn.max_epochs=1",
                 "--set", "detector.synth={train_mixtures: 2, validation_mixtures: 1, "
                 "test_mixtures: 1}"]) == 0
    train = sorted(p.name for p in (out / "esc10-folders" / "train").glob("*/*"))
    test = sorted(p.name for p in (out / "esc10-folders" / "test").glob("*/*"))
    assert len(train) == 240 and len(test) == 80
    assert {n[0] for n in train} == {"1", "2", "3"} and {n[0] for n in test} == {"4"}
    res = json.loads((out / "esc10-classifier" / "results.json").read_text())
    assert (res["n_train"], res["n_test"]) == (240, 80)
    from audioscene.recipes.bundle import model_cards

    cards = model_cards(out, "cmd")
    for name in ("esc10-classifier", "esc10-detector"):
        card = (out / name / "model" / "MODEL_CARD.md").read_text()
        assert "## Held-out figures" in card and ", ".join(ESC10) in card
        # the card is what model_cards makes of the run's results (but the command)
        assert card.replace(card.split("`")[1], "cmd", 1) == cards[name]
    assert "240 clips" in cards["esc10-classifier"] and "80 clips" in cards["esc10-classifier"]
    # install: false leaves the package alone
    assert before == {p: p.stat().st_mtime_ns for p in BUNDLED_DIR.glob("esc10-*/*")}
