"""Regenerate the README sections that come from the code: the rule table (from the rules' documentation)
and the example output (from `plumbline check examples/shop`).

    python scripts/update_readme.py          # rewrite README.md
    python scripts/update_readme.py --check  # exit 1 when README.md is out of date (the test suite runs this)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def rules_table() -> str:
    from analyzers.rules import CATEGORIES, all_rules

    lines = ["| code | name | category | default | fix | summary |", "|---|---|---|---|---|---|"]
    for code, rule in all_rules().items():
        default = rule.severity if rule.default_enabled else f"{rule.severity} (opt-in)"
        fix = "yes" if rule.fixable else ""
        lines.append(f"| {code} | {rule.name} | {CATEGORIES.get(rule.category, rule.category)} | {default} | "
                     f"{fix} | {rule.summary} |")
    return "\n".join(lines)


def example_output() -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "lsp_server", "check", "examples/shop", "--no-cache"],
        cwd=REPO, capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    return "```text\n$ plumbline check examples/shop\n" + completed.stdout.rstrip() + "\n```"


def replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {name} section")
    return pattern.sub(lambda match: f"{match.group(1)}{body}\n{match.group(2)}", text)


def render() -> str:
    text = README.read_text(encoding="utf-8")
    text = replace_section(text, "rules-table", rules_table())
    return replace_section(text, "example-output", example_output())


def main() -> int:
    rendered = render()
    if "--check" in sys.argv:
        if rendered != README.read_text(encoding="utf-8"):
            print("README.md is out of date: run python scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
