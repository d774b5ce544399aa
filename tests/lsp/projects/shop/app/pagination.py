def common_params(q: str | None = None) -> dict[str, str | None]:
    return {"q": q}
