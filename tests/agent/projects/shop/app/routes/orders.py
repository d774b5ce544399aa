from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.db import get_db
from app.services import orders as service

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])


class OrderOut(BaseModel):
    id: int
    customer_id: int
    total_cents: int


@router.get("", response_model=list[OrderOut])
def list_orders(db: Session = Depends(get_db), limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
    return service.list_orders(db, limit, offset)
