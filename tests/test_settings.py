"""The settings contract: INPUT_* names, flags, defaults, validation and secrecy of the token."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from batch_action.settings import INPUTS, SettingsError, load_settings, parse_args

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".claude").mkdir()
    return tmp_path


def env_for(workspace: Path, **inputs: str) -> dict[str, str]:
    env = {"GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(workspace / "tmp")}
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    return env


def test_action_yml_declares_exactly_the_settings_inputs() -> None:
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    declared = spec["inputs"]
    assert list(declared) == [i.name for i in INPUTS]
    for item in INPUTS:
        default = str(declared[item.name]["default"])
        if not default.startswith("${{"):
            assert default == item.default, item.name


def test_defaults_for_a_dry_run_outside_actions(workspace: Path) -> None:
    s = load_settings(env_for(workspace, **{"DRY-RUN": "true"}))
    assert s.dry_run and s.scope == "changed" and s.max_concurrency == 4 and s.writes_per_minute == 60
    assert s.path == (workspace / ".claude").resolve()
    assert s.output_dir == workspace / "tmp" / "issue-sync"
    assert s.api_url == "https://api.github.com" and s.replay == "auto" and s.retention_days is None
    assert s.labels == () and s.close_removed and s.sub_issues and s.dependencies and not s.stop_on_error


def test_hyphen_and_underscore_spellings_and_flags(workspace: Path) -> None:
    env = env_for(workspace)
    env["INPUT_DRY-RUN"] = "true"
    env["INPUT_MAX_CONCURRENCY"] = "7"
    env["INPUT_LABELS"] = " planning, team-a ,planning"
    s = load_settings(env, ["--max-concurrency", "9", "--close-removed=false"])
    assert s.dry_run and s.max_concurrency == 9 and not s.close_removed
    assert s.labels == ("planning", "team-a")


def test_every_problem_is_reported_at_once_naming_input_and_accepted_values(workspace: Path) -> None:
    env = env_for(
        workspace,
        **{
            "DRY-RUN": "maybe",
            "SCOPE": "some",
            "MAX-CONCURRENCY": "0",
            "WRITES-PER-MINUTE": "fast",
            "RETENTION-DAYS": "400",
            "REPOSITORY": "not a repo",
            "PATH": "missing",
            "ARTIFACT-NAME": "a/b",
        },
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    text = str(caught.value)
    for expected in (
        "`dry-run`: 'maybe' is not a boolean; use 'true' or 'false'",
        "`scope`: 'some' is not one of 'changed', 'all'",
        "`max-concurrency`: 0 is out of range; use 1 to 32",
        "`writes-per-minute`: 'fast' is not a whole number; use 0 to 10000",
        "`retention-days`: 400 is out of range; use 1 to 90",
        "`repository`: 'not a repo' is not of the form owner/name",
        "`path`: folder 'missing' does not exist",
        "`artifact-name`",
    ):
        assert expected in text
    # Not also "github-token: required unless dry-run is 'true'": one mistake, one message.
    assert len(caught.value.problems) == 8


def test_token_never_appears_in_repr(workspace: Path) -> None:
    s = load_settings(env_for(workspace, **{"GITHUB-TOKEN": "ghs_secretvalue", "REPOSITORY": "octo/repo"}))
    assert s.token == "ghs_secretvalue"
    assert "ghs_secretvalue" not in repr(s) and "ghs_secretvalue" not in str(s)


def test_empty_inputs_fall_back_to_defaults_and_runner_context(workspace: Path) -> None:
    env = env_for(workspace, **{"GITHUB-TOKEN": "t", "REPOSITORY": "", "API-URL": "", "MAX-RETRIES": ""})
    env.update(GITHUB_REPOSITORY="octo/repo", GITHUB_API_URL="https://ghe.example/api/v3/", GITHUB_RUN_ATTEMPT="2")
    s = load_settings(env)
    assert s.repository == "octo/repo" and s.api_url == "https://ghe.example/api/v3" and s.max_retries == 5
    assert s.run_attempt == 2


def test_help_shows_each_default_once_with_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse_args(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split("options:")[1].split())  # argparse wraps at the terminal width
    repository = text.split("--repository VALUE")[1].split("--api-url")[0]
    assert repository.count("(default:") == 1 and "$GITHUB_REPOSITORY)" in repository
    output_dir = text.split("--output-dir VALUE")[1].split("--stop-on-error")[0]
    assert "(default: '')" not in output_dir and "$RUNNER_TEMP/issue-sync" in output_dir
    assert "examples:" in text and "exit codes:" in text and "2 invalid settings" in text


def test_a_misspelt_flag_gets_the_closest_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse_args(["--dryrun"])
    assert done.value.code == 2
    assert "--dryrun: did you mean --dry-run?" in capsys.readouterr().err


def test_labels_that_would_put_a_task_over_100_labels_are_refused(workspace: Path) -> None:
    ok = ",".join(f"team-{n}" for n in range(97)) + ",task"  # `task` is on every task already
    assert len(load_settings(env_for(workspace, **{"dry-run": "true", "labels": ok})).labels) == 98
    with pytest.raises(SettingsError) as info:
        load_settings(env_for(workspace, **{"dry-run": "true", "labels": ",".join(f"t{n}" for n in range(98))}))
    assert "more than GitHub's 100 labels on one issue; name at most 97" in str(info.value)
