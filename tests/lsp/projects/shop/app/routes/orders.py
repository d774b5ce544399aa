from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Order
from app.pagination import common_params

router = APIRouter(prefix="/orders")


@router.get("/")
def list_orders(params: dict = Depends(common_params), db: Session = Depends(get_db)) -> list[dict]:  # expect: API001
    return [{"id": order.id} for order in db.query(Order).all()]


@router.get("/{order_id}")
def get_order(order_id: int, db: Session = Depends(get_db)) -> dict:
    return {"id": order_id}
