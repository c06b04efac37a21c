"""The installed package, not the source tree: a wheel built from this repository,
installed into a new virtual environment, carries every recipe's settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from audioscene.recipes import RECIPES, load_config

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _check(cmd: list[str], **kw: object) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600, **kw)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def _sources(dest: Path) -> Path:
    """A copy of what the build reads, so that no build/ folder of the repository (which
    may hold files deleted since) ends up in the wheel."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "audioscene", dest / "audioscene",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def test_wheel_ships_the_recipe_configs(tmp_path: Path) -> None:
    try:
        import setuptools  # noqa: F401  (the build backend, used without isolation)
    except ImportError:
        pytest.skip("setuptools is not installed: pip wheel --no-build-isolation cannot build")
    py = sys.executable

    # build
    dist = tmp_path / "dist"
    _check([py, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
            "-q", "-w", str(dist), str(_sources(tmp_path / "src"))])
    (wheel,) = dist.glob("audioscene-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {f"audioscene/recipes/configs/{n}.yaml" for n in RECIPES} <= names
    bundled = {f"audioscene/bundled/{m}/{f}" for m in ("esc10-classifier", "esc10-detector")
               for f in ("model.json", "arrays.npz", "MODEL_CARD.md")}
    assert bundled <= names, sorted(bundled - names)
    with zipfile.ZipFile(wheel) as z:
        size = sum(z.getinfo(n).file_size for n in bundled)
    assert size <= 15_000_000, f"bundled models: {size} bytes"

    # a new environment with only the wheel; the dependencies are seen through a .pth
    # line (a path only: the editable install's hooks in that folder do not run)
    venv = tmp_path / "venv"
    _check([py, "-m", "venv", "--without-pip", str(venv)])
    vpy = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    paths = _check([str(vpy), "-c", "import sysconfig; p = sysconfig.get_paths(); "
                    "print(p['purelib']); print(p['scripts'])"]).splitlines()
    site, scripts = Path(paths[0]), Path(paths[1])
    _check([py, "-m", "pip", "--python", str(vpy), "install", "--no-deps", "--no-index", "-q",
            str(wheel)])
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_test_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))

    elsewhere = tmp_path / "elsewhere"  # a working folder outside the repository
    elsewhere.mkdir()
    where = _check([str(vpy), "-c", "import audioscene; print(audioscene.__file__)"],
                   cwd=elsewhere).strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where

    exe = shutil.which("audioscene", path=str(scripts))
    assert exe is not None, f"no audioscene command in {scripts}"
    procs = {name: subprocess.Popen([exe, "recipe", name, "--print-config"], cwd=elsewhere,
                                    env=_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name in sorted(RECIPES)}
    assert "--print-config" in _check([exe, "recipe", "esc10", "--help"], cwd=elsewhere)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{err}"
        doc = yaml.safe_load(out)
        assert doc.pop("recipe") == name
        assert doc == load_config(name)[1], name

    # the bundled models load from the installed package, without the repository
    listing = _check([exe, "models"], cwd=elsewhere)
    assert "esc10-classifier" in listing and "esc10-detector" in listing
    assert "CC BY 3.0" in _check([exe, "models", "esc10-detector"], cwd=elsewhere)
    loaded = _check([str(vpy), "-c", "from audioscene.bundled import resolve_model\n"
                     "from audioscene.models import load_model\n"
                     "for cmd in ('detect', 'classify'):\n"
                     "    p, bundled = resolve_model(None, cmd)\n"
                     "    m = load_model(p)\n"
                     "    print(p, bundled, type(m).__name__, len(m.classes_))\n"],
                    cwd=elsewhere).splitlines()
    for line, kind in zip(loaded, ("CNNEventDetector", "ClipClassifier")):
        path, flag, got, n = line.split()
        assert Path(path).resolve().is_relative_to(venv.resolve()), path
        assert (flag, got, n) == ("True", kind, "10")
