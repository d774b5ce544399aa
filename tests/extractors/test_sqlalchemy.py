"""The SQLAlchemy extractor: the tables, columns, keys and anchors it puts into the model, through the real engine."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import sqlalchemy
from analyzers.facts import SourceFile
from analyzers.model import Position, Project, Table
from analyzers.pysyntax import summarize

DB = """
from sqlalchemy.orm import declarative_base

Base = declarative_base()
"""

MIXINS = """
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, func
from sqlalchemy.orm import declared_attr


class TimestampMixin:
    created_at = Column(DateTime, server_default=func.now())
    updated_at = Column(DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)


class OwnedMixin:
    @declared_attr
    def owner_id(cls):
        return Column(Integer, ForeignKey("users.id"))
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


# ------------------------------------------------------------------------------------------- classic declarative


def test_classic_model_columns_keys_and_anchors(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        import sqlalchemy as sa
        from sqlalchemy import Column, ForeignKey, Integer, String

        from app.db import Base


        class Order(Base):
            __tablename__ = "orders"

            id = Column(Integer, primary_key=True)
            number = Column("order_number", String(32), unique=True, nullable=False)
            customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
            shop_id = Column(sa.Integer, sa.ForeignKey("shops.id"))
            placed_at = Column(sa.DateTime(timezone=True), server_default=sa.func.now())
    """})
    orders = table(project, "orders")
    assert list(orders.columns) == ["id", "order_number", "customer_id", "shop_id", "placed_at"]
    assert orders.primary_key == ("id",)
    number = orders.columns["order_number"]
    assert (number.type, number.unique, number.nullable, number.origin) == ("String(32)", True, False, "own")
    assert orders.columns["customer_id"].indexed and not orders.columns["shop_id"].indexed
    assert orders.columns["placed_at"].type == "DateTime(timezone=True)"
    assert orders.columns["placed_at"].auto_on_insert
    customer_fk, shop_fk = orders.foreign_keys
    assert (customer_fk.columns, customer_fk.target_table, customer_fk.target_columns, customer_fk.on_delete) == (
        ("customer_id",), "customers", ("id",), "CASCADE")
    assert shop_fk.location is not None and shop_fk.location.line == 12
    shop = orders.columns["shop_id"]
    assert shop.options_anchor is not None and shop.options_anchor.span.start == Position(12, 58)  # before ")"
    assert shop.declaration_text == 'Column(sa.Integer, sa.ForeignKey("shops.id"))'
    declaration = orders.primary
    assert declaration is not None and declaration.kind == "model" and declaration.class_name == "Order"
    assert declaration.location.span.start == Position(6, 6)
    assert declaration.body_anchor is not None and declaration.body_anchor.line == 14
    assert declaration.after_anchor is not None and declaration.after_anchor.line == 14
    assert declaration.idiom["style"] == "classic" and declaration.idiom["prefix"] == ""
    assert declaration.idiom["imported"] == "Column,ForeignKey,Integer,String"
    assert declaration.idiom["imports_line"] == "4"
    assert "sqlalchemy" in project.stacks


def test_new_columns_go_after_the_columns_not_after_the_methods(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, Integer, String

        from app.db import Base


        class Room(Base):
            __tablename__ = "rooms"
            id = Column(Integer, primary_key=True)
            name = Column(
                String(100),
                nullable=False,
            )

            @property
            def label(self):
                return self.name

            def book(self):
                return None


        class Tag(Base):
            __tablename__ = "tags"
            id = Column(Integer, primary_key=True)
    """})
    rooms = table(project, "rooms").primary
    assert rooms is not None and rooms.body_anchor is not None
    assert rooms.body_anchor.line == 12  # (0-based) the line after `name`'s closing parenthesis, before `@property`
    tags = table(project, "tags").primary
    assert tags is not None and tags.body_anchor is not None and tags.body_anchor.line == 24  # no methods: the end


