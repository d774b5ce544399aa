from sqlalchemy.orm import Session

from app.models import Order


def list_orders(db: Session, limit: int, offset: int) -> list[Order]:
    return db.query(Order).order_by(Order.id).offset(offset).limit(limit).all()
