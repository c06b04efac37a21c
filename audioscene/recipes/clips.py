"""Clip classification recipes: ESC-10 and DCASE 2016 task 1 (acoustic scenes).

For each test fold, every system in ``systems`` is trained on the fold's training clips
and scores its test clips:

* ``cnn``: :class:`~audioscene.models.ClipClassifier` with the ``allconv`` network;
* ``lte-cnn``: label tree embeddings (:class:`~audioscene.features.LabelTreeEmbedder`,
  cross-fitted on the training folds) classified by the ``lte-cnn`` network;
* ``fusion``: the average of the ``cnn`` and ``lte-cnn`` class probabilities;
* ``gmm``: the DCASE 2016 task 1 baseline (:class:`~audioscene.models.GMMClassifier`);
* ``rf``: the ESC-10 random forest baseline
  (:class:`~audioscene.models.ForestClipClassifier`).

With ``cnn.members`` (``lte_cnn.members``) above 1, ``cnn`` (``lte-cnn``) is the mean of
the probabilities of that many networks seeded ``seed``, ``seed + 1``, ...
(:func:`clip_network`); ``audioscene train`` then saves them as one
:class:`~audioscene.models.ClipEnsemble`. With ``cnn.distil`` (``lte_cnn.distil``) above
0, one more network is distilled in every fold from its members, or with
``distil_teacher: fusion`` from its members and the other network's
(:meth:`~audioscene.models.ClipEnsemble.distil`), and reported in its own table;
``audioscene train`` then saves that network of ``backend`` instead.

The networks choose their epoch on a validation split of the *training* clips (grouped
by recording); the test fold is only ever predicted. Reports per-fold and mean accuracy,
per-class accuracy and a confusion-matrix PNG per system over all test folds; with
``lte-cnn``, the label tree of the first fold (text and PNG) and an LTE image of one test
clip per class. ``backend`` (``allconv`` or ``lte-cnn``) is the network that
``audioscene train`` trains and saves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from ..datasets import Item, load_dataset
from ..evaluate import SceneResult, scene_accuracy
from ..features import FeatureConfig, LabelTreeEmbedder, extract_file
from ..io_utils import atomic_open, atomic_write_text
from ..models.clip import ClipClassifier
from ..models.clip_baselines import ForestClipClassifier, GMMClassifier
from ..models.clip_ensemble import ClipEnsemble
from .common import write_json

__all__ = ["run", "frames_for", "plan_folds", "plot_confusion", "accuracy_table", "clip_network",
           "network_section", "members_table", "distil_settings", "distilled_table"]

def _parse_folds(v: Any) -> list[int] | None:
    if v is None or v == "":
        return None
    if isinstance(v, int):
        return [v]
    if isinstance(v, str):
        return [int(x) for x in v.split(",") if x.strip()]
    return [int(x) for x in v]


def plan_folds(ds: Any, train_folds: Any = None, test_folds: Any = None
               ) -> list[tuple[int, list[Item], list[Item]]]:
    """(test fold, training items, test items) for each fold to run.

    All folds of the dataset by default; ``test_folds`` limits them and ``train_folds``
    keeps only training items from those folds (a fixed split such as
    ``train_folds=1,2,3 test_folds=4``).

    Examples
    --------
    >>> plan_folds(read_esc10("../shared/data"), "1,2,3", "4")  # doctest: +SKIP
    """
    tr_f, te_f = _parse_folds(train_folds), _parse_folds(test_folds)
    folds = te_f or ds.folds
    plan = []
    for k in folds:
        train, test = ds.split(k)
        if tr_f is not None:
            train = [it for it in train if it.fold in tr_f]
        if not train or not test:
            raise ValueError(f"{ds.name}: fold {k} has no training or no test clips")
        plan.append((k, train, test))
    return plan


def frames_for(paths: Sequence[Path], cfg: FeatureConfig, *, jobs: int = 1,
               desc: str = "features", extractor: Callable[[Path], np.ndarray] | None = None
               ) -> dict[Path, np.ndarray]:
    """Features of every path (in parallel), as float32 arrays keyed by path.

    Examples
    --------
    >>> F = frames_for([Path("a.wav")], CNN_FEATURES)  # doctest: +SKIP
    """
    fn = extractor or (lambda p: extract_file(p, cfg)[0])
    paths = list(dict.fromkeys(paths))
    out = Parallel(n_jobs=jobs)(delayed(fn)(p) for p in tqdm(paths, desc=desc, unit="file"))
    return {p: np.asarray(f, np.float32) for p, f in zip(paths, out)}


def plot_confusion(res: SceneResult, path: Path, title: str) -> None:
    """Confusion matrix as a PNG (rows: truth; columns: prediction), written atomically.

    Examples
    --------
    >>> plot_confusion(scene_accuracy(["a"], ["a"]), Path("cm.png"), "demo")  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(res.labels)
    fig, ax = plt.subplots(figsize=(2 + 0.55 * n, 1.5 + 0.5 * n))
    ax.imshow(res.confusion, cmap="Blues")
    for i in range(n):
        for j in range(n):
            v = res.confusion[i, j]
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                        color="white" if v > res.confusion.max() / 2 else "black")
    ax.set_xticks(range(n), res.labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), res.labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: {100 * res.accuracy:.1f} %")
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


