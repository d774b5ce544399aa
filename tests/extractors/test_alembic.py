"""The Alembic extractor: revisions found by content, ordered base → head, replayed into tables."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import alembic
from analyzers.facts import SourceFile
from analyzers.model import Project, Table
from analyzers.pysyntax import summarize

HEADER = """
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down}
"""


def revision_file(revision: str, down: str | None, body: str) -> str:
    down_text = "None" if down is None else (down if down.startswith("(") else f'"{down}"')
    upgrade = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return HEADER.format(revision=revision, down=down_text) + f"\n\ndef upgrade():\n{upgrade}\n\n\n" \
        "def downgrade():\n    op.drop_table(\"everything\")\n"


def build(root: Path, files: dict[str, str]) -> Project:
    files = {"pyproject.toml": "[project]\nname = 'x'\n", **files}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


def table(project: Project, name: str) -> Table:
    found = project.table(name)
    assert found is not None, sorted(project.tables)
    return found


def records(text: str, path: str = "migrations/versions/x.py") -> list[alembic.AlembicRevision]:
    data = textwrap.dedent(text).lstrip("\n").encode()
    return alembic.extract(SourceFile(path, "python", data, summarize(data, "x", path)))


# --------------------------------------------------------------------------------------------- recognising


def test_revisions_are_recognised_by_content_not_folder() -> None:
    [found] = records(revision_file("abc", None, "pass"), path="somewhere/else/x.py")
    assert (found.revision, found.down_revisions) == ("abc", ())
    assert records("revision = 'abc'\n") == []  # no alembic import, no op calls
    assert records("from alembic import context\ncontext.run_migrations()\n") == []  # env.py


def test_scripts_that_pass_a_revision_to_alembic_are_not_revisions() -> None:
    script = """
        from alembic import command
        from alembic.config import Config

        revision = "head"


        def upgrade():
            command.upgrade(Config("alembic.ini"), revision)
    """
    assert records(script) == []


def test_an_empty_revision_from_the_template_is_a_link_of_the_chain(tmp_path: Path) -> None:
    """`alembic revision` with nothing to do writes `upgrade(): pass` and no alembic import. Without it the
    revisions after it lost their parent: the table 0003 drops was replayed after its creation in 0001."""
    empty = """
        from collections.abc import Sequence

        revision: str = "0002"
        down_revision: str | None = "0001"
        branch_labels: str | Sequence[str] | None = None
        depends_on: str | Sequence[str] | None = None


        def upgrade() -> None:
            pass
    """
    assert [found.revision for found in records(empty)] == ["0002"]
    project = build(tmp_path, {
        # Paths sort against the history: only the parent links give the order.
        "alembic/versions/c_first.py": revision_file(
            "0001", None, 'op.create_table("credential", sa.Column("id", sa.Integer(), primary_key=True))'),
        "alembic/versions/b_empty.py": empty,
        "alembic/versions/a_drop.py": revision_file("0003", "0002", 'op.drop_table("credential")'),
    })
    assert [revision for revision, _ in project.migration_order] == ["0001", "0002", "0003"]
    assert "credential" not in project.tables


def test_down_revision_forms() -> None:
    typed = """
        from typing import Union
        from alembic import op

        revision: str = "c"
        down_revision: Union[str, None] = ("a", "b")


        def upgrade() -> None:
            pass
    """
    assert records(typed)[0].down_revisions == ("a", "b")
    assert records(revision_file("b", "a", "pass"))[0].down_revisions == ("a",)


def test_create_table_reads_columns_and_constraints() -> None:
    [found] = records(revision_file("a1", None, """
        op.create_table(
            "orders",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("customer_id", sa.Integer, sa.ForeignKey("billing.customers.id", ondelete="cascade")),
            sa.Column("code", sa.String(length=20), index=True),
            sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
            sa.Column("updated_at", sa.DateTime(), onupdate=sa.func.now()),
            sa.Column("shop_id", sa.Integer()),
            sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name="orders_shop_fk"),
            sa.PrimaryKeyConstraint("id", name="orders_pk"),
            sa.UniqueConstraint("code", "shop_id", name="orders_code_uq"),
            sa.Index("orders_shop_open", "shop_id", postgresql_where=sa.text("closed IS NULL")),
        )
    """))
    [op] = found.ops
    created = op.created
    assert created is not None and created.name == "orders"
    assert created.primary_key == ("id",)
    columns = created.columns
    assert columns["code"].indexed and columns["code"].type == "String(length=20)"
    assert columns["id"].type == "Integer" and columns["customer_id"].type == "Integer"
    assert columns["created_at"].auto_on_insert and not columns["created_at"].auto_on_update
    assert columns["updated_at"].auto_on_update
    customer, shop = created.foreign_keys
    assert (customer.target_table, customer.target_columns, customer.on_delete) == ("customers", ("id",), "CASCADE")
    assert (shop.columns, shop.target_table, shop.name) == (("shop_id",), "shops", "orders_shop_fk")
    unique, partial = created.indexes
    assert unique.unique and unique.columns == ("code", "shop_id")
    assert partial.partial and partial.name == "orders_shop_open"
    anchor, location = columns["id"].options_anchor, columns["id"].location
    assert anchor is not None and location is not None
    assert (anchor.span.start.line, anchor.span.start.column + 1) == (location.span.end.line, location.span.end.column)


def test_declaration_anchors_and_idiom() -> None:
    [found] = records(revision_file("a1", None, """
        op.create_table(
            "orders",
            sa.Column("id", sa.Integer(), primary_key=True),
        )
    """))
    [declaration] = found.ops[0].created.declarations  # type: ignore[union-attr]
    assert (declaration.kind, declaration.framework) == ("migration", "alembic")
    assert declaration.location.line == 8 and declaration.location.span.end.line == 9
    assert declaration.after_anchor is not None and declaration.after_anchor.span.start.line == 12
    assert declaration.body_anchor is not None and declaration.body_anchor.span.start.line == 11
    assert declaration.body_indent == " " * 8
    assert declaration.idiom == {"style": "alembic", "op": "op", "prefix": "sa.", "imported": "",
                                 "imports_line": "2"}


def test_bare_sqlalchemy_imports_change_the_prefix() -> None:
    text = """
        from alembic import op as migrate
        from sqlalchemy import Column, Integer

        revision = "a1"
        down_revision = None


        def upgrade():
            migrate.create_table("t", Column("id", Integer, primary_key=True))
    """
    [found] = records(text)
    idiom = found.ops[0].created.declarations[0].idiom  # type: ignore[union-attr]
    assert (idiom["op"], idiom["prefix"], idiom["imported"]) == ("migrate", "", "Column,Integer")


def test_operations_batch_blocks_helpers_and_raw_sql() -> None:
    [found] = records(revision_file("a2", "a1", """
        op.add_column("orders", sa.Column("note", sa.Text()))
        op.drop_column("orders", "legacy")
        op.alter_column("orders", "note", new_column_name="remark")
        op.create_index(op.f("ix_orders_shop"), "orders", ["shop_id", sa.text("created_at DESC")], unique=False)
        op.drop_index("ix_old", table_name="orders")
        op.create_foreign_key("fk_o_s", "orders", "shops", ["shop_id"], ["id"], ondelete="SET NULL")
        op.drop_constraint("fk_old", "orders", type_="foreignkey")
        op.create_unique_constraint("uq_code", "orders", ["code"])
        op.rename_table("orders", "purchases")
        with op.batch_alter_table("purchases", schema=None) as batch_op:
            batch_op.add_column(sa.Column("shipped", sa.Boolean()))
            batch_op.create_index(batch_op.f("ix_purchases_shipped"), ["shipped"])
            batch_op.drop_column("remark")
        _more()
        op.execute("CREATE INDEX ix_purchases_lower ON purchases (lower(code)); DROP TABLE scratch")
        op.drop_table("scratch2")
        for name in ("a", "b"):
            op.drop_table(name)  # not a constant: skipped
    """) + "\n\ndef _more():\n    op.create_index('ix_more', 'purchases', ['code'])\n")
    summary = [(op.action, op.table, op.name, op.new_name) for op in found.ops]
    assert summary == [
        ("add_column", "orders", None, None),
        ("drop_column", "orders", "legacy", None),
        ("rename_column", "orders", "note", "remark"),
        ("create_index", "orders", "ix_orders_shop", None),
        ("drop_index", "orders", "ix_old", None),
        ("add_foreign_key", "orders", None, None),
        ("drop_constraint", "orders", "fk_old", None),
        ("create_index", "orders", "uq_code", None),
        ("rename_table", "orders", None, "purchases"),
        ("add_column", "purchases", None, None),
        ("create_index", "purchases", "ix_purchases_shipped", None),
        ("drop_column", "purchases", "remark", None),
        ("create_index", "purchases", "ix_more", None),
        ("create_index", "purchases", "ix_purchases_lower", None),
        ("drop_table", "scratch", None, None),
        ("drop_table", "scratch2", None, None),
    ]
    index = found.ops[3].index
    assert index is not None and index.columns == ("shop_id", "created_at")
    raw = found.ops[13]
    assert raw.location is not None and raw.location.line == found.ops[13].index.location.line  # type: ignore
    assert found.ops[5].foreign_key is not None and found.ops[5].foreign_key.name == "fk_o_s"


def test_downgrade_is_ignored() -> None:
    [found] = records(revision_file("a1", None, "pass"))
    assert found.ops == []


def test_records_survive_pickling() -> None:
    found = records(revision_file("a1", None, 'op.create_table("t", sa.Column("id", sa.Integer))'))
    assert pickle.loads(pickle.dumps(found)) == found


# --------------------------------------------------------------------------------------------- ordering


def revision(revision_id: str, *down: str, path: str | None = None) -> alembic.AlembicRevision:
    return alembic.AlembicRevision(path or f"v/{revision_id}.py", revision_id, down)


def test_order_waits_for_every_parent_of_a_merge() -> None:
    revisions = [revision("m", "b1", "c1", path="v/0.py"), revision("c1", "a", path="v/1.py"),
                 revision("b1", "a", path="v/2.py"), revision("a", path="v/9.py")]
    ordered, heads = alembic.order_revisions(revisions)
    assert [item.revision for item in ordered] == ["a", "c1", "b1", "m"]
    assert heads == ["m"]


def test_order_is_deterministic_with_several_heads_and_cycles() -> None:
    ordered, heads = alembic.order_revisions([revision("b", "a"), revision("c", "a"), revision("a")])
    assert [item.revision for item in ordered] == ["a", "b", "c"] and heads == ["b", "c"]
    ordered, heads = alembic.order_revisions([revision("x", "y"), revision("y", "x")])
    assert [item.revision for item in ordered] == ["x", "y"] and heads == []


# --------------------------------------------------------------------------------------------- through the engine


def test_history_replays_into_tables(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "alembic/versions/0001_initial.py": revision_file("0001", None, """
            op.create_table(
                "customers",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("created_at", sa.DateTime(), server_default=sa.func.now()),
            )
            op.create_table(
                "orders",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id")),
            )
            op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
        """),
        "alembic/versions/0002_more.py": revision_file("0002", "0001", """
            op.add_column("orders", sa.Column("created_at", sa.DateTime()))
            op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
            op.drop_table("scratch")
        """),
    })
    assert project.migration_order == [("0001", "alembic/versions/0001_initial.py"),
                                       ("0002", "alembic/versions/0002_more.py")]
    assert project.settings["alembic.head"] == "0002"
    assert project.settings["alembic.versions"] == "alembic/versions"
    assert "alembic" in project.stacks
    assert "scratch" not in project.tables
    orders = table(project, "orders")
    added = orders.columns["created_at"]
    assert added.origin == "migration"
    assert added.origin_detail == "revision 0002 (alembic/versions/0002_more.py)"
    assert orders.columns["customer_id"].origin == "own"
    assert [index.columns for index in orders.indexes] == [("customer_id",)]
    assert orders.primary is not None and orders.primary.location.line == 13


def test_resolving_twice_gives_the_same_schema(tmp_path: Path) -> None:
    build(tmp_path, {
        "v/1.py": revision_file("1", None, 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'),
        "v/2.py": revision_file("2", "1", """
            op.add_column("t", sa.Column("a", sa.Integer))
            op.alter_column("t", "a", new_column_name="b")
            op.rename_table("t", "u")
        """),
    })
    workspace = Workspace(tmp_path)
    workspace.scan()
    first, _ = workspace.resolve()
    second, _ = workspace.resolve()
    assert first.tables == second.tables
    assert list(table(second, "u").columns) == ["id", "b"]


def test_several_heads_are_noted(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "versions/a.py": revision_file("a", None, "pass"),
        "versions/b.py": revision_file("b", "a", "pass"),
        "versions/c.py": revision_file("c", "a", "pass"),
    })
    assert project.settings["alembic.head"] == "c"
    assert project.settings["alembic.heads"] == "b,c"
    assert any("2 heads" in note for note in project.notes)


def test_migration_tables_merge_into_models(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": """
            from sqlalchemy import Column, ForeignKey, Integer
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()


            class Order(Base):
                __tablename__ = "orders"
                id = Column(Integer, primary_key=True)
                customer_id = Column(Integer, ForeignKey("customers.id"))
        """,
        "alembic/versions/0001.py": revision_file("0001", None, """
            op.create_table(
                "orders",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id")),
                sa.Column("created_at", sa.DateTime()),
            )
            op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
        """),
    })
    orders = table(project, "orders")
    assert [declaration.kind for declaration in orders.declarations] == ["model", "migration"]
    assert len(orders.foreign_keys) == 1 and orders.foreign_keys[0].location.path == "app/models.py"  # type: ignore
    assert "created_at" in orders.columns
    assert orders.covered_by_index(("customer_id",))


# --------------------------------------------------------------------------------------------- robustness

PYTHON_LINES = [
    "import sqlalchemy as sa", "from alembic import op", "revision = 'a'", "down_revision = ('a', None, 3)",
    "def upgrade():", "    op.create_table(", "    op.create_table('t', sa.Column())", "    sa.Column('x', sa.Integer)",
    "    op.add_column()", "    op.create_index(None, 't', 'x')", "    op.execute(sa.text(1))",
    "    with op.batch_alter_table() as b:", "        b.add_column(sa.Column('y'))", "    op.drop_constraint()",
    "    op.create_foreign_key('fk', 't')", "    op.rename_table('a')", "    upgrade()", ")", "(", "    _x()",
    "def _x():", "    op.execute('CREATE TABLE (')", "    op.alter_column('t', new_column_name=1)",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PYTHON_LINES), max_size=30), st.text(max_size=60))
def test_extract_never_raises_on_broken_python(lines: list[str], noise: str) -> None:
    data = ("\n".join(lines) + noise).encode("utf-8", "replace")
    alembic.extract(SourceFile("v/fuzz.py", "python", data, summarize(data, "v.fuzz", "v/fuzz.py")))
