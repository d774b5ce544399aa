from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Product
from app.pagination import PageParams
from app.schemas import ProductOut

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/", response_model=list[ProductOut])
def list_products(page: PageParams = Depends(), db: Session = Depends(get_db)):
    return db.query(Product).order_by(Product.id).offset(page.offset).limit(page.limit).all()


@router.get("/{product_id}", response_model=ProductOut)
def get_product(product_id: int, db: Session = Depends(get_db)):
    return db.get(Product, product_id)
