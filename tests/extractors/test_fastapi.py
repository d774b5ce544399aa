"""The FastAPI extractor: endpoints built from temp projects through the real engine (scan + resolve)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.discovery import module_name
from analyzers.engine import Workspace
from analyzers.extractors import fastapi
from analyzers.facts import SourceFile
from analyzers.model import Endpoint, Location, Project
from analyzers.pysyntax import summarize
from tests.projects import resolve_broken_project


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


def endpoint(project: Project, name: str, path: str | None = None) -> Endpoint:
    found = [e for e in project.endpoints if e.handler.endswith(f".{name}") and (path is None or e.path == path)]
    assert len(found) == 1, [(e.handler, e.path) for e in project.endpoints]
    return found[0]


def params(e: Endpoint) -> dict[str, tuple[str, str | None]]:
    return {p.name: (p.source, p.via) for p in e.parameters}


def text_at(root: Path, where: Location) -> tuple[str, int]:
    """The line of `where` and its column, to check anchors against the source."""
    line = (root / where.path).read_text().splitlines()[where.span.start.line]
    return line, where.span.start.column


def insert(root: Path, where: Location, text: str) -> str:
    line, column = text_at(root, where)
    return line[:column] + text + line[column:]


# --------------------------------------------------------------------------------------------- paths


def test_prefixes_compose_across_modules_and_reexports(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": """
            from fastapi import FastAPI
            from app.api import orders_router
            from app.api import api_router

            app = FastAPI()
            app.include_router(api_router, prefix="/api")
            app.include_router(orders_router, prefix="/legacy")
        """,
        "app/api/__init__.py": """
            from fastapi import APIRouter
            from .orders import router as orders_router

            api_router = APIRouter(prefix="/v1")
            api_router.include_router(orders_router)
        """,
        "app/api/orders.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/orders")

            @router.get("/{order_id}")
            def get_order(order_id: int):
                return {"id": order_id}
        """,
        "app/api/reports.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/reports")

            @router.get("/daily")
            def daily():
                return {}
        """,
    })
    paths = sorted(e.path for e in project.endpoints if e.handler.endswith("get_order"))
    # Included twice: served under both paths.
    assert paths == ["/api/v1/orders/{order_id}", "/legacy/orders/{order_id}"]
    # Never included: its own prefix.
    assert endpoint(project, "daily").path == "/reports/daily"
    assert "fastapi" in project.stacks
    get_order = endpoint(project, "get_order", "/legacy/orders/{order_id}")
    assert get_order.handler == "app.api.orders.get_order"
    assert get_order.location.path == "app/api/orders.py"
    line, column = text_at(tmp_path, get_order.location)
    assert line[column:].startswith("get_order(")


def test_module_import_factory_mount_and_constant_prefixes(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "svc/main.py": """
            from fastapi import FastAPI
            from svc.routes import items, admin
            from svc.config import settings

            API = "/api"

            def create_app() -> FastAPI:
                application = FastAPI()
                application.include_router(items.router, prefix=API)
                application.include_router(admin.router, prefix=settings.ADMIN_PREFIX)
                return application

            sub = FastAPI()

            @sub.get("/ping")
            def ping():
                return "pong"

            main = FastAPI()
            main.mount("/internal", sub)
        """,
        "svc/routes/items.py": """
            import fastapi

            router = fastapi.APIRouter(prefix=f"/items")

            @router.api_route("", methods=["GET", "POST"])
            async def items_root():
                return []
        """,
        "svc/routes/admin.py": """
            from fastapi import APIRouter

            router = APIRouter()

            @router.delete("/cache", status_code=204)
            def clear_cache() -> None:
                return None
        """,
    })
    root = endpoint(project, "items_root")
    assert root.path == "/api/items"
    assert root.methods == ("GET", "POST")
    clear = endpoint(project, "clear_cache")
    assert clear.path == "{settings.ADMIN_PREFIX}/cache"
    assert clear.methods == ("DELETE",)
    assert clear.returns == "none"
    assert clear.status_code == 204
    assert endpoint(project, "ping").path == "/internal/ping"


def test_paths_joined_from_a_constant_and_a_string(tmp_path: Path) -> None:
    """Airflow: `task_instances_prefix + "/{task_id}"`; a part the file cannot tell leaves the path unknown."""
    project = build(tmp_path, {"app/routes.py": """
        from fastapi import APIRouter

        router = APIRouter(prefix="/dags/{dag_id}")
        instances = "/dagRuns/{dag_run_id}/taskInstances"


        @router.delete(instances + "/{task_id}")
        def delete_task_instance(dag_id: str, dag_run_id: str, task_id: str) -> None:
            return None


        @router.get(instances + suffix())
        def unknown_suffix(dag_id: str) -> None:
            return None
    """})
    deleting = endpoint(project, "delete_task_instance")
    assert deleting.path == "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}"
    assert endpoint(project, "unknown_suffix").path == "/dags/{dag_id}"


def test_routes_on_unknown_objects_are_not_fastapi(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "web/views.py": """
            from flask import Blueprint

            bp = Blueprint("x", __name__)

            @bp.get("/x")
            def flask_view():
                return []
        """,
        "web/other.py": """
            from web.registry import thing

            @thing.get("/y")
            def not_a_route():
                return []
        """,
    })
    assert not [e for e in project.endpoints if e.framework == "fastapi"]


# --------------------------------------------------------------------------------------------- parameters


def test_parameter_sources_from_the_signature(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/schemas.py": """
            from enum import Enum
            from pydantic import BaseModel

            class OrderIn(BaseModel):
                reference: str

            class Status(str, Enum):
                open = "open"
        """,
        "app/routes.py": """
            from typing import Annotated, Optional
            from fastapi import APIRouter, Body, Header, Query, Request
            from app.schemas import OrderIn, Status

            router = APIRouter(prefix="/shops/{shop_id}")

            @router.put("/orders/{order_id}")
            def update_order(
                shop_id: int,
                order_id: int,
                payload: OrderIn,
                request: Request,
                status: Status,
                note: str = Body(...),
                page_size: Annotated[int, Query(ge=1, le=100, alias="pageSize")] = 20,
                tags: Optional[list[str]] = None,
                x_trace: str | None = Header(None),
                flag=False,
            ):
                return payload
        """,
    })
    e = endpoint(project, "update_order")
    assert params(e) == {
        "shop_id": ("path", None), "order_id": ("path", None), "payload": ("body", None),
        "request": ("request", None), "status": ("query", None), "note": ("body", None),
        "pageSize": ("query", None), "tags": ("query", None), "x_trace": ("header", None), "flag": ("query", None),
    }
    size = next(p for p in e.parameters if p.name == "pageSize")
    assert (size.upper_bound, size.lower_bound) == ("100", "1")
    assert e.validation == ["payload: OrderIn"]


def test_dependency_chains_across_modules(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/deps.py": """
            from typing import Annotated
            from fastapi import Depends, Query, Security
            from fastapi.security import HTTPBearer

            bearer = HTTPBearer()

            def get_db():
                yield None

            def get_limits(limit: int = Query(50), offset: int = 0):
                return limit, offset

            def get_paging(limits=Depends(get_limits)):
                return limits

            def get_current_user(credentials=Security(bearer)):
                return credentials

            DbDep = Annotated[object, Depends(get_db)]
        """,
        "app/pagination.py": """
            from dataclasses import dataclass

            class Base:
                def __init__(self, cursor: str | None = None) -> None:
                    self.cursor = cursor

            class CursorParams(Base):
                pass

            @dataclass
            class PageParams:
                page: int = 1
                per_page: int = 20
        """,
        "app/routes.py": """
            from typing import Annotated
            from fastapi import APIRouter, Depends
            from app import deps
            from app.deps import DbDep
            from app.pagination import CursorParams, PageParams

            router = APIRouter(dependencies=[Depends(deps.get_current_user)])

            @router.get("/a")
            def by_chain(paging=Depends(deps.get_paging), db: DbDep = None):
                return []

            @router.get("/b")
            def by_class(params: Annotated[PageParams, Depends()], cursor: CursorParams = Depends(CursorParams)):
                return []
        """,
    })
    chain = endpoint(project, "by_chain")
    assert params(chain) == {
        "paging": ("dependency", None), "limits": ("dependency", "get_paging"),
        "limit": ("dependency", "get_limits"), "offset": ("dependency", "get_limits"),
        "db": ("dependency", None), "credentials": ("dependency", "get_current_user"),
    }
    assert any("get_current_user" in evidence for evidence in chain.auth)
    assert any("HTTPBearer" in evidence for evidence in chain.auth)
    by_class = endpoint(project, "by_class")
    assert params(by_class)["page"] == ("dependency", "PageParams")
    assert params(by_class)["per_page"] == ("dependency", "PageParams")
    assert params(by_class)["cursor"][0] == "dependency"
    assert ("cursor", "CursorParams") in {(p.name, p.via) for p in by_class.parameters}


def test_dependency_cycles_and_unknown_dependencies_do_not_hang(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/routes.py": """
            from fastapi import APIRouter, Depends
            from fastapi_pagination import Params
            from somewhere_else import get_pagination

            router = APIRouter()

            def a(x=Depends(lambda: 1), y=Depends("b")):
                return x

            def b(z=Depends(a)):
                return z

            def a2(w=Depends(b)):
                return w

            @router.get("/c", response_model=list[int])
            def cyclic(value=Depends(a2)):
                return [value]

            @router.get("/p", response_model=list[int])
            def paged_elsewhere(pagination=Depends(get_pagination)):
                return []

            @router.get("/q", response_model=list[int])
            def paged_by_library(params: Params = Depends()):
                return []
        """,
    })
    cyclic = endpoint(project, "cyclic")
    assert {"value", "w", "z", "x", "y"} <= set(params(cyclic))
    assert endpoint(project, "paged_elsewhere").pagination
    assert endpoint(project, "paged_by_library").pagination


# --------------------------------------------------------------------------------------------- returns


def test_return_kinds_from_models_annotations_and_bodies(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/schemas.py": """
            from typing import Generic, TypeVar
            from pydantic import BaseModel

            T = TypeVar("T")

            class Out(BaseModel):
                id: int

            class Envelope(BaseModel):
                items: list[Out]

            class Paged(BaseModel):
                items: list[Out]
                total: int
                next: str | None = None

            class Basket(BaseModel):
                id: int
                items: list[Out]

            class MyPage(BaseModel, Generic[T]):
                results: list[T]
                next_cursor: str | None
        """,
        "app/routes.py": """
            from typing import List, Optional, Sequence
            from fastapi import APIRouter
            from fastapi.responses import StreamingResponse
            from fastapi_pagination import LimitOffsetPage
            from app.schemas import Basket, Envelope, MyPage, Out, Paged

            router = APIRouter()
            ROLES = ["admin", "staff"]

            @router.get("/1", response_model=List[Out])
            def declared_list(): ...

            @router.get("/2")
            def annotated_sequence() -> Sequence[Out]: ...

            @router.get("/3", response_model=Optional[list[Out]])
            def optional_list(): ...

            @router.get("/4", response_model=tuple[Out, ...])
            def variadic_tuple(): ...

            @router.get("/5", response_model=tuple[Out, int])
            def pair(): ...

            @router.get("/6", response_model=LimitOffsetPage[Out])
            def library_page(): ...

            @router.get("/7", response_model=Paged)
            def paged_envelope(): ...

            @router.get("/8", response_model=Envelope)
            def bare_envelope(): ...

            @router.get("/9", response_model=Basket)
            def basket(): ...

            @router.get("/10", response_model=MyPage[Out])
            def own_generic_page(): ...

            @router.get("/11")
            def body_list(db):
                rows = db.query(Out).all()
                return [Out(id=row.id) for row in rows]

            @router.get("/12")
            def body_item(db, item_id: int):
                return db.query(Out).filter(Out.id == item_id).first()

            @router.get("/13", response_model=list[str])
            def roles():
                return ROLES

            @router.get("/14", response_model=None)
            def stream() -> StreamingResponse:
                return StreamingResponse(iter([]))

            @router.get("/15")
            def body_list_call(session):
                return list(session.scalars(select(Out)))
        """,
    })
    kinds = {e.handler.rsplit(".", 1)[-1]: (e.returns, bool(e.pagination)) for e in project.endpoints}
    assert kinds == {
        "declared_list": ("collection", False), "annotated_sequence": ("collection", False),
        "optional_list": ("collection", False), "variadic_tuple": ("collection", False), "pair": ("item", False),
        "library_page": ("collection", True), "paged_envelope": ("collection", True),
        "bare_envelope": ("collection", False), "basket": ("item", False), "own_generic_page": ("collection", True),
        "body_list": ("collection", False), "body_item": ("item", False), "roles": ("unknown", False),
        "stream": ("unknown", False), "body_list_call": ("collection", False),
    }
    assert endpoint(project, "declared_list").returns_detail == "List[Out]"


# --------------------------------------------------------------------------------------------- queries and fixes


def test_queries_kinds_caps_and_insert_anchors(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/routes.py": """
            from fastapi import APIRouter, Query
            from sqlalchemy import select

            router = APIRouter()

            @router.get("/legacy")
            def legacy(db):
                return db.query(Order).filter(Order.open).order_by(Order.id).all()

            @router.get("/modern")
            async def modern(session):
                return (await session.execute(select(Order).where(Order.open))).scalars().all()

            @router.get("/capped")
            def capped(db):
                return db.query(Order).limit(20).all()

            @router.get("/paged")
            def paged(db, page: int = 1):
                stmt = select(Order)
                stmt = stmt.offset((page - 1) * 50).limit(50)
                return db.scalars(stmt).all()

            @router.get("/flask-style")
            def flask_style():
                return Order.query.all()
        """,
    })
    legacy = endpoint(project, "legacy")
    [query] = legacy.queries
    assert query.kind == "all" and query.style == "sqlalchemy"
    assert query.insert_anchor is not None
    assert insert(tmp_path, query.insert_anchor, ".offset(offset).limit(limit)").strip() == (
        "return db.query(Order).filter(Order.open).order_by(Order.id).offset(offset).limit(limit).all()")
    modern = endpoint(project, "modern").queries[0]
    assert modern.insert_anchor is not None
    assert insert(tmp_path, modern.insert_anchor, ".offset(offset).limit(limit)").strip() == (
        "return (await session.execute(select(Order).offset(offset).limit(limit).where(Order.open)))"
        ".scalars().all()")
    capped = endpoint(project, "capped")
    assert [q.kind for q in capped.queries] == ["capped"] and capped.hard_cap == "limit(20)"
    paged = endpoint(project, "paged")
    assert [q.kind for q in paged.queries] == ["paged"] and paged.hard_cap is None and paged.pagination
    flask_style = endpoint(project, "flask_style").queries[0]
    assert flask_style.insert_anchor is not None
    assert insert(tmp_path, flask_style.insert_anchor, ".limit(5)").strip() == "return Order.query.limit(5).all()"


def test_parameters_anchor_and_idiom(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/a.py": """
            import fastapi

            router = fastapi.APIRouter()

            @router.get("/none")
            def no_params():
                return []

            @router.get("/trailing")
            def trailing(
                db,
                q: str = "",  # search, optional
            ):
                return []

            @router.get("/star")
            def star(*args, **kwargs):
                return []
        """,
        "app/b.py": """
            from fastapi import APIRouter, Query as Q

            router = APIRouter()

            @router.get("/one")
            def one(db):
                return []
        """,
        "app/c.py": """
            from app.shared import router

            @router.get("/two")
            def two(db):
                return []
        """,
        "app/shared.py": """
            from fastapi import APIRouter

            router = APIRouter()
        """,
    })
    none = endpoint(project, "no_params")
    assert none.parameters_empty and none.parameters_anchor is not None
    assert insert(tmp_path, none.parameters_anchor, "limit: int = 50").strip() == "def no_params(limit: int = 50):"
    assert none.idiom == {"query": "fastapi.Query", "imports_line": "1", "style": "fastapi"}
    trailing = endpoint(project, "trailing")
    assert not trailing.parameters_empty and trailing.parameters_anchor is not None
    assert insert(tmp_path, trailing.parameters_anchor, ", limit: int = 50").strip() == (
        'q: str = "", limit: int = 50,  # search, optional')
    assert endpoint(project, "star").parameters_anchor is None
    assert endpoint(project, "one").idiom["query"] == "Q"
    two = endpoint(project, "two")
    assert two.idiom["query"] == "" and two.path == "/two"
    assert insert(tmp_path, two.parameters_anchor, ", limit: int = 50").strip() == "def two(db, limit: int = 50):"


def test_request_query_params_and_rate_limits(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/routes.py": """
            from fastapi import APIRouter, Request
            from app.limits import limiter

            router = APIRouter()

            @router.get("/search", response_model=list[str])
            @limiter.limit("5/minute")
            def search(request: Request):
                cursor = request.query_params.get("cursor")
                return find(cursor)
        """,
    })
    e = endpoint(project, "search")
    assert params(e)["cursor"] == ("query", None)
    assert e.rate_limit == ["limiter.limit"]


# --------------------------------------------------------------------------------------------- robustness


FRAGMENTS = [
    "from fastapi import APIRouter, Depends, FastAPI, Query\n", "from typing import Annotated\n",
    "router = APIRouter(prefix='/x', dependencies=[Depends(dep)])\n", "app = FastAPI()\n",
    "app.include_router(router, prefix=PREFIX)\n", "app.include_router()\n", "router.include_router(router)\n",
    "@router.get('/{id}', response_model=list[Out])\n", "@router.api_route(methods=)\n", "@app.get(f'{P}/y')\n",
    "def handler(id: int, q: Annotated[int, Query(le=3)] = 1, d=Depends(), *a, **k):\n",
    "async def h(x: Annotated[] = Depends(Depends(x))):\n", "    return db.query(X).limit(n).all()\n",
    "    return (await s.execute(select(X))).scalars().all()\n", "    return [x for x in y]\n", "    pass\n",
    "def dep(limit: int = Query(), dep=Depends(dep)):\n", "class P:\n    def __init__(self, page=1): ...\n",
    "DepT = Annotated[int, Depends(dep)]\n", "    return paginate(\n", "@\n", "def (\n", ")))\n", "\t\x00\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.integers(min_value=0, max_value=400))
def test_extract_never_raises_on_broken_code(parts: list[str], cut: int) -> None:
    text = "".join(parts)
    data = text[: max(cut, len(text) // 2)].encode()
    source = SourceFile("app/x.py", "python", data, summarize(data, module_name("app/x.py"), "app/x.py"))
    fastapi.extract(source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_random_text(text: str) -> None:
    data = text.encode("utf-8", errors="replace")
    source = SourceFile("x.py", "python", data, summarize(data, "x", "x.py"))
    fastapi.extract(source)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10), st.lists(st.sampled_from(FRAGMENTS), max_size=10))
def test_resolve_never_fails_on_broken_projects(tmp_path_factory, first: list[str], second: list[str]) -> None:
    workspace, failures = resolve_broken_project(tmp_path_factory.mktemp("broken"), "".join(first), "".join(second))
    assert not [failure for failure in failures if "fastapi" in failure]


# --------------------------------------------------------------------------------------------- groups, anchors, limits


def test_groups_route_anchors_rate_limit_dependencies_and_bounds(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": """
            from fastapi import APIRouter, Depends, FastAPI, Query
            from fastapi_limiter.depends import RateLimiter

            app = FastAPI()
            router = APIRouter(prefix="/orders")

            @router.post("/login", dependencies=[Depends(RateLimiter(times=5, seconds=60))])
            def login(limit: int = Query(10), offset: int = 0):
                limit = min(limit, 100)
                return {}

            @router.get(
                "/all",
                response_model=list[dict],
            )
            def everything(size: int = 20):
                return []

            app.include_router(router)
        """,
    })
    login = endpoint(project, "login")
    assert login.group == "app.main.router" and login.group_location is not None
    assert login.group_location.line == 4
    assert login.rate_limit == ["RateLimiter dependency"]
    params = {p.name: p for p in login.parameters}
    assert params["limit"].upper_bound == "100"  # clamped in the body
    assert insert(tmp_path, params["limit"].marker_anchor, ", le=5") == \
        "def login(limit: int = Query(10, le=5), offset: int = 0):"
    assert params["offset"].default_location is not None
    assert insert(tmp_path, login.route_anchor, ", status_code=201") == \
        '@router.post("/login", dependencies=[Depends(RateLimiter(times=5, seconds=60))], status_code=201)'
    everything = endpoint(project, "everything")
    # A trailing comma: the keyword goes after the last argument.
    assert insert(tmp_path, everything.route_anchor, ", status_code=200") == \
        "    response_model=list[dict], status_code=200,"


def test_markers_made_by_helpers_and_bounds_enforced_by_guards(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/limits.py": """
            from fastapi import Body, Depends, HTTPException, Query

            MAX_LIMIT = 200

            def LimitBody():
                def get_limit(limit: int = Body(None)):
                    if limit > MAX_LIMIT:
                        raise HTTPException(status_code=422)
                    return limit
                return Depends(get_limit)

            def LimitQuery():
                return Query(50, le=MAX_LIMIT)

            def EitherQuery(flag):
                if flag:
                    return Query(50, le=10)
                return Body(50)
        """,
        "app/main.py": """
            from fastapi import FastAPI, HTTPException
            from app import limits

            app = FastAPI()

            @app.post("/filter")
            def read(limit: int = limits.LimitBody(), offset: int = 0, size: int = limits.EitherQuery(True)):
                return []

            @app.get("/items")
            def items(limit: int = limits.LimitQuery(), count: int = 20):
                if not count <= 500:
                    raise HTTPException(status_code=422)
                return []
        """,
    })
    read = {(p.name, p.via): p for p in endpoint(project, "read").parameters}
    # FastAPI sees the Depends(...) the helper returns, and reads its nested dependency's parameters.
    assert read[("limit", None)].source == "dependency"
    nested = read[("limit", "get_limit")]
    assert nested.upper_bound == "MAX_LIMIT" and nested.location is not None
    assert nested.location.path == "app/limits.py"
    # A helper returning different markers on different paths is not followed.
    assert read[("size", None)].source == "query" and read[("size", None)].upper_bound is None
    items = {p.name: p for p in endpoint(project, "items").parameters}
    assert items["limit"].source == "query" and items["limit"].upper_bound == "MAX_LIMIT"
    assert items["limit"].marker_anchor is not None and items["limit"].marker_anchor.path == "app/limits.py"
    assert items["limit"].marker_has_arguments
    assert items["count"].upper_bound == "500"
