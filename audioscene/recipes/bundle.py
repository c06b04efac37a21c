"""The bundled default models (recipe ``bundled-models``): a clip classifier and an
event detector for the ten ESC-10 classes, built with the same code as ``audioscene
train classifier`` and ``audioscene train detector``.

1. ESC-10 is laid out as plain class folders of links (``OUT/esc10-folders/train/<class>/``
   for folds 1-3, ``.../test/<class>/`` for fold 4; the files stay where they are).
2. ``classifier``: :func:`~audioscene.recipes.user.run_classifier` on the training
   folders, scored on fold 4 (``OUT/esc10-classifier``).
3. ``detector``: :func:`~audioscene.recipes.user.run_detector` on the same clips as
   isolated sounds, mixed over the background recordings (``--backgrounds``, default
   ``DATA/backgrounds``; split by file into training, validation and test), scored on
   mixtures of fold 4's clips over the test backgrounds (``OUT/esc10-detector``).
4. Each model folder gets a ``MODEL_CARD.md`` (training data and licences, classes,
   held-out figures, the command that rebuilds it). With ``install: true`` the two
   folders are copied into the package (``audioscene/bundled/``), from where
   ``audioscene classify``/``detect`` use them when no ``--model`` is given.
"""

from __future__ import annotations

import datetime
import os
import shlex
import shutil
from pathlib import Path
from typing import Any

from ..bundled import BUNDLED_DIR
from ..datasets import read_esc10
from ..io_utils import atomic_write_text
from . import user
from .common import write_json

__all__ = ["run", "layout_esc10", "model_cards"]

ESC10_CREDIT = (
    "- ESC-10 (K. J. Piczak, \"ESC: Dataset for Environmental Sound Classification\", "
    "ACM MM 2015), licence CC BY 3.0; the clips are Freesound recordings whose authors "
    "are credited in the dataset's `README.txt`.")
BACKGROUND_CREDIT = (
    "- Background recordings: outdoor field recordings from the scikit-maad example data, "
    "licence BSD-3-Clause.")


def layout_esc10(data: Path, out: Path, train_folds: tuple[int, ...] = (1, 2, 3),
                 test_folds: tuple[int, ...] = (4,)) -> tuple[Path, Path]:
    """ESC-10 as plain class folders of symbolic links: ``out/train/<class>/<file>`` and
    ``out/test/<class>/<file>``; returns the two folders.

    Examples
    --------
    >>> train, test = layout_esc10(Path("../shared/data"), Path("runs/esc10-folders"))  # doctest: +SKIP
    """
    ds = read_esc10(data)
    for part in ("train", "test"):  # links only: removing them leaves the clips alone
        shutil.rmtree(out / part, ignore_errors=True)
    for part, folds in (("train", train_folds), ("test", test_folds)):
        for it in ds:
            if it.fold in folds:
                dest = out / part / str(it.label) / it.path.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.is_symlink() or dest.exists():
                    dest.unlink()
                os.symlink(it.path.resolve(), dest)
    return out / "train", out / "test"


def _card(name: str, kind: str, results: dict[str, Any], command: str, credits: list[str],
          details: list[str]) -> str:
    classes = results["classes"]
    lines = [f"# {name}", "", f"{kind}. Built on {datetime.date.today().isoformat()} by "
             f"`{command}`.", "", "## Classes", "", ", ".join(classes), "",
             "## Training data and licences", "", *credits,
             "- The model weights are derived from these recordings: credit them as above "
             "when you use the model.", "", "## How it was trained", "", *details, "",
             "## Held-out figures", ""]
    if "accuracy" in results:
        acc = results["accuracy"]
        lines += [f"Accuracy on ESC-10 fold 4 ({results['n_test']} clips never used in "
                  f"training or in choosing the epoch): **{100 * acc['accuracy']:.1f} %**.",
                  "", "| class | accuracy % |", "|---|---|"]
        lines += [f"| {c} | {100 * v:.1f} |" for c, v in acc["per_class"].items()]
    else:
        t = results["test"]
        lines += ["On mixtures of ESC-10 fold 4's clips (never used in training or tuning) "
                  "over background recordings never used in training or tuning: event-based "
                  f"onset F1 **{100 * (results['event_onset_f1'] or 0):.1f} %** (0.2 s "
                  f"collar), segment-based (1 s) error rate **{results['segment_er']:.2f}**.",
                  "", "| class | onset F1 % |", "|---|---|"]
        per = t["event_onset"]["class_wise"]
        lines += [f"| {c} | {100 * (per[c]['f1'] or 0):.1f} |" for c in classes]
        chosen = dict(results["thresholds"])
        gap = chosen.pop("min_gap", None)
        lines += ["", "Chosen on the validation mixtures: per-class detection thresholds "
                  + ", ".join(f"{c} {v:.2f}" for c, v in chosen.items())
                  + ("" if gap is None else f"; events of a class closer than {gap:g} s "
                     "are merged") + "."]
    lines += ["", "## Limits", "",
              "ESC-10 clips are 5 s recordings from Freesound; sounds unlike them, other "
              "classes and other recording conditions are outside what these figures "
              "measure.", ""]
    return "\n".join(lines)


