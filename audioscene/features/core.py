"""Frame-level features: one function for whole signals, one object for streams.

librosa supplies the constants of the analysis (the window, ``librosa.filters.get_window``,
and the mel filterbank, ``librosa.filters.mel``) and the deltas (``librosa.feature.delta``);
the STFT is ``librosa.stft``'s arithmetic with ``center=False`` (frames times the window,
``numpy.fft.rfft``, complex64), written here on the same numpy calls so that a detector
whose model file carries its constants (:class:`FeatureConstants`) computes features
without importing librosa and scipy.signal (about 110 MB of a detection process); a test
checks equality with ``librosa.stft``. The mel product runs in fixed chunks aligned on
absolute frame indices, so that :class:`FeatureStream` fed a signal in blocks of any size
gives the same frames bit for bit; :func:`extract` is that stream fed the whole signal in
one block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft
import soxr

from ..audio import AudioError, load, to_mono
from .config import PCEN_SCALE, FeatureConfig

__all__ = ["extract", "extract_file", "FeatureStream", "FeatureConstants", "stft",
           "check_frames", "check_length", "is_clip_list", "pcen"]

# frames per STFT call; bounds the working memory of `extract` and keeps it in cache
_CHUNK_FRAMES = 128


@lru_cache(maxsize=32)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None,
               htk: bool) -> np.ndarray:
    import librosa

    m = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                            htk=htk, dtype=np.float32)
    m.setflags(write=False)
    return m


@lru_cache(maxsize=32)
def _window(window: str, win_length: int, n_fft: int) -> np.ndarray:
    # computed once per configuration (librosa.stft would rebuild it on every call) and
    # centred in n_fft samples, as librosa.stft pads it (librosa.util.pad_center)
    import librosa

    w = np.asarray(librosa.filters.get_window(window, win_length, fftbins=True),
                   dtype=np.float64)
    lpad = (n_fft - win_length) // 2
    w = np.pad(w, (lpad, n_fft - win_length - lpad))
    w.setflags(write=False)
    return w


@dataclass(frozen=True, eq=False)
class FeatureConstants:
    """The fixed arrays of a feature configuration: the analysis window, centred in
    ``n_fft`` samples (float64), and the mel filterbank (float32 ``(n_mels, n_fft // 2 +
    1)``, ``None`` for ``kind="stft"``).

    :meth:`compute` takes them from librosa. A model stores them in its file, so that the
    features it computes do not depend on the librosa version installed where it runs, and
    so that detection needs no librosa import.

    Examples
    --------
    >>> from audioscene.features import FeatureConfig
    >>> c = FeatureConstants.compute(FeatureConfig(n_fft=1024, win_length=882, n_mels=40))
    >>> c.window.shape, c.mel.shape
    ((1024,), (40, 513))
    """

    window: np.ndarray
    mel: np.ndarray | None

    @classmethod
    def compute(cls, config: FeatureConfig) -> FeatureConstants:
        """The constants of ``config``, from librosa (cached per configuration).

        Examples
        --------
        >>> from audioscene.features import FeatureConfig
        >>> FeatureConstants.compute(FeatureConfig(kind="stft")).mel is None
        True
        """
        cfg = config
        w = _window(cfg.window, cfg.win_length or cfg.n_fft, cfg.n_fft)
        mel = None if cfg.kind == "stft" else _mel_basis(
            cfg.sr, cfg.n_fft, cfg.n_mels, float(cfg.fmin), cfg.fmax, cfg.htk)
        return cls(w, mel)

    def check(self, config: FeatureConfig) -> FeatureConstants:
        """A copy with read-only float arrays, after checking that the shapes fit
        ``config`` and the values are finite (``ValueError`` otherwise).

        Examples
        --------
        >>> from audioscene.features import FeatureConfig
        >>> FeatureConstants(np.ones(8), None).check(FeatureConfig(n_fft=16, kind="stft"))
        Traceback (most recent call last):
        ...
        ValueError: feature constants: window of shape (8,), expected (16,)
        """
        n_bins = config.n_fft // 2 + 1
        w = np.array(self.window, dtype=np.float64)
        if w.shape != (config.n_fft,):
            raise ValueError(f"feature constants: window of shape {w.shape}, expected "
                             f"({config.n_fft},)")
        if not np.isfinite(w).all():
            raise ValueError("feature constants: the window holds NaN or infinity")
        mel = None
        if config.kind != "stft":
            if self.mel is None:
                raise ValueError("feature constants: no mel filterbank")
            mel = np.array(self.mel, dtype=np.float32)
            if mel.shape != (config.n_mels, n_bins):
                raise ValueError(f"feature constants: mel filterbank of shape {mel.shape}, "
                                 f"expected ({config.n_mels}, {n_bins})")
            if not np.isfinite(mel).all():
                raise ValueError("feature constants: the mel filterbank holds NaN or infinity")
            mel.setflags(write=False)
        w.setflags(write=False)
        return FeatureConstants(w, mel)


def stft(y: np.ndarray, n_fft: int, hop_length: int, window: np.ndarray) -> np.ndarray:
    """``librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window, center=False)``
    for a 1-D float32 signal and a window of ``n_fft`` samples, with the same numpy calls
    (so the same values, bit for bit), without importing librosa.

    Parameters
    ----------
    y : np.ndarray
        float32 samples, at least ``n_fft`` of them.
    n_fft, hop_length : int
        Frame length and hop in samples.
    window : np.ndarray
        The window, ``(n_fft,)``.

    Returns
    -------
    np.ndarray
        complex64 ``(n_fft // 2 + 1, frames)``.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    >>> stft(y, 1024, 512, np.hanning(1024)).shape
    (513, 7)
    """
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length].T
    out = np.zeros((n_fft // 2 + 1, frames.shape[1]), dtype=np.complex64, order="F")
    out[:] = np.fft.rfft(window[:, None] * frames, axis=-2)
    return out


def _static_chunk(y: np.ndarray, cfg: FeatureConfig, consts: FeatureConstants,
                  pos: int = 0) -> np.ndarray:
    """Static features ``(frames, n_static)`` of a signal holding whole frames only, the
    first of which sits at column ``pos`` of its canonical chunk (see :func:`_static`)."""
    S = stft(y, cfg.n_fft, cfg.hop_length, consts.window)
    if cfg.power == 2.0:
        P = np.square(S.real)
        P += np.square(S.imag)
    else:
        P = np.abs(S) ** cfg.power
    if cfg.kind != "stft":
        # always the same product: a C-ordered (bins, 128) buffer with the frames in the
        # columns of their absolute indices, so every frame meets the same BLAS call
        k = P.shape[1]
        full = np.zeros((P.shape[0], _CHUNK_FRAMES), dtype=P.dtype)
        full[:, pos : pos + k] = P
        P = (consts.mel @ full)[:, pos : pos + k]
    if cfg.kind == "pcen":
        return P.T  # the mel spectrum; the stream normalises it (see pcen)
    np.maximum(P, cfg.amin, out=P)
    np.log10(P, out=P)
    P *= 10.0
    if cfg.ref != 1.0:
        P -= 10.0 * np.log10(cfg.ref)
    if cfg.kind == "mfcc":
        P = scipy.fft.dct(P, axis=0, type=2, norm="ortho")[: cfg.n_mfcc]
        if not cfg.c0:
            P = P[1:]
    return P.T


def _static(y: np.ndarray, cfg: FeatureConfig, consts: FeatureConstants,
            first_frame: int = 0) -> np.ndarray:
    """Static features of whole frames; ``first_frame`` is the absolute index of the
    signal's first frame.

    Frames are computed in canonical chunks: absolute frames ``[c * C, (c + 1) * C)``
    with ``C = _CHUNK_FRAMES``. Each chunk's mel product is one ``(n_mels, n_fft // 2 + 1)
    @ (n_fft // 2 + 1, C)`` matrix product with every frame in the column of its absolute
    index (zero columns where frames are missing), so a frame's value does not depend on
    which other frames were computed with it. The FFT and the DCT transform each frame on
    its own.
    """
    n = cfg.n_frames(len(y))
    out = np.empty((n, cfg.n_static), dtype=np.float32)
    hop = cfg.hop_length
    start = 0
    while start < n:
        pos = (first_frame + start) % _CHUNK_FRAMES
        stop = min(n, start + _CHUNK_FRAMES - pos)
        seg = y[start * hop : (stop - 1) * hop + cfg.n_fft]
        out[start:stop] = _static_chunk(seg, cfg, consts, pos)
        start = stop
    return out


def pcen(E: np.ndarray, config: FeatureConfig, state: np.ndarray | None = None
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-channel energy normalisation of mel spectrum frames, continuing a stream.

    With ``x = E * PCEN_SCALE ** config.power`` (the mel spectrum of the samples scaled
    to the int32 range) and the smoother ``M[t] = b x[t] + (1 - b) M[t - 1]``
    (``b = config.pcen_b``), the output is librosa.pcen's: ``(x / (eps + M)^gain +
    bias)^power - bias^power``, in its numerically stable forms (``log1p`` and
    ``expm1``; ``power = 0`` gives ``log1p(x / (eps + M)^gain)``). ``state`` is the
    smoother's last value of the previous block (``None``: a new signal, ``M[-1] =
    x[0]``), so a signal cut into blocks gives the frames of the whole signal.

    Parameters
    ----------
    E : np.ndarray
        Mel spectrum ``(frames, n_mels)``: magnitudes to ``config.power``.
    config : FeatureConfig
        Supplies ``pcen_*``, ``power`` and the hop (through ``pcen_b``).
    state : np.ndarray or None
        float64 ``(n_mels,)``, the smoother after the previous frame.

    Returns
    -------
    features : np.ndarray
        float32 ``(frames, n_mels)``.
    state : np.ndarray or None
        The smoother after the last frame (``state`` itself when ``E`` has no frame).

    Examples
    --------
    >>> from audioscene.features import FeatureConfig
    >>> cfg = FeatureConfig(kind="pcen", n_mels=3)
    >>> E = np.random.default_rng(0).random((10, 3))
    >>> whole, _ = pcen(E, cfg)
    >>> a, s = pcen(E[:4], cfg)
    >>> b, _ = pcen(E[4:], cfg, s)
    >>> np.array_equal(whole, np.concatenate([a, b]))
    True
    """
    x = np.asarray(E, dtype=np.float64) * PCEN_SCALE ** config.power
    if len(x) == 0:
        return np.zeros(x.shape, dtype=np.float32), state
    b = config.pcen_b
    a = 1.0 - b
    m = x[0].copy() if state is None else np.array(state, dtype=np.float64)
    M = np.empty_like(x)
    for t in range(len(x)):
        m = b * x[t] + a * m
        M[t] = m
    gain, bias, power, eps = (config.pcen_gain, config.pcen_bias, config.pcen_power,
                              config.pcen_eps)
    smooth = np.exp(-gain * (np.log(eps) + np.log1p(M / eps)))
    if power == 0:
        out = np.log1p(x * smooth)
    elif bias == 0:
        with np.errstate(divide="ignore"):
            out = np.exp(power * (np.log(x) + np.log(smooth)))
    else:
        out = (bias ** power) * np.expm1(power * np.log1p(x * smooth / bias))
    return out.astype(np.float32), m


def _delta_width(width: int, n: int) -> int:
    """The derivative window for ``n`` frames: ``width`` or the largest odd width <= n."""
    w = min(width, n if n % 2 else n - 1)
    return w if w >= 3 else 0


def _with_deltas(static: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Append deltas (librosa, Savitzky-Golay, ``mode="interp"``) along the time axis."""
    if cfg.deltas == 0:
        return static
    import librosa

    parts = [static]
    w = _delta_width(cfg.delta_width, len(static))
    for order in range(1, cfg.deltas + 1):
        if w == 0:
            parts.append(np.zeros_like(static))
        else:
            parts.append(librosa.feature.delta(static, width=w, order=order, axis=0,
                                               mode="interp").astype(np.float32, copy=False))
    return np.concatenate(parts, axis=1)


def _as_signal(y: np.ndarray, name: str = "signal") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"{name}: expected samples of shape (n,) or (n, channels), got {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        if np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.float32) / float(np.iinfo(y.dtype).max)
        else:
            raise ValueError(f"{name}: samples must be numbers, got dtype {y.dtype}")
    y = to_mono(y.astype(np.float32, copy=False))
    if not np.isfinite(y).all():
        raise ValueError(f"{name}: non-finite sample (NaN or Inf) at sample "
                         f"{int(np.flatnonzero(~np.isfinite(y))[0])}")
    return y


def is_clip_list(X: Any) -> bool:
    """Whether ``X`` holds clips of any length (a 3-D array, or a list or tuple whose
    first item is not 1-D) rather than one 2-D array of one-frame clips (an array, or a
    list of rows of numbers), the reading of scikit-learn-style estimators on clips.

    Examples
    --------
    >>> is_clip_list([np.zeros((5, 2))]), is_clip_list(np.zeros((5, 2)))
    (True, False)
    """
    if isinstance(X, (list, tuple)):
        return not (len(X) and np.ndim(X[0]) == 1)
    return isinstance(X, np.ndarray) and X.ndim == 3


def check_length(source: str | os.PathLike, n_samples: int, config: FeatureConfig) -> None:
    """Refuse an input of ``n_samples`` samples (at ``config.sr``) that is shorter than one
    analysis frame (``config.n_fft`` samples), which gives no frames: raises
    :class:`~audioscene.audio.AudioError` naming ``source``.

    Examples
    --------
    >>> cfg = FeatureConfig(sr=16000, n_fft=512, hop_length=256)
    >>> check_length("a.wav", 512, cfg)
    >>> try:
    ...     check_length("b.wav", 100, cfg)
    ... except AudioError as exc:
    ...     print(exc)
    b.wav: shorter than one frame (100 samples at 16000 Hz < n_fft 512)
    """
    if n_samples < config.n_fft:
        raise AudioError(source, f"shorter than one frame ({n_samples} samples at "
                                 f"{config.sr} Hz < n_fft {config.n_fft})")


def check_frames(a: np.ndarray, name: str, n_features: int | None = None) -> np.ndarray:
    """One clip's features as float32 ``(frames x features)``, checked: two dimensions, at
    least one frame, ``n_features`` columns (when given), finite values; each failure is
    a ``ValueError`` naming the clip.

    Examples
    --------
    >>> check_frames(np.zeros((3, 2)), "X[0]").dtype
    dtype('float32')
    >>> check_frames(np.zeros((3, 2)), "X[0]", 4)
    Traceback (most recent call last):
    ...
    ValueError: X[0]: 2 features per frame, expected 4
    """
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a (frames x features) array, got shape {a.shape}")
    if a.shape[0] < 1:
        raise ValueError(f"{name}: no frames (the clip is shorter than one frame)")
    if n_features is not None and a.shape[1] != n_features:
        raise ValueError(f"{name}: {a.shape[1]} features per frame, expected {n_features}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: features contain NaN or infinity")
    return a


def extract(y: np.ndarray, config: FeatureConfig | None = None, *,
            sr: int | None = None, constants: FeatureConstants | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level features of a whole signal: a :class:`FeatureStream` fed ``y`` in one
    block, then flushed.

    Parameters
    ----------
    y : np.ndarray
        Samples ``(n,)`` or ``(n, channels)`` (channels are averaged). Integer samples
        are scaled to ``[-1, 1]``.
    config : FeatureConfig or None
        What to compute; ``None`` uses ``FeatureConfig()`` (40 log-mel bands, 44.1 kHz).
    sr : int or None
        Rate of ``y`` if it differs from ``config.sr`` (then ``y`` is resampled with soxr).
    constants : FeatureConstants or None
        The window and filterbank (``None``: :meth:`FeatureConstants.compute`).

    Returns
    -------
    features : np.ndarray
        float32 ``(frames, config.n_features)``; zero frames when ``y`` is shorter than
        one frame (``config.n_fft`` samples).
    times : np.ndarray
        float64 ``(frames,)``, the centre of each frame in seconds.

    Raises
    ------
    ValueError
        Wrong shape or type, or NaN/Inf samples.

    Examples
    --------
    >>> import numpy as np
    >>> from audioscene.features import FeatureConfig, extract
    >>> y = np.random.default_rng(0).standard_normal(44100).astype(np.float32)
    >>> X, t = extract(y, FeatureConfig(kind="logmel", n_mels=40))
    >>> X.shape
    (42, 40)
    """
    cfg = config or FeatureConfig()
    y = _as_signal(y)
    if sr is not None and sr != cfg.sr and len(y):
        y = soxr.resample(y, sr, cfg.sr, quality="HQ").astype(np.float32, copy=False)
    # the stream fed everything at once: offline and streaming are one implementation
    fs = FeatureStream(cfg, constants=constants)
    X = fs.process(y)[0]
    rest = fs.flush()[0]
    if len(rest):
        X = np.concatenate([X, rest])
    return X, cfg.frame_times(len(X))


def extract_file(path: str | os.PathLike, config: FeatureConfig | None = None, *,
                 constants: FeatureConstants | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load a file at ``config.sr`` (mono) and extract its features.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file, or ``"-"`` for standard input.
    config : FeatureConfig or None
        Feature configuration.
    constants : FeatureConstants or None
        As in :func:`extract`.

    Returns
    -------
    features, times : np.ndarray
        As :func:`extract`.

    Raises
    ------
    audioscene.audio.AudioError
        Unreadable file (the message names it).

    Examples
    --------
    >>> from audioscene.features import extract_file
    >>> X, t = extract_file("clip.wav")  # doctest: +SKIP
    """
    cfg = config or FeatureConfig()
    y, _ = load(path, sr=cfg.sr, mono=True)
    return extract(y, cfg, constants=constants)


class FeatureStream:
    """Features of a stream fed in blocks of any size; equal to :func:`extract`.

    ``process(block)`` takes the next contiguous samples (at ``config.sr``) and returns
    the frames that are complete; ``flush()`` ends the stream and returns the rest (only
    deltas hold frames back: ``delta_width // 2`` frames of look-ahead); ``reset()``
    starts a new stream. The concatenated outputs equal ``extract`` on the whole signal.
    State is a few frames of samples and features (and PCEN's smoother, one value per
    band): memory does not grow with the stream.

    Parameters
    ----------
    config : FeatureConfig or None
        Feature configuration.
    constants : FeatureConstants or None
        The window and filterbank (``None``: :meth:`FeatureConstants.compute`, which
        imports librosa); checked against ``config``.

    Examples
    --------
    >>> import numpy as np
    >>> from audioscene.features import FeatureConfig, FeatureStream, extract
    >>> cfg = FeatureConfig(kind="mfcc", deltas=1)
    >>> y = np.random.default_rng(0).standard_normal(3 * 44100).astype(np.float32)
    >>> fs = FeatureStream(cfg)
    >>> parts = [fs.process(y[i:i + 5000])[0] for i in range(0, len(y), 5000)]
    >>> X = np.concatenate(parts + [fs.flush()[0]])
    >>> np.array_equal(X, extract(y, cfg)[0])
    True
    """

    def __init__(self, config: FeatureConfig | None = None, *,
                 constants: FeatureConstants | None = None) -> None:
        self.config = config or FeatureConfig()
        self.constants = (FeatureConstants.compute(self.config) if constants is None
                          else constants.check(self.config))
        self.reset()

    def reset(self) -> None:
        """Forget the stream; the next block starts at time 0."""
        cfg = self.config
        self._samples = np.zeros(0, dtype=np.float32)
        self._n_static = 0  # static frames computed so far
        self._n_out = 0  # frames returned so far
        self._hist = np.zeros((0, cfg.n_static), dtype=np.float32)  # static frames kept
        self._hist_start = 0  # global index of _hist[0]
        self._pcen_state = None  # PCEN's smoother after the last frame
        self._ended = False

    @property
    def frames_emitted(self) -> int:
        """Number of frames returned since the last reset."""
        return self._n_out

    @property
    def latency_frames(self) -> int:
        """Frames held back for look-ahead (deltas only)."""
        return self.config.delta_width // 2 if self.config.deltas else 0

    def _empty(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.zeros((0, self.config.n_features), dtype=np.float32),
                np.zeros(0, dtype=np.float64))

    def process(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed the next samples; return the frames completed by them.

        Parameters
        ----------
        block : np.ndarray
            Next samples, ``(n,)`` or ``(n, channels)``, at ``config.sr``; any length.

        Returns
        -------
        features : np.ndarray
            float32 ``(k, n_features)`` for the frames now final (``k`` may be 0).
        times : np.ndarray
            Frame centre times in seconds, from the start of the stream.

        Examples
        --------
        >>> import numpy as np
        >>> fs = FeatureStream()
        >>> fs.process(np.zeros(4096, dtype=np.float32))[0].shape
        (3, 40)
        """
        if self._ended:
            raise RuntimeError("FeatureStream: process() after flush(); call reset() first")
        cfg = self.config
        y = _as_signal(block, "block")
        buf = np.concatenate([self._samples, y]) if len(self._samples) else y
        n = cfg.n_frames(len(buf))
        if n == 0:
            self._samples = buf
            return self._empty()
        static = _static(buf[: (n - 1) * cfg.hop_length + cfg.n_fft], cfg, self.constants,
                         self._n_static)
        if cfg.kind == "pcen":
            static, self._pcen_state = pcen(static, cfg, self._pcen_state)
        self._samples = np.array(buf[n * cfg.hop_length :])
        self._n_static += n
        if cfg.deltas == 0:
            return self._emit(static)
        self._hist = np.concatenate([self._hist, static]) if len(self._hist) else static
        half = cfg.delta_width // 2
        if self._n_static < cfg.delta_width:
            return self._empty()
        return self._emit_deltas(self._n_static - half)

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        """End the stream: return the frames held back for look-ahead.

        Returns
        -------
        features, times : np.ndarray
            As :meth:`process`. Samples after the last whole frame are discarded, as
            :func:`extract` does.

        Examples
        --------
        >>> fs = FeatureStream()
        >>> fs.flush()[0].shape
        (0, 40)
        """
        self._ended = True
        if self.config.deltas == 0 or self._n_out >= self._n_static:
            return self._empty()
        return self._emit_deltas(self._n_static)

    def _emit(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.config.frame_times(len(X), self._n_out)
        self._n_out += len(X)
        return X, t

    def _emit_deltas(self, upto: int) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        if upto <= self._n_out:
            return self._empty()
        full = _with_deltas(self._hist, cfg)
        X = full[self._n_out - self._hist_start : upto - self._hist_start]
        # keep enough history for the next outputs' windows and the end-edge fit
        keep_from = max(self._hist_start, upto - (cfg.delta_width - 1))
        self._hist = self._hist[keep_from - self._hist_start :]
        self._hist_start = keep_from
        return self._emit(np.ascontiguousarray(X))
