"""Fingerprints do not depend on the Python version or the libcst version.

Each case builds a small virtual environment with another interpreter and another
libcst release, scans the fixtures there (pvcheck from this checkout, on PYTHONPATH)
and compares every fingerprint with this process's. Cases whose interpreter is not on
the machine are skipped with the reason.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.fingerprint_dump import fingerprints

REPO = Path(__file__).resolve().parent.parent
MATRIX = [("3.10", "libcst==1.1.0"), ("3.12", "libcst==1.4.0"), ("3.13", "libcst>=1.5")]
PROJECTS = ("zenml_churn", "zenml_recsys")

def interpreter(version: str) -> str | None:
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
        return found
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    return candidates[-1] if candidates else None


@pytest.mark.parametrize("version,libcst", MATRIX, ids=[f"py{v}-{c}" for v, c in MATRIX])
def test_same_fingerprints_on_other_python_and_libcst(tmp_path_factory, version, libcst):
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed on this machine")
    venv = tmp_path_factory.mktemp(f"py{version}")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    install = subprocess.run([*pip, libcst, "PyYAML", "tomli"], capture_output=True, text=True)
    if install.returncode != 0:
        pytest.skip(f"could not install {libcst} for Python {version}: {install.stderr.strip()[-300:]}")
    roots = [str(FIXTURES / name) for name in PROJECTS]
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(Path(__file__).with_name("fingerprint_dump.py")), *roots],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    assert json.loads(result.stdout) == fingerprints(roots), f"Python {sys.version} here vs {version}/{libcst}"
