"""Recipes: DCASE 2016 experiments, each a function with defaults that a YAML config can
override (``recipes/<name>/config.yaml`` in the repository, or any YAML file).

Examples
--------
>>> from audioscene.recipes import RECIPES
>>> sorted(RECIPES)
['dcase2016-task1', 'dcase2016-task2', 'dcase2016-task3', 'dcase2016-task4', 'esc10', 'task2-tagging']
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import clips, tagging, task2, task3

__all__ = ["RECIPES", "load_config", "run_recipe", "merge", "REPO_RECIPES"]

RECIPES: dict[str, tuple[Callable[..., dict[str, Any]], dict[str, Any]]] = {
    "dcase2016-task2": (task2.run, task2.DEFAULTS),
    "dcase2016-task3": (task3.run, task3.DEFAULTS),
    "esc10": (clips.run, clips.ESC10_DEFAULTS),
    "dcase2016-task1": (clips.run, clips.TASK1_DEFAULTS),
    "dcase2016-task4": (tagging.run_task4, tagging.TASK4_DEFAULTS),
    "task2-tagging": (tagging.run_task2_tagging, tagging.TASK2_TAGGING_DEFAULTS),
}

#: Where the repository keeps the recipe folders (config.yaml + README).
REPO_RECIPES = Path(__file__).resolve().parents[2] / "recipes"


#: Integer settings that may be 0 although their default is at least 1.
ZERO_ALLOWED = {"deltas", "background_frames", "patience", "seed"}


def _check_type(key: str, default: Any, value: Any) -> None:
    """A setting's value must have its default's kind (see :func:`merge`)."""
    def bad(kind: str) -> ValueError:
        return ValueError(f"setting {key}: expected {kind}, got {value!r}")

    if default is None:
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
        if not isinstance(value, str):
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
    null only where the default is null (which takes anything). Integer settings with a non-negative default
    may not be negative, and those whose default is at least 1 may not be 0 (except
    those in :data:`ZERO_ALLOWED`).

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


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}{where}: not valid YAML "
                         f"({getattr(exc, 'problem', None) or exc})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    return doc


def load_config(name_or_path: str | os.PathLike,
                overrides: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Resolve a recipe name or config file into (recipe name, full config).

    A name uses the recipe's defaults merged with ``recipes/<name>/config.yaml`` when the
    repository has it; a path to a YAML file must name its recipe (``recipe: NAME``).
    ``overrides`` are ``key.sub=value`` strings applied last.

    Examples
    --------
    >>> name, cfg = load_config("dcase2016-task2", ["forest.n_estimators=5"])
    >>> name, cfg["forest"]["n_estimators"]
    ('dcase2016-task2', 5)
    """
    p = Path(name_or_path)
    if str(name_or_path) in RECIPES:
        name = str(name_or_path)
        file = REPO_RECIPES / name / "config.yaml"
        user = _read_yaml(file) if file.exists() else {}
    elif p.is_file():
        user = _read_yaml(p)
        name = user.get("recipe")
        if name not in RECIPES:
            raise ValueError(f"{p}: 'recipe:' must be one of {sorted(RECIPES)}, got {name!r}")
    else:
        raise ValueError(f"unknown recipe {str(name_or_path)!r}; known: {sorted(RECIPES)} "
                         "(or give a config.yaml path)")
    user = {k: v for k, v in (user or {}).items() if k != "recipe"}
    cfg = merge(RECIPES[name][1], user)
    for o in overrides or []:
        cfg = merge(cfg, _parse_override(o))
    return name, cfg


def run_recipe(name_or_path: str | os.PathLike, *, data: str | os.PathLike,
               out: str | os.PathLike, overrides: list[str] | None = None,
               **kwargs: Any) -> dict[str, Any]:
    """Run a recipe; returns its results (also written under ``out``).

    Examples
    --------
    >>> run_recipe("dcase2016-task2", data="../shared/data", out="runs/t2")  # doctest: +SKIP
    """
    name, cfg = load_config(name_or_path, overrides)
    fn = RECIPES[name][0]
    return fn(cfg, data=Path(data), out=Path(out), **kwargs)
