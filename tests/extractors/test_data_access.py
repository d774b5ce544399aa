"""The data-access extractor: call sites per file (queries, built SQL, commits, writes, connections) and the
per-request functions it adds to the call graph, through the real engine where files meet."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import data_access
from analyzers.facts import SourceFile
from analyzers.model import CallSite, Project
from analyzers.pysyntax import summarize
from tests.projects import resolve_broken_project


def sites(text: str, kind: str | None = None, path: str = "app/views.py") -> list[CallSite]:
    data = textwrap.dedent(text).lstrip().encode()
    module = path.removesuffix(".py").replace("/", ".")
    source = SourceFile(path, "python", data, summarize(data, module, path))
    found = [record for record in data_access.extract(source) if isinstance(record, CallSite)]
    return [site for site in found if kind is None or site.kind == kind]


def line(site: CallSite) -> int:
    return site.location.span.start.line + 1


def build(root: Path, files: dict[str, str]) -> Project:
    (root / "pyproject.toml").write_text('[tool.plumbline]\ndatabase = "postgresql"\n')
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


# --------------------------------------------------------------------------------------------- queries


def test_queries_of_each_orm_are_recognised() -> None:
    found = sites("""
        from django.shortcuts import get_object_or_404
        from sqlalchemy import select

        def view(db, session, request, cursor):
            db.query(Order).filter(Order.id == 1).first()
            session.get(Customer, 3)
            session.execute(select(Order).where(Order.id == 2))
            db.session.scalars(select(Item)).all()
            Order.query.filter_by(id=1).first()
            Order.objects.filter(id=1)
            get_object_or_404(Order, pk=1)
            cursor.execute("SELECT * FROM orders")
            cache.get(Order, 1)
            requests.get("https://example.com")
            data.get("key")
    """, "db_query")
    assert [(site.detail["orm"], site.detail["model"]) for site in found] == [
        ("sqlalchemy", "Order"), ("sqlalchemy", "Customer"), ("sqlalchemy", "Order"), ("sqlalchemy", "Item"),
        ("flask_sqlalchemy", "Order"), ("django", "Order"), ("django", "Order"), ("sql", "?")]


def test_writes_are_not_read_queries() -> None:
    found = sites("""
        def view():
            for row in rows:
                Order.objects.create(id=row)
                Order.objects.filter(id=row).update(status="x")
                Order.query.filter_by(id=row).delete()
    """, "db_query")
    assert found == []


def test_only_the_loop_body_repeats_not_its_iterable() -> None:
    found = sites("""
        from sqlalchemy import select

        def view(db, ids):
            for order in db.query(Order).all():
                db.get(Customer, order.customer_id)
            names = [db.get(Customer, i).name for i in db.scalars(select(Customer.id)).all()]
            nested = list(db.get(Item, i) for i in ids)
            while True:
                batch = db.query(Order).limit(10).all()
    """, "db_query")
    assert [(line(site), site.in_loop) for site in found] == [
        (4, False), (5, True), (6, True), (6, False), (7, True), (9, False)]
    assert found[1].detail["loop_over"] == "db.query(Order)"
    assert "loop_over" not in found[4].detail


def test_loops_over_constants_do_not_repeat_queries() -> None:
    found = sites("""
        STATUSES = ("new", "paid")

        def view(db):
            for status in ["new", "paid"]:
                Order.objects.filter(status=status).count()
            for status in STATUSES:
                Order.objects.filter(status=status).count()
            for status in OrderStatus:
                Order.objects.filter(status=status).count()
            pending = []
            for order_id in pending:
                Order.objects.get(id=order_id)
    """, "db_query")
    assert [site.in_loop for site in found] == [False, False, False, True]


def test_loop_over_rows_held_in_a_local() -> None:
    found = sites("""
        from sqlalchemy import select

        def job(db):
            orders = db.scalars(select(Order)).all()
            for order in orders:
                db.get(Customer, order.customer_id)
    """, "db_query")
    assert found[-1].in_loop and found[-1].detail["loop_over"] == "db.scalars(select(Order))"


def test_chunked_in_queries_are_marked_batched() -> None:
    found = sites("""
        from sqlalchemy import select

        def view(db, chunks):
            for chunk in chunks:
                db.scalars(select(Order).where(Order.id.in_(chunk))).all()
                Order.objects.filter(id__in=chunk)
                Order.objects.get(id=chunk)
    """, "db_query")
    assert [site.detail.get("batched") for site in found] == ["true", "true", None]


def test_loop_calls_to_functions_are_recorded() -> None:
    found = sites("""
        from app.services import load

        def helper(x):
            return x

        def view(ids):
            for i in ids:
                load(i)
                helper(i)
                print(i)
    """, "loop_call")
    assert [site.callee for site in found] == ["app.services.load", "app.views.helper"]


# --------------------------------------------------------------------------------------------- unbounded reads


def test_whole_table_reads_need_no_filter_and_materialisation() -> None:
    found = sites("""
        from sqlalchemy import func, select

        def view(db):
            a = db.query(Order).all()
            b = db.query(Order).filter(Order.id > 1).all()
            c = db.scalars(select(Order).order_by(Order.id)).all()
            d = db.scalars(select(Order).limit(5)).all()
            e = Order.objects.all()
            f = list(Order.objects.all())
            g = len(Order.query.all())
            h = db.execute(select(func.count(Order.id))).scalar()
            for order in Order.objects.order_by("id"):
                pass
            i = list(Order.objects.all()[:10])
    """, "db_read_all")
    assert [(line(site), site.detail["how"]) for site in found] == [
        (4, "all()"), (6, "all()"), (9, "list()"), (10, "len()"), (12, "iteration")]
    assert found[3].detail["count_text"] == "Order.query.count()"


def test_returned_rows_are_marked() -> None:
    found = sites("""
        def view(db):
            rows = db.query(Order).all()
            total = len(db.query(Item).all())
            return Out(items=rows, total=total)
    """, "db_read_all")
    assert [site.detail.get("returned") for site in found] == ["true", None]


# --------------------------------------------------------------------------------------------- built SQL


def test_sql_built_from_parameters_is_reported() -> None:
    found = sites("""
        from sqlalchemy import text

        def view(db, cursor, name, sort):
            db.execute(text(f"SELECT * FROM t WHERE name = '{name}'"))
            sql = "SELECT * FROM t WHERE name = '%s'" % name
            cursor.execute(sql)
            cursor.execute("SELECT * FROM t ORDER BY {}".format(sort))
            cursor.execute("SELECT * FROM t ORDER BY " + sort)
            query = "SELECT * FROM t WHERE 1 = 1"
            query += f" AND name = '{name}'"
            cursor.execute(query)
    """, "sql_built")
    assert [(line(site), site.detail["how"], site.detail["values"]) for site in found] == [
        (4, "an f-string", "name"), (6, "%-formatting", "name"), (7, ".format()", "sort"),
        (8, "concatenation", "sort"), (11, "an f-string", "name")]
    assert found[1].detail["via"] == "sql"


def test_safe_sql_is_not_reported() -> None:
    found = sites("""
        from sqlalchemy import text
        TABLE = "orders"
        COLUMNS = {"new": "id DESC"}

        def view(db, cursor, ids, order_id: int, day: date | None, sort, filters, logger):
            db.execute(text("SELECT * FROM t WHERE id = :id"), {"id": order_id})
            db.execute(text(f"SELECT * FROM {TABLE} WHERE id = {order_id}"))
            db.execute(text(f"SELECT * FROM {Order.__tablename__} WHERE day = '{day}'"))
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(f"SELECT * FROM t WHERE id IN ({placeholders})", ids)
            cursor.execute(f"SELECT * FROM t ORDER BY {COLUMNS[sort]}")
            cursor.execute(f"SELECT * FROM t LIMIT {int(sort)}")
            where, params = build_where(filters)
            cursor.execute(f"SELECT * FROM t WHERE {where}", params)
            logger.info(f"select from t where name = {sort}")
            runner.execute(f"ls {sort}")
    """, "sql_built")
    assert found == []


def test_request_values_in_flask_are_outside_values() -> None:
    found = sites("""
        from flask import request

        def view(cursor):
            name = request.args.get("name")
            cursor.execute("SELECT * FROM t WHERE name = '" + name + "'")
    """, "sql_built")
    assert found and found[0].detail["sources"] == "request"


def test_django_raw_and_extra() -> None:
    found = sites("""
        from django.db.models.expressions import RawSQL

        def view(request, status):
            Order.objects.raw(f"SELECT * FROM o WHERE status = '{status}'")
            Order.objects.extra(where=[f"status = '{status}'"])
            Order.objects.extra(where=["status = %s"], params=[status])
            RawSQL("SELECT 1 WHERE x = " + status, ())
    """, "sql_built")
    assert [site.detail["sink"] for site in found] == [
        "Order.objects.raw", "Order.objects.extra(where=[...])", "RawSQL"]


# --------------------------------------------------------------------------------------------- commits and writes


def test_second_commit_on_one_path_points_at_the_first() -> None:
    found = sites("""
        def service(db, audit, ok):
            db.commit()
            db.add(x)
            db.commit()
            audit.commit()
            if ok:
                db.commit()
                return 1
            else:
                db.commit()
    """, "db_commit")
    previous = [site.detail.get("previous") for site in found]
    assert previous == [None, "1:4:1:15", None, "3:4:3:15", "3:4:3:15"]
    assert "flush_text" not in found[1].detail  # nothing says `db` is a SQLAlchemy session


def test_flush_is_offered_for_sqlalchemy_sessions() -> None:
    found = sites("""
        from sqlalchemy.orm import Session

        def service(db: Session):
            db.commit()
            db.commit()
    """, "db_commit")
    assert found[1].detail["flush_text"] == "db.flush()"


def test_commits_after_return_in_handlers_and_loops_do_not_chain() -> None:
    found = sites("""
        def service(db, items, existing):
            if existing:
                db.commit()
                return existing
            for item in items:
                db.commit()
            try:
                db.commit()
            except Error:
                db.rollback()
                db.commit()
    """, "db_commit")
    assert [site.detail.get("previous") for site in found] == [None, None, None, None]


def test_django_writes_and_atomic_blocks() -> None:
    found = sites("""
        from django.db import transaction

        def view(form, order):
            draft = form.save(commit=False)
            draft.save()
            order.delete()
            with transaction.atomic():
                Order.objects.create(x=1)
                Order.objects.filter(x=1).update(y=2)
                helper()

        @transaction.atomic
        def atomic_view(order):
            order.save()
            order.save()
    """, "db_write")
    assert [(line(site), site.detail["method"], site.detail.get("atomic"), bool(site.detail.get("previous")))
            for site in found] == [
        (5, "save", None, False), (6, "delete", None, True), (8, "create", "true", False),
        (9, "update", "true", False), (14, "save", "true", False), (15, "save", "true", False)]
    assert found[0].detail["atomic_ref"] == "transaction.atomic"


def test_atomic_contexts_record_their_calls() -> None:
    found = sites("""
        from django.db import transaction
        from app.services import place

        def view():
            with transaction.atomic():
                place()
    """, "atomic_call")
    assert "app.services.place" in [site.callee for site in found]


# --------------------------------------------------------------------------------------------- connections


def test_connections_and_how_they_are_kept() -> None:
    found = sites("""
        import functools
        import psycopg2
        import redis
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine("postgresql://x")
        _cached = None

        def per_call():
            return psycopg2.connect("dbname=x")

        @functools.lru_cache
        def memoised():
            return create_engine("postgresql://y")

        def lazy():
            global _cached
            _cached = create_engine("postgresql://z")

        def unpooled():
            return create_engine("postgresql://z", poolclass=NullPool)

        def shared():
            return redis.Redis(connection_pool=POOL)
    """, "db_connect")
    assert [(site.function, site.detail.get("cached"), site.detail.get("pooling")) for site in found] == [
        ("app.views.per_call", None, None), ("app.views.memoised", "true", None), ("app.views.lazy", "true", None),
        ("app.views.unpooled", None, "nullpool"), ("app.views.shared", None, "shared-pool"), (None, None, None)]


# --------------------------------------------------------------------------------------------- across files


def test_dependencies_and_hooks_join_the_request_path(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/deps.py": """
            from typing import Annotated
            from fastapi import Depends

            def get_db():
                yield 1

            def get_user(db=Depends(get_db)):
                return 1

            Db = Annotated[object, Depends(get_db)]
        """,
        "app/main.py": """
            from fastapi import Depends, FastAPI
            from app.deps import Db, get_user

            app = FastAPI()

            @app.get("/a")
            def a(user=Depends(get_user)):
                return {}

            @app.get("/b")
            def b(db: Db):
                return {}

            @app.middleware("http")
            async def timing(request, call_next):
                return await call_next(request)
        """,
    })
    path = project.request_path()
    assert path["app.deps.get_user"] == "app.main.a"
    assert "app.deps.get_db" in path
    assert "app.main.timing" in path
    assert "app.deps.get_db" in project.functions["app.main.b"].calls


def test_flask_before_request_hook_joins_the_request_path(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/__init__.py": """
            from flask import Flask
            from shop.hooks import open_db

            def create_app():
                app = Flask(__name__)
                app.before_request(open_db)

                @app.route("/x")
                def x():
                    return {}

                return app
        """,
        "shop/hooks.py": """
            def open_db():
                pass
        """,
    })
    assert "shop.hooks.open_db" in project.request_path()


def test_atomic_requests_setting(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/settings.py": """
            DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": True}}
        """,
    })
    assert project.settings.get("django.atomic_requests") == "true"


# --------------------------------------------------------------------------------------------- bad input

FRAGMENTS = [
    "def f(db, ids, name):\n", "    for i in ids:\n", "        db.get(Order, i)\n", "    db.commit()\n",
    "    cursor.execute(f\"SELECT * FROM t WHERE x = '{name}'\")\n", "    sql += name\n", "    if x:\n",
    "        return db.query(Order).all()\n", "    else:\n", "    with transaction.atomic():\n", "        o.save()\n",
    "    x = [db.get(A, i) for i in (", "psycopg2.connect(", "@lru_cache\n", "class V:\n", "  async def g(self):\n",
    "    text(f'{", "}'\"", "    while True:\n", "    try:\n", "    except E:\n", "        raise\n", ")", "]",
    "Depends(", "len(Order.objects.all())\n", "    match x:\n", "        case 1:\n", "\\\n", "'''", "\t",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16), st.integers(min_value=0, max_value=600))
def test_extract_never_raises_on_broken_code(parts: list[str], cut: int) -> None:
    text = "".join(parts)
    data = text[: max(cut, len(text) // 2)].encode()
    source = SourceFile("app/views.py", "python", data, summarize(data, "app.views", "app/views.py"))
    data_access.extract(source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_random_text(text: str) -> None:
    data = text.encode("utf-8", errors="replace")
    source = SourceFile("x.py", "python", data, summarize(data, "x", "x.py"))
    data_access.extract(source)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10), st.lists(st.sampled_from(FRAGMENTS), max_size=10))
def test_resolve_never_fails_on_broken_projects(tmp_path_factory, first: list[str], second: list[str]) -> None:
    workspace, failures = resolve_broken_project(tmp_path_factory.mktemp("broken"), "".join(first), "".join(second))
    assert not [failure for failure in failures if "data_access" in failure]
    assert not [failure for facts in workspace.files.values() for failure in facts.failures
                if "data_access" in failure]