#: The configuration section of each clip network (``backend``).
_SECTION = {"allconv": "cnn", "lte-cnn": "lte_cnn"}
_BACKEND = {"cnn": "allconv", "lte-cnn": "lte-cnn"}  # network system -> backend


def _model_name(s: str, k: int) -> str:
    """Folder (under ``models/``) of fold ``k``'s member 0 of network system ``s``."""
    return f"fold{k}" if s == "cnn" else f"lte_fold{k}"


def _at_best(model: ClipClassifier, key: str) -> float:
    """A value of the training history at the kept epoch (NaN when not recorded)."""
    return float(model.history_[model.best_epoch_ - 1].get(key, np.nan))


def network_section(cfg: dict[str, Any], backend: str) -> dict[str, Any]:
    """The configuration section of clip network ``backend``: ``cfg["cnn"]`` for
    ``allconv``, ``cfg["lte_cnn"]`` for ``lte-cnn``; any other backend is a ValueError.

    Examples
    --------
    >>> from audioscene.recipes import default_config
    >>> network_section(default_config("esc10"), "lte-cnn")["members"]
    1
    """
    if backend not in _SECTION:
        raise ValueError(f"backend must be 'allconv' or 'lte-cnn', got {backend!r}")
    return cfg[_SECTION[backend]]


def distil_settings(cfg: dict[str, Any], backend: str) -> tuple[float, str]:
    """The distillation settings of the section of clip network ``backend``
    (:func:`network_section`).

    Parameters
    ----------
    cfg : dict
        Full configuration.
    backend : {"allconv", "lte-cnn"}
        The network whose section (``cnn`` or ``lte_cnn``) is read.

    Returns
    -------
    (float, str)
        ``distil``, the share of the teacher's probability in the distilled network's
        targets (0, the default: no distilled network), and ``distil_teacher``:
        ``"members"`` (the section's own members, the default) or ``"fusion"`` (its
        members followed by the other network's, averaged with equal weights).

    Raises
    ------
    ValueError
        An unknown backend, ``distil`` outside ``[0, 1]``, an unknown teacher, or the
        ``members`` teacher with a single member.

    Examples
    --------
    >>> distil_settings({"cnn": {"members": 3, "distil": 0.5}}, "allconv")
    (0.5, 'members')
    """
    section, name = network_section(cfg, backend), _SECTION[backend]
    w = float(section.get("distil", 0.0))
    if not 0 <= w <= 1:
        raise ValueError(f"{name}.distil must be in [0, 1], got {w}")
    teacher = str(section.get("distil_teacher", "members"))
    if teacher not in ("members", "fusion"):
        raise ValueError(f"{name}.distil_teacher must be 'members' or 'fusion', got "
                         f"{teacher!r}")
    if w > 0 and teacher == "members" and int(section.get("members", 1)) < 2:
        raise ValueError(f"{name}.distil needs {name}.members > 1 (or "
                         f"{name}.distil_teacher: fusion)")
    return w, teacher