def test_mixin_columns_from_another_module_are_inherited(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/mixins.py": MIXINS, "app/models.py": """
        from sqlalchemy import Column, Integer

        from app.db import Base
        from app.mixins import OwnedMixin, TimestampMixin


        class Order(TimestampMixin, OwnedMixin, Base):
            __tablename__ = "orders"
            id = Column(Integer, primary_key=True)
    """})
    orders = table(project, "orders")
    created = orders.columns["created_at"]
    assert (created.origin, created.origin_detail) == ("inherited", "TimestampMixin (app/mixins.py)")
    assert created.auto_on_insert and orders.columns["updated_at"].auto_on_update
    owner = orders.columns["owner_id"]
    assert owner.origin_detail == "OwnedMixin (app/mixins.py)"
    (fk,) = orders.foreign_keys
    assert fk.target_table == "users" and fk.location is not None
    assert (fk.location.path, fk.location.line) == ("app/mixins.py", 13)
    assert sorted(project.tables) == ["orders"]


def test_abstract_base_is_no_table_and_its_columns_carry_over(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/base.py": """
        from sqlalchemy import Column, DateTime, Integer
        from app.db import Base

        class Model(Base):
            __abstract__ = True
            id = Column(Integer, primary_key=True)
            created_at = Column(DateTime)
    """, "app/models.py": """
        from sqlalchemy import Column, String
        from app.base import Model

        class Tag(Model):
            __tablename__ = "tags"
            name = Column(String(40))
    """})
    assert sorted(project.tables) == ["tags"]
    tags = table(project, "tags")
    assert tags.primary_key == ("id",)
    assert tags.columns["created_at"].origin_detail == "Model (app/base.py)"


def test_class_without_tablename_is_skipped_unless_a_base_names_it(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, Integer
        from sqlalchemy.orm import declared_attr
        from app.db import Base

        class Named:
            @declared_attr
            def __tablename__(cls):
                return cls.__name__.lower() + "s"

        class Oddly:
            @declared_attr
            def __tablename__(cls):
                return inflect(cls.__name__)

        class Nameless(Base):
            id = Column(Integer, primary_key=True)

        class Widget(Named, Base):
            id = Column(Integer, primary_key=True)

        class Gadget(Oddly, Base):
            id = Column(Integer, primary_key=True)
    """})
    assert sorted(project.tables) == ["widgets"]


def test_single_table_inheritance_adds_columns_to_the_parent_table(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer, String
        from app.db import Base

        class Employee(Base):
            __tablename__ = "employees"
            id = Column(Integer, primary_key=True)
            kind = Column(String(20))

        class Engineer(Employee):
            language = Column(String(20))

        class Manager(Employee):
            __tablename__ = None
            team_id = Column(Integer, ForeignKey("teams.id"))
    """})
    assert sorted(project.tables) == ["employees"]
    employees = table(project, "employees")
    assert {"language", "team_id"} <= set(employees.columns)
    assert employees.columns["language"].origin_detail == "Engineer (single-table inheritance, app/models.py)"
    assert [fk.columns for fk in employees.foreign_keys] == [("team_id",)]


def test_joined_inheritance_lists_the_parent_columns_as_inherited(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, DateTime, ForeignKey, Integer
        from app.db import Base

        class Employee(Base):
            __tablename__ = "employees"
            id = Column(Integer, primary_key=True)
            created_at = Column(DateTime)

        class Manager(Employee):
            __tablename__ = "managers"
            id = Column(Integer, ForeignKey("employees.id"), primary_key=True)
    """})
    managers = table(project, "managers")
    created = managers.columns["created_at"]
    assert created.origin == "inherited" and created.attributes == {"table": "employees"}
    assert managers.primary_key == ("id",)
    assert list(table(project, "employees").columns) == ["id", "created_at"]


# ------------------------------------------------------------------------------------------- 2.0 declarative


