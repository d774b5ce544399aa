"""The Python module summary that every Python extractor reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.pysyntax import Call, Const, FString, Name, Subscript, chain, expr_text, summarize

SOURCE = b'''"""Orders."""
from . import sibling
from ..models.base import Base as B, TimestampMixin
import sqlalchemy as sa

router = APIRouter(prefix="/orders")  # plumbline: ignore[API001]


class Order(B, TimestampMixin, table=True):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id = sa.Column(sa.Integer, sa.ForeignKey("customers.id"), nullable=False)

    class Meta:
        abstract = True

    def total(self, *args, k=1, **kw):
        return sum(i.x for i in self.items)


@router.get("/", response_model=list[OrderOut])
async def list_orders(db: Session = Depends(get_db), *, q: str | None = None) -> list[OrderOut]:
    rows = db.query(Order).filter(Order.x == f"{q}").all()
    for row in rows:
        print(row)
    return rows


app.include_router(router, prefix="/v1")
'''


def module():
    return summarize(SOURCE, "app.routes.orders", "app/routes/orders.py")


def test_imports_resolve_relative_and_aliased_names() -> None:
    imports = module().imports
    assert imports["sibling"] == "app.routes.sibling"
    assert imports["B"] == "app.models.base.Base"
    assert imports["TimestampMixin"] == "app.models.base.TimestampMixin"
    assert imports["sa"] == "sqlalchemy"
    assert module().resolve("sa.Column") == "sqlalchemy.Column"


def test_classes_keep_bases_keywords_fields_and_nested_classes() -> None:
    (order,) = module().classes
    assert [expr_text(base) for base in order.bases] == ["B", "TimestampMixin"]
    assert order.keywords["table"] == Const(order.keywords["table"].span, True)
    assert [assign.targets for assign in order.assigns] == [("__tablename__",), ("id",), ("customer_id",)]
    assert isinstance(order.assigns[1].annotation, Subscript)
    column = order.assigns[2].value
    assert isinstance(column, Call) and column.func_name == "sa.Column"
    assert column.kwarg("nullable") is not None
    assert order.nested("Meta") is not None
    assert [method.name for method in order.methods] == ["total"]
    assert order.body_indent == "    "


def test_functions_keep_decorators_params_calls_and_returns() -> None:
    handler = next(fn for fn in module().functions if fn.name == "list_orders")
    assert handler.is_async
    assert [expr_text(d) for d in handler.decorators] == ["router.get('/', response_model=list[OrderOut])"]
    assert [(p.name, p.kind) for p in handler.params] == [("db", "positional"), ("q", "keyword_only")]
    # the parameter default Depends(get_db) runs at import time, not in the body
    assert [chain(call) for call in handler.calls] == [["db.query", "filter", "all"], ["print"]]
    statement = next(assign for assign in handler.assigns if assign.targets == ("rows",))
    assert statement.value == handler.calls[0]
    assert len(handler.loops) == 1
    assert isinstance(handler.returns_values[0], Name)


def test_module_level_calls_and_comments() -> None:
    summary = module()
    assert [expr_text(call) for call in summary.calls] == [
        "APIRouter(prefix='/orders')", "app.include_router(router, prefix='/v1')"]
    assert summary.comments[0].text == "# plumbline: ignore[API001]"
    assert summary.imports_end == 4


def test_fstrings_and_constants_are_told_apart() -> None:
    summary = summarize(b'a = f"x{y}"\nb = "plain"\nc = "a" "b"\n', "m", "m.py")
    values = [assign.value for assign in summary.assigns]
    assert isinstance(values[0], FString)
    assert isinstance(values[1], Const) and values[1].value == "plain"
    assert isinstance(values[2], Const) and values[2].value == "ab"


def test_if_conditions_keep_their_ordering_comparisons_and_whether_they_raise() -> None:
    summary = summarize(b"""
def check(limit, page, names):
    if not limit <= MAX or (0 < page < 5 and page not in names):
        raise ValueError(limit)
    elif page >= len(names):
        return 1
    if names or limit is None or limit == 3:
        pass

    def inner():
        if page > 1:
            return
""", "m", "m.py")
    outer, inner = summary.functions
    first, second = outer.conditions  # the third test orders nothing: not kept
    assert [(expr_text(c.left), c.op, expr_text(c.right)) for c in first.comparisons] == [
        ("limit", ">", "MAX"), ("0", "<", "page"), ("page", "<", "5")]
    assert first.raises and not second.raises
    assert [(expr_text(c.left), c.op, expr_text(c.right)) for c in second.comparisons] == [
        ("page", ">=", "len(names)")]
    assert (first.body.start.line, second.body.start.line) == (3, 5)
    assert [(expr_text(c.left), c.op) for c in inner.conditions[0].comparisons] == [("page", ">")]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    summarize(data, "m", "m.py")


FRAGMENTS = ["class ", "def ", "(", ")", ":", "\n    ", "=", "Column(", "import ", "from . import ", "@app.get(",
             "'x'", "f'{", "lambda", "*", "**", "->", "[", "]", ",", "return ", "async ", "for x in y", "#"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_python_like_fragments_never_raise(parts: list[str]) -> None:
    summarize("".join(parts).encode(), "pkg.mod", "pkg/mod.py")


def test_deep_nesting_does_not_overflow() -> None:
    source = b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n"
    summarize(source, "m", "m.py")
