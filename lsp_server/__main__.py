"""`python -m lsp_server ...` is the `plumbline` command."""

import sys

from lsp_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
