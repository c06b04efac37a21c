"""Shared fixtures. Tests that need the real audio in ``../shared/data`` (or the folder
named by ``AUDIOSCENE_DATA``) skip without it, except in CI (``CI=true``), where its
absence is a failure."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("AUDIOSCENE_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if not (d / "dcase2016_task2").is_dir() or not (d / "esc10").is_dir():
        msg = f"real audio not found at {d} (set AUDIOSCENE_DATA)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg + "; CI requires it")
        pytest.skip(msg)
    return d


@pytest.fixture(scope="session")
def dev_mixture(shared_data: Path) -> Path:
    return (shared_data / "dcase2016_task2" / "dcase2016_task2_dev" / "sound"
            / "dev_1_ebr_0_nec_3_poly_1.flac")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture) -> Callable[[list[str]], tuple[int, str, str]]:
    """``run_cli(args)`` runs ``audioscene args`` in this process and returns the exit
    status (argparse usage errors included), standard output and standard error."""
    from audioscene.cli import main

    def run(args: list[str]) -> tuple[int, str, str]:
        try:
            code = main(args)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code)
        out, err = capsys.readouterr()
        return code, out, err

    return run