def clip_network(cfg: dict[str, Any], fcfg: FeatureConfig, backend: str = "allconv",
                 member: int = 0) -> ClipClassifier:
    """The unfitted clip network of a configuration: ``allconv`` with ``cfg["cnn"]``, or
    ``lte-cnn`` with ``cfg["lte"]`` and ``cfg["lte_cnn"]``.

    Member ``i`` of an ensemble is seeded with ``cfg["seed"] + i`` (network, batches,
    validation split and, for ``lte-cnn``, the label tree embedder); member 0 is the
    network of a single-member run. The ``members``, ``distil`` and ``distil_teacher``
    settings of a section are read by :func:`run`, not passed to the network.

    Examples
    --------
    >>> from audioscene.recipes import default_config
    >>> cfg = default_config("esc10")
    >>> clf = clip_network(cfg, FeatureConfig.from_dict(cfg["features"]), member=2)
    >>> clf.backend, clf.random_state
    ('allconv', 2)
    """
    seed = int(cfg["seed"]) + int(member)

    params = {k: v for k, v in network_section(cfg, backend).items()
              if k not in ("members", "distil", "distil_teacher")}
    emb = None
    if backend == "lte-cnn":
        emb = LabelTreeEmbedder(random_state=seed, n_jobs=int(cfg["jobs"]), **cfg["lte"])
    return ClipClassifier(backend=backend, feature_config=fcfg, random_state=seed,
                          embedder=emb, **params)


