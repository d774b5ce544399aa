"""Configuration: where it is read from, what each key does, and errors that name the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzers.config import Config, ConfigError, find_root, load_config, path_matches
from tests.cli.conftest import ORDERS_MODEL

UNUSED = "x = 1  # plumbline: ignore[DB003]\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes(outcome) -> list[str]:
    return sorted(item["code"] for item in json.loads(outcome.out)["findings"])


# --------------------------------------------------------------------------------------------- sources


def test_no_configuration_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config()


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.plumbline]\nselect = ["DB"]\nignore = ["DB002"]\ndatabase = "MySQL"\n')
    config = load_config(tmp_path)
    assert config.select == ["DB"] and config.ignore == ["DB002"] and config.database == "mysql"
    assert config.source == str(tmp_path / "pyproject.toml")


def test_pyproject_without_tool_table_is_fine(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 99\n')
    assert load_config(tmp_path) == Config()


def test_plumbline_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.plumbline]\nselect = ["API"]\n')
    write(tmp_path / "plumbline.toml", 'select = ["DB003"]\n')
    config = load_config(tmp_path)
    assert config.select == ["DB003"]
    assert config.source == str(tmp_path / "plumbline.toml")


def test_explicit_file(tmp_path: Path) -> None:
    write(tmp_path / "plumbline.toml", 'select = ["DB003"]\n')
    explicit = write(tmp_path / "ci" / "strict.toml", 'select = ["ALL"]\n')
    assert load_config(tmp_path, explicit).select == ["ALL"]
    explicit_pyproject = write(tmp_path / "other" / "pyproject.toml", '[tool.plumbline]\nignore = ["API"]\n')
    assert load_config(tmp_path, explicit_pyproject).ignore == ["API"]


def test_every_key(tmp_path: Path) -> None:
    write(tmp_path / "plumbline.toml", """
select = ["DB"]
extend-select = ["API001"]
ignore = ["DB002"]
exclude = ["legacy/", "*.generated.py"]
database = "postgresql"

[per-file-ignores]
"tests/*" = ["DB001", "API"]

[rules.DB001]
names = ["created_at", "born"]

