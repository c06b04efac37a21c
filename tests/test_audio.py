"""audioscene.audio on real files and on every kind of bad input."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import given, settings
from hypothesis import strategies as st

from audioscene.audio import AudioError, AudioWarning, blocks, info, load
from audioscene.features import FeatureConfig, extract, extract_file


def test_load_real_file_matches_soundfile(dev_mixture: Path) -> None:
    y, sr = load(dev_mixture)
    ref, ref_sr = sf.read(dev_mixture, dtype="float32")
    assert sr == ref_sr == 44100
    assert y.dtype == np.float32 and y.shape == ref.shape == (120 * 44100,)
    np.testing.assert_array_equal(y, ref)
    assert info(dev_mixture).duration == pytest.approx(120.0)


def test_load_resamples_with_soxr(dev_mixture: Path) -> None:
    y, sr = load(dev_mixture, sr=16000, duration=5.0)
    raw, _ = sf.read(dev_mixture, frames=5 * 44100, dtype="float32")
    np.testing.assert_allclose(y, soxr.resample(raw, 44100, 16000, quality="HQ"), atol=1e-7)
    assert sr == 16000 and len(y) == 5 * 16000


def test_load_offset_duration(dev_mixture: Path) -> None:
    full, _ = load(dev_mixture)
    part, _ = load(dev_mixture, offset=2.0, duration=1.5)
    np.testing.assert_array_equal(part, full[88200 : 88200 + 66150])


@pytest.mark.parametrize("block_length", [1000, 44100, 65536])
@pytest.mark.parametrize("sr", [None, 16000])
def test_contiguous_blocks_equal_load(dev_mixture: Path, block_length: int, sr) -> None:
    y, _ = load(dev_mixture, sr=sr)
    parts, offset = [], 0
    for b in blocks(dev_mixture, block_length=block_length, sr=sr):
        assert b.offset == offset
        offset += len(b.samples)
        parts.append(b.samples)
    assert b.last
    np.testing.assert_array_equal(np.concatenate(parts), y)


def test_frame_aligned_blocks_give_whole_file_frames(dev_mixture: Path) -> None:
    cfg = FeatureConfig(sr=16000, n_fft=1024, hop_length=320)
    X, _ = extract_file(dev_mixture, cfg)
    got = []
    for b in blocks(dev_mixture, block_length=30000, sr=16000, frame_length=1024,
                    hop_length=320):
        assert b.offset == b.frame_offset * 320
        Xb, _ = extract(b.samples, cfg)
        assert b.frame_offset == sum(len(g) for g in got)
        got.append(Xb)
    # equal up to float32 rounding (the FFT batches rows differently per call)
    np.testing.assert_allclose(np.concatenate(got), X, atol=1e-4, rtol=1e-6)


def _stdin_load(path: Path) -> np.ndarray:
    code = ("import sys, numpy as np; from audioscene.audio import load;"
            "y, sr = load('-'); np.save(sys.stdout.buffer, y)")
    with open(path, "rb") as f:
        out = subprocess.run([sys.executable, "-c", code], stdin=f, capture_output=True,
                             check=True).stdout
    import io

    return np.load(io.BytesIO(out))


def test_stdin_flac_and_wav(dev_mixture: Path, tmp_path: Path) -> None:
    y, sr = load(dev_mixture, duration=10.0)
    flac = tmp_path / "x.flac"
    wav = tmp_path / "x.wav"
    sf.write(flac, y, sr)
    sf.write(wav, y, sr, subtype="FLOAT")
    np.testing.assert_array_equal(_stdin_load(wav), y)
    np.testing.assert_allclose(_stdin_load(flac), y, atol=1 / 32768)


def test_stdin_blocks_stream(dev_mixture: Path, tmp_path: Path) -> None:
    y, sr = load(dev_mixture, duration=10.0)
    flac = tmp_path / "x.flac"
    sf.write(flac, y, sr)
    code = ("import sys; from audioscene.audio import blocks;"
            "print(sum(len(b.samples) for b in blocks('-', block_length=4096)))")
    with open(flac, "rb") as f:
        out = subprocess.run([sys.executable, "-c", code], stdin=f, capture_output=True,
                             check=True, text=True).stdout
    assert int(out) == len(y)


# ----------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nope\.wav: no such file"):
        load(tmp_path / "nope.wav")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file"):
        load(p)


def test_non_audio_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: not a readable audio file"):
        load(p)
    with pytest.raises(AudioError, match=r"notes\.wav"):
        list(blocks(p))


def test_truncated_wav_reads_what_is_there_and_warns(tmp_path: Path, rng) -> None:
    y = (0.1 * rng.standard_normal(48000)).astype(np.float32)
    p = tmp_path / "cut.wav"
    sf.write(p, y, 48000, subtype="PCM_16")
    data = p.read_bytes()
    p.write_bytes(data[: 44 + 2 * 20000 + 1])  # header says 48000 samples, 20000 remain
    msg = r"cut\.wav: truncated: its header states 1\.000 s, 0\.417 s are present"
    with pytest.warns(AudioWarning, match=msg):
        got, sr = load(p)
    assert sr == 48000 and len(got) == 20000
    np.testing.assert_allclose(got, y[:20000], atol=1 / 32768)
    with pytest.warns(AudioWarning, match=msg):
        assert sum(len(b.samples) for b in blocks(p, block_length=7000)) == 20000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete file does not warn
        sf.write(p, y, 48000, subtype="PCM_16")
        load(p)


def test_truncated_flac_error_names_where_decoding_stopped(tmp_path: Path, rng) -> None:
    y = (0.1 * rng.standard_normal(96000)).astype(np.float32)
    p = tmp_path / "cut.flac"
    sf.write(p, y, 48000)
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    for read in (lambda: load(p), lambda: list(blocks(p, block_length=1 << 19))):
        with pytest.raises(AudioError) as err:
            read()
        m = re.search(r"cut\.flac: truncated or corrupt audio after sample (\d+)", str(err.value))
        assert m and 20000 < int(m.group(1)) < 96000, str(err.value)


def _pipe_wav(y: np.ndarray, sr: int, subtype: str, size: int | None) -> bytes:
    """A WAV file's bytes with the RIFF and data sizes a pipe writer puts there."""
    buf = io.BytesIO()
    sf.write(buf, y, sr, subtype=subtype, format="WAV")
    raw = bytearray(buf.getvalue())
    if size is not None:
        raw[4:8] = size.to_bytes(4, "little")
        i = raw.find(b"data")
        raw[i + 4 : i + 8] = size.to_bytes(4, "little")
    return bytes(raw)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
