"""Finding a project's root folder, and the folder Plumbline keeps in it. Light on imports (only `os`): a warm
`plumbline check` starts here, before anything heavy is loaded."""

from __future__ import annotations

import os

ROOT_MARKERS = ("pyproject.toml", "plumbline.toml", "package.json", "go.mod", ".git")
# Facts, the last result and the last output, under the project root (it ignores itself in git).
CACHE_DIR = ".plumbline_cache"


def find_root_folder(start: str) -> tuple[str, list[str]]:
    """The nearest folder upward from `start` holding a project marker (else `start`'s own folder), and every
    folder looked at on the way: a marker created or deleted in one of them moves the root."""
    start = os.path.realpath(start)
    current = start if os.path.isdir(start) else os.path.dirname(start)
    consulted: list[str] = []
    folder = current
    while True:
        consulted.append(folder)
        if any(os.path.exists(os.path.join(folder, marker)) for marker in ROOT_MARKERS):
            return folder, consulted
        parent = os.path.dirname(folder)
        if parent == folder:
            return current, consulted
        folder = parent
