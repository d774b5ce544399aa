"""A synthetic backend of N files, for the engine benchmark.

The project looks like a grown FastAPI + SQLAlchemy + Alembic service: per domain entity a model module
(a timestamp mixin from a shared base module, foreign keys to earlier entities, some indexed, some not), a
schema module, a service module, a router with `Depends` (some list endpoints paginated, some not), an
Alembic revision chained to the previous one, and every fourth entity a raw SQL migration. File sizes are
in the range of real modules (2-6 KB), so MB/s figures are comparable with real code.

    python bench/synth.py 1200 /tmp/synthetic-backend
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

# Files per entity: model, schema, service, router, Alembic revision, and a SQL migration for every 4th.
FILES_PER_ENTITY = 5.25
FIXED_FILES = {
    "pyproject.toml": '[project]\nname = "synthetic-backend"\ndependencies = ["fastapi", "sqlalchemy", '
                      '"psycopg[binary]", "alembic"]\n',
    "alembic.ini": "[alembic]\nscript_location = alembic\nsqlalchemy.url = postgresql+psycopg://app@db/app\n",
    "app/__init__.py": "",
    "app/models/__init__.py": "",
    "app/schemas/__init__.py": "",
    "app/services/__init__.py": "",
    "app/routers/__init__.py": "",
    "app/db.py": '''from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("postgresql+psycopg://app@db/app", pool_size=10, pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine, autoflush=False)


def get_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
''',
    "app/models/base.py": '''from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
''',
    "app/pagination.py": '''from dataclasses import dataclass

from fastapi import Query


@dataclass
class PageParams:
    limit: int
    offset: int


def page_params(limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> PageParams:
    return PageParams(limit=limit, offset=offset)
''',
}


def entity_name(index: int) -> str:
    return f"entity{index:04d}"


def model_module(index: int, rng: random.Random) -> str:
    name = entity_name(index)
    cls = name.capitalize()
    parents = sorted({rng.randrange(index) for _ in range(min(index, rng.randint(1, 3)))}) if index else []
    lines = [
        "from decimal import Decimal",
        "",
        "from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text",
        "from sqlalchemy.orm import Mapped, mapped_column, relationship",
        "",
        "from app.models.base import Base, TimestampMixin",
        "",
        "",
        f"class {cls}(TimestampMixin, Base):",
        f'    """A {name} of the synthetic domain, with its owner and a few attributes."""',
        "",
        f'    __tablename__ = "{name}s"',
        f'    __table_args__ = (Index("ix_{name}s_code_status", "code", "status"),)',
        "",
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)",
        "    code: Mapped[str] = mapped_column(String(40), nullable=False)",
        '    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")',
        "    title: Mapped[str] = mapped_column(String(200), nullable=False)",
        "    description: Mapped[str | None] = mapped_column(Text)",
        "    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False, default=0)",
        "    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)",
    ]
    for parent in parents:
        parent_name = entity_name(parent)
        indexed = ", index=True" if rng.random() < 0.6 else ""
        lines.append(f"    {parent_name}_id: Mapped[int] = mapped_column(ForeignKey(\"{parent_name}s.id\", "
                     f"ondelete=\"CASCADE\"){indexed})")
    for parent in parents:
        parent_name = entity_name(parent)
        lines.append(f'    {parent_name} = relationship("{parent_name.capitalize()}", lazy="joined")')
    lines += [
        "",
        "    def __repr__(self) -> str:",
        f'        return f"<{cls} {{self.id}} {{self.code}}>"',
        "",
        "    @property",
        "    def is_open(self) -> bool:",
        '        return not self.archived and self.status in ("draft", "active")',
        "",
    ]
    return "\n".join(lines)


def schema_module(index: int) -> str:
    cls = entity_name(index).capitalize()
    return f'''from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class {cls}Create(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    amount: Decimal = Decimal("0")


class {cls}Update(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = None
    amount: Decimal | None = None
    status: str | None = None


class {cls}Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    status: str
    title: str
    description: str | None
    amount: Decimal
'''


def service_module(index: int) -> str:
    name = entity_name(index)
    cls = name.capitalize()
    return f'''from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.{name} import {cls}
from app.schemas.{name} import {cls}Create, {cls}Update


class {cls}NotFound(LookupError):
    pass


def get_{name}(db: Session, {name}_id: int) -> {cls}:
    found = db.get({cls}, {name}_id)
    if found is None:
        raise {cls}NotFound({name}_id)
    return found


def list_{name}s(db: Session, limit: int, offset: int) -> list[{cls}]:
    query = select({cls}).where({cls}.archived.is_(False)).order_by({cls}.id).offset(offset).limit(limit)
    return list(db.scalars(query))


def search_{name}s(db: Session, text: str) -> list[{cls}]:
    pattern = f"%{{text}}%"
    return list(db.scalars(select({cls}).where({cls}.title.ilike(pattern)).order_by({cls}.id)))


def create_{name}(db: Session, payload: {cls}Create) -> {cls}:
    item = {cls}(**payload.model_dump())
    db.add(item)
    db.commit()
    db.refresh(item)
    return item


def update_{name}(db: Session, {name}_id: int, payload: {cls}Update) -> {cls}:
    item = get_{name}(db, {name}_id)
    for key, value in payload.model_dump(exclude_unset=True).items():
        setattr(item, key, value)
    db.commit()
    db.refresh(item)
    return item


def archive_{name}(db: Session, {name}_id: int) -> None:
    item = get_{name}(db, {name}_id)
    item.archived = True
    db.commit()
'''


def router_module(index: int, rng: random.Random) -> str:
    name = entity_name(index)
    cls = name.capitalize()
    paginated = rng.random() < 0.7
    list_signature = ("page: PageParams = Depends(page_params), db: Session = Depends(get_db)" if paginated
                      else "db: Session = Depends(get_db)")
    list_body = (f"return services.list_{name}s(db, page.limit, page.offset)" if paginated
                 else f"return db.query({cls}).all()")
    return f'''from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from app.db import get_db
from app.models.{name} import {cls}
from app.pagination import PageParams, page_params
from app.schemas.{name} import {cls}Create, {cls}Out, {cls}Update
from app.services import {name} as services

router = APIRouter(prefix="/{name}s", tags=["{name}s"])


@router.get("/", response_model=list[{cls}Out])
def list_{name}s({list_signature}):
    {list_body}


@router.get("/search", response_model=list[{cls}Out])
def search_{name}s(q: str, page: PageParams = Depends(page_params), db: Session = Depends(get_db)):
    return services.search_{name}s(db, q)[page.offset : page.offset + page.limit]


@router.get("/{{{name}_id}}", response_model={cls}Out)
def get_{name}({name}_id: int, db: Session = Depends(get_db)):
    try:
        return services.get_{name}(db, {name}_id)
    except services.{cls}NotFound:
        raise HTTPException(status_code=404, detail="{name} not found") from None


@router.post("/", response_model={cls}Out, status_code=status.HTTP_201_CREATED)
def create_{name}(payload: {cls}Create, db: Session = Depends(get_db)):
    return services.create_{name}(db, payload)


@router.patch("/{{{name}_id}}", response_model={cls}Out)
def update_{name}({name}_id: int, payload: {cls}Update, db: Session = Depends(get_db)):
    try:
        return services.update_{name}(db, {name}_id, payload)
    except services.{cls}NotFound:
        raise HTTPException(status_code=404, detail="{name} not found") from None


@router.delete("/{{{name}_id}}", status_code=status.HTTP_204_NO_CONTENT)
def archive_{name}({name}_id: int, db: Session = Depends(get_db)):
    services.archive_{name}(db, {name}_id)
'''


def alembic_revision(index: int, rng: random.Random) -> str:
    name = entity_name(index)
    previous = f'"{index - 1:04d}"' if index else "None"
    parents = sorted({rng.randrange(index) for _ in range(min(index, rng.randint(1, 2)))}) if index else []
    columns = [
        'sa.Column("id", sa.Integer(), primary_key=True)',
        'sa.Column("code", sa.String(40), nullable=False)',
        'sa.Column("status", sa.String(20), nullable=False)',
        'sa.Column("title", sa.String(200), nullable=False)',
        'sa.Column("description", sa.Text())',
        'sa.Column("amount", sa.Numeric(12, 2), nullable=False)',
        'sa.Column("archived", sa.Boolean(), nullable=False)',
        'sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now())',
        'sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now())',
    ]
    columns += [f'sa.Column("{entity_name(parent)}_id", sa.Integer(), '
                f'sa.ForeignKey("{entity_name(parent)}s.id", ondelete="CASCADE"))' for parent in parents]
    body = ",\n        ".join(columns)
    return f'''"""create {name}s