[rules.DB003]
unknown-database = "skip"
""")
    config = load_config(tmp_path)
    assert config.extend_select == ["API001"]
    assert config.exclude == ["legacy/", "*.generated.py"]
    assert config.per_file_ignores == {"tests/*": ["DB001", "API"]}
    assert config.ignored_for("tests/test_models.py") == {"DB001", "API"}
    assert config.ignored_for("app/models.py") == set()
    assert config.rule_options["DB001"].model_dump()["names"] == ["created_at", "born"]
    assert config.rule_options["DB003"].model_dump()["unknown_database"] == "skip"
    enabled = config.enabled_codes({"API001": True, "API002": True, "DB001": True, "DB002": True, "DB003": False})
    assert enabled == {"API001", "DB001", "DB003"}


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "key", "words"), [
    ('selec = ["DB"]\n', "selec", "unknown key"),
    ('select = ["DB999"]\n', "select", "unknown rule code 'DB999'"),
    ('select = "DB003"\n', "select", "expected a list"),
    ('ignore = ["XYZ"]\n', "ignore", "unknown rule code"),
    ('extend-select = [3]\n', "extend-select", "expected a list"),
    ('exclude = "legacy"\n', "exclude", "expected a list of glob patterns"),
    ('database = "postgres"\n', "database", "expected one of"),
    ('[per-file-ignores]\n"a/*" = ["NOPE1"]\n', "per-file-ignores.a/*", "unknown rule code"),
    ('per-file-ignores = ["x"]\n', "per-file-ignores", "expected a table"),
    ('[rules.DB999]\nx = 1\n', "rules.DB999", "unknown rule code"),
    ('[rules.DB001]\nnmes = ["x"]\n', "rules.DB001.nmes", ""),
    ('[rules.DB001]\nnames = "created_at"\n', "rules.DB001.names", ""),
    ('rules = 3\n', "rules", "expected a table"),
])
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path / "plumbline.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert words in str(caught.value)


def test_pyproject_keys_are_named_in_full(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.plumbline]\nselect = ["DB999"]\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml: tool.plumbline.select: unknown rule code"):
        load_config(tmp_path)
    assert path.exists()


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path / "plumbline.toml", "select = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(tmp_path)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path, tmp_path / "nope.toml")


def test_configuration_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_bytes(b'select = ["\xff"]\n')
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


# --------------------------------------------------------------------------------------------- helpers


def test_find_root_walks_up_to_the_nearest_marker(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "pyproject.toml", "")
    deep = tmp_path / "repo" / "app" / "models"
    deep.mkdir(parents=True)
    write(deep / "order.py", "")
    assert find_root(deep) == tmp_path / "repo"
    assert find_root(deep / "order.py") == tmp_path / "repo"
    (tmp_path / "repo" / "app" / ".git").mkdir()
    assert find_root(deep) == tmp_path / "repo" / "app"


@pytest.mark.parametrize(("path", "pattern", "matches"), [
    ("tests/test_a.py", "tests/*", True),
    ("app/tests/test_a.py", "tests/*", True),
    ("app/models.py", "tests/*", False),
    ("legacy/old.py", "legacy/", True),
    ("app/legacy/old.py", "legacy", True),
    ("app/x.generated.py", "*.generated.py", True),
    ("db/001.sql", "*.sql", True),
    ("app/models.py", "app/models.py", True),
    ("app/models.pyc", "app/models.py", False),
])
def test_path_patterns(path: str, pattern: str, matches: bool) -> None:
    assert path_matches(path, pattern) is matches


# --------------------------------------------------------------------------------------------- through the CLI


def test_cli_configuration_error_exits_two_with_file_and_key(make_project, cli) -> None:
    root = make_project({})
    write(root / "pyproject.toml", '[tool.plumbline]\nselet = ["DB"]\n')
    outcome = cli("check", cwd=root)
    assert outcome.code == 2
    assert f"{root / 'pyproject.toml'}: tool.plumbline.selet: unknown key" in outcome.err
    assert "Traceback" not in outcome.err and outcome.out == ""


def test_cli_config_option(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    strict = write(root / "ci.toml", 'ignore = ["PLB001"]\n')
    assert cli("check", cwd=root).code == 1
    assert cli("check", "--config", str(strict), cwd=root).code == 0
    missing = cli("check", "--config", "nope.toml", cwd=root)
    assert missing.code == 2 and "nope.toml: no such configuration file" in missing.err


def test_cli_configuration_is_read_from_the_root_not_the_cwd(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    write(root / "plumbline.toml", 'ignore = ["PLB001"]\n')
    assert cli("check", ".", cwd=root / "app").code == 0
    assert cli("check", "app", cwd=root).code == 0


def test_cli_select_replaces_the_configured_selection(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL, "app/a.py": UNUSED})
    write(root / "plumbline.toml", 'select = ["DB001"]\nignore = ["DB003", "PLB001"]\n')
    assert codes(cli("check", "--format", "json", cwd=root)) == []
    assert codes(cli("check", "--format", "json", "--select", "DB003", cwd=root)) == ["DB003"]


def test_cli_ignore_adds_to_the_configured_ignores(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL, "app/a.py": "x = 1  # plumbline: ignore[DB002]\n"})
    write(root / "plumbline.toml", 'ignore = ["DB003", "DB007", "DB008"]\n')
    assert codes(cli("check", "--format", "json", cwd=root)) == ["PLB001"]
    assert codes(cli("check", "--format", "json", "--ignore", "PLB001", cwd=root)) == []


def test_cli_per_file_ignores(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL, "legacy/models.py": ORDERS_MODEL.replace("orders", "olds")})
    write(root / "plumbline.toml", '[per-file-ignores]\n"legacy/*" = ["DB"]\n')
    findings = json.loads(cli("check", "--format", "json", "--select", "DB003", cwd=root).out)["findings"]
    assert [item["path"] for item in findings] == ["app/models.py"]


def test_cli_exclude(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "legacy/b.py": UNUSED, "app/gen/c.py": UNUSED})
    write(root / "plumbline.toml", 'exclude = ["legacy", "app/gen/*"]\n')
    findings = json.loads(cli("check", "--format", "json", cwd=root).out)["findings"]
    assert [item["path"] for item in findings] == ["app/a.py"]


def test_cli_database_option_changes_db003(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    assert codes(cli("check", "--format", "json", "--select", "DB003", cwd=root)) == ["DB003"]
    write(root / "plumbline.toml", 'database = "mysql"\n')
    assert codes(cli("check", "--format", "json", "--select", "DB003", cwd=root)) == []


def test_cli_rule_options(make_project, cli) -> None:
    model = ORDERS_MODEL.replace("created_at", "born_at")
    root = make_project({"app/models.py": model})
    assert "DB001" in codes(cli("check", "--format", "json", cwd=root))
    write(root / "plumbline.toml", '[rules.DB001]\nnames = ["born_at"]\n')
    assert "DB001" not in codes(cli("check", "--format", "json", cwd=root))
