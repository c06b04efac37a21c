"""Models shipped inside the package, each a model folder with a ``MODEL_CARD.md``.

``audioscene classify`` and ``audioscene detect`` use :data:`DEFAULTS` when no
``--model`` is given, and ``--model NAME`` accepts a bundled model's name;
``audioscene models`` lists them with their cards. The recipe ``bundled-models``
rebuilds them (``make bundled-models``).

Examples
--------
>>> from audioscene.bundled import DEFAULTS
>>> DEFAULTS["detect"], DEFAULTS["classify"]
('esc10-detector', 'esc10-classifier')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..persist import MANIFEST, read_manifest

__all__ = ["BUNDLED_DIR", "DEFAULTS", "BundledModel", "bundled_models", "resolve_model"]

#: The folder of the bundled model folders, inside the installed package.
BUNDLED_DIR = Path(__file__).resolve().parent

#: The bundled model each command uses without ``--model``.
DEFAULTS = {"detect": "esc10-detector", "classify": "esc10-classifier"}

CARD = "MODEL_CARD.md"


@dataclass(frozen=True)
class BundledModel:
    """A model folder shipped with the package.

    Attributes
    ----------
    name : str
        Folder name, usable as ``--model NAME``.
    path : Path
        The model folder.
    kind : str
        The model class recorded in its manifest.
    size : int
        Bytes of the folder's files.
    card : str
        Its model card (Markdown).
    """

    name: str
    path: Path
    kind: str
    size: int
    card: str

    @property
    def classes(self) -> list[str]:
        """The classes listed under the card's ``## Classes`` heading.

        Examples
        --------
        >>> BundledModel("m", Path("."), "K", 0, "## Classes\\n\\ndog, rain").classes
        ['dog', 'rain']
        """
        lines = self.card.splitlines()
        try:
            i = lines.index("## Classes")
        except ValueError:
            return []
        text = next((ln for ln in lines[i + 1:] if ln.strip()), "")
        return [c.strip() for c in text.split(",") if c.strip()]


def bundled_models() -> list[BundledModel]:
    """Every bundled model, sorted by name.

    Examples
    --------
    >>> sorted(m.name for m in bundled_models())  # doctest: +SKIP
    ['esc10-classifier', 'esc10-detector']
    """
    out = []
    for d in sorted(BUNDLED_DIR.iterdir()):
        if not (d / MANIFEST).is_file() or d.name.startswith("."):
            continue
        card = (d / CARD).read_text(encoding="utf-8") if (d / CARD).is_file() else ""
        size = sum(f.stat().st_size for f in d.iterdir() if f.is_file())
        out.append(BundledModel(d.name, d, str(read_manifest(d)["kind"]), size, card))
    return out


def resolve_model(model: str | os.PathLike | None, command: str) -> tuple[Path, bool]:
    """The model folder a command reads: ``model`` itself when it is an existing path,
    else the bundled model of that name, else (``model`` is None) the command's default
    bundled model. The flag says whether a bundled model was chosen.

    Raises
    ------
    FileNotFoundError
        ``model`` is neither a path nor a bundled model's name, or the default is not
        installed.

    Examples
    --------
    >>> resolve_model(None, "detect")[0].name  # doctest: +SKIP
    'esc10-detector'
    """
    if model is not None:
        p = Path(model)
        if p.exists():
            return p, False
        if (BUNDLED_DIR / str(model) / MANIFEST).is_file() and os.sep not in str(model):
            return BUNDLED_DIR / str(model), True
        names = [m.name for m in bundled_models()]
        raise FileNotFoundError(f"{model}: no such model folder, and not a bundled model "
                                f"({', '.join(names) or 'none installed'})")
    name = DEFAULTS.get(command)
    if name is None or not (BUNDLED_DIR / name / MANIFEST).is_file():
        raise FileNotFoundError(f"no bundled model for '{command}': give --model DIR")
    return BUNDLED_DIR / name, True
