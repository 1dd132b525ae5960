"""An input set in both spellings at once (`INPUT_DRY-RUN` and `INPUT_DRY_RUN`) with different values is a
warning naming both and the one used (issue 16, item 9)."""

from __future__ import annotations

from pathlib import Path

from batch_action.settings import load_settings
from tests.test_dry_run import ROOT, run_action


def test_two_spellings_that_disagree_are_a_warning(tmp_path: Path) -> None:
    code, log, _, _ = run_action(ROOT, tmp_path, PATH="examples/.claude", DRY_RUN="false", SCOPE="all")
    assert code == 0, log  # INPUT_DRY-RUN=true (the runner's spelling) wins
    warnings = [line for line in log.splitlines() if line.startswith("::warning") and "dry-run" in line]
    assert len(warnings) == 1, log
    assert "INPUT_DRY-RUN is 'true' and INPUT_DRY_RUN is 'false'" in warnings[0]
    assert "'true' (INPUT_DRY-RUN) is used" in warnings[0]


def test_two_spellings_that_agree_say_nothing(tmp_path: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(ROOT), "INPUT_PATH": "examples/.claude", "INPUT_DRY-RUN": "true"}
    env["INPUT_DRY_RUN"] = "true"
    assert load_settings(env, []).warnings == ()