def run(cfg: dict[str, Any], *, data: Path, out: Path, log: Any = print,
        train_only: bool = False, **_: Any) -> dict[str, Any]:
    """Run the recipe (see the module docstring).

    Parameters
    ----------
    cfg : dict
        Full configuration.
    data : Path
        Dataset root (``esc10`` or the TUT Acoustic Scenes 2016 development folder, or a
        folder above it).
    out : Path
        Output folder: ``results.md``, ``results.json``, ``predictions/<system>.tsv``,
        ``confusion_<system>.png``, ``models/fold<k>`` (the CNN; ``lte_fold<k>``, the
        LTE-CNN; members after the first: ``fold<k>_m<i>``, ``lte_fold<k>_m<i>``; the
        distilled network: ``fold<k>_distilled``, ``lte_fold<k>_distilled``).
    train_only : bool
        Skip cross-validation: train the network of ``backend`` on all training clips (of
        ``train_folds`` if given) and save it to ``out/model``; with ``members`` above 1,
        that many networks, seeded as in cross-validation, saved as one
        :class:`~audioscene.models.ClipEnsemble`; with ``distil`` above 0, the one
        network distilled (:meth:`~audioscene.models.ClipEnsemble.distil`) from them or,
        with ``distil_teacher: fusion``, from them and the other network's members.

    Returns
    -------
    dict
        Per-system, per-fold and mean accuracy, per-class accuracy, confusion.
    """
    t0 = time.time()
    out = Path(out)
    ds = load_dataset(cfg["dataset"], data)
    fcfg = FeatureConfig.from_dict(cfg["features"])
    systems = list(cfg["systems"])
    unknown = set(systems) - {"cnn", "lte-cnn", "fusion", "gmm", "rf"}
    if unknown:
        raise ValueError(f"unknown system(s) {sorted(unknown)}; known: cnn, lte-cnn, fusion, "
                         "gmm, rf")
    if "fusion" in systems and not {"cnn", "lte-cnn"} <= set(systems):
        raise ValueError("the fusion system needs both cnn and lte-cnn")
    # fusion is computed from the two networks, after them
    systems = [s for s in systems if s != "fusion"] + (["fusion"] if "fusion" in systems
                                                       else [])
    distil: dict[str, tuple[float, str]] = {}  # network system -> (weight, teacher)
    for s in ("cnn", "lte-cnn"):
        if s not in systems or train_only:
            continue
        w, teacher = distil_settings(cfg, _BACKEND[s])
        if w > 0:
            if teacher == "fusion" and not {"cnn", "lte-cnn"} <= set(systems):
                raise ValueError(f"{_SECTION[_BACKEND[s]]}.distil_teacher 'fusion' needs both "
                                 "cnn and lte-cnn in systems")
            distil[s] = (w, teacher)
    jobs = int(cfg["jobs"])
    if train_only:
        tr_f = _parse_folds(cfg["train_folds"])
        items = [it for it in ds if tr_f is None or it.fold in tr_f]
        backend = str(cfg["backend"])
        section = network_section(cfg, backend)  # checks the backend
        n = int(section.get("members", 1))
        w, teacher = distil_settings(cfg, backend)
        # the teacher's networks: this backend's members, then the other's for "fusion"
        todo = [(backend, i) for i in range(n)]
        if w > 0 and teacher == "fusion":
            other = "lte-cnn" if backend == "allconv" else "allconv"
            todo += [(other, i) for i in range(int(network_section(cfg, other)
                                                       .get("members", 1)))]
        F = frames_for([it.path for it in items], fcfg, jobs=jobs)
        X = [F[it.path] for it in items]
        y = [it.label for it in items]
        groups = [it.recording or it.stem for it in items]
        nets = [clip_network(cfg, fcfg, b, member=i).fit(X, y, groups=groups) for b, i in todo]
        model: ClipClassifier | ClipEnsemble
        if w > 0:
            model = ClipEnsemble(nets).distil(X, y, groups=groups, weight=w)
        else:
            model = nets[0] if n == 1 else ClipEnsemble(nets)
        model.save(out / "model")
        what = (f" (one network distilled from {len(nets)} networks)" if w > 0
                else f" ({n} members)" if n > 1 else "")
        log(f"model trained on {len(items)} clips{what}: {out / 'model'}")
        return {"model": str(out / "model"), "n_train": len(items), "members": n,
                "distilled": w > 0}

    plan = plan_folds(ds, cfg["train_folds"], cfg["test_folds"])
    paths = list(dict.fromkeys(it.path for _, tr, te in plan for it in tr + te))
    feats: dict[str, dict[Path, np.ndarray]] = {}
    if "cnn" in systems or "lte-cnn" in systems:
        feats["cnn"] = frames_for(paths, fcfg, jobs=jobs, desc="cnn features")
        feats["lte-cnn"] = feats["cnn"]
    if "gmm" in systems:
        feats["gmm"] = frames_for(paths, FeatureConfig.from_dict(cfg["gmm"]["features"]),
                                  jobs=jobs, desc="gmm features")
    rf_params = {k: v for k, v in cfg["rf"].items() if k != "features"}
    rf_proto = ForestClipClassifier(FeatureConfig.from_dict(cfg["rf"]["features"]),
                                    random_state=int(cfg["seed"]), **rf_params)
    if "rf" in systems:
        feats["rf"] = frames_for(paths, rf_proto.fconfig, jobs=jobs, desc="rf features",
                                 extractor=rf_proto.frames)

    preds: dict[str, list[tuple[Item, int, str, np.ndarray]]] = {s: [] for s in systems}
    per_fold: dict[str, dict[int, float]] = {s: {} for s in systems}
    classes = list(ds.classes)
    trees: dict[int, str] = {}
    members: dict[str, dict[int, dict[str, list[float]]]] = {}
    distilled: dict[str, dict[int, dict[str, float]]] = {}
    for k, train, test in plan:
        y_tr = [it.label for it in train]
        fold_p: dict[str, np.ndarray] = {}
        fold_nets: dict[str, list[ClipClassifier]] = {}
        for s in systems:
            ts = time.time()
            if s == "fusion":
                P = (fold_p["cnn"] + fold_p["lte-cnn"]) / 2
                _collect(preds, per_fold, s, k, test, P, classes, log, ts)
                continue
            Xtr = [feats[s][it.path] for it in train]
            Xte = [feats[s][it.path] for it in test]
            if s in ("cnn", "lte-cnn"):
                fold_p[s], fold_nets[s] = _network_members(cfg, fcfg, s, k, train, y_tr, test,
                                                           Xtr, Xte, classes, out, members, log)
                lte0 = fold_nets[s][0]
                if s == "lte-cnn":
                    trees[k] = str(lte0.embedder_.tree_)
                    if len(trees) == 1:
                        _lte_pictures(lte0, test, Xte, out, k)
                _collect(preds, per_fold, s, k, test, fold_p[s], classes, log, ts)
                continue
            if s == "gmm":
                model = GMMClassifier(FeatureConfig.from_dict(cfg["gmm"]["features"]),
                                      n_components=int(cfg["gmm"]["n_components"]),
                                      random_state=int(cfg["seed"])).fit(Xtr, y_tr)
            else:
                from sklearn.base import clone

                model = clone(rf_proto).fit(Xtr, y_tr)
            P = model.predict_proba(Xte)
            order = [list(model.classes_).index(c) for c in classes]
            fold_p[s] = P[:, order]
            _collect(preds, per_fold, s, k, test, fold_p[s], classes, log, ts)
        for s, (w, teacher) in distil.items():
            _distil_fold(s, k, w, teacher, fold_nets, train, y_tr, test,
                         [feats[s][it.path] for it in train], [feats[s][it.path] for it in test],
                         out, distilled, log)

    results: dict[str, Any] = {"dataset": ds.name, "folds": [k for k, _, _ in plan],
                               "systems": {}, "seconds": None}
    for s in systems:
        res = scene_accuracy([it.label for it, *_ in preds[s]], [lab for _, _, lab, _ in preds[s]],
                             labels=classes)
        plot_confusion(res, out / f"confusion_{s}.png", f"{ds.name} {s}")
        with atomic_open(out / "predictions" / f"{s}.tsv") as f:
            f.write("\t".join(["file", "fold", "label", "predicted", *classes]) + "\n")
            for it, k, lab, p in preds[s]:
                f.write("\t".join([it.name, str(k), str(it.label), lab,
                                   *(f"{v:.6f}" for v in p)]) + "\n")
        results["systems"][s] = {"per_fold": per_fold[s],
                                 "mean": float(np.mean(list(per_fold[s].values()))),
                                 "pooled": res.to_dict()}
        if s in members:
            results["systems"][s]["members"] = members[s]
        if s in distilled:
            results["systems"][s]["distilled"] = {"weight": distil[s][0],
                                                  "teacher": distil[s][1],
                                                  "per_fold": distilled[s]}
    results["seconds"] = round(time.time() - t0, 1)
    results["label_trees"] = trees
    write_json(out / "results.json", results)
    md = accuracy_table(results, classes) + members_table(results) + distilled_table(results)
    if trees:
        k0 = min(trees)
        md += f"\nLabel tree (fold {k0}):\n\n```\n{trees[k0]}\n```\n"
    atomic_write_text(out / "results.md", md)
    log(md)
    return results


