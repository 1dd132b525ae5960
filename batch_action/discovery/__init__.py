"""Finding which planning files a push changed."""

from batch_action.discovery.git import (
    Change,
    ChangeSet,
    GitNotFoundError,
    GitResult,
    GitRunner,
    discover_changes,
    parse_name_status,
)

__all__ = [
    "Change",
    "ChangeSet",
    "GitNotFoundError",
    "GitResult",
    "GitRunner",
    "discover_changes",
    "parse_name_status",
]
