"""The SQLModel extractor: only `table=True` classes are tables; fields, keys and anchors through the engine."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import sqlmodel
from analyzers.facts import SourceFile
from analyzers.model import Project, Table
from analyzers.pysyntax import summarize

BASE = """
from datetime import datetime

from sqlmodel import Field, SQLModel


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=datetime.utcnow)
"""


def build(root: Path, files: dict[str, str]) -> Project:
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


def source_file(path: str, text: str) -> SourceFile:
    data = textwrap.dedent(text).lstrip("\n").encode()
    source = SourceFile(path=path, language="python", data=data)
    source.python = summarize(data, path[:-3].replace("/", "."), path)
    return source


def test_only_table_true_classes_are_tables_and_schema_fields_carry_over(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/base.py": BASE, "app/models.py": """
        from sqlmodel import Field
        from app.base import Timestamped

        class HeroBase(Timestamped):
            name: str = Field(index=True)
            age: int | None = None

        class Hero(HeroBase, table=True):
            id: int | None = Field(default=None, primary_key=True)

        class HeroCreate(HeroBase):
            secret: str

        class HeroRead(HeroBase):
            id: int
    """})
    assert sorted(project.tables) == ["hero"]
    hero = table(project, "hero")
    assert list(hero.columns) == ["id", "name", "age", "created_at"]
    assert hero.primary_key == ("id",)
    assert hero.columns["id"].nullable is False
    assert hero.columns["name"].indexed and hero.columns["name"].origin_detail == "HeroBase (app/models.py)"
    assert hero.columns["age"].nullable and hero.columns["age"].type == "Integer"
    created = hero.columns["created_at"]
    assert created.auto_on_insert and created.origin_detail == "Timestamped (app/base.py)"
    declaration = hero.primary
    assert declaration is not None and declaration.framework == "sqlmodel"
    assert declaration.idiom["style"] == "sqlmodel" and declaration.idiom["imported"] == "Field"
    assert "sqlmodel" in project.stacks


def test_field_options_sa_column_and_kwargs(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from datetime import datetime
        from typing import ClassVar
        import sqlalchemy as sa
        from sqlmodel import Field, Relationship, SQLModel

        class Order(SQLModel, table=True):
            __tablename__ = "orders"
            __table_args__ = (sa.Index("ix_orders_shop_day", "shop_id", "day"),)
            registry: ClassVar[dict] = {}
            id: int | None = Field(default=None, primary_key=True)
            customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
            shop_id: int = Field(foreign_key="shops.id")
            code: str = Field(unique=True, sa_type=sa.String(12))
            day: datetime
            placed: datetime = Field(sa_column=sa.Column("placed_at", sa.DateTime(timezone=True),
                                                         server_default=sa.func.now()))
            changed: datetime | None = Field(default=None, sa_column_kwargs={"onupdate": sa.func.now()})
            customer: "Customer" = Relationship(back_populates="orders")
    """})
    orders = table(project, "orders")
    assert list(orders.columns) == ["id", "customer_id", "shop_id", "code", "day", "placed_at", "changed"]
    assert [(fk.columns, fk.target_table, fk.on_delete) for fk in orders.foreign_keys] == [
        (("customer_id",), "customers", "CASCADE"), (("shop_id",), "shops", None)]
    assert orders.columns["code"].unique and orders.columns["code"].type == "String(12)"
    assert orders.columns["placed_at"].auto_on_insert and orders.columns["changed"].auto_on_update
    assert [index.columns for index in orders.indexes] == [("shop_id", "day")]
    customer = orders.columns["customer_id"]
    assert customer.options_anchor is not None and customer.declaration_text == (
        'Field(foreign_key="customers.id", ondelete="CASCADE")')
    assert customer.options_anchor.span.start.column == len('    customer_id: int = Field(foreign_key="customers.id", '
                                                            'ondelete="CASCADE"')


def test_link_models_are_associations(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlmodel import Field, Relationship, SQLModel

        class Link(SQLModel, table=True):
            __tablename__ = "hero_team"
            hero_id: int | None = Field(default=None, foreign_key="hero.id", primary_key=True)
            team_id: int | None = Field(default=None, foreign_key="team.id", primary_key=True)
            joined: str

        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            heroes: list["Hero"] = Relationship(link_model=Link)
    """})
    link = table(project, "hero_team")
    assert link.is_association and link.primary_key == ("hero_id", "team_id")
    assert not table(project, "team").is_association


def test_declared_tablename_rule_and_computed_names(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlalchemy.orm import declared_attr
        from sqlmodel import Field, SQLModel

        class Plural(SQLModel):
            @declared_attr
            def __tablename__(cls) -> str:
                return cls.__name__.lower() + "s"

        class Item(Plural, table=True):
            id: int = Field(primary_key=True)

        class Computed(SQLModel, table=True):
            __tablename__ = PREFIX + "computed"
            id: int = Field(primary_key=True)
    """})
    assert sorted(project.tables) == ["items"]


def test_plain_pydantic_and_sqlalchemy_classes_are_not_sqlmodel_tables(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from pydantic import BaseModel
        from sqlmodel import Field

        class Thing(BaseModel, table=True):
            id: int = Field(primary_key=True)
    """})
    assert project.tables == {}


def test_records_survive_the_fact_cache() -> None:
    records = sqlmodel.extract(source_file("app/base.py", BASE))
    assert records and pickle.loads(pickle.dumps(records)) == records


SNIPPETS = st.sampled_from([
    "from sqlmodel import Field, SQLModel, Relationship\n", "class A(SQLModel, table=True):\n",
    "class B(A, table=1):\n", "    id: int = Field(primary_key=True)\n", "    x: int = Field(foreign_key='b.id'\n",
    "    y: 'A' = Relationship(link_model=B)\n", "    z: int = Field(sa_column=Column(\n", "    __tablename__ = 3\n",
    "    w: dict = Field(sa_column_kwargs={1: 2, 'server_default': now()})\n", ")\n", "    ", "\n", ":", "(",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SNIPPETS, max_size=25), st.text(max_size=30))
def test_broken_source_never_raises(tmp_path: Path, pieces: list[str], noise: str) -> None:
    text = "".join(pieces) + noise
    sqlmodel.extract(source_file("app/models.py", text))
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "models.py").write_text(text, encoding="utf-8", errors="replace")
    workspace = Workspace(tmp_path)
    workspace.scan()
    _, failures = workspace.resolve()
    assert not [failure for failure in failures if "sqlmodel" in failure], failures


def test_bases_from_installed_packages_are_noted_unseen(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlmodel import Field, SQLModel
        from corp_common.models import AuditFields

        class Ledger(AuditFields, SQLModel, table=True):
            id: int = Field(primary_key=True)
    """})
    assert table(project, "ledger").unseen_bases == ("corp_common.models.AuditFields",)
