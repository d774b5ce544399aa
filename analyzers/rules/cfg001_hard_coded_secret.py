"""## What it does
Flags credentials written into the code or into committed configuration files:

- string literals bound to a name that says it holds a credential: `SECRET_KEY`, `*_PASSWORD`, `*_TOKEN`,
  `API_KEY`, `*_SECRET`, `client_secret=...`, `{"PASSWORD": ...}` in Django's `DATABASES`,
  `app.config["SECRET_KEY"] = ...`;
- values with the shape of a well-known token wherever they appear: AWS access key IDs (`AKIA...`), Stripe
  live keys (`sk_live_...`), `sk-...` API keys, GitHub (`ghp_...`) and Slack (`xox...`) tokens, Google API
  keys, private keys (`-----BEGIN ... PRIVATE KEY-----`);
- connection URLs with an inline password (`postgresql://app:s3cret@db.example.com/shop`);
- hard-coded fallbacks for secrets: `os.environ.get("SECRET_KEY", "...")`, `config("API_KEY", default=...)`;
- the same in `alembic.ini`, `settings.ini`, `config.ini`, `setup.cfg`, `docker-compose*.yml`, `.env.example`
  and friends (URLs and token shapes also in requirement files: a private index URL with a token).

Not reported: empty strings and placeholders (`"changeme"`, `"your-api-key"`, `"xxx"`, `"<token>"`,
`"${DB_PASSWORD}"`, `"%(password)s"`), values that are names rather than secrets (`"access_token"`),
values read from the environment or settings, test suites and fixtures (`tests/`, `conftest.py`), Django's
`SECRET_KEY` in a settings module named for development, local work or tests, and the trivial passwords local
development uses (`postgres://postgres:postgres@localhost/app`, `POSTGRES_PASSWORD: postgres`). The message
names the kind of secret, never its value.

## Why it matters
Everything committed is copied to every clone, fork, CI cache and backup, and stays in the history after the
line is deleted. A key in the code is a key every past and future reader of the repository holds, and it
cannot be rotated without a deploy. Secrets belong in the environment or a secret manager, per deployment.

## Example
```python
SECRET_KEY = "k3#9x!q0v$2m...w7"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "Vq8!pz2Lr"}}
```

## Use instead
```python
SECRET_KEY = os.environ["SECRET_KEY"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": os.environ["DB_PASSWORD"]}}
```
The fix rewrites a plain `NAME = "literal"` assignment to `NAME = os.environ["NAME"]` (adding `import os`).
It is unsafe: the variable must then be set wherever the code runs. Rotate the exposed secret as well.

## Options
- `report-local-defaults`: also report trivial passwords (`postgres`, `password`, a password equal to the
  user name) and URLs to local hosts with them (default false).
- `ignore-names`: names (globs, case-insensitive) never reported, e.g. `["PUBLIC_*"]` (default none).
- `include-tests`: also check test suites and fixtures (default false).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, matches_any, planned_fix


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_local_defaults: bool = False
    ignore_names: list[str] = []
    include_tests: bool = False


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in project.calls_of("secret"):
        if "entity" not in site.detail or not reportable(site, options):
            continue
        name = site.detail.get("name", "")
        fix = planned_fix(site, f"Read {name} from the environment") if name else None
        yield RULE.finding(message(site), site.location, site.detail["entity"], fix=fix)


def reportable(site: CallSite, options: Options) -> bool:
    detail = site.detail
    name = detail.get("name", "")
    if not options.include_tests and is_test_path(site.location.path):
        return False
    if name and matches_any(name, options.ignore_names):
        return False
    if detail.get("dev_module") and name.upper() == "SECRET_KEY":
        return False  # Django's development settings: a throwaway key for runserver
    if detail.get("trivial") and not options.report_local_defaults:
        # A trivial password is a local default unless a URL carries it to a real host.
        return detail.get("category") == "url_password" and not detail.get("local")
    return True


def message(site: CallSite) -> str:
    name = site.detail.get("name")
    what = site.detail.get("what", "a secret")
    where = "in a committed config file" if not site.location.path.endswith(".py") else "in the code"
    if site.detail.get("env_default"):
        subject = f"The fallback value for {name} is a hard-coded secret"
    else:
        subject = f"{name} holds {what}" if name else f"This string holds {what}"
    return f"{subject} {where}: read it from the environment or a secret store, and rotate it"


RULE = Rule(
    code="CFG001",
    name="hard-coded-secret",
    summary="A password, key, token or credentialed URL is written in code or a committed config file",
    check=check,
    options=Options,
    fixable=True,
    severity="error",
)
