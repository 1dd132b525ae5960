"""Read the remote state once: which issue belongs to which planning item.

One paginated listing of the issues carrying the sync label (never the search API, which lags by minutes) gives
each item's issue from the hidden marker in its body. Renamed files keep their issue (git's rename detection maps
the old key to the new one); files that already name an issue in `github:` (CCPM writes the URL after its own
sync) adopt it, once it is confirmed to be an issue of the target repository.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from github.GithubException import GithubException

from batch_action.model import Document, Problem, Severity
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.plan import Observed
from batch_action.sync.render import SYNC_LABEL, UNCONFIRMED_DIGEST, IssueSpec, Marker, read_marker
from batch_action.sync.tracker import IssueTracker, RemoteIssue


@dataclass
class Observation:
    observed: Observed
    problems: list[Problem] = field(default_factory=list)
    listed: int = 0  # issues seen in the listing
    adopted: dict[str, int] = field(default_factory=dict)  # key -> issue number adopted through `github:`
    listed_at: float | None = None  # the server's time at the listing's first page (None: unknown)


@dataclass(frozen=True)
class Listing:
    """The synced issues as one listing found them: each issue that carries a marker, kept small, with it."""

    issues: list[tuple[RemoteIssue, Marker]]
    listed: int  # issues seen, with or without a marker
    listed_at: float | None  # the server's time at the first page (None: unknown)


def list_synced(tracker: IssueTracker) -> Listing:
    """Read every issue with the sync label. Needs nothing of the tree, so `cli.main` starts it first."""
    issues: list[tuple[RemoteIssue, Marker]] = []
    listed = 0
    for issue in tracker.list_synced(SYNC_LABEL):
        listed += 1
        marker = read_marker(issue.body)
        if marker is not None:  # without one, it carries the label by hand; not ours to manage
            issues.append((_kept(issue), marker))
    return Listing(issues, listed, tracker.listed_at())


def observe(
    tracker: IssueTracker,
    listing: Listing,
    specs: Mapping[str, IssueSpec],
    documents: Mapping[str, Document],
    repository: str,
    renames: Mapping[str, str] | None = None,
) -> Observation:
    """Which item each listed issue belongs to; then the `github:` adoptions, each confirmed with a read."""
    renames = renames or {}
    issues: dict[str, RemoteIssue] = {}
    digests: dict[str, str] = {}
    links: dict[str, str] = {}
    orphans: dict[str, RemoteIssue] = {}
    recorded: dict[str, frozenset[str] | None] = {}
    problems: list[Problem] = []
    for issue, marker in listing.issues:
        key = renames.get(marker.key, marker.key)
        known = issues.get(key) or orphans.get(key)
        if known is not None:
            keep, extra = sorted((known, issue), key=lambda i: i.number)
            problems.append(
                Problem(
                    documents[key].path if key in documents else key,
                    f"issues #{keep.number} and #{extra.number} both carry the marker of this item; "
                    f"#{keep.number} is kept in sync, #{extra.number} is left alone",
                    fix=f"close #{extra.number} as a duplicate",
                    severity=Severity.WARNING,
                )
            )
            if keep is known:
                continue
        target = issues if key in specs else orphans
        target[key] = issue
        digests[key] = marker.digest
        links[key] = marker.links or ""
        # A write GitHub did not fully take recorded nothing: its fields are compared with the board again.
        recorded[key] = marker.fields if marker.digest != UNCONFIRMED_DIGEST else None
    adopted = _adopt(tracker, specs, documents, repository, issues, problems)
    for key, issue in adopted.items():
        issues[key] = issue
        digests[key] = ""
        links[key] = ""
    return Observation(
        Observed(issues=issues, digests=digests, links=links, orphans=orphans, fields=recorded),
        problems,
        listing.listed,
        {key: issue.number for key, issue in adopted.items()},
        listing.listed_at,
    )


def _kept(issue: RemoteIssue) -> RemoteIssue:
    """What planning and writing use of a listed issue: its number, id, state and link summary. Its body,
    title, URL and labels go (the body alone is ~2.5 KB: 25 MB for a re-run of 10,000 synced items); a write
    that needs an issue's text reads it again."""
    return replace(issue, title="", body="", html_url="", labels=())


def _adopt(
    tracker: IssueTracker,
    specs: Mapping[str, IssueSpec],
    documents: Mapping[str, Document],
    repository: str,
    issues: Mapping[str, RemoteIssue],
    problems: list[Problem],
) -> dict[str, RemoteIssue]:
    adopted: dict[str, RemoteIssue] = {}
    claimed = {issue.number for issue in issues.values()}
    for key in sorted(specs):
        doc = documents[key]
        if key in issues or doc.github_number is None:
            continue
        line = doc.line_of("github") or doc.line_of("github_issue")
        same_repo = doc.github_repo is None or doc.github_repo.lower() == repository.lower()
        if doc.github_number in claimed:
            problems.append(
                Problem(
                    doc.path,
                    f"`github:` names #{doc.github_number}, which another item already owns; a new issue is created",
                    line,
                    "correct or remove the `github:` field",
                    Severity.WARNING,
                )
            )
            continue
        issue = tracker.get_issue(doc.github_number)
        if issue is None:
            problems.append(
                Problem(
                    doc.path,
                    f"`github:` names #{doc.github_number}, which does not exist in {repository}; "
                    "a new issue is created",
                    line,
                    "remove the stale `github:` field",
                    Severity.WARNING,
                )
            )
            continue
        if not same_repo and issue.title.strip() != specs[key].title.strip():
            problems.append(
                Problem(
                    doc.path,
                    f"`github:` points at {doc.github_repo}, not {repository}, and #{issue.number} "
                    "here has another title; a new issue is created",
                    line,
                    f"point `github:` at {repository} or remove it",
                    Severity.WARNING,
                )
            )
            continue
        claimed.add(issue.number)
        adopted[key] = issue
    return adopted


def probe_features(
    tracker: IssueTracker, listed: Iterable[RemoteIssue], features: ServerFeatures, wanted: Iterable[Feature]
) -> None:
    """Decide each `wanted` feature before planning (`sync.features`): the listing's summaries prove it present
    at no cost; without any, one GET of a listed issue's links decides (a 404 for an issue just listed: missing)."""
    issues = list(listed)
    if not issues:
        return  # nothing to ask about: the first link decides
    reads: dict[Feature, Callable[[int], object]] = {
        Feature.SUB_ISSUES: tracker.list_sub_issues,
        Feature.DEPENDENCIES: tracker.list_blocked_by,
    }
    for feature in wanted:
        if features.decided(feature):
            continue
        if any(_summarised(issue, feature) for issue in issues):
            features.learn(feature, present=True)
            continue
        try:
            reads[feature](issues[0].number)
        except GithubException as exc:
            if exc.status != 404:
                raise
            features.learn(feature, present=False)
        else:
            features.learn(feature, present=True)


def _summarised(issue: RemoteIssue, feature: Feature) -> bool:
    """Whether the listing carried the feature's summary for this issue (a server that has it sends it)."""
    if feature is Feature.SUB_ISSUES:
        return issue.sub_issues_total is not None
    return issue.blocked_by_total is not None
