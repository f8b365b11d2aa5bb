"""Data flows one way: routers -> services -> engine, and only `app/convert.py` knows both sides.

The rules of each layer (README, "Layout"), checked on the import statements of every module:

* `matching/` is a library: it imports nothing of the app, the schemas or the web and storage
  stacks (see also tests/matching/test_purity.py, which checks what importing it loads).
* `schemas/` are pydantic models of the API: they import nothing of the app, and of the engine
  only constants (its limits), never behaviour.
* Routers and the command line are interfaces: they parse, call a service and return what
  `app/convert.py` makes; they import neither the engine nor storage.
* Services and storage know no HTTP and no response schemas.
* Storage imports no service, and its table modules import only `app.storage.base`.
* Only `app/convert.py` (and `app/errors.py`, which maps errors of both to HTTP) import both
  `schemas` and `matching`.
* The app imports the engine through `matching` itself, and only the names in `matching.__all__`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import matching

ROOT = Path(__file__).resolve().parent.parent


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import statement of a file; `import x` gives (x, [])."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def top_level(module: str) -> str:
    return module.split(".")[0]


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def offending(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    """`file: module` for every import of a banned module or package (prefix match)."""
    return [
        f"{name(path)}: {module}"
        for path in paths
        for module, _ in imports(path)
        if any(module == b or module.startswith(b + ".") for b in banned)
    ]


WEB = ("fastapi", "starlette", "uvicorn")


def test_the_engine_imports_nothing_of_the_app_the_schemas_or_the_web_and_storage_stacks() -> None:
    banned = ("app", "schemas", "pydantic", "sqlalchemy", *WEB)
    assert offending(modules("matching"), banned) == []


def test_schemas_import_no_app_and_only_constants_of_the_engine() -> None:
    assert offending(modules("schemas"), ("app", *WEB)) == []
    behaviour = [
        f"{name(path)}: {module}.{item}"
        for path in modules("schemas")
        for module, names in imports(path)
        if top_level(module) == "matching"
        for item in names or ["*"]
        if module != "matching" or not item.isupper()
    ]
    assert behaviour == []


def test_routers_and_the_command_line_reach_the_engine_and_storage_only_through_services() -> None:
    interfaces = modules("app/routers") + modules("app/cli")
    assert offending(interfaces, ("matching", "app.storage")) == []


def test_services_and_storage_know_no_http_and_no_response_schemas() -> None:
    inner = modules("app/services") + modules("app/storage")
    banned = ("schemas", "app.convert", "app.routers", "app.dependencies", "app.cli", *WEB)
    assert offending(inner, banned) == []


def test_storage_calls_no_service_and_its_tables_need_only_the_base() -> None:
    storage = modules("app/storage")
    assert offending(storage, ("app.services", "matching")) == []
    tables = [p for p in storage if p.name not in ("__init__.py", "base.py", "database.py")]
    assert offending(tables, ("app.storage.database",)) == []


def test_only_convert_and_the_error_mapping_import_both_schemas_and_the_engine() -> None:
    both = []
    for path in modules("app"):
        roots = {top_level(module) for module, _ in imports(path)}
        if {"schemas", "matching"} <= roots:
            both.append(name(path))
    assert both == ["app/convert.py", "app/errors.py"]


def test_the_app_uses_only_the_engines_public_names() -> None:
    private = [
        f"{name(path)}: {module}"
        for path in modules("app")
        for module, _ in imports(path)
        if top_level(module) == "matching" and module != "matching"
    ]
    assert private == []
    unexported = [
        f"{name(path)}: {item}"
        for path in modules("app") + modules("schemas")
        for module, names in imports(path)
        if module == "matching"
        for item in names
        if item not in matching.__all__
    ]
    assert unexported == []


def test_the_engines_public_names_are_sorted_and_exist() -> None:
    assert matching.__all__ == sorted(matching.__all__)
    assert all(hasattr(matching, item) for item in matching.__all__)


@pytest.mark.parametrize("package", ["matching", "schemas", "app"])
def test_no_module_imports_a_private_module_of_another_package(package: str) -> None:
    leaks = [
        f"{name(path)}: {module}"
        for path in modules(package)
        for module, _ in imports(path)
        if top_level(module) in ("matching", "schemas", "app")
        and top_level(module) != package
        and any(part.startswith("_") for part in module.split(".")[1:])
    ]
    assert leaks == []
