"""What the model extractors record about column types and defaults for the DB004-DB008 rules: where a type is
written, whether it came from an annotation (and through a `type_annotation_map`), naive current-time defaults,
keys added by installed bases, and Django's `USE_TZ`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors._column_values import naive_now
from analyzers.model import Column, Project, Table
from analyzers.pysyntax import Call, summarize
from analyzers.rules import all_rules


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


def column(project: Project, table_name: str, name: str) -> Column:
    return table(project, table_name).columns[name]


SQLALCHEMY_MODELS = """
import datetime as dt
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Column, DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    price = Column(Float, nullable=False)
    title = Column("title", String(120))
    created_at = Column(DateTime(timezone=True), default=datetime.utcnow)
    seen_at = Column(DateTime, default=lambda: dt.datetime.now())
    synced_at = Column(DateTime, default=lambda: datetime.now(timezone.utc))
"""


def test_written_types_have_a_location_and_source_text(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": SQLALCHEMY_MODELS})
    price = column(project, "events", "price")
    assert price.type == "Float" and price.attributes["type_source"] == "Float"
    assert price.type_location is not None and price.type_location.path == "app/models.py"
    start = price.type_location.span.start
    line = (tmp_path / "app/models.py").read_text().splitlines()[start.line]
    assert line[start.column:].startswith("Float, nullable")
    ends = column(project, "events", "ends_at")
    assert ends.attributes["type_source"] == "sa.DateTime()" and "type_from" not in ends.attributes


def test_types_from_annotations_are_marked_with_their_python_type(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": SQLALCHEMY_MODELS})
    starts = column(project, "events", "starts_at")
    assert (starts.type, starts.type_location) == ("DateTime", None)
    assert starts.attributes["type_from"] == "annotation" and starts.attributes["python_type"] == "datetime"


def test_naive_current_time_defaults_are_recorded_as_written(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": SQLALCHEMY_MODELS})
    assert column(project, "events", "created_at").attributes["naive_default"] == "datetime.utcnow"
    assert column(project, "events", "seen_at").attributes["naive_default"] == "dt.datetime.now()"
    assert "naive_default" not in column(project, "events", "synced_at").attributes
    assert "naive_default" not in column(project, "events", "title").attributes


def test_type_annotation_map_of_the_base_types_annotated_columns(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/db.py": """
        from datetime import datetime

        from sqlalchemy import DateTime, String
        from sqlalchemy.orm import DeclarativeBase, registry

        class Base(DeclarativeBase):
            type_annotation_map = {datetime: DateTime(timezone=True), str: String(255)}

        class Other(DeclarativeBase):
            registry = registry(type_annotation_map={str: String(80)})
    """, "app/models.py": """
        import datetime
        from typing import Optional

        from sqlalchemy import Text
        from sqlalchemy.orm import Mapped, mapped_column
        from app.db import Base, Other

        class Post(Base):
            __tablename__ = "posts"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
            body: Mapped[str] = mapped_column(Text)
            published_at: Mapped[Optional[datetime.datetime]]

        class Note(Other):
            __tablename__ = "notes"
            id: Mapped[int] = mapped_column(primary_key=True)
            text: Mapped[str]
    """})
    assert column(project, "posts", "title").type == "String(255)"
    assert column(project, "posts", "body").type == "Text"
    published = column(project, "posts", "published_at")
    assert published.type == "DateTime(timezone=True)" and published.attributes["type_from"] == "annotation_map"
    assert column(project, "notes", "text").type == "String(80)"


def test_declarative_base_function_takes_a_type_annotation_map(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from datetime import datetime
        from sqlalchemy import DateTime, Integer, Column
        from sqlalchemy.orm import Mapped, declarative_base

        Base = declarative_base(type_annotation_map={datetime: DateTime(timezone=True)})

        class Visit(Base):
            __tablename__ = "visits"
            id = Column(Integer, primary_key=True)
            at: Mapped[datetime]
    """})
    assert column(project, "visits", "at").type == "DateTime(timezone=True)"