Revision ID: {index:04d}
Revises: {previous.strip('"') if index else ""}
"""
import sqlalchemy as sa
from alembic import op

revision = "{index:04d}"
down_revision = {previous}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "{name}s",
        {body},
    )
    op.create_index("ix_{name}s_code_status", "{name}s", ["code", "status"])


def downgrade() -> None:
    op.drop_index("ix_{name}s_code_status", table_name="{name}s")
    op.drop_table("{name}s")
'''


def sql_migration(index: int) -> str:
    table = f"report_{entity_name(index)}"
    return f'''-- reporting table for {entity_name(index)}s, maintained by the analytics job
CREATE TABLE {table} (
    id BIGSERIAL PRIMARY KEY,
    {entity_name(index)}_id INTEGER NOT NULL REFERENCES {entity_name(index)}s (id) ON DELETE CASCADE,
    period DATE NOT NULL,
    total NUMERIC(14, 2) NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX ux_{table}_period ON {table} ({entity_name(index)}_id, period);
CREATE INDEX ix_{table}_created ON {table} (created_at);
'''


def entity_files(index: int, rng: random.Random) -> dict[str, str]:
    name = entity_name(index)
    files = {
        f"app/models/{name}.py": model_module(index, rng),
        f"app/schemas/{name}.py": schema_module(index),
        f"app/services/{name}.py": service_module(index),
        f"app/routers/{name}.py": router_module(index, rng),
        f"alembic/versions/{index:04d}_create_{name}s.py": alembic_revision(index, rng),
    }
    if index % 4 == 3:
        files[f"migrations/{index:04d}_report_{name}.sql"] = sql_migration(index)
    return files


def main_module(entities: int) -> str:
    imports = "\n".join(f"from app.routers import {entity_name(index)}" for index in range(entities))
    includes = "\n".join(f"app.include_router({entity_name(index)}.router, prefix=\"/api/v1\")"
                         for index in range(entities))
    return f"from fastapi import FastAPI\n\n{imports}\n\napp = FastAPI(title=\"synthetic\")\n\n{includes}\n"


def generate(root: Path, files: int, seed: int = 7) -> int:
    """Write a synthetic backend of about `files` analysable files under `root`; returns the count written."""
    rng = random.Random(seed)
    entities = max(1, round((files - len(FIXED_FILES) - 1) / FILES_PER_ENTITY))
    contents = dict(FIXED_FILES)
    for index in range(entities):
        contents.update(entity_files(index, rng))
    contents["app/main.py"] = main_module(entities)
    for relative, text in contents.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(contents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", type=int, help="about how many files to write")
    parser.add_argument("folder", type=Path, help="where to write them (created if missing)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    written = generate(args.folder, args.files, args.seed)
    print(f"wrote {written} files to {args.folder}")


if __name__ == "__main__":
    main()
