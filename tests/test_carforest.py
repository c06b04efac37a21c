"""CaR-forest: scikit-learn contract, numba kernels against slow references, save/load."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audioscene.decode.votes import accumulate_votes, pair_events, peak_mass, pick_peaks
from audioscene.events import Event, EventList
from audioscene.models import CaRForest, SegmentConfig, segment_features, segment_targets


def _data(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.3).astype(int)
    D = np.stack([np.abs(X[:, 2]) + 0.1 * X[:, 0], np.abs(X[:, 3])], axis=1)
    return X, y, D


def test_check_estimator() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(CaRForest(n_estimators=4), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


def test_learns_and_is_repeatable() -> None:
    X, y, D = _data()
    a = CaRForest(n_estimators=8, random_state=3).fit(X, y, displacements=D)
    b = CaRForest(n_estimators=8, random_state=3, n_jobs=1).fit(X, y, displacements=D)
    c = CaRForest(n_estimators=8, random_state=4).fit(X, y, displacements=D)
    Xt, yt, _ = _data(400, seed=1)
    assert a.score(Xt, yt) > 0.85
    for k in a.trees_:  # same seed, any thread count: the same forest
        np.testing.assert_array_equal(a.trees_[k], b.trees_[k])
    assert not np.array_equal(a.predict_proba(Xt), c.predict_proba(Xt))


def _slow_leaf(trees: dict, t: int, x: np.ndarray) -> int:
    root = int(trees["roots"][t])
    node = root
    while trees["feature"][node] >= 0:
        f = trees["feature"][node]
        node = root + (trees["left"][node] if x[f] < trees["threshold"][node]
                       else trees["right"][node])
    return node


def test_apply_and_proba_match_slow_traversal() -> None:
    X, y, D = _data()
    f = CaRForest(n_estimators=5, max_depth=8, random_state=0).fit(X, y, displacements=D)
    leaves = f.apply(X[:50])
    for i in range(50):
        for t in range(5):
            assert leaves[i, t] == _slow_leaf(f.trees_, t, X[i])
    p = np.array([np.mean([f.trees_["values"][_slow_leaf(f.trees_, t, x), 0]
                           for t in range(5)]) for x in X[:50]])
    np.testing.assert_allclose(f.predict_proba(X[:50])[:, 1], p, rtol=1e-6)


def test_leaves_hold_displacement_statistics() -> None:
    X, y, D = _data(2000)
    f = CaRForest(n_estimators=3, max_depth=6, min_samples_leaf=20, max_samples=1.0,
                  random_state=0).fit(X, y, displacements=D)
    leaves = f.apply(X)
    vals = f.trees_["values"]
    # a leaf's positive count and mean onset displacement are those of its positives
    leaf = leaves[np.flatnonzero(y)[0], 0]
    members = (leaves[:, 0] == leaf) & (y == 1)
    assert vals[leaf, 1] == members.sum()
    assert vals[leaf, 2] == pytest.approx(D[members, 0].mean(), rel=1e-4)
    assert vals[leaf, 3] == pytest.approx(D[members, 0].std(), rel=1e-3, abs=1e-5)


def test_regression_splits_find_what_sets_the_displacement() -> None:
    # the class depends on feature 0 only; the onset displacement on feature 1 only
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    D = np.stack([np.where(X[:, 1] > 0, 1.0, 0.2), np.full(3000, 0.5)], axis=1)
    f = CaRForest(n_estimators=5, max_depth=8, classification_depth=2, random_state=0).fit(
        X, y, displacements=D)
    leaves = f.apply(X[y == 1]).ravel()
    spread = f.trees_["values"][leaves, 3].mean()
    assert D[y == 1, 0].std() > 0.35 and spread < 0.05
    used = np.bincount(f.trees_["feature"][f.trees_["feature"] >= 0], minlength=4)
    assert used[0] > 0 and used[1] > 0 and used[2] == used[3] == 0
    assert f.score(X, y) > 0.99


def test_save_load_identity(tmp_path: Path) -> None:
    X, y, D = _data()
    f = CaRForest(n_estimators=6, random_state=1).fit(X, y, displacements=D)
    f.save(tmp_path)
    g = CaRForest.load(tmp_path)
    np.testing.assert_array_equal(f.predict_proba(X), g.predict_proba(X))
    np.testing.assert_array_equal(f.apply(X), g.apply(X))
    assert g.get_params() == f.get_params()
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_bad_input() -> None:
    X, y, D = _data()
    with pytest.raises(ValueError, match="displacements"):
        CaRForest().fit(X, y, displacements=D[:10])
    with pytest.raises(ValueError, match="finite"):
        Dn = D.copy()
        Dn[np.flatnonzero(y)[0], 0] = np.nan
        CaRForest().fit(X, y, displacements=Dn)
    with pytest.raises(ValueError, match="n_estimators"):
        CaRForest(n_estimators=0).fit(X, y)


# ----------------------------------------------------------------------------- kernels


def _slow_votes(leaves, values, centres, step, n_grid, sigma0, p_min):
    on, off = np.zeros(n_grid), np.zeros(n_grid)
    n_trees = leaves.shape[1]
    for i, c in enumerate(centres):
        for t in range(n_trees):
            v = values[leaves[i, t]]
            if v[0] < p_min or v[1] < 1:
                continue
            for curve, mu, sd in ((on, c - v[2], v[3]), (off, c + v[4], v[5])):
                sd = math.sqrt(sd**2 + sigma0**2)
                for g in range(n_grid):
                    if abs(g * step - mu) <= 3 * sd + step:
                        lo = math.floor((mu - 3 * sd) / step)
                        hi = math.ceil((mu + 3 * sd) / step)
                        if lo <= g <= hi:
                            curve[g] += v[0] / n_trees * step / (sd * math.sqrt(2 * math.pi)) \
                                * math.exp(-0.5 * ((g * step - mu) / sd) ** 2)
    return on, off


def test_accumulate_votes_matches_reference() -> None:
    rng = np.random.default_rng(0)
    values = np.c_[rng.uniform(0, 1, 30), rng.integers(0, 5, 30), rng.uniform(0, 1, 30),
                   rng.uniform(0, 0.2, 30), rng.uniform(0, 1, 30), rng.uniform(0, 0.2, 30)]
    leaves = rng.integers(0, 30, size=(40, 3))
    centres = rng.uniform(0, 4, 40)
    on, off = accumulate_votes(leaves, values, centres, step=0.01, n_grid=500, sigma0=0.03,
                               p_min=0.3)
    ron, roff = _slow_votes(leaves, values, centres, 0.01, 500, 0.03, 0.3)
    np.testing.assert_allclose(on, ron, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(off, roff, rtol=1e-9, atol=1e-15)
    assert on.sum() > 0


def test_peaks_and_pairing_match_reference() -> None:
    rng = np.random.default_rng(1)
    curve = np.convolve(rng.random(300), np.ones(7) / 7, mode="same")
    got = pick_peaks(curve, min_distance=5, threshold=0.45)
    want = [i for i in range(300) if curve[i] >= 0.45
            and all(curve[j] < curve[i] or (j > i and curve[j] == curve[i])
                    for j in range(max(0, i - 5), min(300, i + 6)) if j != i)]
    assert got.tolist() == want and len(want) > 2
    mass = peak_mass(curve, 3)
    np.testing.assert_allclose(mass[10], curve[7:14].sum())

    offc = np.zeros(200)
    offc[[30, 35, 90, 150]] = [1.0, 2.0, 1.0, 3.0]
    pres = np.ones(200)
    pres[80:100] = 0.0
    on, off, conf = pair_events(np.array([10, 20, 70, 120]), offc, pres, min_bins=5,
                                max_bins=60, presence_threshold=0.5)
    # 10: its offset may not pass the next onset (20 + 1), where no offset votes lie, so
    #     the shortest plausible event is kept; 20 -> 35, the strongest offset in reach;
    # 70 -> 90 is dropped: P(present) averages 10/21 < 0.5 over it; 120 -> 150.
    assert on.tolist() == [10, 20, 120] and off.tolist() == [15, 35, 150]
    np.testing.assert_allclose(conf, [1.0, 1.0, 1.0])


# ----------------------------------------------------------------------------- segments


def test_segment_features_against_loops() -> None:
    rng = np.random.default_rng(0)
    F = rng.normal(size=(60, 3)) * 10
    cfg = SegmentConfig(scales=(3, 7), std_frames=3, diff_scales=(5,), background_frames=4)
    X = segment_features(F, cfg)
    assert X.shape == (60, cfg.n_features(3))
    lb, la = cfg.lookbehind, cfg.lookahead
    P = np.concatenate([np.repeat(F[:1], lb, 0), F, np.repeat(F[-1:], la, 0)])
    for i in (0, 20, 59):
        for b in range(3):
            row = X[i].reshape(3, -1)[b]
            c = i + lb
            mids = [P[k - 3 : k + 4, b].mean() for k in range(c - 3, c + 1)]
            want = [P[c - 1 : c + 2, b].mean(), P[c - 3 : c + 4, b].mean(),
                    P[c - 1 : c + 2, b].std(),
                    P[c + 1 : c + 3, b].mean() - P[c - 2 : c, b].mean(),
                    mids[-1] - min(mids)]
            np.testing.assert_allclose(row, want, rtol=1e-4, atol=1e-4)


def test_segment_stream_is_bit_identical() -> None:
    from audioscene.features.segments import SegmentStream

    rng = np.random.default_rng(1)
    F = rng.normal(size=(700, 5)) * 20 - 40
    for cfg in (SegmentConfig(), SegmentConfig(hop=3, background_frames=0)):
        ss = SegmentStream(cfg)
        parts, i = [], 0
        while i < len(F):
            n = int(rng.integers(1, 90))
            parts.append(ss.process(F[i : i + n]))
            i += n
        parts.append(ss.flush())
        np.testing.assert_array_equal(np.concatenate(parts), segment_features(F, cfg))
        assert len(ss._Q) <= cfg.lookbehind + cfg.lookahead + cfg.hop  # bounded memory


def test_segment_targets() -> None:
    ev = EventList([Event(1.0, 2.0, "a"), Event(1.5, 3.0, "b"), Event(2.5, 2.7, "a")])
    y, D = segment_targets(np.array([0.5, 1.2, 1.8, 2.6]), ev, ["a", "b"])
    assert y.tolist() == [[False, False], [True, False], [True, True], [True, True]]
    np.testing.assert_allclose(D[1, 0], [0.2, 0.8])
    np.testing.assert_allclose(D[3, 0], [0.1, 0.1], atol=1e-6)
    assert np.isnan(D[0]).all()


def _slow_pair(onsets, offc, pres, min_bins, max_bins, thr):  # noqa: ANN001, ANN202
    """pair_events written as plain loops."""
    out, last_end, n = [], 0, len(offc)
    onsets = sorted(int(x) for x in onsets)
    for k, on in enumerate(onsets):
        if on < last_end:
            continue
        lo, hi = on + min_bins, min(n - 1, on + max_bins)
        if k + 1 < len(onsets):
            hi = min(hi, onsets[k + 1] + 1)
        if hi < lo:
            lo = hi = min(lo, n - 1)
        best = max(range(lo, hi + 1), key=lambda g: (offc[g], -g))
        conf = sum(pres[on : best + 1]) / (best - on + 1)
        if conf >= thr:
            out.append((on, best, conf))
            last_end = best
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 400), min_size=1,
                                                   max_size=6))
def test_pairing_and_streamed_pairer_match_plain_loops(seed: int, cuts: list[int]) -> None:
    from audioscene.decode.votes import VotePairer

    rng = np.random.default_rng(seed)
    n = 1500
    on = np.convolve(rng.random(n) ** 4, np.ones(5), mode="same")
    off = np.convolve(rng.random(n) ** 4, np.ones(5), mode="same")
    pres = np.clip(np.convolve(rng.random(n), np.ones(9) / 9, mode="same") + 0.2, 0, 1)
    kw = {"min_bins": 5, "max_bins": 80, "presence_threshold": 0.6}
    gap, half, thr = 10, 8, 3.0
    peaks = pick_peaks(on, min_distance=gap, threshold=thr, score=peak_mass(on, half))
    a, b, c = pair_events(peaks, off, pres, **kw)
    slow = _slow_pair(peaks, off, pres, kw["min_bins"], kw["max_bins"], 0.6)
    assert [(int(x), int(y)) for x, y in zip(a, b)] == [(x, y) for x, y, _ in slow]
    np.testing.assert_allclose(c, [z for *_, z in slow], rtol=1e-12)
    assert len(slow) > 3
    # the streaming pairer, fed the curves in pieces, gives the same events
    vp = VotePairer(gap=gap, half=half, onset_threshold=thr, **kw)
    got, i, k = [], 0, 0
    while i < n:
        j = min(n, i + cuts[k % len(cuts)])
        got += vp.push(i, on[i:j], off[i:j], pres[i:j])
        i, k = j, k + 1
    got += vp.finish(n)
    assert [(x, y) for x, y, _ in got] == [(int(x), int(y)) for x, y in zip(a, b)]
    assert [z for *_, z in got] == c.tolist()
