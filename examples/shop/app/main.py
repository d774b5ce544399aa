from fastapi import APIRouter, FastAPI

from app.routes import orders, products

app = FastAPI(title="Shop")
api = APIRouter(prefix="/api/v1")
api.include_router(products.router)
api.include_router(orders.router)
app.include_router(api)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
