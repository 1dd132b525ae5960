"""The forecast as a person reads it: in the log (`forecast_lines`), the report (`forecast_markdown`) and
report.json (`forecast_json`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from batch_action.engine.progress import format_duration
from batch_action.forecast import (
    GITHUB_CONTENT_PER_HOUR,
    GITHUB_CONTENT_PER_MINUTE,
    Forecast,
    hourly_seconds,
    paced_seconds,
)
from batch_action.report.markdown import cell

NAMES_SHOWN = 50  # first-run items named in the log and the report


def _by_kind(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items())


def _budget(forecast: Forecast) -> str:
    budget = forecast.budget
    if not budget.measured:
        return f"{budget.limit:,} requests an hour assumed (GITHUB_TOKEN's; no token given, so none was read)"
    reset = f", resets at {time.strftime('%H:%M UTC', time.gmtime(budget.reset_at))}" if budget.reset_at else ""
    return f"{budget.remaining:,} of {budget.limit:,} left (GET /rate_limit){reset}"


def _times(forecast: Forecast) -> list[str]:
    content = forecast.requests.content_total
    paced = (
        f"{format_duration(forecast.seconds)} at writes-per-minute {forecast.writes_per_minute}"
        if forecast.writes_per_minute
        else "unpaced (writes-per-minute 0): as fast as GitHub answers"
    )
    hourly = (
        f"GitHub's {GITHUB_CONTENT_PER_HOUR} an hour: at least {format_duration(hourly_seconds(content))}, "
        "expect secondary-limit pauses"
        if content > GITHUB_CONTENT_PER_HOUR
        else f"GitHub's {GITHUB_CONTENT_PER_HOUR} an hour is not reached"
    )
    return [
        paced,
        f"{format_duration(paced_seconds(content, GITHUB_CONTENT_PER_MINUTE))} at GitHub's "
        f"{GITHUB_CONTENT_PER_MINUTE} a minute",
        hourly,
    ]


def _verdict(forecast: Forecast) -> str:
    first = forecast.split
    total = len(first.first_items) + len(first.deferred_items)
    if first.whole:
        return "enough for one run"
    return (
        f"not enough: the sync needs {forecast.runs} runs (one per reset of the budget); the first run finishes "
        f"{len(first.first_items)} of {total} items, PRDs and epics first, then tasks by priority, and stops resumable"
    )


def forecast_lines(forecast: Forecast, titles: Mapping[str, str]) -> list[str]:
    requests = forecast.requests
    lines = [
        "forecast of the real run:",
        f"  requests: {requests.content_total} content-creating ({_by_kind(requests.content) or 'none'}); "
        f"{sum(requests.other.values())} others ({_by_kind(requests.other) or 'none'})",
        "  time: " + "; ".join(_times(forecast)),
        f"  primary budget: {_budget(forecast)}: {_verdict(forecast)}",
    ]
    if not forecast.split.whole:
        names = [titles.get(key, key) for key in forecast.split.first_items]
        more = f", and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        lines.append("  the first run finishes: " + "; ".join(names[:NAMES_SHOWN]) + more)
    return lines


def forecast_markdown(forecast: Forecast, titles: Mapping[str, str]) -> str:
    requests = forecast.requests
    out = [
        "### Forecast of the real run",
        "",
        "| | |",
        "|---|---|",
        f"| content-creating requests | {requests.content_total} ({cell(_by_kind(requests.content)) or '-'}) |",
        f"| other requests | {sum(requests.other.values())} ({cell(_by_kind(requests.other)) or '-'}) |",
        f"| time | {cell('; '.join(_times(forecast)))} |",
        f"| primary budget | {cell(_budget(forecast))}: {cell(_verdict(forecast))} |",
        "",
    ]
    if not forecast.split.whole:
        names = [titles.get(key, key) for key in forecast.split.first_items]
        out += [f"The first run finishes ({len(names)}):", ""]
        out += [f"- {cell(name)}" for name in names[:NAMES_SHOWN]]
        if len(names) > NAMES_SHOWN:
            out.append(f"- … and {len(names) - NAMES_SHOWN} more")
        out.append("")
    return "\n".join(out)


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    budget = forecast.budget
    return {
        "content_requests": forecast.requests.content_total,
        "other_requests": sum(forecast.requests.other.values()),
        "requests_by_kind": {**forecast.requests.content, **forecast.requests.other},
        "seconds_at_writes_per_minute": round(forecast.seconds, 1),
        "budget": {
            "limit": budget.limit,
            "remaining": budget.remaining,
            "source": "GET /rate_limit" if budget.measured else "assumed: GITHUB_TOKEN's 1,000 requests an hour",
        },
        "runs": forecast.runs,
        "first_run": list(forecast.split.first_items),
        "later_runs": list(forecast.split.deferred_items),
    }
