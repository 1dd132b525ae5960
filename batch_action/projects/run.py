"""What a run does for issue types and the project, between the phases (app.py calls these).

- `RunExtras.start`: once a run, before the first plan: the issue types checked against the organisation, the
  project's client made (with `project-token`, else `github-token`). Problems are settings problems (exit 2).
- `RunExtras.observe`: each plan: the board read and checked, the specs given their project values, and each
  item's board work worked out; the plan gets a `project` operation per item with work.
- `RunExtras.section`: the report's "Issue types and project" section, for a dry run and a real run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from batch_action.actions_io import ActionsIO
from batch_action.model import Document
from batch_action.projects.changes import ItemWork
from batch_action.projects.client import GraphQL, ProjectClient
from batch_action.projects.sync import ProjectSync, ProjectView, ProjectWriter
from batch_action.report.markdown import code, text
from batch_action.settings import Settings, SettingsError
from batch_action.sync.issue_types import IssueTypes, check_issue_types
from batch_action.sync.plan import Observed
from batch_action.sync.render import IssueSpec, with_issue_types, with_project_fields

__all__ = ["RunExtras", "work_text"]

Reads = Callable[[Callable[[], object]], object]
_SHOWN = 50  # items listed in the report's project section


@dataclass
class RunExtras:
    """The run's issue types and project: decided once, read again for each plan."""

    types: IssueTypes = field(default_factory=IssueTypes)
    project: ProjectSync | None = None
    view: ProjectView | None = None  # the last plan's look at the board
    writer: ProjectWriter | None = None

    @classmethod
    def start(
        cls,
        settings: Settings,
        io: ActionsIO,
        tracker: object | None,
        graphql: GraphQL | None,
        reads: Callable[[Callable[[], object]], object],
    ) -> RunExtras:
        """Raises `SettingsError` for an unknown type name or a bad `project-fields`."""
        extras = cls()
        list_types = getattr(tracker, "list_issue_types", None)
        if settings.issue_types:
            owner = settings.repository.split("/", 1)[0]
            if list_types is None:
                extras.types = IssueTypes(dict(settings.issue_types))
                io.log("issue types: not checked (no token): the plan gives each kind the type the input names")
            else:

                def check() -> tuple[IssueTypes, list[str]]:
                    return check_issue_types(settings.issue_types, owner, list_types)

                found = reads(check)
                assert isinstance(found, tuple)
                verdict, problems = found
                if problems:
                    raise SettingsError(problems)
                extras.types = verdict
                if verdict.notice:
                    io.notice(verdict.notice, title="no issue types")
                else:
                    shown = ", ".join(f"{kind}={name}" for kind, name in sorted(verdict.by_kind.items()))
                    io.log(f"issue types: {shown}")
        if settings.project is not None:
            if graphql is None:
                io.log(f"project: {settings.project_url} is not read (no token): the plan leaves the board out")
            else:
                extras.project = ProjectSync(
                    ProjectClient(graphql), settings.project, settings.project_url, settings.project_fields
                )
        return extras

    def typed(self, specs: Mapping[str, IssueSpec]) -> dict[str, IssueSpec]:
        return with_issue_types(specs, self.types.by_kind)

    def observe(
        self,
        io: ActionsIO,
        specs: Mapping[str, IssueSpec],
        documents: Iterable[Document],
        reads: Reads,
    ) -> dict[str, IssueSpec]:
        """The board read and checked (raises `SettingsError`), the specs with their project values."""
        if self.project is None:
            return dict(specs)
        project = self.project
        view = reads(lambda: project.read(documents))
        if isinstance(view, SettingsError):
            raise view
        assert isinstance(view, ProjectView)
        self.view = view
        io.log(
            f"project: {view.listed} items on {view.url} ({view.board.title}); fields "
            + (", ".join(f.name for f in view.fields) or "none mapped")
        )
        if view.notice:
            io.notice(view.notice, title="project fields left out")
        return with_project_fields(specs, view.values)

    def plan_work(self, specs: Mapping[str, IssueSpec], observed: Observed) -> dict[str, tuple[str, str]]:
        """Each item's board work, as `make_plan` takes it: key -> (summary, reason)."""
        if self.view is None:
            return {}
        self.view.plan(specs, observed.issues, observed.fields)
        return {key: (work.summary(), work_text(work)) for key, work in self.view.work.items()}

    def make_writer(
        self, node_id: Callable[[str], str | None], pace: Callable[[], None] | None
    ) -> ProjectWriter | None:
        if self.view is None or self.project is None:
            return None
        self.writer = ProjectWriter(self.project.client, self.view, node_id, pace)
        return self.writer

    def section(self, *, dry_run: bool) -> list[str]:
        lines: list[str] = []
        if self.types.by_kind:
            shown = ", ".join(f"{kind} → {text(name)}" for kind, name in sorted(self.types.by_kind.items()))
            lines.append(f"- Issue types: {shown} (sent with a create, and with an update only when it differs).")
        elif self.types.notice:
            lines.append(f"- Issue types: none: {text(self.types.notice)}.")
        view = self.view
        if view is not None:
            adds = sum(1 for work in view.work.values() if work.add)
            writes: dict[str, int] = {}
            for work in view.work.values():
                for write in work.writes:
                    writes[write.name] = writes.get(write.name, 0) + 1
            verb = "would get" if dry_run else "planned"
            by_field = ", ".join(f"{text(name)} {count}" for name, count in sorted(writes.items())) or "none"
            lines.append(
                f"- Project {text(view.board.title)} ({code(view.url)}): {view.listed} items listed; {adds} issues "
                "to add, "
                f"field writes {verb} by field: {by_field}; {view.mutations} mutations"
                + ("" if dry_run or self.writer is None else f" planned, {self.writer.mutations} sent")
                + "."
            )
            lines.append(
                "- Mapping: " + (", ".join(f"{text(f.name)} ← {' or '.join(f.sources)}" for f in view.fields) or "none")
            )
            for key, work in sorted(view.work.items())[:_SHOWN]:
                lines.append(f"  - {code(key)}: {text(work_text(work))}")
            if len(view.work) > _SHOWN:
                lines.append(f"  - … and {len(view.work) - _SHOWN} more (plan.json lists every operation)")
        if not lines:
            return []
        return ["### Issue types and project\n\n" + "\n".join(lines)]


def work_text(work: ItemWork) -> str:
    """`add to the board; Status: Todo -> In Progress; Priority: cleared`."""
    parts = ["add to the board"] if work.add else []
    for write in work.writes:
        was = write.was or "empty"
        parts.append(f"{write.name}: {was} -> {write.value}" if write.value else f"{write.name}: cleared (was {was})")
    return "; ".join(parts)
