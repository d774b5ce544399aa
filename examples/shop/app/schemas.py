from decimal import Decimal

from pydantic import BaseModel


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    price: Decimal


class OrderOut(BaseModel):
    id: int
    customer_id: int
    status: str


class OrderCreate(BaseModel):
    customer_id: int
