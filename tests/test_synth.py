"""Soundscape synthesiser: exact annotations, EBR, polyphony, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioscene.audio import load
from audioscene.datasets import read_annotated
from audioscene.datasets.synth import (
    PROCEDURAL_EVENTS,
    EventSpec,
    load_sources,
    make_procedural_dataset,
    procedural_background,
    procedural_event,
    random_scene,
    render,
    rms,
)

SR = 16000


def test_render_places_event_exactly_at_requested_ebr(rng) -> None:
    bg = procedural_background("pink", sr=SR, duration=10.0, rng=rng)
    ev = procedural_event("bell", sr=SR, rng=rng)
    scape = render(bg, [EventSpec(ev, "bell", onset=2.5, ebr_db=-6.0)], sr=SR)
    (e,) = scape.events
    assert e.onset == 2.5 and e.offset == pytest.approx(2.5 + len(ev) / SR)
    start, stop = int(2.5 * SR), int(2.5 * SR) + len(ev)
    added = scape.audio[start:stop].astype(np.float64) - bg[start:stop]
    assert 20 * np.log10(rms(added) / rms(bg[start:stop])) == pytest.approx(-6.0, abs=1e-3)
    np.testing.assert_array_equal(scape.audio[:start], bg[:start])  # nothing outside the span
    np.testing.assert_array_equal(scape.audio[stop:], bg[stop:])


def test_event_past_the_end_is_cut_with_its_annotation(rng) -> None:
    bg = procedural_background("brown", sr=SR, duration=3.0, rng=rng)
    ev = procedural_event("buzz", sr=SR, rng=rng, duration=1.0)
    (e,) = render(bg, [EventSpec(ev, "buzz", onset=2.5)], sr=SR).events
    assert e.offset == pytest.approx(3.0)
    with pytest.raises(ValueError, match="outside the mixture"):
        render(bg, [EventSpec(ev, "buzz", onset=3.5)], sr=SR)


def test_loud_mixture_is_scaled_without_changing_ebr(rng) -> None:
    bg = 0.5 * procedural_background("pink", sr=SR, duration=2.0, rng=rng) / 0.0316
    ev = procedural_event("beep", sr=SR, rng=rng)
    s = render(bg, [EventSpec(ev, "beep", 0.5, 12.0)], sr=SR)
    assert np.abs(s.audio).max() <= 0.99 + 1e-6


@pytest.mark.parametrize("poly", [1, 2, 3])
def test_random_scene_respects_polyphony(poly: int) -> None:
    rng = np.random.default_rng(poly)
    src = {k: [procedural_event(k, sr=SR, rng=rng) for _ in range(3)] for k in PROCEDURAL_EVENTS}
    bgs = [procedural_background("hum", sr=SR, duration=5.0, rng=rng)]
    s = random_scene(src, bgs, sr=SR, duration=20.0, n_events=25, max_polyphony=poly,
                     ebr_db=(-6.0, 6.0), rng=7)
    edges = sorted({e.onset for e in s.events})
    active = max(sum(1 for e in s.events if e.onset <= t < e.offset) for t in edges)
    assert active <= poly
    if poly > 1:
        assert active > 1  # overlaps do occur when allowed
    assert len(s.events) > 5


def test_random_scene_is_repeatable() -> None:
    src = {"beep": [procedural_event("beep", sr=SR, rng=0)],
           "knock": [procedural_event("knock", sr=SR, rng=1)]}
    bgs = [procedural_background("pink", sr=SR, duration=4.0, rng=2)]
    a = random_scene(src, bgs, sr=SR, duration=10.0, n_events=4, rng=3)
    b = random_scene(src, bgs, sr=SR, duration=10.0, n_events=4, rng=3)
    assert a.events == b.events
    np.testing.assert_array_equal(a.audio, b.audio)


def test_procedural_kinds_are_distinguishable() -> None:
    # nearest class centroid of mean log-mel spectra separates the kinds on new examples
    from audioscene.features import FeatureConfig, extract

    cfg = FeatureConfig(sr=SR, n_fft=512, hop_length=256, n_mels=32)

    def prof(kind: str, seed: int) -> np.ndarray:
        X = extract(procedural_event(kind, sr=SR, rng=seed), cfg)[0]
        return np.r_[X.mean(axis=0), X.std(axis=0)]

    cent = {k: np.mean([prof(k, s) for s in range(5)], axis=0) for k in PROCEDURAL_EVENTS}
    hits = [min(cent, key=lambda c: np.linalg.norm(prof(k, s) - cent[c])) == k
            for k in PROCEDURAL_EVENTS for s in range(100, 105)]
    assert np.mean(hits) >= 0.8


def test_procedural_dataset_on_disk(tmp_path: Path) -> None:
    paths = make_procedural_dataset(tmp_path, n_mixtures=2, duration=10.0, seed=5)
    ds = read_annotated(paths["mixtures"])
    assert len(ds) == 2
    src = load_sources(paths["isolated"], sr=22050)
    assert sorted(src) == ["beep", "bell", "chirp", "knock"] and len(src["beep"]) == 6
    y, sr = load(ds[0].path)
    assert sr == 22050 and len(y) == 10 * 22050
    again = make_procedural_dataset(tmp_path / "again", n_mixtures=2, duration=10.0, seed=5)
    assert read_annotated(again["mixtures"])[0].events == ds[0].events


def test_task2_training_sounds_over_real_backgrounds(shared_data: Path) -> None:
    train = shared_data / "dcase2016_task2" / "dcase2016_task2_train"
    src = {k: v[:2] for k, v in load_sources(train, sr=SR).items()}
    assert len(src) == 11 and "keys" in src
    bgs = [load(p, sr=SR)[0] for p in sorted((shared_data / "backgrounds").glob("*.wav"))[:2]]
    s = random_scene(src, bgs, sr=SR, duration=30.0, n_events=8, ebr_db=0.0, rng=0)
    assert 6 <= len(s.events) <= 8 and set(s.events.labels) <= set(src)


def test_augment_event_alterations() -> None:
    from audioscene.datasets.synth import augment_event

    x = procedural_event("chirp", sr=16000, rng=3)
    off = {"speed": (1.0, 1.0), "eq_db": 0.0, "reverb": 0.0}
    np.testing.assert_array_equal(augment_event(x, 16000, np.random.default_rng(0), **off), x)
    # speed: f times faster is len / f samples
    fast = augment_event(x, 16000, np.random.default_rng(0), **{**off, "speed": (1.25, 1.25)})
    assert abs(len(fast) - len(x) / 1.25) <= 1
    # equaliser and room keep the length and change the sound; the same rng repeats
    for kw in ({"eq_db": 6.0}, {"reverb": 1.0}):
        a = augment_event(x, 16000, np.random.default_rng(5), **{**off, **kw})
        b = augment_event(x, 16000, np.random.default_rng(5), **{**off, **kw})
        assert len(a) == len(x) and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, x, atol=1e-3)
    # a room spreads energy later in time: the last quarter gains energy
    wet = augment_event(x, 16000, np.random.default_rng(1),
                        **{**off, "reverb": 1.0, "rt60": (0.8, 0.8), "drr_db": (0.0, 0.0)})
    q = len(x) // 4
    assert rms(wet[-q:]) / rms(wet) > rms(x[-q:]) / rms(x)


def test_random_scene_augments_every_placed_event() -> None:
    rng = np.random.default_rng(0)
    src = {"beep": [procedural_event("beep", sr=8000, rng=rng)]}
    bg = [procedural_background("brown", sr=8000, duration=3.0, rng=rng)]
    seen: list[int] = []

    def half(x: np.ndarray, r: np.random.Generator) -> np.ndarray:
        seen.append(len(x))
        return x[: len(x) // 2]

    s = random_scene(src, bg, sr=8000, duration=20.0, n_events=4, rng=1, augment=half)
    assert len(seen) == 4 and len(s.events) == 4
    assert all(abs(e.duration - (seen[0] // 2) / 8000) < 1e-9 for e in s.events)


@pytest.mark.parametrize("bad", [{"speed": (1.1, 0.9)}, {"speed": (0.0, 1.0)},
                                 {"rt60": (0.0, 0.5)}, {"drr_db": (6.0, 0.0)}])
def test_augment_event_refuses_bad_ranges(bad: dict) -> None:
    from audioscene.datasets.synth import augment_event

    with pytest.raises(ValueError, match="must be a range"):
        augment_event(np.ones(100, np.float32), 8000, np.random.default_rng(0), **bad)
