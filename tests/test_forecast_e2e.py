"""The forecast against the fake GitHub with a small primary budget: a dry run says the sync needs more than one
run and which items the first run finishes; the real run then finishes exactly those and stops resumable, and
the run after the reset does the rest."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, run_sync


def test_a_dry_run_forecasts_the_first_run_and_the_real_run_does_exactly_that(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN, primary_limit=80, reset_in=3600) as gh:
        dry = run_sync(gh, ws.path, tmp_path / "dry", dry_run="true")
        assert dry.code == 0, dry.log
        assert not [r for r in gh.requests if r.method != "GET"], "a dry run writes nothing"
        forecast = dry.report()["forecast"]
        first = forecast["first_run"]
        assert forecast["runs"] >= 2 and 0 < len(first) < 44
        looked = len([r for r in gh.requests if r.path != "/rate_limit"])  # the listing, the `github:` issues
        assert forecast["budget"] == {"limit": 80, "remaining": 80 - looked, "source": "GET /rate_limit"}
        assert f"the sync needs {forecast['runs']} runs" in dry.log and "The first run finishes" in dry.summary
        kinds = [key.split(":", 1)[0] for key in first]
        assert kinds[:14] == ["prd"] * 7 + ["epic"] * 7, "PRDs and epics first"

        real = run_sync(gh, ws.path, tmp_path / "real")
        assert real.code == 1, real.log
        assert real.outputs["resumable"] == "true"
        assert real.report()["stopped_reason"] == "rate-limit"
        assert sorted(by_key(gh)) == sorted(first), "the real run finishes exactly the forecast's first run"
        assert real.report()["counts"]["pending"] == 44 - len(first)
        assert gh.stats.get("primary_limited", 0) == 0, "the run stopped before GitHub refused anything"

        runs = 1
        while real.code != 0 and runs < 5:
            gh.reset_primary()  # the hour has passed
            runs += 1
            real = run_sync(gh, ws.path, tmp_path / f"run{runs}")
        assert real.code == 0, real.log
        assert len(by_key(gh)) == 44 and runs == forecast["runs"]


def test_a_dry_run_without_a_token_forecasts_against_github_tokens_hour(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        dry = run_sync(gh, ws.path, tmp_path / "dry", dry_run="true", github_token="", writes_per_minute="60")
    forecast = json.loads((dry.out_dir / "report.json").read_text())["forecast"]
    assert forecast["budget"]["source"] == "assumed: GITHUB_TOKEN's 1,000 requests an hour"
    assert forecast["runs"] == 1 and forecast["content_requests"] == 110
    # 110 content-creating requests at 60 a minute: the real run's writes take 1m50s
    assert "1m50s at writes-per-minute 60" in dry.log
