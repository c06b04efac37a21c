"""Recipe settings: one packaged YAML file per recipe holds every setting its code reads;
user files and ``--set`` override it; ``--print-config`` prints the resolution."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from audioscene.cli import main
from audioscene.recipes import RECIPES, default_config, load_config

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "audioscene" / "recipes"
CONFIGS = PACKAGE / "configs"

# the functions of each recipe module that read a recipe's settings
READERS = {
    "dcase2016-task2": ("task2.py", None),
    "dcase2016-task3": ("task3.py", None),
    "esc10": ("clips.py", None),
    "dcase2016-task1": ("clips.py", None),
    "dcase2016-task4": ("tagging.py", {"run_task4", "_fit_systems"}),
    "task2-tagging": ("tagging.py", {"run_task2_tagging", "_fit_systems"}),
}


def _chain(node: ast.AST) -> tuple[str, list[str]] | None:
    """``a["x"]["y"]`` -> ("a", ["x", "y"]); None when not a name with string keys."""
    keys: list[str] = []
    while isinstance(node, ast.Subscript):
        if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return None
        keys.insert(0, node.slice.value)
        node = node.value
    if isinstance(node, ast.Name) and keys:
        return node.id, keys
    return None


def _keys_read(module: str, functions: set[str] | None) -> set[tuple[str, ...]]:
    """Every settings path read as ``cfg["a"]["b"]`` (or through a name bound to
    ``cfg["a"]``) in the module's top-level functions (or only the named ones)."""
    tree = ast.parse((PACKAGE / module).read_text())
    paths: set[tuple[str, ...]] = set()
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or (functions and fn.name not in functions):
            continue
        roots: dict[str, tuple[str, ...]] = {"cfg": ()}
        for node in ast.walk(fn):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                c = _chain(node.value)
                if c is not None and c[0] == "cfg":
                    roots[node.targets[0].id] = tuple(c[1])
        for node in ast.walk(fn):
            c = _chain(node)
            if c is not None and c[0] in roots:
                paths.add(roots[c[0]] + tuple(c[1]))
    return paths


def test_one_packaged_file_per_recipe() -> None:
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(RECIPES)
    for name in RECIPES:
        doc = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
        assert doc.pop("recipe") == name
        _, cfg = load_config(name)
        assert cfg == doc == default_config(name)
        # the same kinds too (an integer is not a float here: merge checks kinds)
        assert repr(cfg) == repr(doc)


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_setting_the_code_reads_is_packaged(name: str) -> None:
    cfg = default_config(name)
    paths = _keys_read(*READERS[name])
    assert ("seed",) in paths and len(paths) >= 8  # the scan finds the reads
    for path in sorted(paths):
        node = cfg
        for i, key in enumerate(path):
            assert isinstance(node, dict) and key in node, \
                f"{name}: {'.'.join(path[:i + 1])} is read but not in configs/{name}.yaml"
            node = node[key]


def test_default_config_is_a_fresh_copy() -> None:
    a = default_config("esc10")
    a["cnn"]["max_epochs"] = 1
    assert default_config("esc10")["cnn"]["max_epochs"] == 140
    assert load_config("esc10")[1]["cnn"]["max_epochs"] == 140
    with pytest.raises(ValueError, match="unknown recipe 'nosuch'"):
        default_config("nosuch")


