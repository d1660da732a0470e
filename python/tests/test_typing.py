"""`mypy --strict` (with pandas-stubs) accepts the README's Python examples and idiomatic code
(tests/typing/examples.py) against the package's stubs, and refuses what the package refuses."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pandas_stubs() -> None:
    try:
        version("pandas-stubs")
    except PackageNotFoundError:
        if os.environ.get("CI"):
            raise AssertionError(".ci/run installs pandas-stubs: the README's pandas example must be type-checked")
        pytest.skip("pandas-stubs is not installed (pip install pandas-stubs; .ci/run does)")


def mypy(*paths: pathlib.Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(ROOT / "target" / "mypy"), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_itself_type_checks_strictly() -> None:
    mypy(ROOT / "python" / "zcrm_extid")


def test_idiomatic_code_type_checks_strictly() -> None:
    pandas_stubs()
    mypy(pathlib.Path(__file__).parent / "typing" / "examples.py")


def test_the_readme_python_examples_type_check_strictly(tmp_path: pathlib.Path) -> None:
    pandas_stubs()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) >= 6, f"{len(blocks)} python blocks in README.md"
    files = []
    for i, code in enumerate(blocks):
        path = tmp_path / f"readme_block_{i}.py"
        path.write_text(code, encoding="utf-8")
        files.append(path)
    mypy(*files)
