"""What the agent may read and send (DESIGN §5.8).

Every path the model names goes through `Policy.resolve`: it must stay inside the workspace (symlinks resolved),
and it must not be a secret (`.env*`, keys, certificates, credential files) or a git-ignored file. Every text
that leaves the machine goes through `mask_secrets`, which hides values that look like credentials.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path, PurePosixPath

from analyzers.discovery import IgnoreRules

MASK = "«masked»"

# File names (matched case-insensitively against the last path component) that hold secrets.
SECRET_FILE_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.crt", "*.cer", "*.der", "*.p12", "*.pfx", "*.p8", "*.jks", "*.keystore", "*.ppk",
    "*.gpg", "*.kdbx", "*.tfstate", "*.tfstate.*", "*.tfvars",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    "credentials*", "*credentials.json", "*credentials.yaml", "*credentials.yml",
    "secrets*", "client_secret*", "service-account*.json", "service_account*.json",
    ".netrc", "_netrc", ".pgpass", ".pypirc", ".npmrc", ".git-credentials", ".htpasswd",
)
# Folders whose content is never the agent's business.
SECRET_DIRECTORIES = frozenset({".git", ".ssh", ".aws", ".gnupg", ".azure", ".kube", ".docker"})

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
     MASK),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{8,}"), MASK),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"), MASK),
    (re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), MASK),
)
# scheme://user:password@host: keep the user and the host, hide the password (unless it is a placeholder).
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]+:)([^\s@/'\"]+)(@)")
# SECRET_KEY = "...", password: '...', "api_key": "..." with a literal value.
_ASSIGNED_SECRET = re.compile(
    r"""(?ix)
    (\b[\w\-]*(?:secret|passw(?:or)?d|pwd|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|credential)[\w\-]*
     ["']?\s*[:=]\s*[rbfu]?)
    (["'])([^"'\s]{8,})\2
    """
)
_PLACEHOLDER_VALUE = re.compile(r"^(?:\$\{?[\w:\-]+\}?|<[^>]*>|\*+|x+|changeme|password|secret|example\w*|dummy\w*)$",
                                re.I)


class PolicyError(Exception):
    """A path the agent may not touch; the message says why, for the model and the user."""


class Policy:
    """Path confinement and secret handling for one workspace root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.real_root = Path(os.path.realpath(root))
        self._ignore = IgnoreRules(self.real_root, [])
        self._extra_secrets: list[str] = [value for value in _environment_secrets() if len(value) >= 8]

    # ------------------------------------------------------------------ paths

    def resolve(self, raw: str) -> str:
        """The workspace-relative path for `raw` (relative or absolute), or PolicyError."""
        if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
            raise PolicyError("an empty or invalid path")
        text = raw.strip()
        if text.startswith("~"):
            raise PolicyError(f"{raw}: paths outside the workspace are not allowed")
        candidate = Path(text)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        lexical = Path(os.path.normpath(candidate))
        relative = self._inside(lexical, self.root) or self._inside(lexical, self.real_root)
        if relative is None:
            raise PolicyError(f"{raw}: outside the workspace; only files under the workspace can be used")
        real = Path(os.path.realpath(lexical))
        real_relative = self._inside(real, self.real_root)
        if real_relative is None:
            raise PolicyError(f"{raw}: a symbolic link that leads outside the workspace; refused")
        for path in {relative, real_relative}:
            self._check_sensitive(raw, path)
        return relative

    def check_relative(self, relative: str) -> None:
        """PolicyError unless a workspace-relative path (e.g. from a listing) may be read."""
        self.resolve(relative)

    def allowed(self, relative: str) -> bool:
        try:
            self.resolve(relative)
        except PolicyError:
            return False
        return True

    def absolute(self, relative: str) -> Path:
        return self.root / relative if relative not in ("", ".") else self.root

    @staticmethod
    def _inside(path: Path, root: Path) -> str | None:
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            return None
        return "" if relative == "." else relative

    def _check_sensitive(self, raw: str, relative: str) -> None:
        if not relative:
            return
        parts = PurePosixPath(relative).parts
        for part in parts[:-1]:
            if part.lower() in SECRET_DIRECTORIES:
                raise PolicyError(f"{raw}: inside {part}/, which may hold credentials; refused")
        if is_secret_name(parts[-1]) or parts[-1].lower() in SECRET_DIRECTORIES:
            raise PolicyError(f"{raw}: may hold secrets (keys, certificates, credentials, .env); it is never read "
                              "or sent. Ask the user for the setting's name instead of its value.")
        if self._git_ignored(relative):
            raise PolicyError(f"{raw}: ignored by .gitignore; the agent does not read or write ignored files")

    def _git_ignored(self, relative: str) -> bool:
        is_dir = (self.real_root / relative).is_dir()
        return self._ignore.ignored(relative, is_dir)

    # ------------------------------------------------------------------ text

    def mask(self, text: str) -> str:
        """`text` with credentials hidden: known key formats, URL passwords, literal secret assignments and the
        values of the process's own credentials."""
        for value in self._extra_secrets:
            if value in text:
                text = text.replace(value, MASK)
        return mask_secrets(text)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    # `.env.example` included: templates are often filled in by mistake, and `.env*` is the promise we make.
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in SECRET_FILE_PATTERNS)


def mask_secrets(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    text = _URL_PASSWORD.sub(_mask_url_password, text)
    return _ASSIGNED_SECRET.sub(_mask_assignment, text)


def _mask_url_password(match: re.Match[str]) -> str:
    if _PLACEHOLDER_VALUE.match(match.group(2)):
        return match.group(0)
    return f"{match.group(1)}{MASK}{match.group(3)}"


def _mask_assignment(match: re.Match[str]) -> str:
    value = match.group(3)
    if _PLACEHOLDER_VALUE.match(value) or MASK in value:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{MASK}{match.group(2)}"


def _environment_secrets() -> list[str]:
    """The credentials this process holds, masked wherever they would appear in outgoing text."""
    names = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    return [os.environ[name] for name in names if os.environ.get(name)]
