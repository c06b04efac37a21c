"""Feature layer: equal to librosa, streaming equal to offline on real audio."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import librosa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audioscene.audio import load
from audioscene.features import (
    PCEN_SCALE,
    FeatureConfig,
    FeatureConstants,
    FeatureStream,
    extract,
    stft,
)


@pytest.fixture(scope="module")
def real_clip(shared_data: Path) -> np.ndarray:
    path = (shared_data / "dcase2016_task2" / "dcase2016_task2_dev" / "sound"
            / "dev_1_ebr_0_nec_3_poly_1.flac")
    y, _ = load(path, offset=3.0, duration=8.0)
    return y


def _librosa_db(S: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    return librosa.power_to_db(S, ref=cfg.ref, amin=cfg.amin, top_db=None)


def test_logmel_equals_librosa(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig(kind="logmel", n_mels=40, n_fft=2048, hop_length=1024, fmin=50.0,
                        fmax=16000.0, win_length=1764)
    X, t = extract(real_clip, cfg)
    S = librosa.feature.melspectrogram(y=real_clip, sr=44100, n_fft=2048, hop_length=1024,
                                       win_length=1764, window="hann", center=False, power=2.0,
                                       n_mels=40, fmin=50.0, fmax=16000.0)
    ref = _librosa_db(S, cfg).T
    assert X.shape == ref.shape and X.dtype == np.float32
    np.testing.assert_allclose(X, ref, atol=2e-3, rtol=1e-5)
    np.testing.assert_allclose(t, (np.arange(len(X)) * 1024 + 1024) / 44100)


@pytest.mark.parametrize("c0", [True, False])
def test_mfcc_with_deltas_equals_librosa(real_clip: np.ndarray, c0: bool) -> None:
    # the DCASE 2016 baseline setting: 40 ms window, 20 ms hop, 20 MFCC, deltas, acc.
    cfg = FeatureConfig(kind="mfcc", n_fft=1764, hop_length=882, n_mels=40, n_mfcc=20,
                        c0=c0, deltas=2, ref=1e-3, htk=True)
    X, _ = extract(real_clip, cfg)
    S = librosa.feature.melspectrogram(y=real_clip, sr=44100, n_fft=1764, hop_length=882,
                                       center=False, n_mels=40, htk=True)
    M = librosa.feature.mfcc(S=_librosa_db(S, cfg), n_mfcc=20)
    if not c0:
        M = M[1:]
    ref = np.concatenate([M, librosa.feature.delta(M, width=9, order=1),
                          librosa.feature.delta(M, width=9, order=2)]).T
    assert X.shape == ref.shape == (len(ref), cfg.n_features)
    np.testing.assert_allclose(X, ref, atol=2e-3, rtol=1e-4)


def test_stft_equals_librosa(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig(kind="stft", n_fft=512, hop_length=256, window="hamming")
    X, _ = extract(real_clip, cfg)
    S = np.abs(librosa.stft(real_clip, n_fft=512, hop_length=256, window="hamming",
                            center=False)) ** 2
    np.testing.assert_allclose(X, _librosa_db(S, cfg).T, atol=2e-3, rtol=1e-5)


def test_pcen_equals_librosa(real_clip: np.ndarray) -> None:
    # librosa.pcen of the same mel power spectrum, scaled as the int32 samples' would be
    # (2^31 in amplitude), its smoother started at the first frame
    cfg = FeatureConfig(kind="pcen", sr=44100, n_fft=2048, win_length=1764, hop_length=882,
                        n_mels=40, fmin=50.0, pcen_time_constant=0.25)
    X, _ = extract(real_clip, cfg)
    S = librosa.feature.melspectrogram(y=real_clip, sr=44100, n_fft=2048, hop_length=882,
                                       win_length=1764, window="hann", center=False, power=2.0,
                                       n_mels=40, fmin=50.0).astype(np.float64) * PCEN_SCALE ** 2
    b = cfg.pcen_b
    ref = librosa.pcen(S, sr=44100, hop_length=882, time_constant=0.25, gain=0.98, bias=2.0,
                       power=0.5, eps=1e-6, zi=(1 - b) * S[:, :1]).T
    assert X.shape == ref.shape == (len(ref), 40) and X.dtype == np.float32
    np.testing.assert_allclose(X, ref, atol=1e-5, rtol=1e-4)
    # the smoother's coefficient is librosa's, which librosa computes from the same
    # time constant: setting it explicitly gives the same output
    np.testing.assert_allclose(
        librosa.pcen(S, sr=44100, hop_length=882, b=b, zi=(1 - b) * S[:, :1]).T,
        librosa.pcen(S, sr=44100, hop_length=882, time_constant=0.25, zi=(1 - b) * S[:, :1]).T)
    # adaptive: a signal 20 dB quieter gives nearly the same frames once the smoother
    # has settled (the gain is 0.98, not 1), where log-mel moves by 20 dB
    Xq, _ = extract(real_clip * 0.1, cfg)
    settled = slice(int(1.0 / cfg.hop_seconds), None)
    assert np.median(np.abs(Xq - X)[settled]) < 0.1 * np.median(np.abs(X[settled]))


def test_pcen_depends_only_on_the_past(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig(kind="pcen")
    X, _ = extract(real_clip, cfg)
    prefix = real_clip[: 40 * cfg.hop_length + cfg.n_fft]
    np.testing.assert_array_equal(extract(prefix, cfg)[0], X[:41])
    with pytest.raises(ValueError, match="pcen_eps"):
        FeatureConfig(kind="pcen", pcen_eps=0.0)
    with pytest.raises(ValueError, match="pcen_gain"):
        FeatureConfig(kind="pcen", pcen_gain=-1.0)
    with pytest.raises(ValueError, match="pcen_bias must be finite"):
        FeatureConfig(kind="pcen", pcen_bias=float("nan"))


def test_pcen_of_magnitudes_is_librosas_documented_use(real_clip: np.ndarray) -> None:
    # librosa's documentation: melspectrogram(power=1) of float audio times 2**31
    cfg = FeatureConfig(kind="pcen", n_fft=2048, hop_length=512, power=1.0)
    X, _ = extract(real_clip, cfg)
    S = librosa.feature.melspectrogram(y=real_clip, sr=44100, n_fft=2048, hop_length=512,
                                       center=False, power=1.0, n_mels=40).astype(np.float64)
    x = S * 2 ** 31
    ref = librosa.pcen(x, sr=44100, hop_length=512, zi=(1 - cfg.pcen_b) * x[:, :1]).T
    np.testing.assert_allclose(X, ref, atol=1e-5, rtol=1e-4)


def test_pcen_settings_belong_to_pcen_only() -> None:
    # other kinds ignore pcen_* and reset them: equal features, equal configs, same file
    a = FeatureConfig(kind="logmel", pcen_gain=0.5, pcen_time_constant=0.1)
    assert a == FeatureConfig(kind="logmel") and a.pcen_gain == 0.98
    assert not any(k.startswith("pcen") for k in a.to_dict())
    assert FeatureConfig.from_json(a.to_json()) == a
    p = FeatureConfig(kind="pcen", pcen_gain=0.5)
    assert p.to_dict()["pcen_gain"] == 0.5 and FeatureConfig.from_json(p.to_json()) == p
    assert p.replace(kind="logmel") == FeatureConfig(kind="logmel")
    # the smoother's coefficient is librosa's formula, and keeps its precision where
    # that formula cancels (b -> 1 as the time constant -> 0)
    t = 0.4 * 44100 / 1024
    assert FeatureConfig(kind="pcen").pcen_b == pytest.approx(
        (np.sqrt(1 + 4 * t ** 2) - 1) / (2 * t ** 2), rel=1e-12)
    assert FeatureConfig(kind="pcen", pcen_time_constant=1e-12).pcen_b == pytest.approx(1.0)


def test_no_per_file_normalisation(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig()
    X, _ = extract(real_clip, cfg)
    X2, _ = extract(real_clip * 0.1, cfg)  # -20 dB in, -20 dB out wherever above the floor
    mask = X2 > -90
    np.testing.assert_allclose((X - X2)[mask], 20.0, atol=1e-3)
    Xa, _ = extract(real_clip[: 10 * 1024 + 2048], cfg)  # a prefix gives the same frames
    np.testing.assert_allclose(Xa, X[: len(Xa)], atol=1e-4)


def test_multichannel_input_is_averaged(real_clip: np.ndarray) -> None:
    stereo = np.stack([real_clip, real_clip * 0.5], axis=1)
    np.testing.assert_allclose(extract(stereo)[0], extract(real_clip * 0.75)[0], atol=1e-3)


def test_resampling_input(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig(sr=16000, n_fft=512, hop_length=160)
    X, _ = extract(real_clip, cfg, sr=44100)
    assert len(X) == cfg.n_frames(int(np.ceil(len(real_clip) * 16000 / 44100)))


CONFIGS = [
    FeatureConfig(),
    FeatureConfig(kind="mfcc", n_fft=1764, hop_length=882, deltas=2),
    FeatureConfig(kind="stft", n_fft=256, hop_length=100, deltas=1, delta_width=5),
    FeatureConfig(kind="pcen", n_fft=1024, win_length=882, hop_length=441, deltas=1),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg_index=st.integers(0, len(CONFIGS) - 1),
       sizes=st.lists(st.integers(1, 40000), min_size=1, max_size=30))
def test_stream_equals_offline_for_random_blocks(real_clip: np.ndarray, cfg_index: int,
                                                 sizes: list[int]) -> None:
    cfg = CONFIGS[cfg_index]
    y = real_clip[:150000]
    X, t = extract(y, cfg)
    fs = FeatureStream(cfg)
    parts, times, i, k = [], [], 0, 0
    while i < len(y):
        n = sizes[k % len(sizes)]
        k += 1
        F, T = fs.process(y[i : i + n])
        parts.append(F)
        times.append(T)
        i += n
    F, T = fs.flush()
    S = np.concatenate(parts + [F])
    assert S.shape == X.shape
    np.testing.assert_array_equal(S, X)  # the same frames, bit for bit
    np.testing.assert_array_equal(np.concatenate(times + [T]), t)
    fs.reset()
    assert fs.frames_emitted == 0


def test_stream_latency_and_reset() -> None:
    cfg = FeatureConfig(kind="mfcc", deltas=1)
    fs = FeatureStream(cfg)
    y = np.random.default_rng(0).standard_normal(20 * 1024 + 2048).astype(np.float32)
    F, _ = fs.process(y)
    assert len(F) == 21 - fs.latency_frames == 17
    assert len(fs.flush()[0]) == 4
    with pytest.raises(RuntimeError, match="reset"):
        fs.process(y)
    fs.reset()
    assert len(fs.process(y)[0]) == 17


def test_stream_shorter_than_delta_window() -> None:
    cfg = FeatureConfig(kind="logmel", deltas=2, delta_width=9)
    y = np.random.default_rng(0).standard_normal(2048 + 4 * 1024).astype(np.float32)  # 5 frames
    fs = FeatureStream(cfg)
    a = fs.process(y[:3000])[0]
    b = fs.process(y[3000:])[0]
    c = fs.flush()[0]
    np.testing.assert_array_equal(np.concatenate([a, b, c]), extract(y, cfg)[0])


def test_config_json_round_trip_and_validation() -> None:
    cfg = FeatureConfig(kind="mfcc", n_mfcc=14, c0=False, deltas=1, fmax=8000.0)
    assert FeatureConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["n_mfcc"] == 14
    assert cfg.n_features == 26
    with pytest.raises(ValueError, match="kind"):
        FeatureConfig(kind="cqt")
    with pytest.raises(ValueError, match="fmax"):
        FeatureConfig(sr=16000, fmax=9000.0)
    with pytest.raises(ValueError, match="unknown field"):
        FeatureConfig.from_dict({"sr": 16000, "nfft": 512})
    with pytest.raises(ValueError, match="hop_length"):
        FeatureConfig(hop_length=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.sr = 8000  # type: ignore[misc]


@pytest.mark.parametrize("n_fft, win, hop, window", [
    (1024, 882, 441, "hann"), (2048, 1764, 882, "hann"), (512, None, 256, "hamming"),
    (1024, 1023, 300, "blackman"),
])
def test_stft_is_librosa_stft_bit_for_bit(real_clip: np.ndarray, n_fft: int, win: int | None,
                                          hop: int, window: str) -> None:
    cfg = FeatureConfig(n_fft=n_fft, win_length=win, hop_length=hop, window=window)
    w = FeatureConstants.compute(cfg).window
    for y in (real_clip, real_clip[: n_fft + 3 * hop + 5]):
        want = librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, window=window,
                            center=False)
        got = stft(y, n_fft, hop, w)
        assert got.dtype == want.dtype == np.complex64
        np.testing.assert_array_equal(got, want)


def test_constants_are_librosas_and_are_the_ones_used(real_clip: np.ndarray) -> None:
    cfg = FeatureConfig(sr=22050, n_fft=1024, win_length=882, hop_length=441, n_mels=40,
                        fmin=50.0)
    c = FeatureConstants.compute(cfg)
    np.testing.assert_array_equal(
        c.mel, librosa.filters.mel(sr=22050, n_fft=1024, n_mels=40, fmin=50.0,
                                   dtype=np.float32))
    np.testing.assert_array_equal(c.window[71:-71], librosa.filters.get_window("hann", 882))
    assert not c.window[:71].any() and not c.window[-71:].any()
    X = extract(real_clip, cfg)[0]
    # constants passed explicitly (as a saved model does) give the same frames ...
    same = FeatureConstants(c.window.copy(), c.mel.copy())
    np.testing.assert_array_equal(extract(real_clip, cfg, constants=same)[0], X)
    # ... and they are what the features are computed from
    doubled = FeatureConstants(c.window, 2 * c.mel)
    np.testing.assert_allclose(extract(real_clip, cfg, constants=doubled)[0],
                               X + 10 * np.log10(2), rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="mel filterbank of shape"):
        FeatureStream(cfg, constants=FeatureConstants(c.window, c.mel[:20]))
