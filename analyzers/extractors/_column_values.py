"""What a column's declared default says about its values, shared by the model extractors.

Python's `datetime.now()` without a time zone and `datetime.utcnow()` return *naive* datetimes (no offset); a
default that fills a timestamp with one stores server-local or unmarked UTC times. Only the standard library's
`datetime.datetime` counts: `arrow.utcnow()`, `pendulum.now()` and Django's `timezone.now` return aware values.
"""

from __future__ import annotations

from analyzers.pysyntax import Call, Expr, Lambda, Module, Name, expr_text

# Qualified callables that return a naive datetime when called without arguments.
NAIVE_NOW = frozenset({"datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today"})
# ... and the ones whose result stays naive whatever the arguments (`utcnow()` takes none).
ALWAYS_NAIVE = frozenset({"datetime.datetime.utcnow", "datetime.datetime.today"})


def naive_now(module: Module, expr: Expr | None) -> str | None:
    """The default as written (`datetime.utcnow`, `datetime.now()`) when it fills in a naive current time."""
    if isinstance(expr, Lambda):
        return naive_now(module, expr.body)
    if isinstance(expr, Name):
        return expr.dotted if module.resolve(expr.dotted) in NAIVE_NOW else None
    if isinstance(expr, Call) and isinstance(expr.func, Name):
        qualified = module.resolve(expr.func.dotted)
        if qualified in ALWAYS_NAIVE or (qualified in NAIVE_NOW and not expr.args and not expr.kwargs):
            return expr_text(expr)
    return None
