"""## What it does
Flags environment variables read where a missing or malformed value is found late:

- `os.environ["X"]`, `os.getenv("X")` or `os.environ.get("X")` inside a function that runs while a request is
  served (the handler or anything it calls): the setting is read on every request instead of once at
  start-up;
- at import time, `os.getenv("X")` / `os.environ.get("X")` without a default whose result is used straight
  away without a check: passed to `int(...)`, `float(...)`, `json.loads(...)`, a URL consumer such as
  `create_engine(...)` or `Redis.from_url(...)` (or a `url=` / `broker=` / `dsn=` argument), a method called on
  it (`.split(",")`), or concatenated.

Not reported: reads through a settings library, which validates and casts once (pydantic `BaseSettings`,
django-environ's `env(...)`, python-decouple's `config(...)`, dynaconf), reads in a cached settings factory
(`@lru_cache def get_settings()`), `os.environ["X"]` at import time (it fails at start-up and names the
variable), reads with a default, and code in test suites or under `if __name__ == "__main__":`. Nor, at request
time, variables the operating system or the shell sets (`HOME`, `APPDATA`, `PATH`, `TMPDIR`, `XDG_CONFIG_HOME`,
...): they describe the host the code runs on, not a setting a deploy must provide.

## Why it matters
Configuration should fail the deploy, not a customer's request: read and validate every setting once, at
start-up, with a clear error naming the missing variable. A setting read per request turns a forgotten
variable into a 500 on one endpoint hours later, and lets the value change under a running process. An unset
variable read with `os.getenv` is `None`, and `int(None)` or `None.split(",")` stops the app with an error that
does not say which variable is missing.

## Example
```python
PORT = int(os.getenv("PORT"))

@router.post("/payments")
def create_payment(payment: PaymentIn) -> PaymentOut:
    stripe.api_key = os.environ["STRIPE_API_KEY"]
    ...
```

## Use instead
```python
class Settings(BaseSettings):
    port: int = 8000
    stripe_api_key: SecretStr

settings = Settings()  # validated once, at start-up

@router.post("/payments")
def create_payment(payment: PaymentIn) -> PaymentOut:
    stripe.api_key = settings.stripe_api_key.get_secret_value()
    ...
```
There is no automatic fix: where the settings object lives is the project's choice.

## Options
- `request-time`: report reads on a request path (default true).
- `unchecked-at-import`: report import-time reads used without a check (default true).
- `ignore-variables`: variable names (globs) read on purpose at request time, e.g. feature flags:
  `["FEATURE_*"]` (default none).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import CallSite, Finding, Project
from analyzers.rules import Rule
from analyzers.rules.cfg00_shared import is_test_path, matches_any, serving, short_name


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_time: bool = True
    unchecked_at_import: bool = True
    ignore_variables: list[str] = []


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    for site in project.calls_of("env_read"):
        if "entity" not in site.detail or is_test_path(site.location.path):
            continue
        if matches_any(site.detail.get("variable", ""), options.ignore_variables):
            continue
        text = problem(project, site, options)
        if text is not None:
            yield RULE.finding(text, site.location, site.detail["entity"])


# Set by the operating system or the shell for every process: where the user's files are, not app configuration.
HOST_VARIABLES = frozenset({
    "HOME", "USER", "USERNAME", "LOGNAME", "SHELL", "PATH", "PWD", "TMPDIR", "TEMP", "TMP", "LANG", "HOSTNAME",
    "USERPROFILE", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "PROGRAMFILES", "SYSTEMROOT", "WINDIR", "COMSPEC",
    "HOMEDRIVE", "HOMEPATH", "WSL_DISTRO_NAME",
})


def host_variable(name: str) -> bool:
    upper = name.upper()
    return upper in HOST_VARIABLES or upper.startswith("XDG_")


def problem(project: Project, site: CallSite, options: Options) -> str | None:
    detail = site.detail
    read = read_text(site)
    if detail.get("where") == "function":
        request = serving(project, site.function)
        if not options.request_time or request is None or detail.get("cached") \
                or host_variable(detail.get("variable", "")):
            return None
        return (f"{read} is read on every request ({short_name(site.function)} serves {request}): read and "
                f"validate settings once at start-up, so a missing value fails the deploy instead of a request")
    if detail.get("where") == "import" and options.unchecked_at_import:
        return (f"{read} has no default and goes straight into {detail.get('use', 'use')}: when "
                f"{detail.get('variable', 'it')} is unset the app fails with an error that does not name it; "
                f"give it a default or validate it in a settings class")
    return None


def read_text(site: CallSite) -> str:
    form = site.detail.get("form", "os.getenv(...)")
    variable = site.detail.get("variable", "?")
    if form.endswith("[...]"):
        return f'{form[:-5]}["{variable}"]'
    return f'{form[:-5]}("{variable}")' if form.endswith("(...)") else form


RULE = Rule(
    code="CFG002",
    name="unvalidated-environment-read",
    summary="An environment variable is read per request, or used at import without a default or a check",
    check=check,
    options=Options,
)