def test_mapped_columns_annotations_and_annotated_aliases(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/base.py": """
        from datetime import datetime
        from typing import Annotated
        from sqlalchemy import func
        from sqlalchemy.orm import DeclarativeBase, mapped_column

        intpk = Annotated[int, mapped_column(primary_key=True)]
        created = Annotated[datetime, mapped_column(server_default=func.now())]

        class Base(DeclarativeBase):
            pass
    """, "app/models.py": """
        from typing import Optional
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import Mapped, mapped_column, relationship
        from app.base import Base, created, intpk

        class User(Base):
            __tablename__ = "users"
            id: Mapped[intpk]
            name: Mapped[str] = mapped_column(String(50))
            nickname: Mapped[Optional[str]]
            bio: Mapped[str | None]
            created_at: Mapped[created]
            team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
            team: Mapped["Team"] = relationship(back_populates="users")
            posts: Mapped[list["Post"]] = relationship()
    """})
    users = table(project, "users")
    assert list(users.columns) == ["id", "name", "nickname", "bio", "created_at", "team_id"]
    assert users.primary_key == ("id",)
    assert users.columns["id"].type == "Integer"
    assert (users.columns["name"].type, users.columns["name"].nullable) == ("String(50)", False)
    assert users.columns["nickname"].nullable and users.columns["bio"].nullable
    assert users.columns["created_at"].type == "DateTime" and users.columns["created_at"].auto_on_insert
    assert users.columns["team_id"].type == "Integer"
    assert users.primary is not None and users.primary.idiom["style"] == "mapped"


def test_table_args_indexes_constraints_and_partial_indexes(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import (Column, ForeignKeyConstraint, Index, Integer, PrimaryKeyConstraint, String,
                                UniqueConstraint, func, text)
        from app.db import Base

        class Line(Base):
            __tablename__ = "lines"
            __table_args__ = (
                PrimaryKeyConstraint("order_id", "position"),
                ForeignKeyConstraint(["order_id", "shop_id"], ["orders.id", "orders.shop_id"], ondelete="CASCADE"),
                Index("ix_lines_sku", "sku_code", unique=True),
                Index("ix_lines_live", "shop_id", postgresql_where=text("deleted IS NULL")),
                Index("ix_lines_lower", func.lower(sku), "position"),
                UniqueConstraint("position", "sku_code", name="uq_lines"),
                {"schema": "sales"},
            )
            order_id = Column(Integer)
            position = Column(Integer)
            shop_id = Column(Integer)
            sku = Column("sku_code", String(20))
    """})
    lines = table(project, "lines")
    assert lines.primary_key == ("order_id", "position")
    (fk,) = lines.foreign_keys
    assert (fk.columns, fk.target_table, fk.target_columns, fk.on_delete) == (
        ("order_id", "shop_id"), "orders", ("id", "shop_id"), "CASCADE")
    indexes = {index.name: index for index in lines.indexes}
    assert indexes["ix_lines_sku"].columns == ("sku_code",) and indexes["ix_lines_sku"].unique
    assert indexes["ix_lines_live"].partial
    assert "ix_lines_lower" not in indexes  # a functional index leads with an expression, covers no column
    assert indexes["uq_lines"].columns == ("position", "sku_code") and indexes["uq_lines"].source == "unique"


