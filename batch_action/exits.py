"""The action's exit codes (README "Outputs and exit codes") and the ending of a run whose settings are invalid:
apart from the run, so the entry point can use them before the run's modules are imported."""

from __future__ import annotations

from collections.abc import Sequence

from batch_action.actions_io import ActionsIO
from batch_action.inputs import COUNT_OUTPUTS

EXIT_OK = 0  # done
EXIT_INCOMPLETE = 1  # some items failed, or the run stopped early (resumable)
EXIT_SETTINGS = 2  # invalid settings: nothing was read or written


def report_invalid_settings(io: ActionsIO, problems: Sequence[str]) -> None:
    """Each problem as an error, and what later steps read: the step summary says what was wrong, and the count
    outputs are 0 (nothing was synced) rather than empty, so `if: always()` steps can still compare them."""
    for problem in problems:
        io.error(problem, title="Invalid settings")
    lines = "".join(f"- {problem}\n" for problem in problems)
    io.add_summary(f"## Issue sync: invalid settings\n\nNothing was synced. Fix these inputs:\n\n{lines}")
    for name in COUNT_OUTPUTS:
        io.set_output(name, "0")
    io.set_output("resumable", "false")