@pytest.mark.parametrize("size", [None, 0, 0xFFFFFFFF])
def test_stdin_wav_of_unknown_length_equals_the_file(subtype: str, size: int | None,
                                                     rng, monkeypatch) -> None:
    y = (0.5 * rng.standard_normal((5001, 2))).clip(-1, 1).astype(np.float32)
    raw = _pipe_wav(y, 16000, subtype, size)
    ref, _ = sf.read(io.BytesIO(_pipe_wav(y, 16000, subtype, None)), dtype="float32",
                     always_2d=True)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    got, sr = load("-", mono=False)
    assert sr == 16000
    np.testing.assert_array_equal(got, ref)  # as libsndfile converts
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    parts = [b.samples for b in blocks("-", block_length=777, mono=False)]
    np.testing.assert_array_equal(np.concatenate(parts), ref)


def test_stdin_wav_with_pipe_sizes_and_ogg(dev_mixture: Path, tmp_path: Path) -> None:
    y, sr = load(dev_mixture, duration=10.0)
    piped = tmp_path / "pipe.wav"
    piped.write_bytes(_pipe_wav(y, sr, "PCM_16", 0xFFFFFFFF))
    ref = tmp_path / "ref.wav"
    sf.write(ref, y, sr, subtype="PCM_16")
    np.testing.assert_array_equal(_stdin_load(piped), load(ref)[0])
    ogg = tmp_path / "x.ogg"
    sf.write(ogg, y, sr, format="OGG", subtype="VORBIS")
    t0 = time.perf_counter()
    np.testing.assert_array_equal(_stdin_load(ogg), load(ogg)[0])
    assert time.perf_counter() - t0 < 30  # it used to read for ever


def test_stdin_garbage_is_one_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00" + b"\x07\x00" * 8)
    code = "from audioscene.audio import load; load('-')"
    with open(bad, "rb") as f:
        r = subprocess.run([sys.executable, "-c", code], stdin=f, capture_output=True,
                           text=True, timeout=60)
    assert r.returncode != 0 and "AudioError: <stdin>:" in r.stderr


def test_zero_samples(tmp_path: Path) -> None:
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), 16000)
    y, sr = load(p)
    assert y.shape == (0,) and sr == 16000
    X, t = extract(y, FeatureConfig(sr=16000))
    assert X.shape == (0, 40) and t.shape == (0,)
    assert list(blocks(p)) == [] or all(len(b.samples) == 0 for b in blocks(p))


