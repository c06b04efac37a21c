"""Sound events and event lists, with readers and writers for the usual text formats.

Formats
-------
``dcase``
    Delimited text as DCASE and sed_eval read it: tab, comma or semicolon separated;
    2 to 5 columns (``onset offset``, ``onset offset label``, ``file onset offset``,
    ``file onset offset label``, ``file scene onset offset label`` or
    ``file onset offset label confidence``); an optional header row, whose column names
    (``filename``/``file``, ``onset``/``event_onset``, ``offset``/``event_offset``,
    ``event_label``/``label``, ``confidence``/``probability``/``score``) then decide
    the meaning of each column. Written as ``[file<TAB>]onset<TAB>offset<TAB>label``.
``csv``
    Comma-separated with the header ``filename,onset,offset,label,confidence``.
``json``
    ``{"events": [{"onset": ..., "offset": ..., "label": ..., ...}, ...]}``.
``audacity``
    Audacity label track: ``onset<TAB>offset<TAB>label`` (frequency lines starting
    with a backslash are skipped).
``raven``
    Raven Pro selection table: tab-separated, a header row naming the columns (in any
    order; other columns are ignored), one row per selection and view. Read:
    ``Begin Time (s)`` and ``End Time (s)`` (required) give onset and offset; the label
    comes from ``Annotation``, else from the first of ``Label``, ``Species``, ``Class``,
    ``Sound Type``, ``Call Type`` the header has (or the column chosen with
    ``label_column=``), else the events are unlabelled; ``Confidence`` (optional) gives
    the confidence and ``Begin File`` (else ``Begin Path``) the file name. Where a
    ``File Offset (s)`` column is present, it is the onset (the time within the file;
    Raven counts ``Begin Time (s)`` from the start of a file sequence) and the offset is
    that plus the selection's duration. Rows of one ``Selection`` number (Raven writes a
    ``Waveform 1`` and a ``Spectrogram 1`` row for each selection) are one event; rows of
    one number that disagree are an error. Frequencies are not kept. Written as
    ``Selection View Channel Begin Time (s) End Time (s) Low Freq (Hz) High Freq (Hz)
    Annotation``: selections numbered from 1 in list order, view ``Spectrogram 1``,
    channel 1, low frequency 0 and high frequency ``high_freq`` (default 22050, the
    Nyquist frequency of 44.1 kHz audio), then ``Begin File`` and
    ``File Offset (s)`` (equal to the onset) when any event has a file name, and
    ``Confidence`` when any event has a confidence. Times are those within each event's
    file.

Every reader reports a malformed line as ``EventFormatError("path:line: reason")``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, overload

from .io_utils import atomic_write_text

__all__ = ["Event", "EventList", "EventFormatError", "FORMATS", "DOCUMENT_FORMATS",
           "guess_format", "event_list_stem"]

FORMATS = ("dcase", "csv", "json", "audacity", "raven")

#: The formats of :data:`FORMATS` that are one document for a whole list (a JSON object;
#: a Raven table numbering its selections from 1): ``audioscene detect`` prints events in
#: them once all are in, not row by row as they become final.
DOCUMENT_FORMATS = ("json", "raven")


class EventFormatError(ValueError):
    """A malformed event list; the message names the file and line."""


@dataclass(frozen=True)
class Event:
    """One sound event.

    Parameters
    ----------
    onset, offset : float
        Start and end in seconds, ``0 <= onset <= offset``.
    label : str or None
        Event class (``None`` for unlabelled event lists).
    confidence : float or None
        Detector confidence.
    filename : str or None
        Recording the event belongs to.

    Examples
    --------
    >>> Event(1.0, 2.5, "dog").duration
    1.5
    """

    onset: float
    offset: float
    label: str | None = None
    confidence: float | None = field(default=None, compare=False)
    filename: str | None = None

    def __post_init__(self) -> None:
        on, off = float(self.onset), float(self.offset)
        if not (math.isfinite(on) and math.isfinite(off)):
            raise ValueError(f"event times must be finite, got {on}, {off}")
        if on < 0 or off < on:
            raise ValueError(f"need 0 <= onset <= offset, got onset={on}, offset={off}")
        object.__setattr__(self, "onset", on)
        object.__setattr__(self, "offset", off)
        if self.confidence is not None:
            object.__setattr__(self, "confidence", float(self.confidence))

    @property
    def duration(self) -> float:
        """``offset - onset`` in seconds."""
        return self.offset - self.onset

    def to_dict(self) -> dict[str, Any]:
        """Fields as a dict, without the ones that are ``None``."""
        return {k: v for k, v in asdict(self).items() if v is not None}


_ALIASES = {
    "filename": "filename", "file": "filename", "audio_file": "filename",
    "onset": "onset", "event_onset": "onset", "start": "onset", "start_time": "onset",
    "offset": "offset", "event_offset": "offset", "end": "offset", "stop": "offset",
    "end_time": "offset",
    "label": "label", "event_label": "label", "class": "label", "event": "label",
    "confidence": "confidence", "probability": "confidence", "score": "confidence",
    "event_probability": "confidence",
    "scene_label": "scene", "scene": "scene",
}


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _sniff_delimiter(lines: Sequence[str]) -> str | None:
    for line in lines:
        if not line.strip():
            continue
        if "\t" in line:
            return "\t"
        if ";" in line:
            return ";"
        if "," in line:
            return ","
        return None  # whitespace-separated
    return "\t"


def _format_from_name(path: str | os.PathLike) -> str:
    name = str(path).lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".labels.txt", ".lab", ".audacity.txt")):
        return "audacity"
    if name.endswith(".selections.txt"):
        return "raven"
    return "dcase"


#: Column whose presence in a first line makes a file a Raven selection table.
_RAVEN_MARK = "begin time (s)"
#: Raven label columns, in the order they are looked for (lower case).
_RAVEN_LABELS = ("annotation", "label", "species", "class", "sound type", "call type")


def guess_format(path: str | os.PathLike) -> str:
    """Event-list format of a file: from its name (``.json``, ``.csv``, Audacity
    ``*.labels.txt`` / ``.lab`` / ``.audacity.txt``, Raven ``*.selections.txt``), else
    ``raven`` when it is a regular file whose first line has a tab-separated
    ``Begin Time (s)`` column, otherwise ``dcase``.

    Examples
    --------
    >>> guess_format("x.json"), guess_format("x.txt"), guess_format("x.selections.txt")
    ('json', 'dcase', 'raven')
    """
    fmt = _format_from_name(path)
    if fmt != "dcase":
        return fmt
    try:
        if not Path(path).is_file():  # a pipe is read once, by the reader
            return fmt
        with open(path, encoding="utf-8-sig") as f:
            first = f.readline(65536)
    except (OSError, UnicodeDecodeError, ValueError):
        return fmt
    cols = [c.strip().lower() for c in first.rstrip("\r\n").split("\t")]
    return "raven" if _RAVEN_MARK in cols else fmt


def event_list_stem(path: str | os.PathLike) -> str:
    """The recording an event-list file is named after: its name without
    ``.selections.txt`` (Raven) or ``.labels.txt`` (Audacity), in any case, else
    without its last suffix.

    Examples
    --------
    >>> event_list_stem("a/rec1.selections.txt"), event_list_stem("rec1.txt")
    ('rec1', 'rec1')
    """
    p = Path(path)
    for suffix in (".selections.txt", ".labels.txt"):
        if p.name.lower().endswith(suffix) and len(p.name) > len(suffix):
            return p.name[: -len(suffix)]
    return p.stem


class EventList(Sequence[Event]):
    """An ordered collection of :class:`Event`, sorted by (filename, onset, offset, label).

    Parameters
    ----------
    events : iterable of Event
        The events.

    Examples
    --------
    >>> ev = EventList([Event(0.5, 1.5, "knock"), Event(0.1, 0.4, "cough")])
    >>> [e.label for e in ev]
    ['cough', 'knock']
    >>> EventList.from_text(ev.to_text()) == ev
    True
    """

    def __init__(self, events: Iterable[Event] = ()) -> None:
        evs = list(events)
        for e in evs:
            if not isinstance(e, Event):
                raise TypeError(f"EventList holds Event objects, got {type(e).__name__}")
        self._events = sorted(evs, key=lambda e: (e.filename or "", e.onset, e.offset,
                                                  e.label or ""))

    # ---------------------------------------------------------------- sequence protocol
    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> EventList: ...
    def __getitem__(self, i: int | slice) -> Event | EventList:
        if isinstance(i, slice):
            return EventList(self._events[i])
        return self._events[i]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventList):
            return NotImplemented
        return self._events == other._events

    def __add__(self, other: EventList) -> EventList:
        return EventList([*self._events, *other._events])

    def __repr__(self) -> str:
        return f"EventList({len(self)} events, labels={self.labels})"

    # ---------------------------------------------------------------- queries
    @property
    def labels(self) -> list[str]:
        """Sorted distinct labels."""
        return sorted({e.label for e in self._events if e.label is not None})

    @property
    def filenames(self) -> list[str]:
        """Sorted distinct file names."""
        return sorted({e.filename for e in self._events if e.filename is not None})

    def filter(self, *, label: str | None = None, filename: str | None = None) -> EventList:
        """Events with the given label and/or file name.

        Examples
        --------
        >>> EventList([Event(0, 1, "a"), Event(0, 1, "b")]).filter(label="a").labels
        ['a']
        """
        return EventList(e for e in self._events
                         if (label is None or e.label == label)
                         and (filename is None or e.filename == filename))

    def by_file(self) -> dict[str | None, EventList]:
        """Split into one list per file name."""
        out: dict[str | None, list[Event]] = {}
        for e in self._events:
            out.setdefault(e.filename, []).append(e)
        return {k: EventList(v) for k, v in out.items()}

    def with_filename(self, filename: str | None) -> EventList:
        """The same events, each given ``filename``."""
        return EventList(replace(e, filename=filename) for e in self._events)

    def rounded(self, time_decimals: int = 3, confidence_decimals: int = 4) -> EventList:
        """The same events with times rounded to ``time_decimals`` (default: the
        millisecond) and confidences to ``confidence_decimals`` decimals (what the command
        line writes).

        Examples
        --------
        >>> EventList([Event(1.23456, 2.0, "a", 0.987654)]).rounded()[0]
        Event(onset=1.235, offset=2.0, label='a', confidence=0.9877, filename=None)
        """
        out = []
        for e in self._events:
            conf = None if e.confidence is None else round(e.confidence, confidence_decimals)
            out.append(replace(e, onset=round(e.onset, time_decimals),
                               offset=round(e.offset, time_decimals), confidence=conf))
        return EventList(out)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Events as dicts in the key names sed_eval and dcase_util use."""
        out = []
        for e in self._events:
            d: dict[str, Any] = {"onset": e.onset, "offset": e.offset,
                                 "event_onset": e.onset, "event_offset": e.offset}
            if e.label is not None:
                d["event_label"] = e.label
            if e.filename is not None:
                d["filename"] = e.filename
            out.append(d)
        return out

    # ---------------------------------------------------------------- text formats
    @classmethod
    def from_text(cls, text: str, *, format: str = "dcase", source: str = "<text>",
                  label_column: str | None = None) -> EventList:
        """Parse event-list text (see the module docstring for the formats).

        Parameters
        ----------
        text : str
            The list.
        format : str
            One of ``FORMATS``.
        source : str
            Name used in error messages.
        label_column : str or None
            ``raven`` only: the column (matched ignoring case) that holds the labels;
            ``None`` takes ``Annotation`` or the first common label column.

        Returns
        -------
        EventList

        Raises
        ------
        EventFormatError
            ``"source:line: reason"`` for the first malformed line.
        ValueError
            An unknown format, or ``label_column`` with a format other than ``raven``.

        Examples
        --------
        >>> text = ("Selection\\tView\\tChannel\\tBegin Time (s)\\tEnd Time (s)\\tSpecies\\n"
        ...         "1\\tSpectrogram 1\\t1\\t0.5\\t1.25\\twren\\n")
        >>> EventList.from_text(text, format="raven")[0]
        Event(onset=0.5, offset=1.25, label='wren', confidence=None, filename=None)
        """
        if label_column is not None and format != "raven":
            raise ValueError(f"label_column applies to the 'raven' format, not {format!r}")
        if format == "raven":
            return cls._from_raven(text, source, label_column)
        if format == "json":
            return cls._from_json(text, source)
        if format == "csv":
            return cls._from_delimited(text, source, delimiter=",", header_required=True)
        if format == "audacity":
            return cls._from_delimited(text, source, delimiter="\t", audacity=True)
        if format == "dcase":
            return cls._from_delimited(text, source)
        raise ValueError(f"unknown event format {format!r}; choose from {FORMATS}")

    @classmethod
    def read(cls, path: str | os.PathLike, *, format: str | None = None,
             label_column: str | None = None) -> EventList:
        """Read an event list file.

        Parameters
        ----------
        path : str or os.PathLike
            File to read.
        format : str or None
            One of ``FORMATS``; ``None`` guesses it (:func:`guess_format`).
        label_column : str or None
            ``raven`` only: the column holding the labels (see :meth:`from_text`).

        Returns
        -------
        EventList

        Raises
        ------
        EventFormatError
            A malformed line, naming the file and line.
        FileNotFoundError
            The file is missing.

        Examples
        --------
        >>> EventList.read("dev_1_ebr_0_nec_1_poly_0.txt")  # doctest: +SKIP
        EventList(11 events, labels=[...])
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise EventFormatError(f"{p}: not a text file") from None
        return cls.from_text(text, format=format or guess_format(p), source=str(p),
                             label_column=label_column)

    def to_text(self, *, format: str = "dcase", header: bool = False,
                high_freq: float = 22050.0) -> str:
        """Render as text in ``format`` (``header`` adds a header row to ``dcase``;
        ``high_freq`` is the ``High Freq (Hz)`` of every ``raven`` selection).

        Examples
        --------
        >>> text = EventList([Event(0.5, 1.25, "wren")]).to_text(format="raven")
        >>> text.splitlines()[1].split("\\t")
        ['1', 'Spectrogram 1', '1', '0.5', '1.25', '0', '22050', 'wren']
        """
        if format == "raven":
            return self._to_raven(high_freq)
        if format == "json":
            return json.dumps({"events": [e.to_dict() for e in self._events]}, indent=1) + "\n"
        buf = io.StringIO()
        if format == "csv":
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["filename", "onset", "offset", "label", "confidence"])
            for e in self._events:
                w.writerow([e.filename or "", _fmt(e.onset), _fmt(e.offset), e.label or "",
                            "" if e.confidence is None else repr(e.confidence)])
            return buf.getvalue()
        if format == "audacity":
            for e in self._events:
                buf.write(f"{_fmt(e.onset)}\t{_fmt(e.offset)}\t{e.label or ''}\n")
            return buf.getvalue()
        if format != "dcase":
            raise ValueError(f"unknown event format {format!r}; choose from {FORMATS}")
        with_file = any(e.filename for e in self._events)
        with_label = any(e.label is not None for e in self._events)
        if header:
            cols = (["filename"] if with_file else []) + ["onset", "offset"]
            buf.write("\t".join(cols + (["event_label"] if with_label else [])) + "\n")
        for e in self._events:
            row = ([e.filename or ""] if with_file else []) + [_fmt(e.onset), _fmt(e.offset)]
            if with_label:
                row.append(e.label or "")
            buf.write("\t".join(row) + "\n")
        return buf.getvalue()

    def write(self, path: str | os.PathLike, *, format: str | None = None,
              header: bool = False, high_freq: float = 22050.0) -> Path:
        """Write atomically (a temporary file renamed into place).

        Parameters
        ----------
        path : str or os.PathLike
            Destination; folders are created.
        format : str or None
            One of ``FORMATS``; ``None`` guesses from the name alone (``.json``,
            ``.csv``, ``.labels.txt``/``.lab``/``.audacity.txt``, ``.selections.txt``,
            otherwise ``dcase``).
        header : bool
            Header row for ``dcase``.
        high_freq : float
            ``High Freq (Hz)`` of every selection of a ``raven`` table (Raven draws each
            selection over this band; give the recording's Nyquist frequency).

        Returns
        -------
        Path
            The written path.

        Examples
        --------
        >>> EventList([Event(0, 1, "a")]).write("out.txt")  # doctest: +SKIP
        """
        return atomic_write_text(path, self.to_text(format=format or _format_from_name(path),
                                                    header=header, high_freq=high_freq))

    def _to_raven(self, high_freq: float) -> str:
        hf = float(high_freq)
        if not math.isfinite(hf) or hf <= 0:
            raise ValueError(f"high_freq must be a positive number, got {high_freq}")
        hf_s = _fmt(hf)
        hf_s = hf_s[:-2] if hf_s.endswith(".0") else hf_s
        with_file = any(e.filename for e in self._events)
        with_conf = any(e.confidence is not None for e in self._events)
        cols = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                "Low Freq (Hz)", "High Freq (Hz)", "Annotation"]
        cols += (["Begin File", "File Offset (s)"] if with_file else [])
        cols += (["Confidence"] if with_conf else [])
        lines = ["\t".join(cols)]
        for i, e in enumerate(self._events, start=1):
            row = [str(i), "Spectrogram 1", "1", _fmt(e.onset), _fmt(e.offset), "0", hf_s,
                   e.label or ""]
            if with_file:
                row += [e.filename or "", _fmt(e.onset)]
            if with_conf:
                row.append("" if e.confidence is None else repr(e.confidence))
            lines.append("\t".join(row))
        return "\n".join(lines) + "\n"

    # ---------------------------------------------------------------- parsers
    @classmethod
    def _from_raven(cls, text: str, source: str, label_column: str | None) -> EventList:
        rows = [(n, line.split("\t")) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip()]
        if not rows:
            return cls()
        head_n, head = rows[0]
        names = [c.strip().lower() for c in head]
        col = {c: i for i, c in reversed(list(enumerate(names)))}  # first of equal names
        for need in ("begin time (s)", "end time (s)"):
            if need not in col:
                raise EventFormatError(
                    f"{source}:{head_n}: not a Raven selection table: the header row needs "
                    "'Begin Time (s)' and 'End Time (s)' columns")
        if label_column is not None:
            if label_column.strip().lower() not in col:
                raise EventFormatError(f"{source}:{head_n}: no label column "
                                       f"{label_column!r} in the header")
            lab_i: int | None = col[label_column.strip().lower()]
        else:
            lab_i = next((col[c] for c in _RAVEN_LABELS if c in col), None)
        file_i = col.get("begin file", col.get("begin path"))
        conf_i, off_i, sel_i = (col.get("confidence"), col.get("file offset (s)"),
                                col.get("selection"))
        out: list[Event] = []
        seen: dict[str, tuple[int, Event]] = {}
        for n, parts in rows[1:]:
            parts = [p.strip() for p in parts]
            try:
                if any(parts[len(names):]):  # empty trailing fields are left out
                    raise ValueError(f"{len(parts)} fields for {len(names)} header columns")
                parts = parts[:len(names)]
                parts += [""] * (len(names) - len(parts))
                begin = _num(parts[col["begin time (s)"]], "Begin Time (s)")
                end = _num(parts[col["end time (s)"]], "End Time (s)")
                onset, offset = begin, end
                if off_i is not None and parts[off_i]:
                    onset = _num(parts[off_i], "File Offset (s)")
                    offset = end if onset == begin else onset + (end - begin)
                conf = None if conf_i is None or not parts[conf_i] else \
                    _num(parts[conf_i], "Confidence")
                ev = Event(onset, offset, (parts[lab_i] if lab_i is not None else "") or None,
                           conf, (parts[file_i] if file_i is not None else "") or None)
                sel = None if sel_i is None else parts[sel_i]
                if sel is not None and not (sel.isascii() and sel.isdigit()):
                    raise ValueError(f"Selection is not a whole number: {sel!r}")
            except ValueError as exc:
                raise EventFormatError(f"{source}:{n}: {exc}") from None
            if sel is None:
                out.append(ev)
                continue
            key = str(int(sel))
            if key in seen:
                first_n, first = seen[key]
                if (first, first.confidence) != (ev, ev.confidence):
                    raise EventFormatError(f"{source}:{n}: selection {key} differs from its "
                                           f"row on line {first_n}")
                continue
            seen[key] = (n, ev)
            out.append(ev)
        return cls(out)

    @classmethod
    def _from_json(cls, text: str, source: str) -> EventList:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EventFormatError(f"{source}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        items = data.get("events") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise EventFormatError(f"{source}:1: expected a list of events or "
                                   "{'events': [...]}")
        out = []
        for i, d in enumerate(items):
            if not isinstance(d, dict):
                raise EventFormatError(f"{source}: event {i}: expected an object")
            d = {_ALIASES.get(k.lower(), k.lower()): v for k, v in d.items()}
            try:
                out.append(Event(d["onset"], d["offset"], d.get("label"), d.get("confidence"),
                                 d.get("filename")))
            except (KeyError, TypeError, ValueError) as exc:
                raise EventFormatError(f"{source}: event {i}: {exc}") from None
        return cls(out)

    @classmethod
    def _from_delimited(cls, text: str, source: str, *, delimiter: str | None = None,
                        header_required: bool = False, audacity: bool = False) -> EventList:
        lines = text.splitlines()
        if delimiter is None:
            delimiter = _sniff_delimiter(lines)
        rows: list[tuple[int, list[str]]] = []
        for n, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if audacity and line.startswith("\\"):
                continue
            if delimiter is None:
                parts = line.split()
            else:
                parts = next(csv.reader([line], delimiter=delimiter))
            rows.append((n, [p.strip() for p in parts]))
        if not rows:
            return cls()
        columns: list[str] | None = None
        first_n, first = rows[0]
        looks_like_header = any(c.lower() in _ALIASES for c in first) and not any(
            _is_number(c) for c in first)
        if looks_like_header:
            columns = [_ALIASES.get(c.lower(), c.lower()) for c in first]
            for need in ("onset", "offset"):
                if need not in columns:
                    raise EventFormatError(f"{source}:{first_n}: header has no {need} column")
            rows = rows[1:]
        elif header_required:
            raise EventFormatError(f"{source}:{first_n}: expected a header row with "
                                   "onset and offset columns")
        out = []
        for n, parts in rows:
            try:
                out.append(_parse_row(parts, columns))
            except (ValueError, IndexError) as exc:
                raise EventFormatError(f"{source}:{n}: {exc}") from None
        return cls(out)


def _parse_row(parts: list[str], columns: list[str] | None) -> Event:
    if columns is not None:
        if len(parts) > len(columns):
            raise ValueError(f"{len(parts)} fields for {len(columns)} header columns")
        d = dict(zip(columns, parts + [""] * (len(columns) - len(parts))))
        conf = d.get("confidence") or None
        return Event(_num(d["onset"], "onset"), _num(d["offset"], "offset"),
                     d.get("label") or None, None if conf is None else _num(conf, "confidence"),
                     d.get("filename") or None)
    k = len(parts)
    num = [_is_number(p) for p in parts]
    if k == 2:
        return Event(_num(parts[0], "onset"), _num(parts[1], "offset"))
    if k == 3:
        if num[0] and num[1]:
            return Event(float(parts[0]), float(parts[1]), parts[2] or None)
        if num[1] and num[2]:
            return Event(float(parts[1]), float(parts[2]), None, None, parts[0])
        raise ValueError(f"cannot read 3 fields {parts!r} as onset/offset/label or "
                         "file/onset/offset")
    if k == 4:
        if num[1] and num[2]:
            return Event(float(parts[1]), float(parts[2]), parts[3] or None, None, parts[0])
        if num[0] and num[1] and num[3]:
            return Event(float(parts[0]), float(parts[1]), parts[2] or None, float(parts[3]))
        raise ValueError(f"cannot read 4 fields {parts!r} as file/onset/offset/label")
    if k == 5:
        if num[2] and num[3] and not num[1]:
            # file, scene label, onset, offset, event label
            return Event(float(parts[2]), float(parts[3]), parts[4] or None, None, parts[0])
        if num[1] and num[2] and num[4]:
            # file, onset, offset, label, confidence
            return Event(float(parts[1]), float(parts[2]), parts[3] or None, float(parts[4]),
                         parts[0])
        raise ValueError(f"cannot read 5 fields {parts!r}")
    raise ValueError(f"expected 2 to 5 fields, got {k}")


def _num(s: str, what: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"{what} is not a number: {s!r}") from None


def _fmt(x: float) -> str:
    """Text that reads back as the same float: Python's shortest repr, or, where that
    has an exponent, plain decimals (up to 12) when they read back exactly."""
    s = repr(float(x))
    if "e" in s or "E" in s:
        t = f"{x:.12f}".rstrip("0")
        t = t + "0" if t.endswith(".") else t
        if float(t) == float(x):
            return t
    return s
