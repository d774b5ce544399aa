from pydantic import BaseModel


class OrderIn(BaseModel):
    customer_id: int
    total_cents: int


class OrderOut(BaseModel):
    id: int
    customer_id: int
    total_cents: int

    model_config = {"from_attributes": True}
