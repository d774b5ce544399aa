from fastapi import Query


class PageParams:
    """Shared limit/offset parameters: routes that depend on this are paginated."""

    def __init__(self, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> None:
        self.limit = limit
        self.offset = offset
