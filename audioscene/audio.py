"""Audio input: load whole files, or read them block by block in bounded memory.

Everything here returns float32 samples in ``[-1, 1]`` (for integer formats) with shape
``(n,)`` when ``mono=True`` and ``(n, channels)`` otherwise. Files are read with
soundfile (WAV, FLAC, Ogg/Vorbis, AIFF, ... anything libsndfile reads); resampling uses
soxr, whose streaming resampler gives exactly the same samples as a one-shot call, so
block-wise reading and whole-file loading agree sample for sample.

The path ``"-"`` reads a WAV, FLAC or Ogg stream from standard input. Plain PCM and
float WAV is parsed here: a data size of 0 or 0xFFFFFFFF, which pipe writers put in the
header (``ffmpeg -f wav -``, ``sox -t wav -``, ``arecord``), is read to the end of the
stream, a stated size is honoured (other WAV encodings go to libsndfile); FLAC is
decoded as it arrives; Ogg is read to its end first (libsndfile's Ogg decoder seeks from
the end of the stream), so it is not decoded before the stream closes.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

__all__ = ["AudioError", "AudioWarning", "AudioInfo", "Block", "info", "load", "blocks",
           "to_mono", "STDIN", "RawFormat", "RAW_SUBTYPES", "read_stdin_as",
           "one_line_warnings"]

#: The path that means "read from standard input".
STDIN = "-"

PathLike = str | os.PathLike


class AudioError(ValueError):
    """An audio input could not be read or is unusable; the message names the input."""

    def __init__(self, source: PathLike | None, reason: str) -> None:
        self.source = "<stdin>" if str(source) == STDIN else str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # rebuilt from both fields when it crosses a process boundary (pickle)
        return type(self), (self.source, self.reason)


class AudioWarning(UserWarning):
    """Audio that was read, but not all of it: a truncated file or stream (the message
    names the input and the missing length)."""


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header without decoding it."""

    path: str
    sr: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sr


@dataclass(frozen=True)
class Block:
    """One block of a stream.

    Attributes
    ----------
    samples : np.ndarray
        float32 samples, ``(n,)`` (mono) or ``(n, channels)``.
    offset : int
        Absolute index (at the output rate) of the first sample in the stream.
    frame_offset : int
        Index of the first analysis frame that starts in this block (0 when the block
        reader was not asked for frame-aligned blocks).
    last : bool
        True for the final block of the stream.
    """

    samples: np.ndarray
    offset: int
    frame_offset: int = 0
    last: bool = False


# --------------------------------------------------------------------------- helpers


class _StdinReader:
    """A forward-only binary stream that libsndfile can open.

    libsndfile asks for the file length and seeks back a few kilobytes while it parses
    FLAC and Ogg; a pipe cannot do either. This keeps a window of the last bytes read so
    that short backward seeks succeed, and reports the RIFF size for WAV (or a very large
    length for formats whose decoder never looks at it).
    """

    _UNKNOWN_LENGTH = 1 << 50

    def __init__(self, raw: BinaryIO, keep: int = 1 << 20) -> None:
        self.raw = raw
        self.keep = keep
        self.buf = bytearray()
        self.buf_start = 0
        self.pos = 0
        self.eof = False
        head = self._peek(12)
        self.length = self._UNKNOWN_LENGTH
        if len(head) < 4:
            raise AudioError(STDIN, "empty input stream")
        if head[:4] == b"RIFF" and len(head) >= 8:
            riff = int.from_bytes(head[4:8], "little")
            if 0 < riff < 0xFFFFFFF0:
                self.length = riff + 8

    def _peek(self, n: int) -> bytes:
        self._fill(n)
        return bytes(self.buf[:n])

    def _fill(self, upto: int) -> None:
        while self.buf_start + len(self.buf) < upto and not self.eof:
            chunk = self.raw.read(max(65536, upto - self.buf_start - len(self.buf)))
            if not chunk:
                self.eof = True
                break
            self.buf += chunk
        # forget bytes far behind the read position (keeps memory bounded)
        behind = self.pos - self.buf_start
        if behind > 2 * self.keep:
            drop = behind - self.keep
            del self.buf[:drop]
            self.buf_start += drop

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == io.SEEK_SET:
            self.pos = offset
        elif whence == io.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = self.length + offset
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 30
        self._fill(self.pos + n)
        i = self.pos - self.buf_start
        if i < 0:
            raise OSError("cannot seek that far back in a stream")
        out = bytes(self.buf[i : i + n])
        self.pos += len(out)
        return out


