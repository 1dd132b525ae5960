"""The performance part of the report: where the time went, what the API cost, and what change detection saved.

Input is plain data (phase timings, the request log summary, the engine's figures, outcome counts), so the
section can be rendered from report.json alone and golden-tested.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Mapping
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def performance_data(
    *,
    phases: Mapping[str, float],
    requests: Mapping[str, Any],
    engine: Mapping[str, Any] | None,
    counts: Mapping[str, int],
    items: int,
    configured: Mapping[str, Any],
    peak_rss: float,
) -> dict[str, Any]:
    apply_seconds = float(phases.get("apply", 0.0))
    writes = int(requests.get("writes", 0))
    synced = sum(counts.get(k, 0) for k in ("created", "updated", "closed"))
    return {
        "phases_seconds": {k: round(v, 3) for k, v in phases.items()},
        "items": items,
        "items_by_outcome": dict(counts),
        "requests_total": int(requests.get("total", 0)),
        "reads": int(requests.get("reads", 0)),
        "writes": writes,
        "requests_per_item": round(int(requests.get("total", 0)) / items, 3) if items else 0.0,
        "items_per_minute": round(synced * 60 / apply_seconds, 1) if apply_seconds else 0.0,
        "writes_per_minute": round(writes * 60 / apply_seconds, 1) if apply_seconds else 0.0,
        "configured": dict(configured),
        # Peers PATCH every known issue on every run: each unchanged item is a write we did not send.
        "writes_saved_by_change_detection": counts.get("unchanged", 0),
        "latency_seconds": dict(requests.get("latency_seconds", {})),
        "limit_responses": int(requests.get("limit_responses", 0)),
        "rate_limits": dict(requests.get("rate_limits", {})),
        "engine": dict(engine or {}),
        "peak_rss_mib": peak_rss,
        "timeline": list(requests.get("writes_per_minute_timeline", [])),
        "by_endpoint": list(requests.get("by_endpoint", [])),
    }


def performance_markdown(data: Mapping[str, Any]) -> str:
    engine: Mapping[str, Any] = data.get("engine") or {}
    configured: Mapping[str, Any] = data.get("configured") or {}
    phases = " · ".join(f"{name} {seconds:.2f} s" for name, seconds in data["phases_seconds"].items())
    out = [
        "### Performance",
        "",
        f"Phases: {phases}.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| requests (reads / writes) | {data['requests_total']} ({data['reads']} / {data['writes']}) |",
        f"| requests per item | {data['requests_per_item']} |",
        f"| items synced per minute | {data['items_per_minute']} |",
        f"| writes per minute (configured limit) | {data['writes_per_minute']} "
        f"({configured.get('writes_per_minute') or 'unpaced'}{_settled(engine, configured)}) |",
        f"| writes saved by change detection | {data['writes_saved_by_change_detection']} |",
        f"| concurrency used (configured) | {engine.get('peak_concurrency', 0)} "
        f"({configured.get('max_concurrency')}) |",
        f"| retries | {engine.get('retries', 0)} {_by(engine.get('retries_by_class'))}".rstrip() + " |",
        f"| waited for rate limits | {engine.get('limit_wait_seconds', 0)} s, "
        f"{data['limit_responses']} limit responses |",
        f"| waited, by class | {_by(_rounded(engine.get('waited_seconds'))) or '-'} |",
        f"| API budget left (GitHub's limit) | {_budgets(data.get('rate_limits'))} |",
        f"| latency p50 / p90 / p99 | {_latency(data['latency_seconds'])} |",
        f"| peak memory (RSS) | {data['peak_rss_mib']} MiB |",
        "",
    ]
    out += _endpoint_table(data)
    chart = timeline_chart(data.get("timeline") or [], configured.get("writes_per_minute"))
    if chart:
        out += ["Writes per minute over the run, against the configured limit:", "", "```mermaid", chart, "```", ""]
    return "\n".join(out)


def dry_run_performance_markdown(data: Mapping[str, Any]) -> str:
    """A dry run's performance: where the time went and what the reads cost; no write figures, which a dry run
    does not have (the forecast says what the real run's will be)."""
    phases = " · ".join(f"{name} {seconds:.2f} s" for name, seconds in data["phases_seconds"].items())
    reads = (
        f"{data['requests_total']} requests, all reads (latency p50 / p90 / p99 {_latency(data['latency_seconds'])})"
        if data["requests_total"]
        else "no request (no token: the remote state was not read)"
    )
    out = [
        "### Performance",
        "",
        f"Phases: {phases}.",
        "",
        f"GitHub: {reads}. Peak memory (RSS): {data['peak_rss_mib']} MiB.",
        "",
    ]
    out += _endpoint_table(data)
    return "\n".join(out)


def timeline_chart(timeline: list[Mapping[str, float]], limit: object) -> str:
    if len(timeline) < 2:
        return ""
    values = [float(point["writes_per_minute"]) for point in timeline]
    ceiling = max([*values, float(limit) if isinstance(limit, int | float) and limit else 0.0]) * 1.1 or 1.0
    labels = ", ".join(f'"{point["t"]:.0f}s"' for point in timeline)
    lines = [
        "xychart-beta",
        '  title "writes per minute"',
        f"  x-axis [{labels}]",
        f'  y-axis "writes/min" 0 --> {ceiling:.0f}',
        "  bar [" + ", ".join(f"{v:.0f}" for v in values) + "]",
    ]
    if isinstance(limit, int | float) and limit:
        lines.append("  line [" + ", ".join(f"{float(limit):.0f}" for _ in values) + "]")
    return "\n".join(lines)


def _by(mapping: object) -> str:
    if not isinstance(mapping, Mapping) or not mapping:
        return ""
    return "(" + ", ".join(f"{k} {v}" for k, v in sorted(mapping.items())) + ")"


def _settled(engine: Mapping[str, Any], configured: Mapping[str, Any]) -> str:
    """The pace the governor ended at, when limit responses made it slow down below the configured one."""
    final, wanted = engine.get("final_writes_per_minute"), configured.get("writes_per_minute")
    if isinstance(wanted, int | float) and wanted and isinstance(final, int | float) and final < wanted:
        return f"; slowed to {final:.0f} by limit responses"
    return ""


def _rounded(mapping: object) -> dict[str, str]:
    if not isinstance(mapping, Mapping):
        return {}
    return {str(k): f"{float(v):.1f} s" for k, v in mapping.items() if v}


def _budgets(limits: object) -> str:
    if not isinstance(limits, Mapping) or not limits:
        return "-"
    return ", ".join(f"{name} {b['remaining']:,} of {b['limit']:,}" for name, b in sorted(limits.items()))


def _latency(latency: Mapping[str, float]) -> str:
    if not latency:
        return "-"
    return " / ".join(f"{latency.get(p, 0.0) * 1000:.0f} ms" for p in ("p50", "p90", "p99"))


def _endpoint_table(data: Mapping[str, Any]) -> list[str]:
    """Requests by method, endpoint and status, as markdown lines (none when no request was sent)."""
    rows = data.get("by_endpoint") or []
    if not rows:
        return []
    table = ["| method | endpoint | status | requests |", "|---|---|---:|---:|"]
    return [*table, *(f"| {r['method']} | `{r['endpoint']}` | {r['status']} | {r['count']} |" for r in rows), ""]
