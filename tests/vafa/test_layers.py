"""The shape of the code, checked on every run: dependencies point down only
(composition root > fronts > domains > customers > kernel), handlers live at module
level, web modules neither query nor roll back, and the fronts stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vafa.server import DOMAINS, load
from vafa.settings import ROOT

FRONTS = ("portal", "admin")
ROOT_PACKAGE = "vafa.server"
BASE_DOMAIN = "customers"
HTTP_DECORATORS = {"get", "post", "put", "patch", "delete", "route", "head"}


def layer(module: str) -> int | None:
    """Higher numbers may import lower ones, never the reverse."""
    top = module.split(".")[0]
    if module == ROOT_PACKAGE or module.startswith(ROOT_PACKAGE + "."):
        return 4
    if top in FRONTS:
        return 3
    if top == BASE_DOMAIN:
        return 1
    if top in DOMAINS:
        return 2
    if top == "vafa":
        return 0
    return None  # the standard library and third-party packages


def modules() -> list[tuple[str, Path]]:
    found = []
    for top in ("vafa", *FRONTS, *DOMAINS):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((name.removesuffix(".__init__"), path))
    return found


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_every_package_is_in_a_layer():
    assert set(DOMAINS) >= {BASE_DOMAIN}
    for name, _ in modules():
        assert layer(name) is not None, name


USES = {domain.name: set(domain.uses) for domain in load()}


@pytest.mark.parametrize(("name", "path"), modules(), ids=lambda value: str(value))
def test_dependencies_point_down(name, path):
    own = layer(name)
    top = name.split(".")[0]
    for imported in imports(path):
        other = layer(imported)
        if other is None or imported.split(".")[0] == top and other == own:
            continue
        if own == other == 2 and imported.split(".")[0] in USES.get(top, ()):
            continue  # a domain built on another (declared in `Domain.uses`)
        assert other < own, f"{name} (layer {own}) imports {imported} (layer {other})"


def test_a_domain_imports_only_the_domains_it_declares():
    # sms_codes and loyalty never import each other; partners builds on loyalty.
    assert "loyalty" not in USES["sms_codes"] and "sms_codes" not in USES["loyalty"]


def test_the_kernel_imports_no_domain_and_no_front():
    # The same rule as above, said the way the design says it.
    outside = set(FRONTS) | set(DOMAINS)
    for name, path in modules():
        if layer(name) == 0:
            bad = [i for i in imports(path) if i.split(".")[0] in outside]
            assert not bad, f"{name} imports {bad}"


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def test_no_route_handler_is_defined_inside_a_function():
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if inner is node or not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                routes = [d for d in inner.decorator_list if _decorator_name(d) in HTTP_DECORATORS]
                assert not routes, f"{name}: handler {inner.name} is defined inside {node.name}"


def web_modules() -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name, path in modules()
        if (".web" in name or name in ("portal.web", "admin.web")) and layer(name) in (0, 1, 2, 3)
    ]


def test_web_modules_neither_query_nor_roll_back():
    assert len(web_modules()) >= 6
    for name, path in web_modules():
        text = path.read_text()
        assert "select(" not in text, f"{name} builds a query; move it to queries.py"
        assert "rollback(" not in text, f"{name} rolls back; let the refusal do it"


@pytest.mark.parametrize(("front", "limit"), [("admin", 900), ("portal", 600)])
def test_fronts_stay_thin(front, limit):
    lines = sum(len(p.read_text().splitlines()) for p in (ROOT / front).rglob("*.py"))
    assert lines < limit, f"{front}/ has {lines} lines"
