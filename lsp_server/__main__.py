"""`python -m lsp_server` and the `plumbline` command.

A `check` whose last output still holds (the same command line, nothing it read changed since) is answered
from `lsp_server.replay` before the command-line parser, the engine or tree-sitter are imported.
"""

import sys


def main() -> int:
    from lsp_server.replay import replay, silence_stdout

    try:
        status = replay(sys.argv[1:])
    except BrokenPipeError:  # `plumbline check | head`
        silence_stdout()
        return 2
    except KeyboardInterrupt:
        return 130
    if status is not None:
        return status
    from lsp_server.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
