"""The agent: "Fix with agent" and "Implement endpoint" on Claude, verified by Plumbline's own engine.

- `policy`: what may be read and sent (workspace confinement, secret files, git-ignored files, masking);
- `overlay`: the in-memory workspace the agent edits (open documents, then disk; snapshots for delivery);
- `tools`: the text editor tool and the read-only tools, executed against the overlay;
- `context`: the system prompt, the project profile and the task (finding or endpoint + pattern pack);
- `loop`: the conversation on `AsyncAnthropic` (streaming, limits, usage, actionable errors);
- `verify`: the engine re-run on the overlay as the acceptance test;
- `job`: one job, front-end neutral (context → loop → verification → repair rounds);
- `deliver`: minimal hunks, re-anchoring, the `WorkspaceEdit`, the terminal diff;
- `commands`: the language server's commands; `cli`: `plumbline fix --agent` and `plumbline implement`.

Nothing here writes to disk except `cli` with `--write`.
"""
