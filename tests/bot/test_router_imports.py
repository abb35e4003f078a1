"""Routers don't import each other: what two routers share lives in a shared module
(`trt.bot.navigation`, `trt.bot.screens`, the wizard package), and only the dispatcher
imports router modules. Read from the source with `ast`, so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import trt.bot

BOT = Path(trt.bot.__file__).parent
ROUTERS = BOT / "routers"
ROUTERS_PKG = "trt.bot.routers"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.Module) -> set[str]:
    """Every module a file names in an import, anywhere in it (lazy imports included);
    `from a.b import c` names both `a.b` and `a.b.c`, which may be a module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def defines_router(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.FunctionDef) and node.name == "make_router" for node in tree.body
    )


def bot_modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(BOT.rglob("*.py"))}


def test_no_router_imports_another_router():
    """A module with a `make_router` is imported by the dispatcher alone: no router (and no
    helper) reaches into a router module for its handlers or privates."""
    modules = bot_modules()
    routers = {name for name, tree in modules.items() if defines_router(tree)}
    assert {"trt.bot.routers.start", "trt.bot.routers.fallback"} <= routers  # the walk works
    offenders = {
        name: sorted(imported(tree) & routers)
        for name, tree in modules.items()
        if name != "trt.bot.dispatcher" and imported(tree) & routers
    }
    assert offenders == {}


def test_nothing_under_routers_imports_from_routers():
    """`trt/bot/routers/*.py` never names `trt.bot.routers` in an import."""
    offenders = {
        path.name: sorted(
            name for name in imported(ast.parse(path.read_text())) if name.startswith(ROUTERS_PKG)
        )
        for path in sorted(ROUTERS.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_routers_package_holds_only_routers():
    """Every module in `trt/bot/routers/` is a router (helpers live beside the screens)."""
    not_routers = [
        path.name
        for path in sorted(ROUTERS.glob("*.py"))
        if path.name != "__init__.py" and not defines_router(ast.parse(path.read_text()))
    ]
    assert not_routers == []
