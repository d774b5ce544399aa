from app.models.orders import Customer, Order
from app.models.products import Product

__all__ = ["Customer", "Order", "Product"]
