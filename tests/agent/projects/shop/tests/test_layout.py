"""The project's own tests: they need no database, only the sources."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_parses():
    for path in (ROOT / "app").rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_models_declare_tables():
    tree = ast.parse((ROOT / "app" / "models.py").read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert {"Customer", "Order"} <= names