class _NotPlainPcm(AudioError):
    """A WAV stream whose samples are not plain PCM or float (µ-law, ADPCM, ...)."""


#: Raw PCM encodings accepted on standard input, and the sample format of each.
RAW_SUBTYPES = {"u8": "PCM_U8", "s16le": "PCM_16", "s24le": "PCM_24", "s32le": "PCM_32",
                "f32le": "FLOAT", "f64le": "DOUBLE"}


@dataclass(frozen=True)
class RawFormat:
    """The format of headerless PCM on standard input (``audioscene ... --raw``).

    Examples
    --------
    >>> RawFormat.parse("s16le:16000:2")
    RawFormat(encoding='s16le', sr=16000, channels=2)
    """

    encoding: str
    sr: int
    channels: int = 1

    def __post_init__(self) -> None:
        if self.encoding not in RAW_SUBTYPES:
            raise ValueError(f"raw encoding {self.encoding!r}: choose from "
                             f"{', '.join(RAW_SUBTYPES)}")
        if int(self.sr) < 1 or int(self.channels) < 1:
            raise ValueError(f"raw format needs a positive rate and channel count, got "
                             f"{self.sr} Hz, {self.channels} channel(s)")

    @classmethod
    def parse(cls, text: str) -> RawFormat:
        """``ENCODING:RATE[:CHANNELS]``, e.g. ``s16le:16000`` or ``f32le:48000:2``."""
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"raw format {text!r}: expected ENCODING:RATE[:CHANNELS]")
        try:
            nums = [int(x) for x in parts[1:]]
        except ValueError:
            raise ValueError(f"raw format {text!r}: rate and channels must be integers") \
                from None
        return cls(parts[0], *nums)


_stdin_raw: RawFormat | None = None


def read_stdin_as(fmt: RawFormat | None) -> None:
    """Declare what standard input holds: headerless PCM in ``fmt``, or (``None``, the
    default) a WAV, FLAC or Ogg stream recognised by its header. Standard input is one
    per process, and so is this setting.

    Examples
    --------
    >>> read_stdin_as(RawFormat("s16le", 16000))
    >>> read_stdin_as(None)
    """
    global _stdin_raw
    _stdin_raw = fmt


def _wav_header(read: Callable[[int, str], bytes], source: PathLike
                ) -> tuple[bytes, bytes | None, int]:
    """Parse a RIFF/RF64 WAVE header up to its data chunk with ``read(n, what)`` (which
    returns exactly ``n`` bytes or raises); returns the magic, the format chunk's body
    (None when there was none) and the data chunk's stated size."""
    head = read(12, "header")
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise AudioError(source, "not a RIFF/WAVE stream")
    fmt = None
    while True:
        ck = read(8, "chunk header")
        cid, size = ck[:4], int.from_bytes(ck[4:8], "little")
        if cid == b"data":
            return head[:4], fmt, size
        if size == 0xFFFFFFFF:
            raise AudioError(source, f"WAV chunk {cid!r} has no stated size")
        body = read(size + (size & 1), f"{cid.decode('latin-1')} chunk")
        if cid == b"fmt ":
            fmt = body