def _network_members(cfg: dict[str, Any], fcfg: FeatureConfig, s: str, k: int,
                     train: Sequence[Item], y_tr: list[Any], test: Sequence[Item],
                     Xtr: list[np.ndarray],
                     Xte: list[np.ndarray], classes: Sequence[str], out: Path,
                     members: dict[str, dict[int, dict[str, list[float]]]], log: Any
                     ) -> tuple[np.ndarray, list[ClipClassifier]]:
    """Train the fold's ``members`` networks of system ``s`` (``cnn`` or ``lte-cnn``),
    save them and return the mean of their class probabilities on the test clips (in
    the order of ``classes``) and the members.

    Member 0 is saved as ``models/fold<k>`` (``lte_fold<k>``), member ``i`` as
    ``models/fold<k>_m<i>``; with more than one member, ``members[s][k]`` records each
    member's test accuracy, its accuracy on its own validation split at the chosen
    epoch, and the test accuracy of the mean of the first 1, 2, ... members.
    """
    backend = _BACKEND[s]
    n = int(network_section(cfg, backend).get("members", 1))
    name = _model_name(s, k)
    groups = [it.recording or it.stem for it in train]
    y_te = np.array([str(it.label) for it in test])

    def accuracy(P: np.ndarray) -> float:
        return float(np.mean(np.asarray(classes)[P.argmax(1)] == y_te))

    Ps: list[np.ndarray] = []
    nets: list[ClipClassifier] = []
    rec: dict[str, list[float]] = {"accuracy": [], "validation_accuracy": [],
                                   "first_members": []}
    for i in range(n):
        model = clip_network(cfg, fcfg, backend, member=i).fit(Xtr, y_tr, groups=groups)
        model.save(out / "models" / (name if i == 0 else f"{name}_m{i}"))
        nets.append(model)
        P = model.predict_proba(Xte)[:, [list(model.classes_).index(c) for c in classes]]
        Ps.append(P)
        if n > 1:
            acc, ens = accuracy(P), accuracy(np.mean(Ps, axis=0))
            val = _at_best(model, "val_accuracy")
            rec["accuracy"].append(acc)
            rec["validation_accuracy"].append(val)
            rec["first_members"].append(ens)
            log(f"fold {k} {s} member {i}: accuracy {100 * acc:.1f} % (validation "
                f"{100 * val:.1f} %, epoch {model.best_epoch_}); mean of {i + 1}: "
                f"{100 * ens:.1f} %")
    if n > 1:
        members.setdefault(s, {})[k] = rec
    return np.mean(Ps, axis=0), nets


