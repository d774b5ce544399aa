"""Configuration: `[tool.plumbline]` in pyproject.toml, or the same keys at the top of plumbline.toml (which wins).

Unknown keys, unknown rule codes and values of the wrong type are errors that name the file and the key.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from analyzers.roots import find_root_folder

DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite", "mssql", "oracle", "cockroachdb")
KNOWN_KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "exclude", "database", "rules")


class ConfigError(Exception):
    """A configuration mistake, with the file and key it concerns."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")


@dataclass(slots=True)
class Config:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    database: str | None = None
    rule_options: dict[str, BaseModel] = field(default_factory=dict)
    source: str | None = None  # the file the configuration came from

    def enabled_codes(self, all_codes: dict[str, bool]) -> set[str]:
        """The rule codes to run. `all_codes` maps code -> enabled by default."""
        if self.select is None:
            chosen = {code for code, default in all_codes.items() if default}
        else:
            chosen = {code for code in all_codes if _matches_any(code, self.select)}
        chosen |= {code for code in all_codes if _matches_any(code, self.extend_select)}
        return {code for code in chosen if not _matches_any(code, self.ignore)}

    def ignored_for(self, path: str) -> set[str]:
        """Codes (or prefixes) ignored for a project-relative path by per-file-ignores."""
        found: set[str] = set()
        for pattern, codes in self.per_file_ignores.items():
            if path_matches(path, pattern):
                found.update(codes)
        return found

    def options_for(self, code: str, model: type[BaseModel]) -> BaseModel:
        options = self.rule_options.get(code)
        return options if isinstance(options, model) else model()


def _matches_any(code: str, selectors: list[str]) -> bool:
    """`ALL`, a full code (`DB003`) or a prefix (`DB`, `DB00`) selects a code."""
    return any(selector == "ALL" or code.startswith(selector) for selector in selectors)


def code_matches(code: str, selectors: set[str] | list[str]) -> bool:
    return _matches_any(code, list(selectors))


def path_matches(path: str, pattern: str) -> bool:
    """Glob match on a project-relative path; a pattern without `/` matches any path component."""
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*"):
        return True
    if "/" not in pattern:
        return any(fnmatch.fnmatch(part, pattern) for part in path.split("/"))
    return fnmatch.fnmatch(path, "*/" + pattern) or fnmatch.fnmatch(path, "*/" + pattern + "/*")


def find_root(start: Path) -> Path:
    """The nearest folder upward from `start` holding a project marker, else `start` itself."""
    return Path(find_root_folder(str(start))[0])


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Load the project's configuration (or `explicit`), validating every key."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(str(explicit), None, "no such configuration file")
        table = _read_table(explicit, top_level=explicit.name != "pyproject.toml")
        return parse_config(table or {}, str(explicit))
    plumbline_toml = root / "plumbline.toml"
    if plumbline_toml.is_file():
        return parse_config(_read_table(plumbline_toml, top_level=True) or {}, str(plumbline_toml))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_table(pyproject, top_level=False)
        if table is not None:
            return parse_config(table, str(pyproject))
    return Config()


def _read_table(path: Path, top_level: bool) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), None, f"invalid TOML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), None, f"cannot read: {error}") from None
    if top_level:
        return data
    tool = data.get("tool", {})
    table = tool.get("plumbline") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def parse_config(table: dict[str, Any], source: str) -> Config:
    from analyzers.rules import all_rules

    rules = all_rules()
    prefix = "tool.plumbline." if source.endswith("pyproject.toml") else ""
    config = Config(source=source)
    for key in table:
        if key not in KNOWN_KEYS:
            raise ConfigError(source, prefix + key, f"unknown key (known: {', '.join(KNOWN_KEYS)})")

    def codes(key: str) -> list[str]:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(source, prefix + key, "expected a list of rule codes, e.g. [\"DB003\"]")
        for code in value:
            if code != "ALL" and not any(known.startswith(code) for known in rules):
                raise ConfigError(source, prefix + key, f"unknown rule code {code!r}")
        return list(value)

    if "select" in table:
        config.select = codes("select")
    if "extend-select" in table:
        config.extend_select = codes("extend-select")
    if "ignore" in table:
        config.ignore = codes("ignore")
    if "exclude" in table:
        value = table["exclude"]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(source, prefix + "exclude", "expected a list of glob patterns")
        config.exclude = list(value)
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, dict):
            raise ConfigError(source, prefix + "per-file-ignores", "expected a table of glob = [codes]")
        for pattern, pattern_codes in value.items():
            key = f"per-file-ignores.{pattern}"
            if not isinstance(pattern_codes, list) or not all(isinstance(c, str) for c in pattern_codes):
                raise ConfigError(source, prefix + key, "expected a list of rule codes")
            for code in pattern_codes:
                if code != "ALL" and not any(known.startswith(code) for known in rules):
                    raise ConfigError(source, prefix + key, f"unknown rule code {code!r}")
            config.per_file_ignores[pattern] = list(pattern_codes)
    if "database" in table:
        value = table["database"]
        if not isinstance(value, str) or value.lower() not in DIALECTS:
            raise ConfigError(source, prefix + "database", f"expected one of {', '.join(DIALECTS)}")
        config.database = value.lower()
    if "rules" in table:
        rule_tables = table["rules"]
        if not isinstance(rule_tables, dict):
            raise ConfigError(source, prefix + "rules", "expected a table of [rules.CODE] tables")
        for code, options in rule_tables.items():
            key = f"rules.{code}"
            rule = rules.get(code)
            if rule is None:
                raise ConfigError(source, prefix + key, f"unknown rule code {code!r}")
            if not isinstance(options, dict):
                raise ConfigError(source, prefix + key, "expected a table of options")
            try:
                config.rule_options[code] = rule.options.model_validate(_snake(options))
            except ValidationError as error:
                detail = error.errors()[0]
                option = ".".join(str(part).replace("_", "-") for part in detail["loc"])
                raise ConfigError(source, f"{prefix}{key}.{option}", detail["msg"]) from None
    return config


def _snake(options: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in options.items()}
