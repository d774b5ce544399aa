"""## What it does
Flags cache writes that never expire:

- Redis `set(key, value)` without `ex`/`px`/`exat`/`pxat`/`keepttl`, and `setnx`/`hset`/`hmset`/`mset`/
  `lpush`/`rpush` (the `commands` option) on keys that get no `expire(...)` in the same function;
- Django `cache.set(key, value, timeout=None)` (and `add`, `get_or_set`, `set_many`, `touch`): `None` means
  "forever". Plain `cache.set(key, value)` uses the cache's `TIMEOUT` (300 s by default) and is only reported
  when the project's `CACHES` set that `TIMEOUT` to `None`;
- Flask-Caching `cache.set(key, value, timeout=0)` and `@cache.cached(timeout=0)` / `@cache.memoize(timeout=0)`:
  `0` means "never expires" there.

Redis clients are recognised by how they are built (`redis.Redis(...)`, `StrictRedis`, `redis.from_url`,
`redis.asyncio`, `aioredis`, `django_redis.get_redis_connection`, pipelines of those), or by a parameter's
annotation, in the module or imported from another. Keys that are plain constants are not reported: a single
fixed key cannot pile up, and a list pushed under a fixed name is usually a queue.

## Why it matters
A cache entry without an expiry is stale the moment its source changes and stays stale until someone flushes
it by hand. Keys built per user, per order or per request pile up until Redis reaches `maxmemory` and starts
evicting (or refusing writes), and the memory bill grows with every new user.

## Example
```python
def cache_profile(user_id: int, profile: dict) -> None:
    redis_client.set(f"profile:{user_id}", json.dumps(profile))
```

## Use instead
```python
def cache_profile(user_id: int, profile: dict) -> None:
    redis_client.set(f"profile:{user_id}", json.dumps(profile), ex=3600)
```
The fix adds `ex=3600` (the `ttl` option) to a Redis `set` that has none. It is marked unsafe: the entry now
disappears after that time, which is the point, but the code reading it must cope with a miss.

## Options
- `ttl`: the seconds the fix writes (default 3600).
- `commands`: the Redis commands other than `set` that create keys without a TTL and are checked (default
  `["setnx", "hset", "hmset", "hsetnx", "mset", "msetnx", "lpush", "rpush"]`). Add `sadd`, `zadd`, `incr`, ...
  to check those too, or remove the ones your project uses for persistent data.
- `constant-keys`: also report writes to constant keys (default false).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from analyzers.model import CallSite, Finding, Fix, Position, Project, Span, TextEdit
from analyzers.rules import Rule

DEFAULT_COMMANDS = ["setnx", "hset", "hmset", "hsetnx", "mset", "msetnx", "lpush", "rpush"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ttl: int = Field(3600, gt=0)
    commands: list[str] = DEFAULT_COMMANDS
    constant_keys: bool = False


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    expired = expired_keys(project)
    for call in project.calls_of("cache_write"):
        if "entity" not in call.detail:
            continue
        message = problem(call, options, expired)
        if message is not None:
            yield RULE.finding(message, call.location, call.detail["entity"], fix=ttl_fix(call, options))


def problem(call: CallSite, options: Options, expired: dict[str | None, set[str]]) -> str | None:
    backend = call.detail.get("backend")
    ttl = call.detail.get("ttl")
    command = call.detail.get("command", "")
    if backend == "redis":
        if ttl != "missing" or (command != "set" and command not in options.commands):
            return None
        if call.detail.get("key_shape") == "const" and not options.constant_keys:
            return None
        keys = expired.get(call.function, set())
        if call.detail.get("key", "") in keys or "" in keys:
            return None
        key = call.detail.get("key", "its key")
        if command == "set":
            return f"{call.callee}({key}, ...) has no expiry (ex=/px=): the entry never expires"
        return f"{call.callee}({key}, ...) creates a key that never expires (no expire() on it here)"
    if ttl == "none":
        forever = "timeout=None" if backend == "django" else "timeout=0"
        return f"{call.callee}(...) with {forever} never expires"
    if backend == "django" and ttl == "default" and call.detail.get("default_timeout") == "none":
        alias = call.detail.get("alias", "default")
        return f"{call.callee}(...) uses the {alias!r} cache's TIMEOUT, which CACHES sets to None: it never expires"
    return None


def expired_keys(project: Project) -> dict[str | None, set[str]]:
    """Per function, the keys given an expiry by expire()/pexpire()/... ("" when the key is not visible)."""
    found: dict[str | None, set[str]] = {}
    for call in project.calls_of("cache_expire"):
        found.setdefault(call.function, set()).add(call.detail.get("key", ""))
    return found


def ttl_fix(call: CallSite, options: Options) -> Fix | None:
    if call.detail.get("backend") != "redis" or call.detail.get("command") != "set":
        return None
    if "insert_at" not in call.detail or call.detail.get("ttl") != "missing":
        return None
    line, _, column = call.detail["insert_at"].partition(":")
    at = Position(int(line), int(column))
    text = f"{call.detail.get('insert_sep', '')}ex={options.ttl}"
    return Fix(f"Expire after {options.ttl} s (ex={options.ttl})",
               edits=(TextEdit(call.location.path, Span(at, at), text),), safe=False)


RULE = Rule(
    code="INT004",
    name="cache-write-without-ttl",
    summary="A cache write never expires (no TTL, or an explicit 'forever')",
    check=check,
    options=Options,
    fixable=True,
)