def test_user_file_and_set_override(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("recipe: esc10\ncnn: {max_epochs: 3}\nsystems: [cnn]\n")
    name, cfg = load_config(f, ["cnn.max_epochs=5", "lte.n_folds=2"])
    expected = default_config("esc10")
    expected["cnn"]["max_epochs"] = 5
    expected["systems"] = ["cnn"]
    expected["lte"]["n_folds"] = 2
    assert name == "esc10" and cfg == expected
    assert load_config(f)[1]["cnn"]["max_epochs"] == 3


@pytest.mark.parametrize("text, error, match", [
    ("recipe: esc10\ncnn: {epochs: 3}\n", KeyError, "unknown recipe setting 'cnn.epochs'"),
    ("recipe: esc10\nlearning_rate: 0.1\n", KeyError, "unknown recipe setting 'learning_rate'"),
    ("recipe: esc10\ncnn: {max_epochs: 2.5}\n", ValueError, "expected an integer"),
    ("recipe: esc10\nfeatures: 3\n", ValueError, "expected a mapping of settings"),
    ("cnn: {max_epochs: 3}\n", ValueError, "'recipe:' must be one of"),
    ("recipe: esc11\n", ValueError, "'recipe:' must be one of"),
    ("recipe: [esc10]\n", ValueError, "'recipe:' must be one of"),
])
def test_bad_user_file(tmp_path: Path, text: str, error: type, match: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(error, match=re.escape(match)):
        load_config(f)


def test_bad_set() -> None:
    with pytest.raises(KeyError, match="unknown recipe setting 'cnn.epochs'"):
        load_config("esc10", ["cnn.epochs=3"])
    with pytest.raises(ValueError, match="setting jobs: expected an integer >= 1"):
        load_config("dcase2016-task4", ["jobs=0"])
    with pytest.raises(ValueError, match="unknown recipe 'nosuch'"):
        load_config("nosuch")


def test_search_grids_switch_off_with_null_and_nothing_else_does() -> None:
    _, cfg = load_config("dcase2016-task2", ["cnn.min_gap_grid=null",
                                             "cnn.competition_grid=null",
                                             "cnn.competition_recordings=0"])
    c = cfg["cnn"]
    assert (c["min_gap_grid"], c["competition_grid"], c["competition_recordings"]) == (
        None, None, 0)
    with pytest.raises(ValueError, match="setting cnn.min_gap: expected a value"):
        load_config("dcase2016-task2", ["cnn.min_gap=null"])
    with pytest.raises(ValueError, match="setting cnn.competition_recordings: expected an "
                                         "integer >= 0"):
        load_config("dcase2016-task2", ["cnn.competition_recordings=-1"])


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_print_config_round_trip(name: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture) -> None:
    assert main(["recipe", name, "--print-config", "--set", "seed=3"]) == 0
    out = capsys.readouterr().out
    doc = yaml.safe_load(out)
    assert doc.pop("recipe") == name
    _, cfg = load_config(name, ["seed=3"])
    assert doc == cfg and repr(doc) == repr(cfg)
    # the printed text is itself a config file
    (tmp_path / "printed.yaml").write_text(out)
    assert load_config(tmp_path / "printed.yaml") == (name, cfg)
    assert main(["recipe", str(tmp_path / "printed.yaml"), "--print-config"]) == 0
    assert capsys.readouterr().out == out


def test_print_config_with_user_file_and_folds(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("recipe: dcase2016-task4\ngmm: {n_components: 4}\n")
    assert main(["train", str(f), "--print-config", "--test-folds", "5"]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["recipe"] == "dcase2016-task4"
    assert doc["gmm"]["n_components"] == 4 and doc["test_folds"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]  # nothing written


def test_no_settings_outside_the_packaged_files() -> None:
    assert not list((ROOT / "recipes").glob("*/config.yaml"))
    assert not list((ROOT / "recipes").glob("*/*.yml"))
    for p in PACKAGE.glob("*.py"):
        text = p.read_text()
        assert not re.search(r"\b[A-Z0-9_]*DEFAULTS\b", text), f"{p.name}: a defaults dict"
        assert not re.search(r"\bcfg\.get\(", text), f"{p.name}: a setting with a fallback"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_overrides_write_back_every_changed_setting(name: str) -> None:
    """``overrides`` gives --set arguments that load_config reads back as the same
    settings: numbers, flags, texts and lists, at every depth."""
    from audioscene.recipes import overrides

    base = default_config(name)
    assert overrides(name, base) == []
    changed: list[str] = []

    def change(d: dict, key: str) -> None:
        for k, v in d.items():
            if len(changed) >= 6:
                return
            if isinstance(v, dict):
                change(v, f"{key}{k}.")
            elif isinstance(v, bool):
                d[k] = not v
                changed.append(f"{key}{k}")
            elif isinstance(v, int):
                d[k] = v + 1
                changed.append(f"{key}{k}")
            elif isinstance(v, float):
                d[k] = v + 0.5
                changed.append(f"{key}{k}")

    cfg = yaml.safe_load(yaml.safe_dump(base))
    change(cfg, "")
    assert changed
    sets = overrides(name, cfg)
    assert [s.split("=", 1)[0] for s in sets] == changed
    assert load_config(name, sets)[1] == cfg
