"""The package's public names are exactly those of tests/conformance/api.json, which node/test/api-names.test.mjs
checks for the Node package too: the two APIs cannot drift apart (a name added to one package must be added to
the manifest, and then exists in the other or says why not)."""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib
from typing import Any, Dict, List, Optional, Set

import pytest

import zcrm_extid
from zcrm_extid import exceptions

API: Dict[str, Any] = json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "tests" / "conformance" / "api.json").read_text()
)
MODULES = ["zcrm_extid", "zcrm_extid.aio", "zcrm_extid.testing", "zcrm_extid._native"]


def entry_name(entry: Any) -> Optional[str]:
    """A param or field entry's Python name (None: not in Python)."""
    if isinstance(entry, str):
        return entry
    return entry.get("python")


def names(entries: List[Any]) -> Set[str]:
    return {n for n in map(entry_name, entries) if n is not None}


def member_name(canonical: str, spec: Dict[str, Any]) -> Optional[str]:
    return spec["python"] if "python" in spec else canonical


def find(name: str) -> Any:
    for module in MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise AssertionError(f"{name} is in none of {MODULES}")


def params(callable_: Any) -> Set[str]:
    return {p for p in inspect.signature(callable_).parameters if p not in ("self", "cls")}


def public_methods(cls: type) -> Set[str]:
    out = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, property) or type(static).__name__ == "getset_descriptor":
            continue
        if callable(getattr(cls, name)):
            out.add(name)
    return out


def properties(cls: type) -> Set[str]:
    out = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, property) or type(static).__name__ == "getset_descriptor":
            out.add(name)
    return out


def check_method(where: str, method: Any, spec: Dict[str, Any]) -> None:
    if spec["params"] == "any":
        assert spec.get("why"), f"{where}: params 'any' needs a why"
        return
    assert params(method) == names(spec["params"]), where


CLASSES = [(name, spec) for name, spec in API["classes"].items() if spec.get("python", name) is not None]


@pytest.mark.parametrize("name,spec", CLASSES, ids=[c[0] for c in CLASSES])
def test_classes_methods_parameters_and_properties(name: str, spec: Dict[str, Any]) -> None:
    cls = find(name)
    if "same_methods_as" in spec:
        base = API["classes"][spec["same_methods_as"]]
        methods = {k: v for k, v in base["methods"].items() if k not in spec["without"]}
        methods.update(spec.get("extra_methods", {}))
        ctor: Optional[Dict[str, Any]] = base.get("constructor")
    else:
        methods = spec.get("methods", {})
        ctor = spec.get("constructor")
    expected = {member_name(k, v) for k, v in methods.items()} - {None}
    assert public_methods(cls) == expected, name
    for canonical, method_spec in methods.items():
        python = member_name(canonical, method_spec)
        if python is not None:
            check_method(f"{name}.{python}", getattr(cls, python), method_spec)
    if ctor is not None:
        assert params(cls) == names(ctor["params"]), f"{name}()"
    assert properties(cls) == set(spec.get("properties", [])), name


@pytest.mark.parametrize("name", [k for k in API["results"] if k != "$comment"])
def test_result_fields(name: str) -> None:
    assert properties(find(name)) == names(API["results"][name]), name


def test_functions() -> None:
    for canonical, spec in API["functions"].items():
        python = member_name(canonical, spec)
        if python is None:
            assert spec.get("why"), canonical
            continue
        value = getattr(zcrm_extid, python)
        if python.startswith("__"):
            assert isinstance(value, str) and value, python
            continue
        assert params(value) == names(spec["params"]), python


def test_error_fields_and_classes() -> None:
    errors = API["errors"]
    classes = [getattr(exceptions, n) for n in exceptions.__all__]
    assert [c.__name__ for c in classes] == errors["python_classes"]
    attributes: Set[str] = set()
    for cls in classes:
        for klass in cls.__mro__:
            attributes |= {a for a in getattr(klass, "__annotations__", {}) if not a.startswith("_")}
    assert attributes == names(errors["fields"])


def test_exports() -> None:
    for module, expected in API["exports"]["python"].items():
        if module != "zcrm_extid._native":  # the compiled module's __all__ is all it has; only the name is checked
            assert sorted(importlib.import_module(module).__all__) == sorted(expected), module
        for name in expected:
            assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_every_difference_says_why() -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            sides = "python" in node or "node" in node
            differs = sides and (node.get("python") is None or node.get("node") is None or node["python"] != node["node"])
            if differs and not path.endswith("exports"):
                assert node.get("why"), f"{path}: a difference needs a why"
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(API, "api")
