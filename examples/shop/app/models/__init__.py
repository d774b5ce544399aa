from app.models.catalog import Product
from app.models.orders import Customer, Order, OrderLine

__all__ = ["Customer", "Order", "OrderLine", "Product"]
