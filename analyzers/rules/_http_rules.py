"""What the API and server rules share: the call sites of a function, the functions a handler reaches, paths
that name a kind of endpoint (health, login), declared statuses, and the decorator keyword fix."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from analyzers.model import App, CallSite, Endpoint, Fix, Location, Project, Span, TextEdit

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sites_by_function(project: Project, *kinds: str) -> dict[str, list[CallSite]]:
    found: dict[str, list[CallSite]] = defaultdict(list)
    for call in project.calls_of(*kinds):
        if call.function is not None:
            found[call.function].append(call)
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


def segments(path: str) -> list[str]:
    return [part for part in re.split(r"/+", path.lower()) if part]


def path_mentions(path: str, words: Iterable[str]) -> str | None:
    """The first of `words` found in a path segment (`/auth/login/` mentions "login"; `{login}` does not)."""
    wanted = [word.lower() for word in words]
    for part in segments(path):
        if part.startswith("{") or part.startswith("<"):
            continue
        tokens = re.split(r"[-_.]", part)
        for word in wanted:
            if word in tokens or word + "s" in tokens or part == word:
                return word
            if "-" in word and word in part.replace("_", "-"):
                return word  # "reset-password" in "/auth/reset-password"
            if len(tokens) == 1 and len(word) > 4 and "-" not in word and part.endswith(word):
                return word  # camel case, lower-cased: "resetPassword" -> "resetpassword"
    return None


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