def test_declared_attr_table_args_and_dict_table_args(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, Index, Integer
        from sqlalchemy.orm import declared_attr
        from app.db import Base

        class Indexed:
            @declared_attr
            def __table_args__(cls):
                return (Index(None, "tenant_id"),)

        class Thing(Indexed, Base):
            __tablename__ = "things"
            id = Column(Integer, primary_key=True)
            tenant_id = Column(Integer)

        class Other(Indexed, Base):
            __tablename__ = "others"
            __table_args__ = {"schema": "x"}
            id = Column(Integer, primary_key=True)
    """})
    assert [index.columns for index in table(project, "things").indexes] == [("tenant_id",)]
    assert table(project, "others").indexes == []


# ------------------------------------------------------------------------------------------- Core tables


def test_core_tables_association_and_module_level_indexes(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/tables.py": """
        import sqlalchemy as sa
        from app.db import Base

        user_roles = sa.Table(
            "user_roles",
            Base.metadata,
            sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
            sa.Column("role_id", sa.Integer, sa.ForeignKey("roles.id"), primary_key=True),
        )
        audit = sa.Table("audit", Base.metadata, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("user_id", sa.Integer))
        sa.Index("ix_audit_user", audit.c.user_id)
        reflected = sa.Table("legacy", Base.metadata, autoload_with=None)
    """, "app/models.py": """
        from sqlalchemy import Column, ForeignKey, Index, Integer
        from sqlalchemy.orm import relationship
        from rich.table import Table
        from app.db import Base
        from app.tables import user_roles

        report = Table("Report")

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            manager_id = Column(Integer, ForeignKey(id))
            roles = relationship("Role", secondary=user_roles)

        Index("ix_users_manager", User.manager_id)
    """})
    assert sorted(project.tables) == ["audit", "user_roles", "users"]
    roles = table(project, "user_roles")
    assert roles.is_association and roles.primary_key == ("user_id", "role_id")
    assert roles.primary is not None and roles.primary.idiom["style"] == "core"
    assert roles.primary.location.span.start == Position(3, 13)
    assert roles.primary.body_anchor is not None and roles.primary.body_anchor.line == 8
    assert [index.columns for index in table(project, "audit").indexes] == [("user_id",)]
    assert [index.columns for index in table(project, "users").indexes] == [("manager_id",)]
    assert not table(project, "users").is_association


def test_foreign_keys_written_as_attributes_resolve_to_tables(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/core.py": """
        import sqlalchemy as sa
        from app.db import Base
        accounts = sa.Table("accounts", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    """, "app/users.py": """
        from sqlalchemy import Column, Integer
        from app.db import Base
        class User(Base):
            __tablename__ = "people"
            id = Column(Integer, primary_key=True)
    """, "app/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer
        from app.core import accounts
        from app.db import Base
        from app.users import User

        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            author_id = Column(Integer, ForeignKey(User.id))
            account_id = Column(Integer, ForeignKey(accounts.c.id))
    """})
    targets = {fk.columns[0]: (fk.target_table, fk.target_columns) for fk in table(project, "posts").foreign_keys}
    assert targets == {"author_id": ("people", ("id",)), "account_id": ("accounts", ("id",))}


def test_pure_join_classes_are_associations(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, func
        from app.db import Base

        class Membership(Base):
            __tablename__ = "memberships"
            id = Column(Integer, primary_key=True)
            user_id = Column(ForeignKey("users.id"))
            group_id = Column(ForeignKey("groups.id"))
            created_at = Column(DateTime, server_default=func.now())

        class Enrollment(Base):
            __tablename__ = "enrollments"
            user_id = Column(ForeignKey("users.id"), primary_key=True)
            course_id = Column(ForeignKey("courses.id"), primary_key=True)
            grade = Column(String(2))
    """})
    assert table(project, "memberships").is_association
    assert not table(project, "enrollments").is_association


# ------------------------------------------------------------------------------------------- Flask-SQLAlchemy


def test_flask_models_are_named_in_snake_case_through_a_reexported_db(tmp_path: Path) -> None:
    project = build(tmp_path, {"shop/__init__.py": "from shop.extensions import db\n", "shop/extensions.py": """
        from flask_sqlalchemy import SQLAlchemy
        db = SQLAlchemy()
    """, "shop/models.py": """
        from shop import db

        class BaseModel(db.Model):
            __abstract__ = True
            id = db.Column(db.Integer, primary_key=True)

        class OrderItem(BaseModel):
            order_id = db.Column(db.Integer, db.ForeignKey("order.id"))

        class HTTPLog(db.Model):
            id = db.Column(db.Integer, primary_key=True)

        class User(db.Model):
            __tablename__ = "users"
            id = db.Column(db.Integer, primary_key=True)

        class Admin(User):
            level = db.Column(db.Integer)

        class Manager(User):
            id = db.Column(db.Integer, db.ForeignKey("users.id"), primary_key=True)
    """})
    assert sorted(project.tables) == ["http_log", "manager", "order_item", "users"]
    assert "level" in table(project, "users").columns
    item = table(project, "order_item")
    assert item.primary_key == ("id",)
    declaration = item.primary
    assert declaration is not None and declaration.framework == "flask-sqlalchemy"
    assert (declaration.idiom["style"], declaration.idiom["prefix"]) == ("flask", "db.")
    assert {"sqlalchemy", "flask-sqlalchemy"} <= project.stacks


def test_flask_model_with_an_unseen_db_counts_when_it_uses_db_columns(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from somewhere_else import db

        class Invoice(db.Model):
            id = db.Column(db.Integer, primary_key=True)
    """})
    assert sorted(project.tables) == ["invoice"]


