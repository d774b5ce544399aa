""""Implement endpoint": a pattern pack from the nearest endpoint, several new files, the engine as acceptance."""

from __future__ import annotations

import pytest

from lsp_server.agent.job import run_job
from lsp_server.agent.loop import AgentError
from tests.agent.fake_api import EDITOR, FakeMessagesAPI, create, str_replace, text, tool, view
from tests.agent.helpers import implement_job

SERVICE = '''\
from sqlalchemy.orm import Session

from app.models import Customer


def list_customers(db: Session, limit: int, offset: int) -> list[Customer]:
    return db.query(Customer).order_by(Customer.id).offset(offset).limit(limit).all()
'''

ROUTE = '''\
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.db import get_db
from app.services import customers as service

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


class CustomerOut(BaseModel):
    id: int
    name: str


@router.get("", response_model=list[CustomerOut])
def list_customers(db: Session = Depends(get_db), limit: int = Query(50, ge=1, le=200),
                   offset: int = Query(0, ge=0)):
    return service.list_customers(db, limit, offset)
'''

UNPAGINATED_ROUTE = '''\
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Customer

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("")
def list_customers(db: Session = Depends(get_db)):
    return db.query(Customer).all()
'''

MIGRATION = '''\
"""refunds"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = {down!r}


def upgrade():
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])


def downgrade():
    op.drop_table("refunds")
'''

MAIN_BEFORE = "from app.routes import orders\n"
MAIN_AFTER = "from app.routes import customers, orders\n"
INCLUDE_BEFORE = "app.include_router(orders.router)\n"
INCLUDE_AFTER = "app.include_router(orders.router)\napp.include_router(customers.router)\n"


def script_list_customers(api: FakeMessagesAPI, route: str = ROUTE) -> None:
    api.reply(text("I will follow the orders endpoint."), view("app/main.py"))
    api.reply(create("app/services/customers.py", SERVICE), create("app/routes/customers.py", route))
    api.reply(str_replace("app/main.py", MAIN_BEFORE, MAIN_AFTER), str_replace("app/main.py", INCLUDE_BEFORE,
                                                                                  INCLUDE_AFTER))
    api.reply(text("Added GET /api/v1/customers, paginated like the orders list."))


async def test_implement_writes_every_layer(fake_api: FakeMessagesAPI, shop) -> None:
    script_list_customers(fake_api)
    result = await run_job(implement_job(shop, "GET /api/v1/customers: list customers", near="app/routes/orders.py"))

    assert [change.path for change in result.changes] == ["app/main.py", "app/routes/customers.py",
                                                          "app/services/customers.py"]
    assert [change.before is None for change in result.changes] == [False, True, True]
    task = fake_api.requests[0].body["messages"][0]["content"][0]["text"]
    layers = ("app/routes/orders.py", "app/services/orders.py", "app/models.py", "alembic/versions/0001_initial.py")
    for layer in layers:
        assert f"### {layer}" in task
    assert "down_revision = '0001'" in task
    assert not (shop / "app/routes/customers.py").exists()


async def test_implement_output_must_pass_the_engine(fake_api: FakeMessagesAPI, shop) -> None:
    script_list_customers(fake_api, UNPAGINATED_ROUTE)
    fake_api.reply(view("app/routes/customers.py"))
    fake_api.reply(str_replace("app/routes/customers.py", UNPAGINATED_ROUTE, ROUTE))
    fake_api.reply(text("Paginated it."))

    result = await run_job(implement_job(shop, "GET /api/v1/customers"))

    assert result.repair_rounds == 1
    repair = fake_api.requests[4].body["messages"][-1]["content"][0]["text"]
    assert "API001" in repair and "app/routes/customers.py" in repair


@pytest.mark.parametrize("down, passes", [("0001", True), (None, False)])
async def test_a_new_migration_must_follow_the_head(fake_api: FakeMessagesAPI, shop, down, passes) -> None:
    model = ('\n\nclass Refund(Base):\n    __tablename__ = "refunds"\n\n'
             '    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n'
             '    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)\n'
             '    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())\n'
             '    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), '
             'onupdate=func.now())\n')
    fake_api.reply(view("app/models.py"), view("app/main.py"))
    fake_api.reply(create("alembic/versions/0002_refunds.py", MIGRATION.format(down=down)),
                   create("app/services/customers.py", SERVICE), create("app/routes/customers.py", ROUTE))
    fake_api.reply(tool(EDITOR, command="insert", path="app/models.py", insert_line=25, new_str=model))
    fake_api.reply(str_replace("app/main.py", MAIN_BEFORE, MAIN_AFTER),
                   str_replace("app/main.py", INCLUDE_BEFORE, INCLUDE_AFTER))
    fake_api.reply(text("Done."))
    for _ in range(3):
        fake_api.reply(text("It is fine as it is."))
    job = implement_job(shop, "refunds table and customers list")
    if passes:
        result = await run_job(job)
        assert "alembic/versions/0002_refunds.py" in [change.path for change in result.changes]
    else:
        with pytest.raises(AgentError) as raised:
            await run_job(job)
        assert "must follow the current head" in raised.value.message and "'0001'" in raised.value.message

