"""The one feature configuration shared by every model, recipe and stream."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = ["FeatureConfig", "KINDS", "PCEN_SCALE"]

#: Feature kinds: dB power spectrum, dB mel spectrum, MFCC (from the dB mel spectrum),
#: per-channel energy normalised (PCEN) mel spectrum.
KINDS = ("stft", "logmel", "mfcc", "pcen")

#: PCEN's input is the mel spectrum of the samples times this (the int32 range), that is
#: the mel spectrum times ``PCEN_SCALE ** power``: librosa's documentation scales float
#: audio this way before librosa.pcen, whose default parameters assume that scale.
PCEN_SCALE = float(2 ** 31)

_PCEN_FIELDS = ("pcen_time_constant", "pcen_gain", "pcen_bias", "pcen_power", "pcen_eps")


@dataclass(frozen=True)
class FeatureConfig:
    """Frozen, JSON-serialisable description of a frame-level feature.

    Framing is always ``center=False``: frame ``i`` covers samples
    ``[i * hop_length, i * hop_length + n_fft)``, so a stream and a whole file give the
    same frames. Levels are ``10 * log10(max(S, amin) / ref)`` with a *fixed* ``ref``:
    there is no per-file or per-block normalisation in these kinds. ``kind="pcen"`` is
    the one adaptive kind: per-channel energy normalisation (Wang et al., 2017), whose
    smoother runs forward in time from the first frame of a signal or stream, so a
    static frame depends on the frames before it (never on those after it; deltas look
    ahead as for every kind).

    Parameters
    ----------
    sr : int
        Sample rate the features are computed at (inputs are resampled to it).
    n_fft : int
        FFT size and frame length in samples.
    win_length : int or None
        Window length (``None``: ``n_fft``); zero-padded to ``n_fft`` as in librosa.
    hop_length : int
        Samples between frame starts.
    window : str
        Window name understood by ``scipy.signal.get_window``.
    kind : {"stft", "logmel", "mfcc", "pcen"}
        dB power spectrum, dB mel spectrum, MFCC computed from the dB mel spectrum, or
        PCEN of the mel spectrum ``E`` (magnitude to the ``power``) of the samples
        scaled by :data:`PCEN_SCALE`, ``x = E * PCEN_SCALE ** power``, with
        librosa.pcen's formulas; its smoother ``M`` starts at the first frame's value
        (``M[-1] = x[0]``: steady state, where librosa's default state assumes an input
        of 1).
    n_mels : int
        Mel bands (``logmel``, ``mfcc`` and ``pcen``).
    fmin, fmax : float
        Mel filterbank range; ``fmax=None`` means ``sr / 2``.
    htk : bool
        HTK mel formula instead of Slaney's.
    power : float
        Exponent of the magnitude spectrum (2: power).
    n_mfcc : int
        Cepstral coefficients computed (``mfcc``).
    c0 : bool
        Keep the 0th cepstral coefficient (energy); ``False`` drops it, leaving
        ``n_mfcc - 1`` coefficients.
    deltas : int
        0: static features only; 1: append first derivatives; 2: also second.
    delta_width : int
        Odd window of the Savitzky-Golay derivative (librosa ``delta``, ``mode="interp"``).
    amin : float
        Floor added before the logarithm (the fixed "log offset"; not used by ``pcen``).
    ref : float
        Fixed reference power for 0 dB (not used by ``pcen``).
    pcen_time_constant : float
        Seconds of the smoother (librosa's ``time_constant``; its coefficient ``b``
        follows from it, the hop and the rate as in librosa.pcen).
    pcen_gain, pcen_bias, pcen_power, pcen_eps : float
        librosa.pcen's ``gain`` (alpha), ``bias`` (delta), ``power`` (r) and ``eps``.
        Kinds other than ``pcen`` ignore the five ``pcen_*`` fields and reset them to
        their defaults, so two configurations that compute the same features compare
        equal; :meth:`to_dict` leaves them out for those kinds.

    Examples
    --------
    >>> from audioscene.features import FeatureConfig
    >>> cfg = FeatureConfig(kind="mfcc", n_mfcc=20, deltas=2)
    >>> cfg.n_features
    60
    >>> FeatureConfig.from_json(cfg.to_json()) == cfg
    True
    >>> FeatureConfig(kind="pcen", n_mels=64).n_features
    64
    """

    sr: int = 44100
    n_fft: int = 2048
    win_length: int | None = None
    hop_length: int = 1024
    window: str = "hann"
    kind: str = "logmel"
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float | None = None
    htk: bool = False
    power: float = 2.0
    n_mfcc: int = 20
    c0: bool = True
    deltas: int = 0
    delta_width: int = 9
    amin: float = 1e-10
    ref: float = 1.0
    pcen_time_constant: float = 0.4
    pcen_gain: float = 0.98
    pcen_bias: float = 2.0
    pcen_power: float = 0.5
    pcen_eps: float = 1e-6

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(f"FeatureConfig: {msg}")

        if self.kind not in KINDS:
            bad(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("sr", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                bad(f"{name} must be a positive integer, got {v!r}")
        if self.win_length is not None and not 0 < self.win_length <= self.n_fft:
            bad(f"win_length must be in (0, n_fft], got {self.win_length}")
        if self.deltas not in (0, 1, 2):
            bad(f"deltas must be 0, 1 or 2, got {self.deltas!r}")
        if self.delta_width < 3 or self.delta_width % 2 == 0:
            bad(f"delta_width must be an odd integer >= 3, got {self.delta_width}")
        for name in ("fmin", "power", "amin", "ref", *_PCEN_FIELDS):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                bad(f"{name} must be a number, got {v!r}")
        if self.fmax is not None and (not isinstance(self.fmax, (int, float))
                                      or isinstance(self.fmax, bool)):
            bad(f"fmax must be a number or None, got {self.fmax!r}")
        nyq = self.sr / 2
        fmax = nyq if self.fmax is None else self.fmax
        if not 0 <= self.fmin < fmax <= nyq + 1e-9:
            bad(f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={fmax}, sr={self.sr}")
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            bad(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")
        if self.kind == "mfcc" and not self.c0 and self.n_mfcc < 2:
            bad("c0=False needs n_mfcc >= 2")
        if self.amin <= 0 or self.ref <= 0 or self.power <= 0:
            bad("amin, ref and power must be positive")
        for name in _PCEN_FIELDS:
            if not math.isfinite(getattr(self, name)):
                bad(f"{name} must be finite, got {getattr(self, name)!r}")
        if self.pcen_time_constant <= 0 or self.pcen_eps <= 0:
            bad("pcen_time_constant and pcen_eps must be positive")
        if self.pcen_gain < 0 or self.pcen_bias < 0 or self.pcen_power < 0:
            bad("pcen_gain, pcen_bias and pcen_power must not be negative")
        if self.kind != "pcen":
            for f in fields(self):
                if f.name in _PCEN_FIELDS:
                    object.__setattr__(self, f.name, f.default)

    # ------------------------------------------------------------------ derived sizes
    @property
    def n_static(self) -> int:
        """Features per frame before deltas."""
        if self.kind == "stft":
            return self.n_fft // 2 + 1
        if self.kind in ("logmel", "pcen"):
            return self.n_mels
        return self.n_mfcc - (0 if self.c0 else 1)

    @property
    def n_features(self) -> int:
        """Features per frame, deltas included."""
        return self.n_static * (1 + self.deltas)

    @property
    def frame_seconds(self) -> float:
        """Frame length in seconds."""
        return self.n_fft / self.sr

    @property
    def hop_seconds(self) -> float:
        """Hop in seconds."""
        return self.hop_length / self.sr

    @property
    def pcen_b(self) -> float:
        """The smoother's coefficient for ``pcen``.

        librosa.pcen's ``b = (sqrt(1 + 4 T^2) - 1) / (2 T^2)``, with ``T`` the time
        constant in frames, computed in the equal form ``2 / (1 + sqrt(1 + 4 T^2))``,
        which keeps its precision for small ``T``.
        """
        t = self.pcen_time_constant * self.sr / float(self.hop_length)
        return 2.0 / (1.0 + math.hypot(1.0, 2.0 * t))

    def n_frames(self, n_samples: int) -> int:
        """Frames in a signal of ``n_samples`` samples (``center=False``)."""
        return 0 if n_samples < self.n_fft else 1 + (n_samples - self.n_fft) // self.hop_length

    def frame_times(self, n_frames: int, first: int = 0) -> Any:
        """Centre times in seconds of frames ``first .. first + n_frames - 1``."""
        import numpy as np

        idx = np.arange(first, first + n_frames, dtype=np.float64)
        return (idx * self.hop_length + self.n_fft / 2) / self.sr

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (the ``pcen_*`` fields only for ``kind="pcen"``)."""
        d = asdict(self)
        if self.kind != "pcen":
            for name in _PCEN_FIELDS:
                del d[name]
        return d

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Build from a dict; unknown keys are an error (they are usually typos)."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"FeatureConfig: unknown field(s) {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> FeatureConfig:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> FeatureConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)
