"""Plan a sync from Python with a hook: every task's issue gets a `team:<epic>` label, and progress is printed.

    python examples/library.py [WORKSPACE] [PATH]          # default: this checkout and examples/.claude

A dry run: no token needed, nothing is written. With `token=` and without `dry_run=True`, `sync` writes the
issues, calling `on_progress(done, total, key)` as each item's writes land.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from batch_action import Draft, Item, plan


def team_label(item: Item, draft: Draft) -> Draft:
    if item.kind != "task":
        return draft
    epic = item.key.removeprefix("task:").split("/", 1)[0]
    return replace(draft, labels=(*draft.labels, f"team:{epic}"))


def main(argv: list[str]) -> int:
    workspace = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    folder = argv[1] if len(argv) > 1 else "examples/.claude"
    with tempfile.TemporaryDirectory() as out:
        outcome = plan(
            workspace, "octo/repo", path=folder, scope="all", transform=team_label, output_dir=out,
            upload_artifacts=False,
        )  # fmt: skip
        if not outcome.ok:
            print("\n".join(outcome.problems) or f"exit {outcome.exit_code}", file=sys.stderr)
            return outcome.exit_code
        counts = ", ".join(f"{name} {count}" for name, count in sorted(outcome.counts.items()))
        print(f"planned: {counts}")
        print(f"items: {len(outcome.outcomes)}; the report was {outcome.report.name if outcome.report else '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