def _distil_fold(s: str, k: int, w: float, teacher: str,
                 fold_nets: dict[str, list[ClipClassifier]], train: Sequence[Item],
                 y_tr: list[Any], test: Sequence[Item], Xtr: list[np.ndarray],
                 Xte: list[np.ndarray], out: Path,
                 distilled: dict[str, dict[int, dict[str, float]]], log: Any) -> None:
    """Train the fold's network of system ``s`` distilled from its members (``teacher``
    ``members``) or from its members followed by the other network's (``fusion``), save
    it as ``models/fold<k>_distilled`` (``lte_fold<k>_distilled``) and record its test
    accuracy, its validation accuracy and loss at the chosen epoch, and member 0's
    validation loss (same split) in ``distilled[s][k]``."""
    nets = list(fold_nets[s])
    if teacher == "fusion":
        nets += fold_nets["lte-cnn" if s == "cnn" else "cnn"]
    student = ClipEnsemble(nets).distil(Xtr, y_tr, groups=[it.recording or it.stem
                                                           for it in train], weight=w)
    student.save(out / "models" / f"{_model_name(s, k)}_distilled")

    y_te = np.array([str(it.label) for it in test])
    rec = {"accuracy": float(np.mean(student.predict(Xte).astype(str) == y_te)),
           "validation_accuracy": _at_best(student, "val_accuracy"),
           "validation_loss": _at_best(student, "val_loss"),
           "member0_validation_loss": _at_best(nets[0], "val_loss")}
    distilled.setdefault(s, {})[k] = rec
    log(f"fold {k} {s} distilled from {len(nets)} networks ({teacher}): accuracy "
        f"{100 * rec['accuracy']:.1f} % (validation {100 * rec['validation_accuracy']:.1f} %, "
        f"loss {rec['validation_loss']:.3f}; member 0: {rec['member0_validation_loss']:.3f})")


