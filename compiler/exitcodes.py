"""What a `mlgitops` command's exit code means, the same for every command.

- `EXIT_OK` (0): clean.
- `EXIT_FAIL` (1): the command ran and the answer is no: `compile --check` found `generated/` or the lock stale,
  `check` and `verify` a blocking finding, `merge-reports` a failed gate, `status` a system needing attention,
  `cluster snapshot` a cluster that drifted from its snapshot.
- `EXIT_BAD_INPUT` (2): bad input or usage, or nothing could be judged (an unreachable cluster); the diagnostics are
  on stderr, never a traceback.
- `EXIT_INTERNAL` (3): an internal error, a bug (the traceback is shown with -v).
- `EXIT_INTERRUPTED` (130): stopped by Ctrl-C, as shells report SIGINT (128 + 2).
"""

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
