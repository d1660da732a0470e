"""PEP 517 build backend of zcrm-extid: maturin's, after one check that a Rust toolchain is there.

Installing from source (the sdist, ``pip install ./python``) compiles the Rust core with cargo. Where cargo is
missing, maturin's own backend downloads rustup into a temporary directory (through ``puccinialin``); on a machine
without that network access or without a C linker the user gets a long traceback about a download instead of the
one fact that matters. This wrapper (loaded in-tree through ``backend-path`` in pyproject.toml, shipped in the
sdist) stops first, with one line that says what to install. Everything else is maturin's backend unchanged.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import maturin

MISSING_CARGO = (
    "zcrm-extid: building from source needs Rust's cargo, which is not on PATH: install Rust "
    "(https://rustup.rs, or your system's rust/cargo package) and retry, or install a prebuilt wheel "
    "(pip install --only-binary=:all: zcrm-extid)"
)


def _require_cargo() -> None:
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo or not os.path.exists(cargo):
        # SystemExit with a message: pip shows this single line as the hook's output, with no traceback.
        sys.exit(MISSING_CARGO)


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings: Any = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_sdist(config_settings)


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    _require_cargo()
    return maturin.get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    _require_cargo()
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: Any = None) -> str:
    _require_cargo()
    return maturin.prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    _require_cargo()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    _require_cargo()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    _require_cargo()
    return maturin.build_sdist(sdist_directory, config_settings)