class _WavPipe:
    """A WAV stream read to its end: the header is parsed here and the samples are
    converted as libsndfile converts them (integers scaled by ``2 ** -(bits - 1)``,
    8-bit offset by 128).

    Writers to a pipe (``ffmpeg -f wav -``, ``sox -t wav -``, ``arecord``) cannot know
    the length and put 0 or 0xFFFFFFFF in the RIFF and data sizes; such a data chunk is
    read until the stream ends. A data size that is stated is honoured, and a stream
    that ends before it is reported as truncated (a warning naming the missing length).
    """

    _SUBTYPES = {(1, 8): "PCM_U8", (1, 16): "PCM_16", (1, 24): "PCM_24", (1, 32): "PCM_32",
                 (3, 32): "FLOAT", (3, 64): "DOUBLE"}

    @classmethod
    def raw_pcm(cls, raw: BinaryIO, fmt: RawFormat) -> _WavPipe:
        """Headerless samples in ``fmt``, read to the end of the stream."""
        self = cls.__new__(cls)
        self.raw, self.format = raw, "RAW"
        self.subtype = RAW_SUBTYPES[fmt.encoding]
        self.samplerate, self.channels = int(fmt.sr), int(fmt.channels)
        self.width = {"PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4,
                      "DOUBLE": 8}[self.subtype]
        self.frame_bytes = self.width * self.channels
        self.left, self.frames, self.done, self._tail = None, -1, 0, b""
        return self

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.format = "WAV"
        magic, fmt, size = _wav_header(self._exact, STDIN)
        if fmt is None or len(fmt) < 16:
            raise AudioError(STDIN, "WAV stream has no format chunk before its data")
        tag = int.from_bytes(fmt[0:2], "little")
        self.channels = int.from_bytes(fmt[2:4], "little")
        self.samplerate = int.from_bytes(fmt[4:8], "little")
        bits = int.from_bytes(fmt[14:16], "little")
        if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format
            tag = int.from_bytes(fmt[24:26], "little")
        self.subtype = self._SUBTYPES.get((tag, bits))
        if self.subtype is None:
            raise _NotPlainPcm(STDIN, f"WAV sample format tag {tag}, {bits} bits")
        if self.channels < 1 or self.samplerate < 1:
            raise AudioError(STDIN, f"WAV stream declares {self.channels} channels at "
                                    f"{self.samplerate} Hz")
        self.width = bits // 8
        self.frame_bytes = self.width * self.channels
        self.left = None if size in (0, 0xFFFFFFFF) or magic == b"RF64" else size
        self.frames = -1 if self.left is None else self.left // self.frame_bytes
        self.done = 0  # frames delivered
        self._tail = b""

    def _exact(self, n: int, what: str) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.raw.read(n - len(out))
            if not chunk:
                raise AudioError(STDIN, f"WAV stream ends inside its {what}")
            out += chunk
        return out

    def __enter__(self) -> _WavPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def seekable(self) -> bool:
        return False

    def read(self, frames: int = -1, dtype: str = "float32",
             always_2d: bool = True) -> np.ndarray:
        """Up to ``frames`` frames (all that is left for -1), float32 ``(n, channels)``."""
        want = (1 << 62) if frames is None or frames < 0 else int(frames)
        nbytes = want * self.frame_bytes - len(self._tail)
        if self.left is not None:
            nbytes = min(nbytes, self.left - len(self._tail))
        parts, got = [self._tail], len(self._tail)
        while got < nbytes + len(self._tail):
            chunk = self.raw.read(min(nbytes + len(self._tail) - got, 1 << 20))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        data = b"".join(parts)
        usable = len(data) - len(data) % self.frame_bytes
        self._tail = data[usable:]
        data = data[:usable]
        if self.left is not None:
            self.left -= usable
        n = usable // self.frame_bytes
        self.done += n
        if n < want and self.left is not None and self.left >= self.frame_bytes:
            # the stream ended before the stated data size (by whole frames)
            _warn_truncated(STDIN, self.done + self.left // self.frame_bytes, self.done,
                            self.samplerate)
            self.left = 0
        return self._decode(data, n)

    def _decode(self, data: bytes, n: int) -> np.ndarray:
        c = self.channels
        if self.subtype == "PCM_U8":
            y = (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
        elif self.subtype == "PCM_16":
            y = np.frombuffer(data, "<i2").astype(np.float32) / np.float32(1 << 15)
        elif self.subtype == "PCM_24":
            b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.uint32)
            v = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).view(np.int32)
            y = v.astype(np.float32) / np.float32(1 << 31)
        elif self.subtype == "PCM_32":
            y = (np.frombuffer(data, "<i4").astype(np.float64) / float(1 << 31)).astype(
                np.float32)
        elif self.subtype == "FLOAT":
            y = np.frombuffer(data, "<f4").astype(np.float32)
        else:
            y = np.frombuffer(data, "<f8").astype(np.float32)
        return y.reshape(n, c)


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within the block, an :class:`AudioWarning` prints as one line on standard error
    (``audioscene: warning: <message>``); other warnings as usual.

    Examples
    --------
    >>> with one_line_warnings():
    ...     pass
    """
    import warnings

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001, ANN202
        if issubclass(category, AudioWarning):
            print(f"audioscene: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = default


def _tell(f: sf.SoundFile | _WavPipe) -> int | None:
    """Frames decoded so far (None where the reader cannot tell)."""
    if isinstance(f, _WavPipe):
        return f.done
    try:
        return int(f.tell())
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "error_string", "") or exc).strip()


def _warn_truncated(path: PathLike, stated: int, present: int, sr: int) -> None:
    import warnings

    name = "<stdin>" if str(path) == STDIN else str(path)
    warnings.warn(f"{name}: truncated: its header states {stated / sr:.3f} s, "
                  f"{present / sr:.3f} s are present ({(stated - present) / sr:.3f} s missing)",
                  AudioWarning, stacklevel=3)


def _wav_stated_frames(path: PathLike) -> int | None:
    """Frames a WAV file's header states (its data size), or None (not a RIFF/WAVE file,
    or a size of 0 / 0xFFFFFFFF that states nothing)."""
    try:
        with open(path, "rb") as fh:
            def read(n: int, what: str) -> bytes:
                out = fh.read(n)
                if len(out) < n:
                    raise AudioError(path, f"ends inside its {what}")
                return out

            magic, fmt, size = _wav_header(read, path)
    except (OSError, AudioError):
        return None
    block = int.from_bytes(fmt[12:14], "little") if fmt is not None and len(fmt) >= 16 else 0
    if magic != b"RIFF" or size in (0, 0xFFFFFFFF) or not block:
        return None
    return size // block


def _check_complete(f: sf.SoundFile | _WavPipe, path: PathLike, present: int) -> None:
    """Warn when a WAV file holds fewer frames than its header states."""
    if str(path) == STDIN or isinstance(f, _WavPipe) or not str(f.format).startswith("WAV"):
        return
    stated = _wav_stated_frames(path)
    if stated is not None and stated > present:
        _warn_truncated(path, stated, present, int(f.samplerate))


def _open(path: PathLike) -> sf.SoundFile | _WavPipe:
    """Open ``path`` (or standard input for ``"-"``) with soundfile, with clear errors."""
    if str(path) == STDIN:
        stream = _StdinReader(sys.stdin.buffer)
        if _stdin_raw is not None:
            return _WavPipe.raw_pcm(stream, _stdin_raw)
        head = stream._peek(12)
        if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
            try:
                return _WavPipe(stream)
            except _NotPlainPcm:
                stream.seek(0)  # the header is still in the look-back window
                try:
                    return sf.SoundFile(stream)
                except sf.LibsndfileError as exc:
                    raise AudioError(STDIN, "not a readable audio stream "
                                            f"({exc.error_string})") from None
        if head[:4] == b"OggS":
            # libsndfile's Ogg decoder seeks from the end of the stream: give it the
            # whole (compressed) stream as a real file-like object
            data = stream.read(-1)
            while True:
                more = stream.read(-1)
                if not more:
                    break
                data += more
            try:
                return sf.SoundFile(io.BytesIO(data))
            except sf.LibsndfileError as exc:
                raise AudioError(STDIN, f"not a readable Ogg stream ({exc.error_string})") from None
        try:
            return sf.SoundFile(stream)
        except sf.LibsndfileError as exc:
            raise AudioError(STDIN, f"not a readable audio stream ({exc.error_string})") from None
    p = Path(path)
    if not p.exists():
        raise AudioError(path, "no such file")
    if p.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if p.stat().st_size == 0:
        raise AudioError(path, "empty file")
    try:
        return sf.SoundFile(str(p))
    except sf.LibsndfileError as exc:
        raise AudioError(path, f"not a readable audio file ({exc.error_string})") from None
    except (RuntimeError, TypeError) as exc:  # pragma: no cover - exotic libsndfile failures
        raise AudioError(path, f"not a readable audio file ({exc})") from None


def to_mono(y: np.ndarray) -> np.ndarray:
    """Average the channels of ``(n, channels)`` samples into ``(n,)``.

    Parameters
    ----------
    y : np.ndarray
        Samples, ``(n,)`` or ``(n, channels)``.

    Returns
    -------
    np.ndarray
        float32 ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> to_mono(np.ones((4, 2), dtype=np.float32)).shape
    (4,)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return y
    if y.shape[1] == 1:
        return np.ascontiguousarray(y[:, 0])
    return y.mean(axis=1, dtype=np.float32)