def test_shorter_than_one_frame(tmp_path: Path) -> None:
    p = tmp_path / "short.wav"
    sf.write(p, np.full(100, 0.1, dtype=np.float32), 44100)
    X, t = extract_file(p, FeatureConfig())
    assert X.shape == (0, 40)
    cfg = FeatureConfig(kind="mfcc", deltas=2)
    X2, _ = extract(np.full(2048 + 1024, 0.1, np.float32), cfg)  # two frames: deltas are 0
    assert X2.shape == (2, 60) and np.all(X2[:, 20:] == 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path: Path, bad: float) -> None:
    y = np.zeros(5000, dtype=np.float32)
    y[1234] = bad
    p = tmp_path / "nan.wav"
    sf.write(p, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: non-finite sample .* at sample 1234"):
        load(p)
    with pytest.raises(AudioError, match=r"nan\.wav: non-finite.*1234"):
        list(blocks(p, block_length=1000))
    with pytest.raises(ValueError, match="non-finite"):
        extract(y, FeatureConfig(sr=16000))


def test_silence_gives_the_floor(tmp_path: Path) -> None:
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(44100, dtype=np.float32), 44100)
    X, _ = extract_file(p, FeatureConfig())
    np.testing.assert_allclose(X, -100.0, atol=1e-4)  # 10 log10(amin=1e-10)


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 6, 8])
def test_any_channel_count(tmp_path: Path, channels: int, rng) -> None:
    y = (0.1 * rng.standard_normal((8000, channels))).astype(np.float32)
    p = tmp_path / f"c{channels}.wav"
    sf.write(p, y, 16000, subtype="FLOAT")
    mono, _ = load(p)
    np.testing.assert_allclose(mono, y.mean(axis=1), atol=1e-7)
    multi, _ = load(p, mono=False)
    assert multi.shape == (8000, channels)
    streamed = np.concatenate([b.samples for b in blocks(p, block_length=3000, mono=False)])
    np.testing.assert_array_equal(streamed, multi)


@pytest.mark.parametrize("sr", [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000])
def test_any_sample_rate(tmp_path: Path, sr: int) -> None:
    t = np.arange(sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    p = tmp_path / f"r{sr}.wav"
    sf.write(p, y, sr, subtype="FLOAT")
    cfg = FeatureConfig(sr=22050, n_fft=1024, hop_length=512, kind="stft")
    X, _ = extract_file(p, cfg)
    assert len(X) == cfg.n_frames(22050)
    peak_bin = np.argmax(X.mean(axis=0))
    assert abs(peak_bin * 22050 / 1024 - 1000) < 22050 / 1024  # the tone stays at 1 kHz


def test_audio_error_survives_a_process_boundary(tmp_path: Path) -> None:
    import pickle

    from joblib import Parallel, delayed

    err = pickle.loads(pickle.dumps(AudioError("a.wav", "empty file")))
    assert (str(err), err.source, err.reason) == ("a.wav: empty file", "a.wav", "empty file")
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all")
    with pytest.raises(AudioError, match=r"bad\.wav: not a readable audio file"):
        Parallel(n_jobs=2)(delayed(load)(p) for p in [bad, bad])


@settings(max_examples=200, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 400))
def test_stdin_wav_header_fuzz(flips: list[tuple[int, int]], cut: int) -> None:
    y = np.linspace(-0.5, 0.5, 100, dtype=np.float32)
    raw = bytearray(_pipe_wav(y, 8000, "PCM_16", None))
    for i, v in flips:
        raw[i] = v
    raw = bytes(raw[: len(raw) - cut])
    mp = pytest.MonkeyPatch()
    mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)
            got, sr = load("-")
    except AudioError as exc:
        assert str(exc).startswith("<stdin>: ")  # one message, naming the input
    else:
        assert got.dtype == np.float32 and got.ndim == 1 and sr > 0
    finally:
        mp.undo()


@pytest.mark.parametrize("enc,subtype", [("s16le", "PCM_16"), ("s24le", "PCM_24"),
                                         ("f32le", "FLOAT"), ("u8", "PCM_U8")])
def test_stdin_raw_pcm(enc: str, subtype: str, rng, monkeypatch) -> None:
    from audioscene.audio import RawFormat, read_stdin_as

    y = (0.5 * rng.standard_normal((3001, 2))).clip(-1, 1).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, y, 8000, subtype=subtype, format="RAW")
    ref, _ = sf.read(io.BytesIO(buf.getvalue()), samplerate=8000, channels=2,
                     subtype=subtype, format="RAW", dtype="float32", always_2d=True)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buf.getvalue())))
    read_stdin_as(RawFormat.parse(f"{enc}:8000:2"))
    try:
        got, sr = load("-", mono=False)
    finally:
        read_stdin_as(None)
    assert sr == 8000
    np.testing.assert_array_equal(got, ref)
    with pytest.raises(ValueError, match="choose from"):
        RawFormat.parse("s17le:8000")
