"""What the agent may read and send."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lsp_server.agent.policy import MASK, Policy, PolicyError, is_secret_name, mask_secrets


@pytest.mark.parametrize("name", [
    ".env", ".env.local", ".env.example", "prod.env", ".envrc", "server.pem", "tls.key", "id_rsa", "id_ed25519.pub",
    "credentials.json", "gcp-credentials.json", "secrets.yaml", "client_secret_123.json", ".netrc", ".pgpass",
    "cert.p12", "terraform.tfstate", ".git-credentials",
])
def test_secret_file_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["models.py", "settings.py", "environment.py", "keys.py", "envelope.sql"])
def test_ordinary_file_names(name: str) -> None:
    assert not is_secret_name(name)


def test_paths_are_confined_to_the_workspace(shop: Path, tmp_path: Path) -> None:
    policy = Policy(shop)
    assert policy.resolve("app/models.py") == "app/models.py"
    assert policy.resolve(str(shop / "app" / "models.py")) == "app/models.py"
    assert policy.resolve("./app/../app/db.py") == "app/db.py"
    for outside in ("../x.py", "/etc/passwd", str(tmp_path / "x.py"), "~/.ssh/id_rsa", "app/../../x.py", ""):
        with pytest.raises(PolicyError):
            policy.resolve(outside)


def test_symlinks_leading_outside_are_refused(shop: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (shop / "vendor").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (shop / "app" / "alias.py").symlink_to(shop / "app" / "models.py")
    policy = Policy(shop)
    with pytest.raises(PolicyError, match="symbolic link"):
        policy.resolve("vendor/thing.py")
    assert policy.resolve("app/alias.py") == "app/alias.py"  # a link inside the workspace is fine


def test_secrets_and_ignored_files_are_refused(shop: Path) -> None:
    (shop / "local_notes").mkdir()
    (shop / "local_notes" / "todo.py").write_text("x = 1\n")
    (shop / "debug.log").write_text("log\n")
    (shop / ".git").mkdir()
    policy = Policy(shop)
    for path in (".env", "config/.env.production", "local_notes/todo.py", "debug.log", ".git/config",
                 "deploy/server.key"):
        with pytest.raises(PolicyError):
            policy.resolve(path)


def test_masking_hides_credentials_and_keeps_code() -> None:
    text = "\n".join([
        'DATABASE_URL = "postgresql://shop:hunter2-very-secret@db/shop"',
        'SECRET_KEY = "django-insecure-0123456789abcdef"',
        'api_key: "AKIAABCDEFGHIJKLMNOP"',
        "token = os.environ['TOKEN']",
        'password = "changeme"',
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "client = Anthropic(api_key='sk-ant-api03-abcdefghijklmnop')",
        'url = "postgresql://user:${DB_PASSWORD}@db/x"',
    ])
    masked = mask_secrets(text)
    for secret in ("hunter2-very-secret", "django-insecure", "AKIAABCDEFGHIJKLMNOP", "MIIEow", "sk-ant-api03"):
        assert secret not in masked
    assert "postgresql://shop:" + MASK + "@db/shop" in masked
    assert "token = os.environ['TOKEN']" in masked
    assert 'password = "changeme"' in masked  # a placeholder, not a secret
    assert "${DB_PASSWORD}" in masked


def test_the_process_key_is_masked_anywhere(shop: Path, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-looking-key-123")
    assert "plain-looking-key-123" not in Policy(shop).mask("the key is plain-looking-key-123.")


@given(st.text(max_size=300))
def test_masking_never_fails(text: str) -> None:
    assert isinstance(mask_secrets(text), str)


@given(st.text(max_size=80))
def test_resolve_never_crashes(raw: str) -> None:
    policy = Policy(Path(__file__).parent / "projects" / "shop")
    try:
        policy.resolve(raw)
    except PolicyError:
        pass
