"""The request log: what the report says about every response the run saw."""

from __future__ import annotations

from batch_action.report.requests import RequestLog, endpoint
from batch_action.sync.tracker import RateLimit, Response


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budget(remaining: int, resource: str = "core") -> dict[str, str]:
    return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(remaining), "x-ratelimit-resource": resource}


def test_endpoints_are_named_without_owner_repository_or_numbers() -> None:
    assert (
        endpoint("https://api.github.com/repos/o/r/issues/12/sub_issues?x=1") == "/repos/{o}/{r}/issues/{n}/sub_issues"
    )
    assert endpoint("https://ghe.example/api/v3/repos/o/r/issues") == "/repos/{o}/{r}/issues"
    assert endpoint("/repos/o/r/issues/3/dependencies/blocked_by/77") == (
        "/repos/{o}/{r}/issues/{n}/dependencies/blocked_by/{n}"
    )


def test_the_summary_counts_calls_limits_and_the_lowest_budget_seen() -> None:
    clock = Clock()
    log = RequestLog(clock=clock)
    api = "https://api.github.com/repos/o/r"
    log.record(Response("GET", f"{api}/issues", 200, budget(4990), 0.05))
    clock.now += 30
    log.record(Response("POST", f"{api}/issues", 201, budget(4988), 0.10))
    # A reply that was sent earlier arrives later, from another thread: the lower figure stands.
    log.record(Response("POST", f"{api}/issues", 201, budget(4989), 0.20))
    log.record(Response("POST", f"{api}/issues", 403, {"retry-after": "60"}, 0.01))
    log.record(
        Response("GET", "https://api.github.com/search/issues", 200, budget(29, "search") | {"x-ratelimit-limit": "30"})
    )
    summary = log.summary()
    assert (summary["total"], summary["reads"], summary["writes"]) == (5, 2, 3)
    assert summary["limit_responses"] == 1
    assert summary["rate_limits"] == {
        "core": {"limit": 5000, "remaining": 4988},
        "search": {"limit": 30, "remaining": 29},
    }
    assert {"method": "POST", "endpoint": "/repos/{o}/{r}/issues", "status": 201, "count": 2} in summary["by_endpoint"]
    assert summary["latency_seconds"]["max"] == 0.2


def test_no_rate_limit_headers_means_no_budget_figure() -> None:
    log = RequestLog(clock=Clock())
    log.record(Response("GET", "http://127.0.0.1:1/repos/o/r/issues", 200, {"x-ratelimit-limit": "n/a"}))
    assert log.summary()["rate_limits"] == {}


def test_the_latest_budget_is_the_current_windows_lowest_and_a_new_window_replaces_it() -> None:
    log = RequestLog(clock=Clock())
    api = "https://api.github.com/repos/o/r/issues"
    assert log.latest_budget() is None, "no reply yet: the run asks GET /rate_limit"
    log.record(Response("GET", api, 200, budget(4990) | {"x-ratelimit-reset": "1000"}))
    log.record(Response("POST", api, 201, budget(4988) | {"x-ratelimit-reset": "1000"}))
    log.record(Response("POST", api, 201, budget(4989) | {"x-ratelimit-reset": "1000"}))  # sent earlier
    assert log.latest_budget() == RateLimit(5000, 4988, 1000.0)
    log.record(Response("POST", api, 201, budget(4999) | {"x-ratelimit-reset": "4600"}))  # after the reset
    assert log.latest_budget() == RateLimit(5000, 4999, 4600.0)
    log.record(Response("POST", api, 201, budget(10) | {"x-ratelimit-reset": "1000"}))  # the old window, late
    assert log.latest_budget() == RateLimit(5000, 4999, 4600.0)
    for reset in ("nan", "inf", "soon"):  # a reply's headers are untrusted
        log.record(Response("POST", api, 201, budget(1) | {"x-ratelimit-reset": reset}))
    log.record(Response("POST", api, 201, budget(2, "search") | {"x-ratelimit-reset": "9999"}))
    assert log.latest_budget() == RateLimit(5000, 4999, 4600.0), "another bucket, or no usable reset: not core's"
    assert log.summary()["rate_limits"]["core"] == {"limit": 5000, "remaining": 4999}, "the report shows the same"