def test_flask_model_class_mixin_columns_are_inherited(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/ext.py": """
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy import Column, DateTime, Integer
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            id = Column(Integer, primary_key=True)
            created_at = Column(DateTime)

        db = SQLAlchemy(model_class=Base)
    """, "app/models.py": """
        from app.ext import db

        class Note(db.Model):
            body = db.Column(db.Text)
    """})
    note = table(project, "note")
    assert note.columns["created_at"].origin_detail == "Base (app/ext.py)"
    assert note.primary_key == ("id",)


# ------------------------------------------------------------------------------------------- not tables


def test_schemas_dataclasses_and_unmapped_classes_are_not_tables(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/schemas.py": """
        from dataclasses import dataclass
        from pydantic import BaseModel
        from sqlalchemy import Column, Integer

        class OrderOut(BaseModel):
            __tablename__ = "orders"
            id: int

        @dataclass
        class Row:
            id: int

        class Loose:
            __tablename__ = "loose"
            id = Column(Integer, primary_key=True)
    """})
    assert project.tables == {}


def test_base_from_an_installed_package_counts_with_a_tablename(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlalchemy import Column, Integer
        from corelib.db import Base

        class Ledger(Base):
            __tablename__ = "ledger"
            id = Column(Integer, primary_key=True)

        class Helper(Base):
            id = Column(Integer, primary_key=True)
    """, "app/custom.py": """
        from sqlalchemy import Column, Integer
        from app.factory import make_base

        Base = make_base()

        class Entry(Base):
            __tablename__ = "entries"
            id = Column(Integer, primary_key=True)

        class Plain(object):
            __tablename__ = "plain"
            id = Column(Integer, primary_key=True)
    """})
    assert sorted(project.tables) == ["entries", "ledger"]


def test_registry_bases_and_mapped_decorator(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlalchemy import Column, Integer
        from sqlalchemy.orm import registry

        mapper_registry = registry()
        Base = mapper_registry.generate_base()

        class A(Base):
            __tablename__ = "a"
            id = Column(Integer, primary_key=True)

        @mapper_registry.mapped
        class B:
            __tablename__ = "b"
            id = Column(Integer, primary_key=True)
    """})
    assert sorted(project.tables) == ["a", "b"]


def test_alembic_revisions_are_left_to_the_alembic_extractor(tmp_path: Path) -> None:
    source = source_file("migrations/versions/1_init.py", """
        import sqlalchemy as sa
        from alembic import op

        meta = sa.MetaData()
        users = sa.Table("users", meta, sa.Column("id", sa.Integer, primary_key=True))
    """)
    assert sqlalchemy.extract(source) == []


def test_records_survive_the_fact_cache(tmp_path: Path) -> None:
    source = source_file("app/models.py", DB + MIXINS)
    records = sqlalchemy.extract(source)
    assert records and pickle.loads(pickle.dumps(records)) == records


# ------------------------------------------------------------------------------------------- robustness

SNIPPETS = st.sampled_from([
    "class A(Base):\n", "    __tablename__ = 'a'\n", "    id = Column(Integer, primary_key=True)\n",
    "    x: Mapped[int] = mapped_column(ForeignKey('b.id'))\n", "    __table_args__ = (Index('i', 'x'),\n",
    "t = Table('t', m, Column('a', ForeignKey(A.id)), Index(None, func.lower(a)))\n", "Base = declarative_base(\n",
    "db = SQLAlchemy(model_class=\n", "class B(db.Model, A):\n", "    @declared_attr\n", "    def y(cls):\n",
    "        return Column(\n", "Index('j', A.x, t.c.a)\n", "    __tablename__ = None\n",
    "    r = relationship(secondary=t)\n",
    "from sqlalchemy import *\n", "from app.db import Base, db\n", ")\n", "(\n", "    ", "\n", ":", "[", "lambda",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SNIPPETS, max_size=25), st.text(max_size=30))
def test_broken_source_never_raises(tmp_path: Path, pieces: list[str], noise: str) -> None:
    text = "".join(pieces) + noise
    source = source_file("app/models.py", text)
    sqlalchemy.extract(source)
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "models.py").write_text(text, encoding="utf-8", errors="replace")
    workspace = Workspace(tmp_path)
    workspace.scan()
    _, failures = workspace.resolve()
    assert not [failure for failure in failures if "sqlalchemy" in failure], failures


def test_declarative_base_cls_mixin_names_tables_and_gives_columns(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": """
        from sqlalchemy import Column, DateTime, Integer
        from sqlalchemy.ext.declarative import declarative_base, declared_attr

        class CustomBase:
            @declared_attr
            def __tablename__(cls):
                return cls.__name__.lower()

            id = Column(Integer, primary_key=True)
            created_at = Column(DateTime)

        Base = declarative_base(cls=CustomBase)
    """, "app/models.py": """
        from sqlalchemy import Column, String
        from app.db import Base

        class Incident(Base):
            title = Column(String)
    """})
    incident = table(project, "incident")
    assert list(incident.columns) == ["title", "id", "created_at"]
    assert incident.columns["created_at"].origin_detail == "CustomBase (app/db.py)"


def test_bases_from_installed_packages_add_known_columns_or_are_noted_unseen(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from flask_login import UserMixin
        from sqlalchemy import Column, Integer
        from sqlalchemy_utils import Timestamp
        from corp_common.mixins import AuditedMixin
        from app.db import Base

        class Invoice(Timestamp, Base):
            __tablename__ = "invoices"
            id = Column(Integer, primary_key=True)

        class Account(UserMixin, AuditedMixin, Base):
            __tablename__ = "accounts"
            id = Column(Integer, primary_key=True)
    """, "app/litestar_models.py": """
        from advanced_alchemy.base import UUIDAuditBase, UUIDBase
        from sqlalchemy.orm import Mapped

        class BookAuthor(UUIDAuditBase):
            name: Mapped[str]

        class Tag(UUIDBase):
            label: Mapped[str]
    """})
    invoices = table(project, "invoices")
    updated = invoices.columns["updated"]
    assert (updated.origin, updated.origin_detail, updated.auto_on_update) == (
        "framework", "sqlalchemy_utils.Timestamp", True)
    assert invoices.unseen_bases == ()
    assert table(project, "accounts").unseen_bases == ("corp_common.mixins.AuditedMixin",)
    author = table(project, "book_author")
    assert {"created_at", "updated_at"} <= set(author.columns) and author.unseen_bases == ()
    tag = table(project, "tag")
    assert set(tag.columns) == {"id", "label"} and tag.primary_key == ("id",)  # UUIDBase adds the key


