"""## What it does
Flags cache keys (of Redis, Django cache and Flask-Caching reads and writes) built from a value with no
namespace in front: `f"{user_id}"`, `str(order.id)`, `user_id + ":cart"`, `"%s" % sku`, `"{}".format(sku)`,
`f"user{user_id}"`. A key whose constant part starts with a word and a separator (`f"user:{user_id}"`,
`f"v2/orders/{id}"`, `"cart." + str(id)`) is fine, and so are constant keys. A key that starts with a value
named like a prefix (`f"{KEY_PREFIX}{id}"`, `f"{self.namespace}:{id}"`) or a key passed in a variable is
given the benefit of the doubt.

With `require-version`, keys must also carry a version segment (`v2:`, `/v3/`) or a `version=` argument, so
that changing what is cached can switch to fresh keys instead of reading old shapes.

## Why it matters
Two features that both cache "by id" overwrite each other's entries: the cart of user 42 comes back as the
profile of user 42. A namespace per kind of entry keeps them apart, lets you find and flush one kind
(`SCAN MATCH profile:*`), and shows in monitoring which feature uses the memory. A version segment lets a
deploy that changes the cached shape start from empty keys instead of crashing on old ones.

## Example
```python
def cached_profile(user_id: int) -> dict | None:
    return cache.get(f"{user_id}")
```

## Use instead
```python
def cached_profile(user_id: int) -> dict | None:
    return cache.get(f"profile:v1:{user_id}")
```
There is no automatic fix: the namespace is a name only the team can choose, and renaming a key orphans the
entries already written under the old one.

## Options
- `separators`: what may end a namespace segment (default `[":", "/", ".", "|", "-", "_", "#"]`).
- `require-version`: also require a version segment in every key, constant keys included (default false).
- `prefix-names`: words that mark a leading interpolated value as a prefix (default `["prefix", "namespace",
  "version", "key"]`; upper-case constants always count).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Location, Position, Project, Span
from analyzers.rules import Rule

_VERSION = re.compile(r"(?:^|[^A-Za-z0-9])v\d+(?:[^A-Za-z0-9]|$)", re.IGNORECASE)


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    separators: list[str] = [":", "/", ".", "|", "-", "_", "#"]
    require_version: bool = False
    prefix_names: list[str] = ["prefix", "namespace", "version", "key"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    reported: set[tuple[str | None, str]] = set()
    for call in project.calls_of("cache_write", "cache_read", "cache_expire"):
        if "entity" not in call.detail or "key_span" not in call.detail:
            continue
        message = problem(call, options)
        seen = (call.function or call.location.path, call.detail.get("key", ""))
        if message is not None and seen not in reported:  # once per key in a function, not per command on it
            reported.add(seen)
            yield RULE.finding(message, key_location(call), call.detail["entity"] + ":key")


def problem(call: CallSite, options: Options) -> str | None:
    shape = call.detail.get("key_shape")
    prefix = call.detail.get("key_prefix", "")
    key = call.detail.get("key", "")
    if shape == "template":
        if not prefix and looks_like_prefix(call.detail.get("key_first", ""), options.prefix_names):
            return None
        if not has_namespace(prefix, options.separators):
            return (f"cache key {key} starts with a value, not a namespace: entries of different kinds with the "
                    f"same id collide (write e.g. \"name:{{...}}\")")
    if options.require_version and shape in ("const", "template") and not call.detail.get("version"):
        if not _VERSION.search(prefix):
            return f"cache key {key} has no version segment (e.g. \"name:v1:...\") to retire old entries with"
    return None


def has_namespace(prefix: str, separators: list[str]) -> bool:
    """A word followed by a separator somewhere in the constant prefix."""
    if not separators:
        return bool(prefix.strip())
    pattern = "[A-Za-z0-9].*?(?:" + "|".join(re.escape(separator) for separator in separators) + ")"
    return re.search(pattern, prefix) is not None


def looks_like_prefix(expression: str, names: list[str]) -> bool:
    last = expression.rsplit(".", 1)[-1]
    if last.isupper() and any(char.isalpha() for char in last):
        return True
    lowered = expression.lower()
    return any(name.lower() in lowered for name in names)


def key_location(call: CallSite) -> Location:
    try:
        start_line, start_column, end_line, end_column = (int(part) for part in call.detail["key_span"].split(":"))
    except ValueError:
        return call.location
    return Location(call.location.path, Span(Position(start_line, start_column), Position(end_line, end_column)))


RULE = Rule(
    code="INT005",
    name="cache-key-without-namespace",
    summary="A cache key starts with a value instead of a namespace (or lacks a version, when required)",
    check=check,
    options=Options,
    severity="info",
)
