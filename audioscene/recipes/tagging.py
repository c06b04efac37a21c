"""Audio tagging recipes, measured by the equal error rate per tag.

* ``dcase2016-task4`` (:func:`run_task4`): 5-fold cross-validation on the official
  CHiME-Home layout; the multi-label network against the GMM baseline
  (:class:`~audioscene.models.GMMTagger`).
* ``task2-tagging`` (:func:`run_task2_tagging`): tagging of DCASE 2016 task 2 mixtures
  cut into chunks (4 s by default); a chunk's tags are the classes with at least
  ``min_overlap`` seconds of an event in it. Both systems train on chunks of mixtures
  synthesised from isolated task 2 training sounds over background recordings, and the
  network chooses its epoch on chunks of mixtures made over held-out backgrounds.

  1. **Source-disjoint folds (the headline).** The isolated recordings are split into
     ``folds.k`` folds by recording, as in the ``dcase2016-task2`` recipe
     (:func:`~audioscene.recipes.task2.recording_folds`). Fold ``i`` trains on the
     other folds' recordings over training backgrounds, chooses its epoch over
     validation backgrounds, and is tested on chunks of mixtures rendered from fold
     ``i``'s recordings with the official scripts' statistics over backgrounds held out
     for it (:func:`~audioscene.recipes.task2.fold_backgrounds`). EER per tag and mean,
     per fold and as mean and spread over folds.
  2. **Seen recordings.** Both systems are trained again on every training recording
     and evaluated on the chunks of the development mixtures, which are rendered from
     the same recordings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from ..audio import load
from ..datasets import DatasetError, load_dataset, read_task2
from ..datasets.synth import load_sources, random_scene, source_files
from ..evaluate import TaggingResult, tagging_eer
from ..events import EventList
from ..features import FeatureConfig, extract
from ..io_utils import atomic_open, atomic_write_text
from ..models.clip import ClipClassifier
from ..models.clip_baselines import GMMTagger
from .clips import frames_for, plan_folds
from .common import find_backgrounds, write_json
from .task2 import fmt_mean_sd, fold_mixtures, mean_sd, split_fold

__all__ = ["run_task4", "run_task2_tagging", "chunk_tags", "eer_table"]

def chunk_tags(events: EventList, start: float, end: float, labels: Sequence[str], *,
               min_overlap: float = 0.1) -> np.ndarray:
    """Binary tag vector of the span ``[start, end)``: classes with at least
    ``min_overlap`` seconds of events inside it.

    Examples
    --------
    >>> from audioscene.events import Event
    >>> ev = EventList([Event(3.95, 5.0, "dog"), Event(1.0, 1.05, "cat")])
    >>> chunk_tags(ev, 0.0, 4.0, ["cat", "dog"]).tolist()
    [0, 0]
    >>> chunk_tags(ev, 4.0, 8.0, ["cat", "dog"]).tolist()
    [0, 1]
    """
    y = np.zeros(len(labels), np.int64)
    index = {lab: j for j, lab in enumerate(labels)}
    cover = np.zeros(len(labels))
    for e in events:
        ov = min(e.offset, end) - max(e.onset, start)
        if ov > 0 and e.label in index:
            cover[index[e.label]] += ov
    y[cover >= min_overlap - 1e-9] = 1
    return y


def eer_table(results: dict[str, TaggingResult]) -> str:
    """Markdown table: EER per tag (rows) for each system (columns), mean last.

    Examples
    --------
    >>> r = {"cnn": TaggingResult({"a": 0.1}, 0.1, 10)}
    >>> print(eer_table(r).splitlines()[-1])
    | **mean** | **0.100** |
    """
    systems = list(results)
    tags = list(next(iter(results.values())).eer) if results else []
    lines = ["| tag | " + " | ".join(systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for t in tags:
        lines.append(f"| {t} | " + " | ".join(f"{results[s].eer[t]:.3f}" for s in systems)
                     + " |")
    lines.append("| **mean** | " + " | ".join(f"**{results[s].mean_eer:.3f}**"
                                              for s in systems) + " |")
    return "\n".join(lines) + "\n"


def _write_scores(path: Path, names: Sequence[str], tags: Sequence[str], Y: np.ndarray,
                  S: np.ndarray) -> None:
    with atomic_open(path) as f:
        f.write("\t".join(["file", *(f"true_{t}" for t in tags), *tags]) + "\n")
        for n, y, s in zip(names, Y, S):
            f.write("\t".join([n, *(str(int(v)) for v in y), *(f"{v:.6f}" for v in s)]) + "\n")


def _fit_systems(cfg: dict[str, Any], systems: Sequence[str], X: dict[str, list[np.ndarray]],
                 Y: np.ndarray, tags: Sequence[str], *, groups: Sequence[Any] | None = None,
                 X_val: dict[str, list[np.ndarray]] | None = None,
                 Y_val: np.ndarray | None = None) -> dict[str, Any]:
    """Train each system on ``X[system]`` with binary tags ``Y``."""
    models: dict[str, Any] = {}
    for s in systems:
        if s == "cnn":
            clf = ClipClassifier(multi_label=True, random_state=int(cfg["seed"]),
                                 feature_config=FeatureConfig.from_dict(cfg["features"]),
                                 **cfg["cnn"])
            val = (X_val[s], Y_val) if X_val is not None and Y_val is not None else None
            models[s] = clf.fit(X[s], Y, groups=groups, validation_data=val, classes=tags)
        elif s == "gmm":
            models[s] = GMMTagger(FeatureConfig.from_dict(cfg["gmm"]["features"]),
                                  n_components=int(cfg["gmm"]["n_components"]),
                                  random_state=int(cfg["seed"])).fit(X[s], Y, classes=tags)
        else:
            raise ValueError(f"unknown system {s!r}; known: cnn, gmm")
    return models


def _scores(model: Any, X: list[np.ndarray]) -> np.ndarray:
    if isinstance(model, ClipClassifier):
        return model.predict_proba(X)
    return model.decision_function(X)


def run_task4(cfg: dict[str, Any], *, data: Path, out: Path, log: Any = print,
              train_only: bool = False, **_: Any) -> dict[str, Any]:
    """DCASE 2016 task 4 cross-validation (see the module docstring).

    Parameters
    ----------
    cfg : dict
        Full configuration.
    data : Path
        ``chime_home`` or a folder above it.
    out : Path
        Output folder: ``results.md``, ``results.json``, ``scores/<system>.tsv``,
        ``models/fold<k>``.
    train_only : bool
        Train the network on all clips (of ``train_folds`` if given) and save it to
        ``out/model``.

    Returns
    -------
    dict
        EER per tag and mean per system.
    """
    t0 = time.time()
    out = Path(out)
    ds = load_dataset("dcase2016-task4", data)
    tags = list(ds.classes)
    fcfg = FeatureConfig.from_dict(cfg["features"])
    jobs = int(cfg["jobs"])

    def binar(items: Sequence[Any]) -> np.ndarray:
        return np.array([[int(t in it.tags) for t in tags] for it in items])

    if train_only:
        items = list(ds)
        F = frames_for([it.path for it in items], fcfg, jobs=jobs)
        clf = _fit_systems(cfg, ["cnn"], {"cnn": [F[it.path] for it in items]}, binar(items),
                           tags, groups=[it.recording for it in items])["cnn"]
        clf.save(out / "model")
        log(f"model trained on {len(items)} clips: {out / 'model'}")
        return {"model": str(out / "model"), "n_train": len(items)}

    systems = list(cfg["systems"])
    plan = plan_folds(ds, cfg["train_folds"], cfg["test_folds"])
    paths = list(dict.fromkeys(it.path for _, tr, te in plan for it in tr + te))
    feats = {}
    if "cnn" in systems:
        feats["cnn"] = frames_for(paths, fcfg, jobs=jobs, desc="cnn features")
    if "gmm" in systems:
        feats["gmm"] = frames_for(paths, FeatureConfig.from_dict(cfg["gmm"]["features"]),
                                  jobs=jobs, desc="gmm features")
    all_items: list[Any] = []
    scores: dict[str, list[np.ndarray]] = {s: [] for s in systems}
    for k, train, test in plan:
        X = {s: [feats[s][it.path] for it in train] for s in systems}
        models = _fit_systems(cfg, systems, X, binar(train), tags,
                              groups=[it.recording for it in train])
        all_items += test
        for s, m in models.items():
            S = _scores(m, [feats[s][it.path] for it in test])
            scores[s].append(S)
            if s == "cnn":
                m.save(out / "models" / f"fold{k}")
            log(f"fold {k} {s}: mean EER {tagging_eer(binar(test), S, tags).mean_eer:.3f}")
    return _report(out, systems, tags, [it.name for it in all_items], binar(all_items),
                   {s: np.concatenate(v) for s, v in scores.items()}, t0, log,
                   extra={"folds": [k for k, _, _ in plan]})


def _report(out: Path, systems: Sequence[str], tags: Sequence[str], names: Sequence[str],
            Y: np.ndarray, scores: dict[str, np.ndarray], t0: float, log: Any,
            extra: dict[str, Any] | None = None, head: Sequence[str] = ()) -> dict[str, Any]:
    res = {s: tagging_eer(Y, scores[s], tags) for s in systems}
    for s in systems:
        _write_scores(out / "scores" / f"{s}.tsv", names, tags, Y, scores[s])
    results = {**(extra or {}), "tags": list(tags), "n_clips": int(len(Y)),
               "positives": {t: int(Y[:, j].sum()) for j, t in enumerate(tags)},
               "systems": {s: r.to_dict() for s, r in res.items()},
               "seconds": round(time.time() - t0, 1)}
    write_json(out / "results.json", results)
    table = eer_table(res)
    atomic_write_text(out / "results.md", "\n".join([*head, table]))
    log(table)
    return results


def _chunks(audio: np.ndarray, sr: int, events: EventList, chunk: float, tags: Sequence[str],
            min_overlap: float) -> tuple[list[np.ndarray], np.ndarray]:
    n = int(round(chunk * sr))
    pieces, Y = [], []
    for i in range(len(audio) // n):
        pieces.append(audio[i * n:(i + 1) * n])
        Y.append(chunk_tags(events, i * chunk, (i + 1) * chunk, tags, min_overlap=min_overlap))
    return pieces, np.array(Y).reshape(-1, len(tags))


def _features(pieces: list[np.ndarray], sr: int, configs: dict[str, FeatureConfig],
              jobs: int) -> dict[str, list[np.ndarray]]:
    out = {}
    for s, c in configs.items():
        out[s] = Parallel(n_jobs=jobs)(delayed(_extract)(p, sr, c) for p in pieces)
    return out


def _extract(y: np.ndarray, sr: int, cfg: FeatureConfig) -> np.ndarray:
    return extract(y, cfg, sr=sr)[0].astype(np.float32)


def _tagging_summary(per_fold: list[dict[str, TaggingResult]], tags: Sequence[str]
                     ) -> dict[str, Any]:
    """Mean and spread over folds of each system's mean EER and of every tag's EER."""
    return {name: {"mean_eer": mean_sd([r[name].mean_eer for r in per_fold]),
                   "eer": {t: mean_sd([r[name].eer[t] for r in per_fold]) for t in tags}}
            for name in per_fold[0]}


def _summary_table(summary: dict[str, Any], tags: Sequence[str]) -> str:
    names = list(summary)
    lines = ["| tag | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for t in tags:
        lines.append(f"| {t} | " + " | ".join(fmt_mean_sd(summary[n]["eer"][t], False, 3)
                                              for n in names) + " |")
    lines.append("| **mean** | " + " | ".join(
        f"**{fmt_mean_sd(summary[n]['mean_eer'], False, 3)}**" for n in names) + " |")
    return "\n".join(lines) + "\n"


def run_task2_tagging(cfg: dict[str, Any], *, data: Path, out: Path,
                      backgrounds: Path | None = None, log: Any = print,
                      train_only: bool = False, **_: Any) -> dict[str, Any]:
    """Tagging of 4 s chunks of DCASE 2016 task 2 mixtures (see the module docstring).

    Parameters
    ----------
    cfg : dict
        Full configuration.
    data : Path
        Root holding ``dcase2016_task2/`` (and ``backgrounds/``).
    out : Path
        Output folder: ``model/``, ``results.md``, ``results.json``, ``scores/`` (the
        development chunks), ``folds/fold<i>/`` (each fold's test annotations in
        ``reference/`` and its chunk scores in ``scores/``).
    backgrounds : Path or None
        Background recordings (default ``<data>/backgrounds``).
    train_only : bool
        Skip the folds, train the network on every training recording and save it.

    Returns
    -------
    dict
        EER per tag and mean per system: on the source-disjoint folds (``folds``: per
        fold, and mean and spread) and on the development chunks (``systems``).

    Examples
    --------
    >>> from audioscene.recipes import load_config
    >>> _, cfg = load_config("task2-tagging")
    >>> run_task2_tagging(cfg, data=Path("../shared/data"), out=Path("runs/tag"))  # doctest: +SKIP
    """
    t0 = time.time()
    out = Path(out)
    data = Path(data)
    seed = int(cfg["seed"])
    s = cfg["synth"]
    f = cfg["folds"]
    k = 0 if train_only else int(f["k"])
    systems = list(cfg["systems"]) if not train_only else ["cnn"]
    train = read_task2(data, "train")
    tags = list(train.classes)
    sr = int(s["sr"])
    files = source_files(train.root)
    sources = load_sources(train.root, sr=sr)  # aligned with `files` (same order)
    bg_files = find_backgrounds(data, backgrounds)
    all_bgs = [load(p, sr=sr)[0] for p in bg_files]
    n_val_bg = int(s["validation_backgrounds"])
    if len(all_bgs) <= n_val_bg:
        raise DatasetError(f"{len(all_bgs)} background recordings: need more than {n_val_bg}")
    configs = {"cnn": FeatureConfig.from_dict(cfg["features"]),
               "gmm": FeatureConfig.from_dict(cfg["gmm"]["features"])}
    configs = {name: c for name, c in configs.items() if name in systems}
    chunk, mo, jobs = float(cfg["chunk"]), float(cfg["min_overlap"]), int(cfg["jobs"])

    def synth(srcs: dict, pool: list[np.ndarray], n: int, rng: np.random.Generator,
              desc: str) -> tuple[dict[str, list[np.ndarray]], np.ndarray]:
        pieces, Ys = [], []
        for _ in tqdm(range(n), desc=desc, unit="mixture"):
            scape = random_scene(srcs, pool, sr=sr, duration=float(s["duration"]),
                                 events_per_minute=float(s["events_per_minute"]),
                                 ebr_db=tuple(s["ebr_db"]), max_polyphony=int(s["max_polyphony"]),
                                 rng=rng)
            p, y = _chunks(scape.audio, sr, scape.events, chunk, tags, mo)
            pieces += p
            Ys.append(y)
        return _features(pieces, sr, configs, jobs), np.concatenate(Ys)

    def train_on(srcs: dict, train_bgs: list[np.ndarray], val_bgs: list[np.ndarray],
                 rngs: Sequence[np.random.Generator], tag: str
                 ) -> tuple[dict[str, Any], int, int]:
        X_tr, Y_tr = synth(srcs, train_bgs, int(s["train_mixtures"]), rngs[0],
                           f"{tag}train mixtures")
        X_va, Y_va = synth(srcs, val_bgs, int(s["validation_mixtures"]), rngs[1],
                           f"{tag}validation mixtures")
        log(f"{tag}training chunks: {len(Y_tr)}, validation chunks: {len(Y_va)}")
        return (_fit_systems(cfg, systems, X_tr, Y_tr, tags, X_val=X_va, Y_val=Y_va),
                len(Y_tr), len(Y_va))

    results: dict[str, Any] = {"chunk": chunk, "min_overlap": mo}
    report: list[str] = []
    if k > 0:
        per_fold: list[dict[str, TaggingResult]] = []
        n_test: list[int] = []
        membership: dict[str, Any] = {}
        for i in range(k):
            sp = split_fold(files, sources, bg_files, k, i, int(f["backgrounds"]), n_val_bg)
            membership[f"fold{i}"] = sp.membership
            log(f"\nfold {i + 1}/{k}: testing on {sum(len(v) for v in sp.held.values())} "
                f"recordings and {len(sp.test)} backgrounds never used for training or tuning")
            # one random stream each for the training, validation and test mixtures: a
            # change to how training mixtures are made leaves the others as they were
            rngs = np.random.default_rng([seed, i + 1]).spawn(3)
            models, _, _ = train_on(sp.rest, [all_bgs[j] for j in sp.train],
                                    [all_bgs[j] for j in sp.validation], rngs, f"fold{i}-")
            folder = out / "folds" / f"fold{i}"
            names, pieces, Ys = [], [], []
            for name, audio, _, events, _ in fold_mixtures(
                    sp.held, [all_bgs[j] for j in sp.test], f, sr, rngs[2], i,
                    folder / "reference"):
                p, Y = _chunks(audio, sr, events, chunk, tags, mo)
                pieces += p
                Ys.append(Y)
                names += [f"{name}@{j * chunk:g}" for j in range(len(p))]
            X_te, Y_te = _features(pieces, sr, configs, jobs), np.concatenate(Ys)
            res = {}
            for sname in systems:
                S = _scores(models[sname], X_te[sname])
                _write_scores(folder / "scores" / f"{sname}.tsv", names, tags, Y_te, S)
                res[sname] = tagging_eer(Y_te, S, tags)
            per_fold.append(res)
            n_test.append(int(len(Y_te)))
            log(f"fold {i + 1}:\n" + eer_table(res))
        summary = _tagging_summary(per_fold, tags)
        results["folds"] = {"k": k, "membership": membership, "summary": summary,
                            "n_test_chunks": n_test,
                            "per_fold": [{n: r.to_dict() for n, r in res.items()}
                                         for res in per_fold]}
        report += [f"## Unseen recordings: {k} source-disjoint folds (EER, mean ± sd over "
                   "folds)\n",
                   f"Each fold is tested on {'/'.join(map(str, sorted(set(n_test))))} "
                   "chunks of mixtures rendered from "
                   "isolated recordings and background recordings that its training and "
                   "tuning never used (membership in `results.json`, `folds.membership`).\n",
                   _summary_table(summary, tags), ""]
        log("\nsource-disjoint folds (mean ± sd):\n" + _summary_table(summary, tags))

    # seen recordings: every training recording, the development mixtures
    models, n_tr, n_va = train_on(sources, all_bgs[:-n_val_bg], all_bgs[-n_val_bg:],
                                  np.random.default_rng(seed).spawn(2), "")
    if "cnn" in models:
        models["cnn"].save(out / "model")
    if train_only:
        return {"model": str(out / "model"), "n_train": n_tr}
    dev = read_task2(data, "dev")
    names, pieces, Ys = [], [], []
    for it in dev:
        y, _ = load(it.path, sr=sr)
        p, Y = _chunks(y, sr, it.events or EventList([]), chunk, tags, mo)
        pieces += p
        Ys.append(Y)
        names += [f"{it.stem}@{i * chunk:g}" for i in range(len(p))]
    X_dev = _features(pieces, sr, configs, jobs)
    Y_dev = np.concatenate(Ys)
    scores = {sname: _scores(models[sname], X_dev[sname]) for sname in systems}
    report += ["## Seen recordings: the development mixtures, with every training "
               "recording\n"]
    return _report(out, systems, tags, names, Y_dev, scores, t0, log,
                   extra={**results, "n_train_chunks": n_tr, "n_val_chunks": n_va},
                   head=report)
