"""The run, phase by phase: `prepare` (discover → parse → graph → observe → plan), then `apply` (plan → engine →
outcome) unless it is a dry run, then `finish` (files, outputs, summary, exit code), the one ending of both.

Effects come in through the `Runtime` that `cli.main` builds; each phase reads a small frozen config derived
once from the settings here.
"""

from __future__ import annotations

import functools

from batch_action.engine.policy import GaveUp
from batch_action.exits import EXIT_INCOMPLETE, EXIT_OK, EXIT_SETTINGS, report_invalid_settings
from batch_action.outcome import Outcome
from batch_action.projects.run import RunExtras
from batch_action.report.forecast_view import forecast_json, forecast_lines, forecast_markdown
from batch_action.report.markdown import plan_lines
from batch_action.report.plan_view import plan_view
from batch_action.resume import ResumeConfig, locate_checkpoint

# The phase modules, not their functions, are the package's names: `batch_action.run.prepare` stays the module.
from batch_action.run import apply, finish, prepare
from batch_action.run.finish import Ending, FinishConfig, not_available
from batch_action.run.prepare import PrepareConfig
from batch_action.run.timing import Phases
from batch_action.runtime import Runtime
from batch_action.settings import Settings, SettingsError
from batch_action.sync.features import Feature, ServerFeatures

__all__ = ["EXIT_INCOMPLETE", "EXIT_OK", "EXIT_SETTINGS", "run"]


def run(settings: Settings, runtime: Runtime) -> int:
    """One whole run; returns the exit code (0 done, 1 failures or stopped early and resumable)."""
    io, tracker = runtime.io, runtime.tracker
    phases = Phases(runtime.clock)
    started = runtime.clock()
    for warning in settings.warnings:
        io.warning(warning, title="input set twice")
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    planning, finishing = PrepareConfig.of(settings), FinishConfig.of(settings)
    reads = runtime.reads(settings.max_retries)

    def missing_feature(feature: Feature) -> None:
        io.warning(not_available(feature, settings.repository, settings.api_url), title=f"no {feature} on this server")

    features = ServerFeatures(missing_feature)
    dry = settings.dry_run or tracker is None
    try:
        with io.group("Plan"):
            extras = RunExtras.start(settings, io, tracker, runtime.project_graphql, reads)
            replan = functools.partial(prepare.prepare, planning, runtime, phases, reads, features, extras)
            prepared = replan()
            view = plan_view(prepared.plan, prepared.specs, prepared.picture)  # a dry run's report shows it again
            io.log_lines(plan_lines(view, settings.relative_path))
            forecasted = None
            if dry:
                forecasted = prepare.dry_run_forecast(
                    planning, prepared, tracker, reads, runtime.requests.summary()["total"]
                )
            if forecasted is not None:
                io.log_lines(forecast_lines(forecasted, prepared.titles()))
    except SettingsError as exc:  # checked against GitHub: the issue types, the project and its fields
        report_invalid_settings(io, exc.problems)
        return EXIT_SETTINGS
    except GaveUp as exc:
        failure = exc.failure
        io.error(
            f"reading the issues of {settings.repository} failed ({failure.cls}, {exc.attempts} attempt(s)): "
            f"{failure.message}",
            title="issue sync failed",
        )
        io.set_output("resumable", "true" if failure.retryable else "false")
        return EXIT_INCOMPLETE
    prepare.annotate_problems(io, prepared.problems)
    with phases.timed("upload"):
        paths = prepared.paths
        runtime.artifacts.upload("graph", {p.name: p for p in (paths["graph"], paths["mermaid"], paths["plan"])})
    if dry or tracker is None:  # (both: mypy learns the tracker is there below)
        outcome = Outcome(
            prepare.planned_counts(prepared),
            outcomes=dict(prepared.plan.outcome),
            extra={"requests": runtime.requests.summary()},
        )
        sections: list[str] = []
        if forecasted is not None:
            outcome.extra["forecast"] = forecast_json(forecasted)
            sections.append(forecast_markdown(forecasted, prepared.titles()))
        headline = (
            f"**Dry run** on `{settings.relative_path}`"
            + (f" for `{settings.repository}`" if settings.repository else "")
            + f": {prepared.items} items, {len(prepared.plan.operations)} operations planned, "
            f"nothing written. Made in {runtime.clock() - started:.2f} s."
        )
        sections.extend(extras.section(dry_run=True))
        end = Ending(prepared, outcome, dict(prepared.paths), "Issue sync: dry run", headline, sections, view)
    else:
        del view  # a real run's plan may change (lease, budget, replay): its report makes the view of the last one
        locate = functools.partial(
            locate_checkpoint, ResumeConfig.of(settings), io, runtime.artifact_client, settings.output_dir, runtime.env
        )
        end = apply.apply(
            apply.ApplyConfig.of(settings),
            runtime,
            tracker,
            prepared,
            phases,
            reads,
            features,
            replan=replan,
            locate=locate,
            started=started,
            extras=extras,
        )
        end.sections.extend(extras.section(dry_run=False))
    return finish.finish(finishing, runtime, end, phases, features)
