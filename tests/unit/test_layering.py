"""The layers, enforced: who may import whom (read from the source) and no Slack in the core.

Rules:
- `bot.domain` imports nothing of ours but `bot.domain`, no database, Slack or HTTP library, and
  does not read the environment.
- `bot.ports` imports only `bot.domain` and the standard library.
- `integrations` (the adapters behind the ports) imports only `bot.domain`, `bot.ports` and itself.
- the core (`bot.store|release|rollout|timing|notify`) imports no `bot.app`, `commands`,
  `console` or `integrations`.
- nothing outside `bot.app` imports `bot.app`; `commands` and `console` are adapters that may use
  the core but never the composition root.

Imports inside functions count. An import under `if TYPE_CHECKING:` is a type name only and is
exempt from the rules about the layers above (core → adapters/app), but not from the purity of the
domain and the ports: a type annotation is a dependency too.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "integrations", "commands", "console")
OURS = PACKAGES
CORE = ("bot.store", "bot.release", "bot.rollout", "bot.timing", "bot.notify")
DOMAIN_FORBIDDEN_LIBRARIES = ("sqlalchemy", "sqlmodel", "slack_bolt", "slack_sdk", "httpx")
ENVIRONMENT_READS = ("environ", "getenv", "environb", "getenvb")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, "bot.domain.strategies"
    imported: str  # "bot.store.models" (or "os.environ" for a read of the environment)
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._type_only = 0

    def _add(self, imported: str, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        self.found.append(Import(self.module, imported, line, self._type_only > 0))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._type_only += 1
            for child in node.body:
                self.visit(child)
            self._type_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            # `from bot.ports import deploy` imports the module bot.ports.deploy
            self._add(f"{source}.{alias.name}" if alias.name != "*" else source, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ENVIRONMENT_READS
        ):
            self._add(f"os.{node.attr}", node)
        self.generic_visit(node)


def imports_of(path: Path) -> list[Import]:
    collector = _Collector(_module_name(path), path.name == "__init__.py")
    collector.visit(ast.parse(path.read_text(), filename=str(path)))
    return collector.found


def all_imports() -> Iterator[Import]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield from imports_of(path)


def _top(name: str) -> str:
    return name.split(".")[0]


def broken_rules(found: Import) -> Iterator[str]:
    """The names of the rules that one import breaks."""
    module, imported = found.module, found.imported
    ours = _within(imported, *OURS)
    if _within(module, "bot.domain"):
        if ours and not _within(imported, "bot.domain"):
            yield "domain imports only domain"
        if _top(imported) in DOMAIN_FORBIDDEN_LIBRARIES:
            yield "domain uses no database, Slack or HTTP library"
        if imported.startswith("os.") and imported.split(".")[1] in ENVIRONMENT_READS:
            yield "domain does not read the environment"
    if _within(module, "bot.ports"):
        if ours and not _within(imported, "bot.domain", "bot.ports"):
            yield "ports import only domain"
        if not ours and _top(imported) not in sys.stdlib_module_names:
            yield "ports import only domain and the standard library"
    if found.type_only:
        return
    if (
        _within(module, "integrations")
        and ours
        and not _within(imported, "bot.domain", "bot.ports", "integrations")
    ):
        yield "adapters import only domain, ports and adapters"
    if _within(module, *CORE) and _within(
        imported, "bot.app", "commands", "console", "integrations"
    ):
        yield "core imports no app, adapter or Slack listener"
    if not _within(module, "bot.app") and _within(imported, "bot.app"):
        yield "nothing but the composition root imports bot.app"


def violations() -> list[str]:
    return sorted(
        {
            f"{found.module} → {found.imported} ({rule})"
            for found in all_imports()
            for rule in broken_rules(found)
        }
    )


def test_every_module_keeps_to_its_layer() -> None:
    scanned = {(found.module, found.imported) for found in all_imports()}
    # The scan reads the real tree: a few imports every layer has are among what it saw.
    assert ("bot.rollout.engine", "bot.ports.deploy.DeployRequest") in scanned
    assert ("integrations.deploy.webhook", "bot.domain.callbacks.sign") in scanned
    assert ("commands.notes_commands", "bot.notify.announcements.release_notes") in scanned
    found = violations()
    print("\n".join(found))
    assert found == [], "layer violations:\n" + "\n".join(found)


def _rules_for(source: str, module: str) -> list[str]:
    collector = _Collector(module, is_package=False)
    collector.visit(ast.parse(source))
    return [rule for found in collector.found for rule in broken_rules(found)]


def test_the_rules_see_what_hides_in_functions_type_blocks_and_attributes() -> None:
    """The checker itself: each kind of import a rule must see is seen."""
    assert _rules_for("def f():\n    from bot.store import models\n", "bot.domain.x") == [
        "domain imports only domain"
    ]
    assert _rules_for("import os\nx = os.environ.get('A')\n", "bot.domain.x") == [
        "domain does not read the environment"
    ]
    assert _rules_for("from os import getenv\n", "bot.domain.x") == [
        "domain does not read the environment"
    ]
    assert _rules_for("import httpx\n", "bot.domain.x") == [
        "domain uses no database, Slack or HTTP library"
    ]
    assert _rules_for("from ..store import models\n", "bot.domain.x") == [
        "domain imports only domain"
    ]
    type_block = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import commands.app\n"
    assert _rules_for(type_block, "bot.release.plans") == []
    assert _rules_for(type_block.replace("    import", "    pass\nimport"), "bot.release.x") == [
        "core imports no app, adapter or Slack listener"
    ]
    assert _rules_for("import pydantic\n", "bot.ports.x") == [
        "ports import only domain and the standard library"
    ]
    assert _rules_for("from bot.store.db import x\n", "integrations.deploy.x") == [
        "adapters import only domain, ports and adapters"
    ]
    assert _rules_for("from bot.app import bootstrap\n", "commands.app") == [
        "nothing but the composition root imports bot.app"
    ]
    assert _rules_for("from bot.app import bootstrap\n", "bot.app.cli") == []


def test_no_core_module_pulls_in_slack() -> None:
    """Importing every module but the composition root (bot.app) loads no Slack library."""
    modules = sorted(
        m.name
        for m in pkgutil.walk_packages(bot.__path__, prefix="bot.")
        if not _within(m.name, "bot.app")
    )
    assert "bot.release.plans" in modules and "bot.rollout.engine" in modules
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "slack = [m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk')]\n"
        "print(json.dumps(sorted(slack)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert json.loads(result.stdout) == []
