"""What the API and server rules share: the call sites of a function, the functions a handler reaches, paths
that name a kind of endpoint (health, login), declared statuses, and the decorator keyword fix."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from analyzers.model import App, CallSite, Endpoint, Fix, Location, Project, Span, TextEdit

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sites_by_function(project: Project, *kinds: str) -> dict[str, list[CallSite]]:
    found: dict[str, list[CallSite]] = defaultdict(list)
    for call in project.calls_of(*kinds):
        if call.function is not None:
            found[call.function].append(call)
    return found


def endpoint_of(project: Project, handler: str) -> Endpoint | None:
    """The first endpoint `handler` serves (indexed once per project: rules ask for every call they report)."""
    return project.derived("endpoint_by_handler", _first_endpoints).get(handler)


def _first_endpoints(project: Project) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for endpoint in project.endpoints:
        found.setdefault(endpoint.handler, endpoint)
    return found


def reachable(project: Project, handler: str, depth: int = 4) -> list[str]:
    """The handler and the project functions it calls, breadth first, up to `depth` calls away."""
    order = [handler]
    seen = {handler}
    frontier = [handler]
    for _ in range(depth):
        following: list[str] = []
        for name in frontier:
            info = project.functions.get(name)
            for callee in sorted(info.calls) if info is not None else ():
                if callee in project.functions and callee not in seen:
                    seen.add(callee)
                    order.append(callee)
                    following.append(callee)
        frontier = following
    return order


# Call sites that change something outside the request: a database write or commit, a message, a cache write,
# an outgoing request.
EFFECT_KINDS = ("db_write", "db_commit", "enqueue", "cache_write", "http")
# The first word of a call's name that says it changes something (`save`, `create_order`, `send_mail`,
# `order.delay`): for calls into code we cannot see.
WRITE_WORDS = frozenset({
    "save", "delete", "create", "update", "insert", "add", "commit", "remove", "destroy", "send", "post", "put",
    "patch", "publish", "delay", "apply", "write", "flush", "merge", "upsert", "store", "push", "set", "execute",
    "executemany", "enqueue", "emit", "notify", "charge", "refund", "cancel", "approve", "reject", "mark", "bulk",
    "record", "track", "increment", "decrement", "incr", "decr", "append", "upload", "move", "rename", "clear",
    "reset", "archive", "restore", "import", "sync", "register", "subscribe", "unsubscribe", "invite", "ban",
    "block", "lock", "unlock", "assign", "transfer", "process", "handle", "run", "trigger", "dispatch", "submit",
})


def reads_only(project: Project, endpoint: Endpoint) -> bool:
    """Whether nothing the endpoint runs can change data: its handler and the project functions it reaches make
    no effect call (`EFFECT_KINDS`) and call nothing named like a write. A FastAPI dependency can write, and a
    framework-provided handler (a DRF `ModelViewSet.create`) is not ours to read: neither is read-only."""
    if endpoint.framework == "fastapi" and any(parameter.source == "dependency" for parameter in endpoint.parameters):
        return False
    if endpoint.handler not in project.functions:
        return False
    effects = project.derived("functions_with_effects", _functions_with_effects)
    for name in reachable(project, endpoint.handler, depth=6):
        if name in effects:
            return False
        if any(callee not in project.functions and names_a_write(callee) for callee in project.functions[name].calls):
            return False
    return True


def _functions_with_effects(project: Project) -> frozenset[str]:
    return frozenset(call.function for call in project.calls_of(*EFFECT_KINDS) if call.function is not None)


@lru_cache(maxsize=8192)  # a pure function of the name; call names repeat across a project
def names_a_write(callee: str) -> bool:
    last = callee.rsplit(".", 1)[-1].lstrip("_").lower()
    return last.split("_", 1)[0] in WRITE_WORDS


_TOKEN_SEPARATORS = re.compile(r"[-_.]")


def segments(path: str) -> list[str]:
    return [part for part in path.lower().split("/") if part]


@dataclass(frozen=True, slots=True)
class _PathWords:
    """A word list prepared for `path_mentions`: rules ask about every endpoint's path with the same words, and
    trying each word against each segment in turn was most of SRV004's time."""

    words: tuple[str, ...]  # lower-cased, in the caller's order (the first match wins)
    order: dict[str, int]  # word -> its first position in `words`
    hyphenated: tuple[tuple[int, str], ...]  # "reset-password": matched inside a segment
    long_plain: dict[str, int]  # longer than 4, no hyphen: may end a camel-case segment


