"""`python -m lsp_server` and the `plumbline` command.

A `check` whose last output still holds (the same command line, nothing it read changed since) is answered
from `lsp_server.replay` before the command-line parser, the engine or tree-sitter are imported, and the
process then ends at once: tearing down the interpreter would cost more than the replay itself. `main` is the
program's entry point, not a function to call from other code.
"""

import os
import sys


def main() -> int:
    from lsp_server.replay import replay, silence_stdout

    try:
        status = replay(sys.argv[1:])
        if status is not None:
            sys.stdout.flush()
            sys.stderr.flush()
    except BrokenPipeError:  # `plumbline check | head`
        silence_stdout()
        status = 2
    except KeyboardInterrupt:
        status = 130
    if status is not None:
        os._exit(status)  # everything is written and flushed; nothing else was started
    from lsp_server.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
