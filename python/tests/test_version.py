"""`__version__` is the compiled module's crate version, which is the Cargo workspace's, and the installed
distribution's."""

from __future__ import annotations

import pathlib
import re
from importlib.metadata import version

import zcrm_extid
from zcrm_extid import _native


def workspace_version() -> str:
    text = (pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml").read_text(encoding="utf-8")
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert match, "no version in [workspace.package]"
    return match.group(1)


def test_version_is_the_crates_the_workspaces_and_the_distributions() -> None:
    assert zcrm_extid.__version__ == _native.__version__ == workspace_version()
    assert version("zcrm-extid") == zcrm_extid.__version__