@lru_cache(maxsize=64)  # keyed on the words themselves: a pure function of its argument
def _path_words(words: tuple[str, ...]) -> _PathWords:
    wanted = tuple(word.lower() for word in words)
    order: dict[str, int] = {}
    for position, word in enumerate(wanted):
        order.setdefault(word, position)
    return _PathWords(wanted, order, tuple((position, word) for word, position in order.items() if "-" in word),
                      {word: position for word, position in order.items() if len(word) > 4 and "-" not in word})


def path_mentions(path: str, words: Iterable[str]) -> str | None:
    """The first of `words` found in a path segment (`/auth/login/` mentions "login"; `{login}` does not).

    Within the first segment that mentions any word, the word listed first wins."""
    wanted = tuple(words)
    for part in segments(path):
        if part.startswith(("{", "<")):
            continue
        word = _segment_mentions(part, wanted)
        if word is not None:
            return word
    return None


@lru_cache(maxsize=8192)  # a pure function of its arguments; endpoints of one resource share their segments
def _segment_mentions(part: str, words: tuple[str, ...]) -> str | None:
    prepared = _path_words(words)
    order = prepared.order
    tokens = _TOKEN_SEPARATORS.split(part)
    found = [order[text] for text in (part, *tokens) if text in order]  # the word is a token, or the segment
    found.extend(order[token[:-1]] for token in tokens if token.endswith("s") and token[:-1] in order)  # plural
    dashed = part.replace("_", "-")
    found.extend(position for position, word in prepared.hyphenated if word in dashed)  # "reset-password"
    if len(tokens) == 1:  # camel case, lower-cased: "resetPassword" -> "resetpassword"
        found.extend(position for word, position in prepared.long_plain.items() if part.endswith(word))
    return prepared.words[min(found)] if found else None


def status_number(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def keyword_fix(endpoint: Endpoint, keyword: str, title: str, safe: bool = False) -> Fix | None:
    """`keyword` (e.g. `status_code=201`) appended to a FastAPI route decorator."""
    anchor = endpoint.route_anchor
    if endpoint.framework != "fastapi" or anchor is None:
        return None
    at = anchor.span.start
    return Fix(title, edits=(TextEdit(anchor.path, Span(at, at), f", {keyword}"),), safe=safe)


def describe(endpoint: Endpoint) -> str:
    return f"{'/'.join(endpoint.methods)} {endpoint.path or '/'}"


def app_location(default: Location, urls_at: str | None) -> Location:
    """Django apps: the root URL configuration ("path:line:column" in `App.detail["urls_at"]`), else `default`."""
    path, _, column = (urls_at or "").rpartition(":")
    path, _, line = path.rpartition(":")
    if not path or not line.isdigit() or not column.isdigit():
        return default
    return Location(path, Span.at(int(line), int(column)))


def serving_app(project: Project) -> App | None:
    """The app that serves the project's endpoints (FastAPI/Starlette, Flask, Django settings for DRF views)."""
    frameworks = {endpoint.framework for endpoint in project.endpoints}
    wanted = frameworks | ({"starlette"} if "fastapi" in frameworks else set()) | (
        {"django"} if "drf" in frameworks else set())
    candidates = [app for app in project.apps if app.framework in wanted]
    # Several apps (a legacy sub-app, a test app): the one in a main/app/asgi module is the server.
    candidates.sort(key=lambda app: (app.location.path.rsplit("/", 1)[-1].removesuffix(".py") not in (
        "main", "app", "application", "asgi", "wsgi", "server", "__init__", "settings", "base"), app.location.path))
    return candidates[0] if candidates else None
