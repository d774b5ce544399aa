"""What the engine does to be fast must not change what it finds: parallel scans, shared expressions, the
fast paths of the module summary and the helpers extractors call most."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from analyzers.engine import PARALLEL_THRESHOLD, Workspace, _chunks
from analyzers.pysyntax import Attr, Call, Expr, Name, Raw, iter_calls, summarize

MODEL = '''from sqlalchemy import Column, ForeignKey, Integer
from app.db import Base


class Order{n}(Base):
    __tablename__ = "orders{n}"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"))
'''

ROUTER = '''from fastapi import APIRouter, Depends
from app.db import get_db

router = APIRouter(prefix="/orders{n}")


@router.get("/")
def list_orders{n}(db=Depends(get_db)):
    rows = db.query(Order).all()
    for row in rows:
        audit(row.id)
    return rows
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough files for helper processes."""
    root = tmp_path_factory.mktemp("project")
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "db.py").write_text("from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
                                        "def get_db():\n    yield None\n", encoding="utf-8")
    for n in range(PARALLEL_THRESHOLD * 2 + 7):
        (root / "app" / f"model{n}.py").write_text(MODEL.format(n=n), encoding="utf-8")
        (root / "app" / f"router{n}.py").write_text(ROUTER.format(n=n), encoding="utf-8")
    return root


def scanned(root: Path, jobs: int, in_thread: bool = False) -> Workspace:
    workspace = Workspace(root)
    if in_thread:  # as the language server scans: from a background thread
        thread = threading.Thread(target=lambda: workspace.scan(jobs=jobs))
        thread.start()
        thread.join()
    else:
        workspace.scan(jobs=jobs)
    return workspace


def test_parallel_scans_equal_the_serial_scan_fact_for_fact(project: Path) -> None:
    serial = scanned(project, jobs=1)
    for parallel in (scanned(project, jobs=2), scanned(project, jobs=3), scanned(project, jobs=2, in_thread=True)):
        assert list(parallel.files) == list(serial.files)  # the same order too: later steps iterate it
        assert parallel.files == serial.files
        assert parallel.check().all_findings() == serial.check().all_findings()


def test_chunks_cover_every_file_once() -> None:
    for count in (0, 1, 5, 64, 1000, 1201):
        for processes in (2, 3, 8):
            chunks = _chunks(count, processes)
            assert [index for chunk in chunks for index in chunk] == list(range(count))


def test_an_outermost_call_is_one_expression_wherever_it_is_kept() -> None:
    module = summarize(b"def f(db):\n    rows = db.query(A).all()\n    return g(rows)\n", "m", "m.py")
    fn = module.functions[0]
    assert fn.assigns[0].value is fn.calls[0]
    assert fn.returns_values[0] is fn.calls[1]


def test_class_bodies_keep_their_calls_out_of_the_module_calls() -> None:
    module = summarize(b"x = f()\nclass A:\n    y = g()\n    def m(self, z=h()):\n        k()\n", "m", "m.py")
    assert [call.func_name for call in module.calls] == ["f"]
    assert [assign.targets for assign in module.assigns] == [("x",)]
    assert [call.func_name for call in module.functions[0].calls] == ["k"]
    assert isinstance(module.classes[0].assigned("y"), Call)


def attribute_chain(length: int) -> str:
    return "a" + "".join(f".b{index}" for index in range(length))


def test_dotted_names_up_to_the_depth_limit() -> None:
    short = summarize(f"x = {attribute_chain(40)}\n".encode(), "m", "m.py").assigns[0].value
    assert isinstance(short, Name) and short.dotted == attribute_chain(40)
    # Deeper than the summary goes: the innermost part is kept as text, the chain as attributes around it.
    deep = summarize(f"x = {attribute_chain(45)}\n".encode(), "m", "m.py").assigns[0].value
    assert isinstance(deep, Attr) and deep.attr == "b44"
    inner: Expr = deep
    while isinstance(inner, Attr):
        inner = inner.value
    assert isinstance(inner, Raw)


def test_dotted_names_across_spaces_and_after_calls() -> None:
    module = summarize(b"x = a . b.c\ny = f().b.c\nz = a.\n", "m", "m.py")
    spaced = module.assigns[0].value
    assert isinstance(spaced, Name) and spaced.dotted == "a.b.c"
    after_call = module.assigns[1].value
    assert isinstance(after_call, Attr) and after_call.attr == "c" and isinstance(after_call.value, Attr)


def test_iter_calls_order_is_outermost_first_then_callee_arguments_keywords() -> None:
    module = summarize(b"f(g(h()), [i()], k=j(), *rest).m(n())\n", "m", "m.py")
    names = [call.func_name for call in iter_calls(module.calls[0])]
    assert names == ["m", "f", "g", "h", "i", "j", "n"]
    assert list(iter_calls(None)) == []
    assert list(iter_calls(Name(module.calls[0].span, "x"))) == []


def test_module_resolve_follows_imports() -> None:
    module = summarize(b"import sqlalchemy as sa\nfrom app import db\n", "m", "m.py")
    assert module.resolve("sa.Column") == "sqlalchemy.Column"
    assert module.resolve("sa") == "sqlalchemy"
    assert module.resolve("db.session.query") == "app.db.session.query"
    assert module.resolve("other.x") == "other.x"
    assert module.resolve("sa.") == "sqlalchemy"  # a half-typed attribute


def test_non_ascii_sources_keep_character_columns() -> None:
    module = summarize("s = 'é'; t = f(a.b)\n".encode(), "m", "m.py")
    call = module.assigns[1].value
    assert isinstance(call, Call) and call.span.start.column == 13 and call.close.column == 18
