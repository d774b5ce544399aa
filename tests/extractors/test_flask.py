"""The Flask extractor: endpoints built from temp projects through the real engine (scan + resolve)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import flask
from analyzers.facts import SourceFile
from analyzers.model import Endpoint, Project
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


def endpoints(project: Project, name: str) -> list[Endpoint]:
    return [e for e in project.endpoints if e.handler.endswith(f".{name}")]


def endpoint(project: Project, name: str) -> Endpoint:
    found = endpoints(project, name)
    assert len(found) == 1, [(e.handler, e.path, e.methods) for e in project.endpoints]
    return found[0]


# --------------------------------------------------------------------------------------------- paths


def test_blueprint_prefixes_follow_flask_rules(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/__init__.py": """
            from flask import Flask
            from shop.orders import bp as orders_bp
            from shop import admin, reports

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(orders_bp, url_prefix="/api/orders")
                app.register_blueprint(admin.parent)

                @app.route("/health")
                def health():
                    return {"ok": True}

                return app
        """,
        "shop/orders.py": """
            from flask import Blueprint

            bp = Blueprint("orders", __name__, url_prefix="/orders")

            @bp.route("/", methods=["GET", "POST"])
            def orders_root():
                return []

            @bp.get("/<int:order_id>")
            def get_order(order_id):
                return {}
        """,
        "shop/admin.py": """
            from flask import Blueprint

            parent = Blueprint("admin", __name__, url_prefix="/admin")
            child = Blueprint("users", __name__, url_prefix="/users")
            parent.register_blueprint(child)

            @child.delete("/<user_id>")
            def delete_user(user_id):
                return "", 204
        """,
        "shop/reports.py": """
            from flask import Blueprint

            bp = Blueprint("reports", __name__, url_prefix="/reports")

            @bp.get("daily")
            def daily():
                return {}
        """,
    })
    assert "flask" in project.stacks
    root = endpoint(project, "orders_root")
    # The url_prefix given at registration replaces the blueprint's own.
    assert (root.path, root.methods) == ("/api/orders/", ("GET", "POST"))
    get_order = endpoint(project, "get_order")
    assert get_order.path == "/api/orders/<int:order_id>"
    assert [(p.name, p.source) for p in get_order.parameters] == [("order_id", "path")]
    # A nested blueprint's prefix is appended to its parent's.
    assert endpoint(project, "delete_user").path == "/admin/users/<user_id>"
    # Never registered: its own prefix.
    assert endpoint(project, "daily").path == "/reports/daily"
    health = endpoint(project, "health")
    assert health.path == "/health" and health.handler == "shop.create_app.<locals>.health"


def test_method_views_registered_from_another_module(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": """
            from flask import Flask, Blueprint
            from app.views import ItemAPI, ListAPI

            app = Flask(__name__)
            api = Blueprint("api", __name__, url_prefix="/api")
            api.add_url_rule("/items", view_func=ListAPI.as_view("items"))
            detail = ItemAPI.as_view("item")
            api.add_url_rule("/items/<int:item_id>", view_func=detail, methods=["GET"])
            app.register_blueprint(api)
        """,
        "app/base.py": """
            from flask.views import MethodView

            class ReadOnly(MethodView):
                def get(self):
                    return Item.query.all()
        """,
        "app/views.py": """
            from app.base import ReadOnly

            class ListAPI(ReadOnly):
                def post(self):
                    return {}, 201

            class ItemAPI(ReadOnly):
                def get(self, item_id):
                    return Item.query.get_or_404(item_id)

                def delete(self, item_id):
                    return "", 204
        """,
    })
    listing = {e.methods: e for e in project.endpoints if e.path == "/api/items"}
    assert set(listing) == {("GET",), ("POST",)}
    assert listing[("GET",)].handler == "app.base.ReadOnly.get"  # inherited from a base in another module
    assert listing[("GET",)].returns == "collection"
    detail = [e for e in project.endpoints if e.path == "/api/items/<int:item_id>"]
    # methods=["GET"] at registration: the delete method is not routed there.
    assert [(e.methods, e.returns) for e in detail] == [(("GET",), "item")]


def test_restful_resources_and_api_prefix(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app.py": """
            from flask import Flask
            from flask_restful import Api, Resource

            app = Flask(__name__)
            api = Api(app, prefix="/v2")

            class Todos(Resource):
                def get(self):
                    return [todo.to_dict() for todo in Todo.query.all()]

            api.add_resource(Todos, "/todos", "/tasks")
        """,
    })
    assert sorted(e.path for e in endpoints(project, "get")) == ["/v2/tasks", "/v2/todos"]


# --------------------------------------------------------------------------------------------- bodies


def test_return_kinds_pagination_and_query_arguments(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app.py": """
            from flask import Flask, jsonify, request
            from schemas import OrderSchema, orders_schema

            app = Flask(__name__)
            order_schema = OrderSchema()

            @app.get("/a")
            def listcomp():
                return jsonify([o.to_dict() for o in Order.query.all()])

            @app.get("/b")
            def dumped():
                return OrderSchema(many=True).dump(Order.query.all())

            @app.get("/c")
            def dumped_by_imported_schema():
                rows = Order.query.filter_by(open=True).all()
                return orders_schema.dump(rows)

            @app.get("/d")
            def one():
                return order_schema.dump(Order.query.get_or_404(1))

            @app.get("/e")
            def envelope():
                return {"items": [o.to_dict() for o in Order.query.all()], "count": 3}, 200

            @app.get("/f")
            def paginated():
                page = Order.query.paginate(page=request.args.get("page", 1, type=int), per_page=20)
                return jsonify(items=[o.to_dict() for o in page.items])

            @app.get("/g")
            def capped():
                rows = db.session.execute(db.select(Order).limit(10)).scalars().all()
                return jsonify([r.to_dict() for r in rows])

            @app.get("/h")
            def sliced():
                limit = int(request.args["limit"])
                offset = request.args.get("offset", 0, type=int)
                rows = Order.query.all()[offset : offset + limit]
                return jsonify([o.to_dict() for o in rows])

            @app.get("/k")
            def first_ten():
                return jsonify([o.to_dict() for o in Order.query.all()[:10]])

            @app.get("/l")
            def first_five():
                rows = Order.query.order_by(Order.id).all()[:5]
                return jsonify([o.to_dict() for o in rows])

            @app.get("/i")
            def fixed():
                return jsonify(["red", "green"])

            @app.get("/j")
            @login_required
            @limiter.limit("10/minute")
            def protected():
                return jsonify(db.paginate(db.select(Order)).items)
        """,
    })
    kinds = {e.handler.rsplit(".", 1)[-1]: e.returns for e in project.endpoints}
    assert kinds == {
        "listcomp": "collection", "dumped": "collection", "dumped_by_imported_schema": "collection", "one": "item",
        "envelope": "collection", "paginated": "collection", "capped": "collection", "sliced": "collection",
        "fixed": "unknown", "protected": "unknown", "first_ten": "collection", "first_five": "collection",
    }
    assert endpoint(project, "paginated").pagination
    assert [(p.name, p.source) for p in endpoint(project, "paginated").parameters] == [("page", "query")]
    capped = endpoint(project, "capped")
    assert capped.hard_cap == "limit(10)" and not capped.pagination
    assert [q.kind for q in capped.queries] == ["capped"]
    sliced = endpoint(project, "sliced")
    assert {p.name for p in sliced.parameters} == {"limit", "offset"}
    assert sliced.pagination and sliced.hard_cap is None
    assert endpoint(project, "first_five").hard_cap == "[:5]"
    protected = endpoint(project, "protected")
    assert protected.auth == ["login_required"] and protected.rate_limit == ["limiter.limit"]
    assert protected.pagination


def test_smorest_decorators(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/schemas.py": """
            from marshmallow import Schema, fields

            class ItemSchema(Schema):
                id = fields.Int()

            class FilterArgs(Schema):
                warehouse = fields.Str()
                page_size = fields.Int()
        """,
        "app/items.py": """
            from flask.views import MethodView
            from flask_smorest import Blueprint
            from webargs import fields
            from webargs.flaskparser import use_args
            from app.schemas import FilterArgs, ItemSchema

            blp = Blueprint("items", __name__, url_prefix="/items")

            @blp.route("/")
            class Items(MethodView):
                @blp.arguments(FilterArgs, location="query")
                @blp.response(200, ItemSchema(many=True))
                def get(self, args):
                    return Item.query.filter_by(**args).all()

                @blp.arguments(ItemSchema)
                @blp.response(201, ItemSchema)
                def post(self, data):
                    return Item(**data)

            @blp.route("/paged")
            @blp.response(200, ItemSchema(many=True))
            @blp.paginate()
            def paged(pagination_parameters):
                return Item.query.all()

            @blp.route("/search")
            @use_args({"q": fields.Str(), "cursor": fields.Str()}, location="query")
            def search(args):
                return [i.to_dict() for i in find(args)]
        """,
    })
    get = next(e for e in project.endpoints if e.methods == ("GET",) and e.path == "/items/")
    assert get.returns == "collection" and get.returns_detail == "ItemSchema(many=True)"
    assert {(p.name, p.source) for p in get.parameters} == {("warehouse", "query"), ("page_size", "query")}
    post = next(e for e in project.endpoints if e.methods == ("POST",))
    assert post.returns == "item" and post.status_code == 201
    assert {(p.name, p.source) for p in post.parameters} == {("id", "body")}
    assert endpoint(project, "paged").pagination == ["@blp.paginate()"]
    assert {(p.name, p.source) for p in endpoint(project, "search").parameters} == {("q", "query"), ("cursor", "query")}


def test_query_arguments_read_by_helpers(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/utils.py": """
            from flask import request

            def page_args():
                return request.args.get("page", 1, type=int), request.args.get("size", 20, type=int)
        """,
        "app/views.py": """
            from flask import Flask, jsonify
            from flask_paginate import get_page_args
            from app import utils

            app = Flask(__name__)

            @app.get("/a")
            def by_helper():
                page, size = utils.page_args()
                return jsonify([o.to_dict() for o in load(page, size)])

            @app.get("/b")
            def by_flask_paginate():
                page, per_page, offset = get_page_args()
                return jsonify([o.to_dict() for o in load(offset, per_page)])
        """,
    })
    helper = endpoint(project, "by_helper")
    assert {(p.name, p.source, p.via) for p in helper.parameters} == {("page", "query", "page_args"),
                                                                      ("size", "query", "page_args")}
    assert endpoint(project, "by_flask_paginate").pagination == ["get_page_args() call"]


def test_fastapi_modules_are_not_flask(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "api/routes.py": """
            from fastapi import APIRouter
            from api.shared import router

            @router.get("/x")
            def handler():
                return []
        """,
    })
    assert not [e for e in project.endpoints if e.framework == "flask"]


# --------------------------------------------------------------------------------------------- robustness


FRAGMENTS = [
    "from flask import Flask, Blueprint, jsonify, request\n", "app = Flask(__name__)\n",
    "bp = Blueprint('x', __name__, url_prefix=P)\n", "app.register_blueprint(bp, url_prefix='/v1')\n",
    "app.register_blueprint()\n", "bp.register_blueprint(bp)\n", "@bp.route('/<int:id>', methods=[M])\n",
    "@app.get()\n", "@blp.response(200, S(many=True))\n", "@blp.arguments(S, location=L)\n",
    "def view(id):\n", "class V(MethodView):\n    def get(self):\n        return X.query.all()\n",
    "bp.add_url_rule('/v', view_func=V.as_view('v'))\n", "bp.add_url_rule(view_func=)\n",
    "api.add_resource(V)\n", "    return jsonify([x for x in X.query.paginate()])\n",
    "    page = request.args.get(\n", "    return rows[:10]\n", "@\n", "def (\n", "]]]\n", "\x00\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.integers(min_value=0, max_value=400))
def test_extract_never_raises_on_broken_code(parts: list[str], cut: int) -> None:
    text = "".join(parts)
    data = text[: max(cut, len(text) // 2)].encode()
    source = SourceFile("app/views.py", "python", data, summarize(data, "app.views", "app/views.py"))
    flask.extract(source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_random_text(text: str) -> None:
    data = text.encode("utf-8", errors="replace")
    source = SourceFile("x.py", "python", data, summarize(data, "x", "x.py"))
    flask.extract(source)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10), st.lists(st.sampled_from(FRAGMENTS), max_size=10))
def test_resolve_never_fails_on_broken_projects(tmp_path_factory, first: list[str], second: list[str]) -> None:
    workspace, failures = resolve_broken_project(tmp_path_factory.mktemp("broken"), "".join(first), "".join(second))
    assert not [failure for failure in failures if "flask" in failure]


# --------------------------------------------------------------------------------------------- groups and bounds


def test_blueprint_groups_and_clamped_page_sizes(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/__init__.py": """
            from flask import Flask
            from shop.views import bp

            app = Flask(__name__)
            app.register_blueprint(bp, url_prefix="/api")
        """,
        "shop/views.py": """
            from flask import Blueprint, request

            bp = Blueprint("shop", __name__)

            @bp.get("/items")
            def items():
                per_page = min(request.args.get("per_page", 20, type=int), 100)
                size = request.args.get("size", 20, type=int)
                return []

            @bp.get("/paged")
            def paged():
                n = request.args.get("per_page", 20, type=int)
                return Item.query.paginate(per_page=n, max_per_page=50).items
        """,
    })
    items = endpoint(project, "items")
    assert items.group == "shop.views.bp" and items.group_location is not None
    assert items.group_location.path == "shop/views.py" and items.group_location.line == 2
    bounds = {p.name: p.upper_bound for p in items.parameters}
    assert bounds == {"per_page": "100", "size": None}
    assert {p.name: p.upper_bound for p in endpoint(project, "paged").parameters} == {"per_page": "50"}


def test_routes_registered_through_a_project_helper_get_the_callers_blueprint_and_prefix(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "board/helpers.py": """
            def register_view(bp_or_app, routes, view_func, **kwargs):
                for route in routes:
                    bp_or_app.add_url_rule(route, view_func=view_func, **kwargs)


            def register_one(bp, rule, view):
                bp.add_url_rule(rule, view_func=view)


            def log_view(view_func):
                print(view_func)
        """,
        "board/views.py": """
            from flask import Blueprint
            from flask.views import MethodView

            from board.helpers import log_view, register_one, register_view


            class Topics(MethodView):
                def get(self):
                    return []

                def post(self):
                    return {}


            def topic_detail(topic_id):
                return {}


            def load(app):
                forum = Blueprint("forum", __name__)
                register_view(forum, ["/topics", "/threads"], Topics.as_view("topics"), methods=["GET"])
                register_one(forum, "/topics/<int:topic_id>", view=topic_detail)
                log_view(view_func=topic_detail)
                app.register_blueprint(forum, url_prefix="/forum")
        """,
    })
    routes = sorted((e.path, e.methods) for e in project.endpoints)
    assert routes == [("/forum/threads", ("GET",)), ("/forum/topics", ("GET",)),
                      ("/forum/topics/<int:topic_id>", ("GET",))]
    assert len({e.group for e in project.endpoints}) == 1 and None not in {e.group for e in project.endpoints}


def test_a_rule_looped_over_a_literal_list_gives_one_path_per_item(tmp_path: Path) -> None:
    # MLflow: `for rule in [LIST_USERS, AJAX_LIST_USERS]: app.add_url_rule(rule=rule, view_func=..., ...)`
    project = build(tmp_path, {"server/auth.py": """
        from flask import Flask

        LIST_USERS = "/api/2.0/users/list"
        AJAX_LIST_USERS = "/ajax-api/2.0/users/list"


        def list_users():
            return {"users": []}


        def create_app():
            app = Flask(__name__)
            for rule in [LIST_USERS, AJAX_LIST_USERS]:
                app.add_url_rule(rule=rule, view_func=list_users, methods=["GET"])
            return app
    """})
    assert sorted(e.path for e in project.endpoints) == ["/ajax-api/2.0/users/list", "/api/2.0/users/list"]


def test_a_prefix_read_from_the_configuration_stays_in_the_path(tmp_path: Path) -> None:
    # FlaskBB: `app.register_blueprint(auth, url_prefix=app.config["AUTH_URL_PREFIX"])`. Dropping the prefix
    # gave wrong paths, and API002 then said no route carries a version.
    project = build(tmp_path, {"board/app.py": """
        from flask import Blueprint, Flask

        auth = Blueprint("auth", __name__)


        @auth.post("/login")
        def login():
            return {}


        def create_app():
            app = Flask(__name__)
            app.register_blueprint(auth, url_prefix=app.config["AUTH_URL_PREFIX"])
            return app
    """})
    assert [e.path for e in project.endpoints] == ["{app.config['AUTH_URL_PREFIX']}/login"]
