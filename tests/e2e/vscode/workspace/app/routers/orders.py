from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Order
from app.schemas import OrderIn, OrderOut

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=list[OrderOut])
def list_orders(
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
    session: Session = Depends(get_session),
):
    return session.query(Order).order_by(Order.id).limit(limit).offset(offset).all()


@router.get("/{order_id}", response_model=OrderOut)
def get_order(order_id: int, session: Session = Depends(get_session)):
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    return order


@router.post("", response_model=OrderOut, status_code=201)
def create_order(payload: OrderIn, session: Session = Depends(get_session)):
    order = Order(customer_id=payload.customer_id, total_cents=payload.total_cents)
    session.add(order)
    session.commit()
    session.refresh(order)
    return order