def _check_finite(y: np.ndarray, path: PathLike, offset: int = 0) -> None:
    if not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))[0]) + offset
        raise AudioError(path, f"non-finite sample (NaN or Inf) at sample {bad}")


def _check_sr(sr: int | None) -> None:
    if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise ValueError(f"sr must be a positive integer or None, got {sr!r}")


# --------------------------------------------------------------------------- public API


def info(path: PathLike) -> AudioInfo:
    """Read a file's sample rate, channel count and length from its header.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioError
        If the file is missing, empty or not audio.

    Examples
    --------
    >>> from audioscene.audio import info
    >>> info("mixture.flac").duration  # doctest: +SKIP
    120.0
    """
    with _open(path) as f:
        return AudioInfo(str(path), int(f.samplerate), int(f.channels), int(f.frames),
                         str(f.format), str(f.subtype))


def load(path: PathLike, *, sr: int | None = None, mono: bool = True,
         offset: float = 0.0, duration: float | None = None) -> tuple[np.ndarray, int]:
    """Load an audio file as float32 samples.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file, or ``"-"`` for a WAV/FLAC/Ogg stream on standard input.
    sr : int or None
        Target sample rate; ``None`` keeps the file's rate. Resampling uses soxr (HQ).
    mono : bool
        Average all channels into one.
    offset, duration : float
        Read only ``duration`` seconds starting ``offset`` seconds into the file.

    Returns
    -------
    y : np.ndarray
        float32, ``(n,)`` when ``mono`` else ``(n, channels)``.
    sr : int
        Sample rate of ``y``.

    Raises
    ------
    AudioError
        Missing, empty, undecodable or non-audio input (the message names the file and
        the sample where decoding stopped), or NaN/Inf samples.

    Warns
    -----
    AudioWarning
        A WAV file or stream that ends before the length its header states: what is
        present is returned, and the message names the file and the missing length.

    Examples
    --------
    >>> from audioscene.audio import load
    >>> y, sr = load("clip.ogg", sr=22050)  # doctest: +SKIP
    >>> y.dtype, sr  # doctest: +SKIP
    (dtype('float32'), 22050)
    """
    _check_sr(sr)
    with _open(path) as f:
        native = int(f.samplerate)
        try:
            if offset and f.seekable():
                f.seek(int(round(offset * native)))
            elif offset:
                f.read(int(round(offset * native)), dtype="float32", always_2d=True)
            n = -1 if duration is None else int(round(duration * native))
            y = f.read(n, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            at = _tell(f)
            where = "" if at is None else f" after sample {at}"
            raise AudioError(path, f"truncated or corrupt audio{where} "
                                   f"({_reason(exc)})") from None
        if not offset and duration is None:
            _check_complete(f, path, len(y))
    _check_finite(y, path)
    if mono:
        y = to_mono(y)
    if sr is not None and sr != native and len(y):
        y = soxr.resample(y, native, sr, quality="HQ").astype(np.float32, copy=False)
    return np.ascontiguousarray(y), int(sr or native)


def blocks(path: PathLike, *, block_length: int = 65536, sr: int | None = None,
           mono: bool = True, frame_length: int | None = None,
           hop_length: int | None = None) -> Iterator[Block]:
    """Read a file (or standard input) block by block, never holding the whole file.

    Two modes:

    * **contiguous** (``frame_length=None``): blocks of ``block_length`` samples that
      follow each other without overlap; feed them to
      :class:`audioscene.features.FeatureStream`, which keeps the framing state.
    * **frame-aligned** (``frame_length`` and ``hop_length`` given): each block holds
      whole analysis frames, ``block_length`` is rounded down to a multiple of
      ``hop_length`` (frames advanced per block) and consecutive blocks overlap by
      ``frame_length - hop_length`` samples, so ``extract(block.samples)`` gives exactly
      frames ``block.frame_offset, block.frame_offset + 1, ...`` of the whole file
      (as ``librosa.stream`` does, plus resampling and absolute offsets) for features
      without state across frames: no deltas (their look-ahead crosses block edges)
      and any kind but ``pcen`` (whose smoother starts anew in each ``extract`` call);
      feed those to a :class:`~audioscene.features.FeatureStream` in contiguous blocks.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file, or ``"-"`` for standard input.
    block_length : int
        Samples per block at the output rate (frames advanced per block times the hop
        in frame-aligned mode).
    sr : int or None
        Output sample rate (streaming soxr resampler; same samples as :func:`load`).
    mono : bool
        Average the channels.
    frame_length, hop_length : int or None
        Framing for frame-aligned blocks.

    Yields
    ------
    Block
        ``samples`` (float32), absolute sample ``offset``, ``frame_offset``, ``last``.

    Raises
    ------
    AudioError
        Unreadable input or NaN/Inf samples (naming the file and the sample).

    Examples
    --------
    >>> from audioscene.audio import blocks
    >>> for b in blocks("long.flac", block_length=44100):  # doctest: +SKIP
    ...     print(b.offset, b.samples.shape)
    """
    _check_sr(sr)
    if block_length <= 0:
        raise ValueError(f"block_length must be positive, got {block_length}")
    aligned = frame_length is not None
    if aligned:
        if hop_length is None or hop_length <= 0 or frame_length <= 0:
            raise ValueError("frame-aligned blocks need positive frame_length and hop_length")
        step = max(hop_length, (block_length // hop_length) * hop_length)
    if not aligned:
        yield from _raw_blocks(path, block_length, sr=sr, mono=mono)
        return
    aligner = _Aligner(step, frame_length, hop_length)  # type: ignore[arg-type]
    for b in _raw_blocks(path, step, sr=sr, mono=mono):
        yield from aligner.push(b)
    yield from aligner.push(None)


class _Aligner:
    """Turns contiguous blocks into frame-aligned, overlapping blocks."""

    def __init__(self, step: int, frame_length: int, hop: int) -> None:
        self.step, self.frame_length, self.hop = step, frame_length, hop
        self.buf: np.ndarray | None = None
        self.buf_offset = 0  # absolute sample index of buf[0]

    def push(self, b: Block | None) -> Iterator[Block]:
        if b is not None:
            self.buf = b.samples if self.buf is None else np.concatenate([self.buf, b.samples])
        if self.buf is None:
            return
        final = b is None
        need = self.step + self.frame_length - self.hop  # samples for step/hop frames
        while len(self.buf) >= need or (final and len(self.buf) > 0):
            take = self.buf[:need]
            last = final and len(self.buf) <= need
            yield Block(np.ascontiguousarray(take), self.buf_offset,
                        self.buf_offset // self.hop, last)
            if last:
                self.buf = self.buf[:0]
                break
            self.buf = self.buf[self.step:]
            self.buf_offset += self.step
            if final and len(self.buf) < self.frame_length:
                # the remainder holds no whole frame; report the end with what is left
                yield Block(np.ascontiguousarray(self.buf), self.buf_offset,
                            self.buf_offset // self.hop, True)
                self.buf = self.buf[:0]
                break


def _raw_blocks(path: PathLike, block_length: int, *, sr: int | None,
                mono: bool) -> Iterator[Block]:
    """Contiguous blocks at the output rate, resampled with a streaming soxr resampler."""
    with _open(path) as f:
        native = int(f.samplerate)
        channels = 1 if mono else int(f.channels)
        resampler = None
        if sr is not None and sr != native:
            resampler = soxr.ResampleStream(native, sr, channels, dtype="float32", quality="HQ")
        read_len = block_length if resampler is None else max(1, int(block_length * native / sr))
        offset_in = 0
        offset_out = 0
        pending: Block | None = None
        while True:
            try:
                y = f.read(read_len, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                at = _tell(f)
                raise AudioError(path, "truncated or corrupt audio after sample "
                                       f"{offset_in if at is None else at} "
                                       f"({_reason(exc)})") from None
            end = len(y) < read_len
            if end:
                _check_complete(f, path, offset_in + len(y))
            _check_finite(y, path, offset_in)
            offset_in += len(y)
            y = to_mono(y) if mono else y
            if resampler is not None:
                y = resampler.resample_chunk(y, last=end)
            if len(y) or end:
                if pending is not None:
                    yield pending
                pending = Block(np.ascontiguousarray(y, dtype=np.float32), offset_out,
                                0, False)
                offset_out += len(y)
            if end:
                break
        if pending is not None:
            yield Block(pending.samples, pending.offset, 0, True)
