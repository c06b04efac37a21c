"""Recipes: DCASE 2016 experiments, each a function run with a configuration.

Every recipe's settings live in one YAML file shipped with the package,
``audioscene/recipes/configs/<name>.yaml`` (:func:`default_config`). A user YAML file
naming its recipe (``recipe: NAME``) and ``--set key.sub=value`` overrides change them
(:func:`load_config`); ``audioscene recipe NAME --print-config`` prints the result.

Examples
--------
>>> from audioscene.recipes import RECIPES
>>> sorted(RECIPES)
['bundled-models', 'classifier', 'dcase2016-task1', 'dcase2016-task2', 'dcase2016-task3', 'dcase2016-task4', 'detector', 'esc10', 'task2-tagging']
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from . import bundle, clips, tagging, task2, task3, user

__all__ = ["RECIPES", "default_config", "load_config", "run_recipe", "merge", "overrides"]

#: The run function of each recipe; its settings are in ``configs/<name>.yaml``.
RECIPES: dict[str, Callable[..., dict[str, Any]]] = {
    "dcase2016-task2": task2.run,
    "dcase2016-task3": task3.run,
    "esc10": clips.run,
    "dcase2016-task1": clips.run,
    "dcase2016-task4": tagging.run_task4,
    "task2-tagging": tagging.run_task2_tagging,
    "classifier": user.run_classifier,
    "detector": user.run_detector,
    "bundled-models": bundle.run,
}


#: Integer settings that may be 0 although their default is at least 1.
ZERO_ALLOWED = {"deltas", "background_frames", "patience", "seed", "k",
                "competition_recordings"}

#: Settings that may also be null (a search grid that null switches off).
NULL_ALLOWED = {"min_gap_grid", "competition_grid"}

#: Text settings that may also be a list of texts.
TEXT_OR_LIST = {"backend"}


def _check_type(key: str, default: Any, value: Any) -> None:
    """A setting's value must have its default's kind (see :func:`merge`)."""
    def bad(kind: str) -> ValueError:
        return ValueError(f"setting {key}: expected {kind}, got {value!r}")

    if default is None or (value is None and key.rsplit(".", 1)[-1] in NULL_ALLOWED):
        return
    if value is None:
        raise bad("a value (null is not allowed here)")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        at_least_1 = default >= 1 and key.rsplit(".", 1)[-1] not in ZERO_ALLOWED
        if value < 1 and at_least_1:
            raise bad("an integer >= 1")
        if value < 0 and default >= 0:
            raise bad("an integer >= 0")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
    elif isinstance(default, str):
        many = key.rsplit(".", 1)[-1] in TEXT_OR_LIST and isinstance(value, list) and \
            all(isinstance(v, str) for v in value)
        if not isinstance(value, str) and not many:
            raise bad("text")
    elif isinstance(default, list):
        if not isinstance(value, list):
            raise bad("a list")
    elif isinstance(default, dict) and not isinstance(value, Mapping):
        raise bad("a mapping of settings")


def merge(base: Mapping[str, Any], override: Mapping[str, Any], *,
          prefix: str = "") -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``; unknown keys are an error, and so
    is a value of another kind than the default's: a number where the default is a
    number (an integer where it is an integer), true/false, text, a list or a mapping;
    null only where the default is null (which takes anything) or for the settings in
    :data:`NULL_ALLOWED`; text or a list of texts for the settings in
    :data:`TEXT_OR_LIST`. Integer settings with a non-negative default may not be
    negative, and those whose default is at least 1 may not be 0 (except those in
    :data:`ZERO_ALLOWED`).

    Examples
    --------
    >>> merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    >>> merge({"epochs": 60}, {"epochs": "abc"})
    Traceback (most recent call last):
    ...
    ValueError: setting epochs: expected an integer, got 'abc'
    """
    out = copy.deepcopy(dict(base))
    for k, v in override.items():
        key = f"{prefix}{k}"
        if k not in out:
            raise KeyError(f"unknown recipe setting {key!r}; known: {sorted(out)}")
        _check_type(key, out[k], v)
        if isinstance(out[k], dict) and isinstance(v, Mapping):
            out[k] = merge(out[k], v, prefix=f"{key}.")
        else:
            out[k] = copy.deepcopy(v)
    return out


def overrides(name: str, cfg: Mapping[str, Any]) -> list[str]:
    """The ``--set KEY=VALUE`` arguments that turn recipe ``name``'s default settings into
    ``cfg``: one per setting that differs, in the order of the settings, each value
    written as YAML that :func:`load_config` reads back as the same value.

    Examples
    --------
    >>> _, cfg = load_config("bundled-models", ["install=true", "detector.cnn.max_epochs=3"])
    >>> overrides("bundled-models", cfg)
    ['install=true', 'detector.cnn.max_epochs=3']
    >>> load_config("bundled-models", overrides("bundled-models", cfg))[1] == cfg
    True
    """
    def walk(base: Any, value: Any, key: str) -> list[str]:
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            return [a for k in value for a in walk(base.get(k), value[k], f"{key}{k}.")]
        if base == value and type(base) is type(value):
            return []
        text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30)
        return [f"{key[:-1]}={text.removesuffix(chr(10)).removesuffix('...').strip()}"]

    return walk(default_config(name), dict(cfg), "")


