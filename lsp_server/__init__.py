"""Plumbline's front doors: the language server, the agent and the command line.

Kept free of imports so that `plumbline --version` and `plumbline rules` start quickly.
"""

__version__ = "0.1.0"
version = __version__

# Where SARIF consumers and `--help` point users for documentation and bug reports.
HOMEPAGE = "https://github.com/plumbline/plumbline"
