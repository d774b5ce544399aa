"""The rule registry.

One module per rule, named after its code and name (`db003_foreign_key_without_index.py`). A rule module has
its documentation as the module docstring, in a fixed shape (What it does / Why it matters / Example /
Use instead / Options), and a `RULE = Rule(...)` whose `check(project, options)` yields findings. Rules read only
the `Project` model (`analyzers.model`): never syntax trees, never files.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project

Severity = Literal["error", "warning", "info", "hint"]
CATEGORIES = {
    "API": "HTTP API design",
    "DB": "database schema",
    "QRY": "queries and data access",
    "SRV": "server setup",
    "INT": "integrations",
    "CFG": "configuration and secrets",
    "PLB": "Plumbline itself",
}


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    check: Callable[[Project, BaseModel], Iterable[Finding]]
    severity: Severity = "warning"
    options: type[BaseModel] = NoOptions
    fixable: bool = False
    # Enabled unless selected explicitly (rules that are opinions rather than defects).
    default_enabled: bool = True
    doc: str = ""

    @property
    def category(self) -> str:
        return self.code.rstrip("0123456789")

    def finding(self, message: str, location, fingerprint_entity: str, fix=None, related=None) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            severity=self.severity,
            message=message,
            location=location,
            fingerprint=f"{self.code}:{fingerprint_entity}",
            fix=fix,
            related=list(related or []),
        )


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in code order."""
    rules: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule):
            doc = (module.__doc__ or "").strip()
            rules[rule.code] = Rule(**{**rule.__dict__, "doc": doc})
    return dict(sorted(rules.items(), key=lambda item: (item[0].rstrip("0123456789"), item[0])))
