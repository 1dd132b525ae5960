"""The lease's renewal and release: a run touches the lease only while it is surely its own (before expiry)."""

from __future__ import annotations

from batch_action.sync.lease import LEASE_LABEL, TTL, Lease
from batch_action.sync.tracker import RemoteLabel


class Labels:
    """The label calls of the tracker port, in memory, recording what was sent."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.calls: list[str] = []

    def create_label(self, name: str, color: str, description: str = "") -> bool:
        self.calls.append(f"create {name}")
        if name in self.labels:
            return False
        self.labels[name] = description
        return True

    def get_label(self, name: str) -> RemoteLabel | None:
        return RemoteLabel(name, self.labels[name]) if name in self.labels else None

    def update_label(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RemoteLabel | None:
        self.calls.append(f"update {name}")
        if name not in self.labels:
            return None
        self.labels[name] = description if description is not None else self.labels[name]
        return RemoteLabel(name, self.labels[name])

    def delete_label(self, name: str) -> bool:
        self.calls.append(f"delete {name}")
        return self.labels.pop(name, None) is not None


def lease(labels: Labels, now: list[float]) -> Lease:
    return Lease(labels, run_id="11", attempt=1, clock=lambda: now[0], sleep=lambda s: None)  # type: ignore[arg-type]


def test_a_renewal_before_expiry_pushes_it_out_and_the_release_deletes_it() -> None:
    labels, now = Labels(), [1000.0]
    held = lease(labels, now)
    assert held.take(0).taken
    now[0] += TTL - 1
    assert held.renew() and f"until={int(now[0] + TTL)}" in labels.labels[LEASE_LABEL]
    held.release()
    assert labels.calls == [f"create {LEASE_LABEL}", f"update {LEASE_LABEL}", f"delete {LEASE_LABEL}"]


def test_a_lease_past_its_expiry_is_never_renewed_nor_deleted_it_may_be_another_runs_by_now() -> None:
    labels, now = Labels(), [1000.0]
    held = lease(labels, now)
    assert held.take(0).taken
    now[0] += TTL + 1
    assert not held.renew()
    held.release()
    assert labels.calls == [f"create {LEASE_LABEL}"]