def distilled_table(results: dict[str, Any]) -> str:
    """Markdown table of the distilled networks (empty without one): per system, its
    teacher and weight, test accuracy per fold and mean, and the means over folds of its
    validation accuracy and loss and of member 0's validation loss on the same splits.

    Parameters
    ----------
    results : dict
        The recipe's results (``results.json``).

    Returns
    -------
    str
        The table with its title, or an empty string.

    Examples
    --------
    >>> r = {"systems": {"cnn": {"distilled": {"weight": 0.5, "teacher": "fusion",
    ...      "per_fold": {1: {"accuracy": 0.8, "validation_accuracy": 0.9,
    ...      "validation_loss": 0.4, "member0_validation_loss": 0.5}}}}}}
    >>> print(distilled_table(r).splitlines()[5])
    | cnn | fusion | 0.5 | 80.0 | **80.0** | 90.0 | 0.400 | 0.500 |
    """
    rows = []
    for s, r in results["systems"].items():
        d = r.get("distilled")
        if not d:
            continue
        per = list(d["per_fold"].values())
        mean = {key: float(np.mean([p[key] for p in per])) for key in per[0]}
        rows.append(f"| {s} | {d['teacher']} | {d['weight']:g} | "
                    + ", ".join(f"{100 * p['accuracy']:.1f}" for p in per)
                    + f" | **{100 * mean['accuracy']:.1f}** | "
                    f"{100 * mean['validation_accuracy']:.1f} | "
                    f"{mean['validation_loss']:.3f} | {mean['member0_validation_loss']:.3f} |")
    if not rows:
        return ""
    return ("\nDistilled networks (one network trained on the labels and a teacher's "
            "probabilities):\n\n"
            "| system | teacher | weight | test, per fold | test mean | validation accuracy "
            "| validation loss | member 0's validation loss |\n|---|---|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


def members_table(results: dict[str, Any]) -> str:
    """Markdown table of the ensembles' members (empty without one): per system, the
    mean over folds of each member's test and validation accuracy and of the test
    accuracy of the mean of its first 1, 2, ... members.

    Parameters
    ----------
    results : dict
        The recipe's results (``results.json``).

    Returns
    -------
    str
        The table with its title, or an empty string.

    Examples
    --------
    >>> r = {"systems": {"cnn": {"members": {1: {"accuracy": [0.5, 0.7],
    ...      "validation_accuracy": [0.6, 0.6], "first_members": [0.5, 0.8]}}}}}
    >>> print(members_table(r).splitlines()[6])
    | cnn | 1 | 70.0 | 60.0 | 80.0 |
    """
    rows = []
    for s, r in results["systems"].items():
        per = list((r.get("members") or {}).values())
        for i in range(min((len(m["accuracy"]) for m in per), default=0)):
            rows.append(f"| {s} | {i} | "
                        + " | ".join(f"{100 * np.mean([m[key][i] for m in per]):.1f}"
                                     for key in ("accuracy", "validation_accuracy",
                                                 "first_members")) + " |")
    if not rows:
        return ""
    return ("\nEnsemble members (mean over folds, %):\n\n| system | member | test | "
            "validation (own split) | test, mean of members 0..m |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


def _collect(preds: dict[str, list], per_fold: dict[str, dict[int, float]], s: str, k: int,
             test: Sequence[Item], P: np.ndarray, classes: Sequence[str], log: Any,
             ts: float) -> None:
    labels_hat = [classes[i] for i in P.argmax(axis=1)]
    for it, lab, p in zip(test, labels_hat, P):
        preds[s].append((it, k, lab, p))
    acc = float(np.mean([it.label == lab for it, lab in zip(test, labels_hat)]))
    per_fold[s][k] = acc
    log(f"fold {k} {s}: accuracy {100 * acc:.1f} % ({len(test)} clips, "
        f"{time.time() - ts:.0f} s)")


def _lte_pictures(model: ClipClassifier, test: Sequence[Item], Xte: Sequence[np.ndarray],
                  out: Path, k: int) -> None:
    """The fold's label tree and an LTE image of the first test clip of every class."""
    emb = model.embedder_
    emb.tree_.plot(out / "lte_tree.png", title=f"label tree (fold {k})")
    seen: set[str] = set()
    for it, x in zip(test, Xte):
        if it.label in seen:
            continue
        seen.add(str(it.label))
        img = emb.transform([x])[0]
        safe = "".join(ch if ch.isalnum() else "_" for ch in str(it.label))
        emb.plot_image(img, out / "lte_images" / f"{safe}.png", title=f"{it.label}: {it.name}")


def accuracy_table(results: dict[str, Any], classes: Sequence[str]) -> str:
    """Markdown tables: accuracy per fold and mean per system, then per class.

    Examples
    --------
    >>> r = {"folds": [1], "systems": {"cnn": {"per_fold": {1: 0.5}, "mean": 0.5,
    ...      "pooled": {"per_class": {"a": 0.5}}}}}
    >>> print(accuracy_table(r, ["a"]).splitlines()[2])
    | cnn | 50.0 | **50.0** |
    """
    systems = list(results["systems"])
    folds = results["folds"]
    lines = ["| system | " + " | ".join(f"fold {k}" for k in folds) + " | mean |",
             "|---" * (len(folds) + 2) + "|"]
    for s in systems:
        r = results["systems"][s]
        pf = {int(k): v for k, v in r["per_fold"].items()}
        lines.append(f"| {s} | " + " | ".join(f"{100 * pf[k]:.1f}" for k in folds)
                     + f" | **{100 * r['mean']:.1f}** |")
    lines += ["", "| class | " + " | ".join(systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for c in classes:
        cells = []
        for s in systems:
            v = results["systems"][s]["pooled"]["per_class"].get(c)
            cells.append("-" if v is None else f"{100 * v:.1f}")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
