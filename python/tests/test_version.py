"""The package's version is the Cargo workspace's, in the import and in the installed metadata."""

import pathlib
import re
from importlib.metadata import version

import zcrm_extid

CARGO_TOML = pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml"


def workspace_version() -> str:
    text = CARGO_TOML.read_text(encoding="utf-8")
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert match, "no version in [workspace.package]"
    return match.group(1)


def test_version_is_the_workspace_version():
    assert zcrm_extid.__version__ == workspace_version()
    assert version("zcrm-extid") == zcrm_extid.__version__