def model_cards(out: Path, command: str) -> dict[str, str]:
    """The two model cards, from the ``results.json`` of a finished run in ``out`` and
    the settings it recorded (``out/settings.json``).

    Examples
    --------
    >>> cards = model_cards(Path("runs/bundled"), "make bundled-models")  # doctest: +SKIP
    """
    import json

    c_res = json.loads((out / "esc10-classifier" / "results.json").read_text())
    d_res = json.loads((out / "esc10-detector" / "results.json").read_text())
    st = json.loads((out / "settings.json").read_text())
    iso = d_res["isolated_sounds"]
    return {
        "esc10-classifier": _card(
            "esc10-classifier", "A clip classifier (all-convolutional CNN with masked "
            "global pooling) for the ten ESC-10 classes", c_res, command, [ESC10_CREDIT],
            [f"Trained on ESC-10 folds 1-3 ({c_res['n_train']} clips) with `audioscene "
             "train classifier` and the `classifier` recipe's settings: 64 log-mel bands "
             f"at 22.05 kHz; the epoch chosen on {st['validation_fraction']} of the "
             "training clips, grouped by Freesound recording. Fold 4 was only predicted."]),
        "esc10-detector": _card(
            "esc10-detector", "A sound event detector (CNN with frame posteriors and "
            "per-class hysteresis thresholds) for the ten ESC-10 classes", d_res, command,
            [ESC10_CREDIT, BACKGROUND_CREDIT],
            ["Trained with `audioscene train detector` and the `detector` recipe's settings "
             f"on {st['train_mixtures']} mixtures of {iso['train']} ESC-10 clips of folds "
             f"1-3 (edges quieter than {st['trim_db']:g} dB below the peak cut off) over "
             f"{st['backgrounds']['train']} background recordings; the epoch, the merging "
             f"gap and the thresholds chosen on {st['validation_mixtures']} mixtures of "
             f"the other {iso['validation']} clips of folds 1-3 (split by Freesound "
             f"recording) over {st['backgrounds']['validation']} other background "
             f"recordings. The figures below come from {st['test_mixtures']} mixtures of "
             f"the {iso['test']} fold-4 clips over the remaining "
             f"{st['backgrounds']['test']} background recordings."]),
    }


def run(cfg: dict[str, Any], *, data: Path, out: Path, backgrounds: Path | None = None,
        log: Any = print, **_: Any) -> dict[str, Any]:
    """Build the bundled models (see the module docstring).

    Parameters
    ----------
    cfg : dict
        The ``bundled-models`` configuration: ``classifier`` and ``detector`` settings
        merged over those recipes' own, ``seed`` (both models') and ``install``.
    data : Path
        The data root holding ``esc10`` (and ``backgrounds``).
    out : Path
        Output folder: ``esc10-folders/``, ``esc10-classifier/``, ``esc10-detector/``.
    backgrounds : Path or None
        Background recordings (default: ``DATA/backgrounds``).
    log : callable
        Progress lines.

    Returns
    -------
    dict
        The two runs' results.

    Examples
    --------
    >>> run(load_config("bundled-models")[1], data=Path("../shared/data"),
    ...     out=Path("runs/bundled"))  # doctest: +SKIP
    """
    from . import default_config, merge, overrides

    out = Path(out)
    train, test = layout_esc10(Path(data), out / "esc10-folders")
    command = " ".join([f"audioscene recipe bundled-models --data {shlex.quote(str(data))} "
                        f"--out {shlex.quote(str(out))}",
                        *(f"--set {shlex.quote(o)}" for o in overrides("bundled-models", cfg))])
    seed = int(cfg["seed"])
    ccfg = merge(default_config("classifier"), {**cfg["classifier"], "seed": seed,
                                                "test": str(test)})
    c_res = user.run_classifier(ccfg, data=train, out=out / "esc10-classifier", log=log)
    dcfg = merge(default_config("detector"), {**cfg["detector"], "seed": seed,
                                              "test": str(test)})
    bg = Path(backgrounds) if backgrounds else Path(data) / "backgrounds"
    d_res = user.run_detector(dcfg, data=train, out=out / "esc10-detector", backgrounds=bg,
                              log=log)
    bg_sides = d_res["backgrounds"]
    write_json(out / "settings.json", {
        "validation_fraction": ccfg["cnn"]["validation_fraction"],
        "train_mixtures": dcfg["synth"]["train_mixtures"],
        "validation_mixtures": dcfg["synth"]["validation_mixtures"],
        "test_mixtures": dcfg["synth"]["test_mixtures"],
        "trim_db": dcfg["synth"]["trim_db"], "backgrounds": bg_sides})
    cards = model_cards(out, command)
    for name, text in cards.items():
        atomic_write_text(out / name / "model" / "MODEL_CARD.md", text)
    if cfg["install"]:
        for name in cards:
            dest = BUNDLED_DIR / name
            tmp, old = BUNDLED_DIR / f".{name}.part", BUNDLED_DIR / f".{name}.old"
            for d in (tmp, old):
                shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(out / name / "model", tmp)
            if dest.exists():
                dest.rename(old)  # the installed model stays whole until the swap
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
            log(f"installed {dest}")
    return {"classifier": c_res, "detector": d_res}