def test_aliased_imports_are_followed(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from sqlalchemy import Column as C, ForeignKey as FK, Integer, MetaData, Table as T

        meta = MetaData()
        links = T("links", meta, C("id", Integer, primary_key=True), C("owner_id", Integer, FK("users.id")))
    """})
    links = table(project, "links")
    assert [fk.target_table for fk in links.foreign_keys] == ["users"]


def test_hybrid_declarations_map_their_core_table(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer, Table
        from app.db import Base

        class User(Base):
            __table__ = Table("accounts", Base.metadata, Column("id", Integer, primary_key=True))

        class Post(Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)
            author_id = Column(Integer, ForeignKey(User.id))
    """})
    assert sorted(project.tables) == ["accounts", "posts"]
    assert [fk.target_table for fk in table(project, "posts").foreign_keys] == ["accounts"]


def test_only_defaults_that_are_the_current_time_fill_timestamps(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": DB, "app/models.py": """
        from datetime import datetime, timedelta, timezone
        from sqlalchemy import Column, DateTime, FetchedValue, Integer, String, func, text
        from app.db import Base

        class Token(Base):
            __tablename__ = "tokens"
            id = Column(Integer, primary_key=True)
            issued = Column(DateTime, default=lambda: datetime.now(timezone.utc))
            seen = Column(DateTime, server_default=text("(now() at time zone 'utc')"))
            expires = Column(DateTime, default=lambda: datetime.utcnow() + timedelta(days=7))
            zone = Column(String, default="UTC")
            touched = Column(DateTime, server_default=func.now(), server_onupdate=FetchedValue())
    """})
    columns = table(project, "tokens").columns
    assert [name for name, column in columns.items() if column.auto_on_insert] == ["issued", "seen", "touched"]
    assert [name for name, column in columns.items() if column.auto_on_update] == ["touched"]