def test_annotated_alias_columns_keep_where_their_type_came_from(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from datetime import datetime
        from typing import Annotated
        from sqlalchemy import DateTime, func
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        created = Annotated[datetime, mapped_column(server_default=func.now())]
        stamped = Annotated[datetime, mapped_column(DateTime(timezone=True), default=datetime.utcnow)]

        class Base(DeclarativeBase):
            pass

        class Job(Base):
            __tablename__ = "jobs"
            id: Mapped[int] = mapped_column(primary_key=True)
            created_at: Mapped[created]
            stamped_at: Mapped[stamped]
    """})
    created = column(project, "jobs", "created_at")
    assert created.type == "DateTime" and created.attributes["type_from"] == "annotation"
    stamped = column(project, "jobs", "stamped_at")
    assert stamped.type == "DateTime(timezone=True)" and stamped.attributes["naive_default"] == "datetime.utcnow"
    assert stamped.type_location is None  # written on the alias: a fix there would change every user


def test_installed_declarative_bases_with_keys_add_an_id(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from advanced_alchemy.base import BigIntAuditBase
        from sqlalchemy.orm import Mapped

        class Tag(BigIntAuditBase):
            __tablename__ = "tags"
            label: Mapped[str]
    """})
    tags = table(project, "tags")
    assert tags.primary_key == ("id",) and tags.columns["id"].origin == "framework"


def test_sqlmodel_fields_record_annotation_types_lengths_and_defaults(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": """
        from datetime import datetime
        from sqlalchemy import Column, DateTime
        from sqlmodel import Field, SQLModel

        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(max_length=80)
            nickname: str
            born_at: datetime = Field(sa_type=DateTime(timezone=True))
            seen_at: datetime = Field(default_factory=datetime.now)
            saved_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))
    """})
    name = column(project, "hero", "name")
    assert name.attributes["type_from"] == "sqlmodel" and name.attributes["length"] == "80"
    assert column(project, "hero", "nickname").attributes["type_from"] == "sqlmodel"
    born = column(project, "hero", "born_at")
    assert born.attributes["type_source"] == "DateTime(timezone=True)" and "type_from" not in born.attributes
    assert column(project, "hero", "seen_at").attributes["naive_default"] == "datetime.now"
    assert column(project, "hero", "saved_at").type == "DateTime(timezone=True)"


def test_django_use_tz_and_naive_field_defaults(tmp_path: Path) -> None:
    project = build(tmp_path, {"manage.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")
    """, "site/settings.py": """
        INSTALLED_APPS = ["shop"]
        USE_TZ = False
    """, "shop/models.py": """
        from datetime import datetime
        from django.db import models
        from django.utils import timezone

        class Order(models.Model):
            placed_at = models.DateTimeField(default=datetime.now)
            paid_at = models.DateTimeField(default=timezone.now)
    """})
    assert project.settings["django.use_tz"] == "False"
    where = project.setting_locations["django.use_tz"]
    assert (where.path, where.span.start.line) == ("site/settings.py", 1)
    assert column(project, "shop_order", "placed_at").attributes["naive_default"] == "datetime.now"
    assert "naive_default" not in column(project, "shop_order", "paid_at").attributes


def test_naive_now_reads_only_the_standard_library() -> None:
    module = summarize(textwrap.dedent("""
        import arrow
        from datetime import datetime as dt, timezone
        a = f(default=dt.utcnow)
        b = f(default=dt.now(timezone.utc))
        c = f(default=arrow.utcnow)
        d = f(default=dt.today())
        e = f(default=lambda: dt.now(tz=None) if x else None)
    """).encode(), "m", "m.py")
    values = {assign.targets[0]: assign.value for assign in module.assigns}

    def default(name: str) -> str | None:
        call = values[name]
        assert isinstance(call, Call)
        return naive_now(module, call.kwarg("default"))

    assert [default(name) for name in "abcde"] == ["dt.utcnow", None, None, "dt.today()", None]


SNIPPETS = st.sampled_from([
    "from datetime import datetime\n", "import sqlalchemy as sa\n", "from sqlalchemy.orm import Mapped\n",
    "class A(Base):\n", "    __tablename__ = 'a'\n", "    x = Column(DateTime, default=datetime.utcnow)\n",
    "    y: Mapped[datetime]\n", "    type_annotation_map = {datetime: DateTime(timezone=True), 3: (}\n",
    "    registry = registry(type_annotation_map=5)\n", "Base = declarative_base(type_annotation_map=[1])\n",
    "    z = Column(sa.Float(), default=lambda: datetime.now(\n", "USE_TZ = False\n", "    t: float\n",
    "class B(SQLModel, table=True):\n", "    n: str = Field(max_length='x', default_factory=datetime.now)\n",
    "    price = models.FloatField(default=datetime.now)\n", ")", "(", ":", "\n", "    ",
])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SNIPPETS, max_size=25), st.text(max_size=30))
def test_broken_source_never_raises_in_extractors_or_rules(tmp_path: Path, pieces: list[str], noise: str) -> None:
    text = "".join(pieces) + noise
    for path in ("app/models.py", "site/settings.py"):
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", errors="replace")
    workspace = Workspace(tmp_path)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    for code in ("DB004", "DB005", "DB006", "DB007", "DB008"):
        rule = all_rules()[code]
        list(rule.check(project, rule.options()))