def _parse_override(text: str) -> dict[str, Any]:
    """``a.b=value`` (value parsed as YAML) -> ``{"a": {"b": value}}``."""
    if "=" not in text:
        raise ValueError(f"--set takes KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    out: dict[str, Any] = {}
    cur = out
    parts = key.strip().split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ValueError(f"--set {key.strip()}: not a YAML value "
                         f"({str(exc).splitlines()[0]})") from None
    if isinstance(parsed, str):
        try:  # YAML 1.1 reads "1e-10" as text
            parsed = float(parsed)
        except ValueError:
            pass
    cur[parts[-1]] = parsed
    return out


def _parse_yaml(text: str, where: str) -> dict[str, Any]:
    """The mapping of settings in ``text``; errors name ``where`` (and the line)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{where}{line}: not valid YAML "
                         f"({getattr(exc, 'problem', None) or exc})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: expected a mapping of settings")
    return doc


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    return _parse_yaml(text, str(path))


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)} "
                      "(or give a path to a YAML file with 'recipe: NAME')")


def default_config(name: str) -> dict[str, Any]:
    """The packaged configuration of a recipe: every setting it reads, with its value.

    Read from ``audioscene/recipes/configs/<name>.yaml`` inside the installed package
    (without its ``recipe:`` line); each call returns a new dict.

    Parameters
    ----------
    name : str
        A recipe name, one of :data:`RECIPES`.

    Returns
    -------
    dict
        The settings, nested as in the YAML file.

    Raises
    ------
    ValueError
        ``name`` is not a recipe.

    Examples
    --------
    >>> cfg = default_config("esc10")
    >>> cfg["cnn"]["max_epochs"], cfg["features"]["n_mels"]
    (140, 64)
    """
    if name not in RECIPES:
        raise _unknown(name)
    resource = files("audioscene.recipes") / "configs" / f"{name}.yaml"
    cfg = _parse_yaml(resource.read_text(encoding="utf-8"),
                      f"audioscene/recipes/configs/{name}.yaml")
    cfg.pop("recipe", None)
    return cfg


def load_config(name_or_path: str | os.PathLike,
                overrides: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Resolve a recipe name or config file into (recipe name, full config).

    A name gives :func:`default_config` of that recipe. A path to a YAML file must name
    its recipe (``recipe: NAME``); its other settings are merged over that recipe's
    packaged configuration with :func:`merge` (unknown keys and values of the wrong kind
    are errors). ``overrides`` are ``key.sub=value`` strings (values parsed as YAML),
    merged last in the same way.

    Parameters
    ----------
    name_or_path : str or path-like
        A recipe name (one of :data:`RECIPES`) or a path to a YAML file.
    overrides : list of str or None
        ``key.sub=value`` settings applied in order after the file.

    Returns
    -------
    tuple of (str, dict)
        The recipe name and the resolved configuration.

    Raises
    ------
    ValueError
        An unknown recipe, unreadable YAML, or a value of the wrong kind.
    KeyError
        A setting the recipe does not have.

    Examples
    --------
    >>> name, cfg = load_config("dcase2016-task2", ["forest.n_estimators=5"])
    >>> name, cfg["forest"]["n_estimators"]
    ('dcase2016-task2', 5)
    """
    p = Path(name_or_path)
    if str(name_or_path) in RECIPES:
        name = str(name_or_path)
        cfg = default_config(name)
    elif p.is_file():
        user = _read_yaml(p)
        name = user.get("recipe")
        if not isinstance(name, str) or name not in RECIPES:
            raise ValueError(f"{p}: 'recipe:' must be one of {sorted(RECIPES)}, got {name!r}")
        cfg = merge(default_config(name), {k: v for k, v in user.items() if k != "recipe"})
    else:
        raise _unknown(str(name_or_path))
    for o in overrides or []:
        cfg = merge(cfg, _parse_override(o))
    return name, cfg


def run_recipe(name_or_path: str | os.PathLike, *, data: str | os.PathLike,
               out: str | os.PathLike, overrides: list[str] | None = None,
               **kwargs: Any) -> dict[str, Any]:
    """Run a recipe with the configuration :func:`load_config` resolves; returns its
    results (also written under ``out``).

    Examples
    --------
    >>> run_recipe("dcase2016-task2", data="../shared/data", out="runs/t2")  # doctest: +SKIP
    """
    name, cfg = load_config(name_or_path, overrides)
    return RECIPES[name](cfg, data=Path(data), out=Path(out), **kwargs)
