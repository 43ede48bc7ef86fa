"""Sales pipelines as data (`routing_rules/pipelines/*.yaml`): stages, their gates and the
tasks entering them generates. Deal workflows get a pipeline as plain terms (like SLA terms)
and evaluate its gates themselves, deterministically."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from caseflow.platform.yamlsource import (
    SourceError,
    SourceErrors,
    each_valid,
    line_of,
    texts_of,
)
from caseflow.routing.conditions import ConditionError, compile_when
from caseflow.sla.policies import SlaBook
from caseflow.sla.terms import CalendarTerms

AssigneeRole = Literal["owner", "supervisor", "legal"]


class Required(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="a deal field, or customer.<field>")
    message: str


class CrossRule(BaseModel):
    """When `when` holds, `require` must hold too; else the named fields conflict."""

    model_config = ConfigDict(extra="forbid")

    name: str
    when: dict[str, Any]
    require: dict[str, Any]
    fields: list[str] = Field(min_length=1)
    message: str


# Always set by approval, whatever a pipeline says.
APPROVAL_FIELDS = ("approval_ref",)


class TaskTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    type: Literal["call", "meeting", "documents", "approval"]
    assignee: AssigneeRole = "owner"
    due: timedelta = Field(description="business time after entering the stage")
    blocking: bool = False
    reminder: timedelta | None = Field(default=None, description="before the due time")


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    required: list[Required] = Field(default_factory=list)
    rules: list[CrossRule] = Field(default_factory=list)
    tasks: list[TaskTemplate] = Field(default_factory=list)


class PipelineFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    title: str
    calendar: str = Field(description="an SLA calendar: due offsets count its working time")
    legal: str = Field(description="the user who does legal tasks")
    stages: list[Stage] = Field(min_length=1)
    approval_fields: list[str] = Field(
        default_factory=lambda: list(APPROVAL_FIELDS),
        description="fields set only by completing an approval task, never by hand",
    )


class PipelineTerms(BaseModel):
    """What a deal workflow needs of its pipeline, without reading any file."""

    name: str
    title: str
    calendar: CalendarTerms
    legal: str
    stages: list[Stage]
    # Older deals carried terms without it: they get the default.
    approval_fields: list[str] = Field(default_factory=lambda: list(APPROVAL_FIELDS))

    def index(self, code: str) -> int:
        return next(i for i, s in enumerate(self.stages) if s.code == code)


def load(directory: Path, sla: SlaBook) -> dict[str, PipelineTerms]:
    """Read and check every pipeline; all problems are reported together."""
    errors: list[SourceError] = []
    pipelines: dict[str, PipelineTerms] = {}
    for checked in each_valid(PipelineFile, texts_of(directory), errors):
        source, lines, file = checked.model, checked.lines, checked.name
        calendar = sla.calendars.get(source.calendar)
        if calendar is None:
            errors.append(SourceError(file, line_of(("calendar",), lines), "unknown calendar"))
            continue
        codes = [s.code for s in source.stages]
        if len(set(codes)) != len(codes):
            errors.append(SourceError(file, line_of(("stages",), lines), "a stage twice"))
        for i, stage in enumerate(source.stages):
            for j, rule in enumerate(stage.rules):
                for part in ("when", "require"):
                    loc = ("stages", i, "rules", j, part)
                    try:
                        compile_when(getattr(rule, part), loc, known=None)
                    except ConditionError as exc:
                        errors.append(SourceError(file, line_of(exc.loc, lines), exc.reason))
        if source.name in pipelines:
            errors.append(SourceError(file, 1, f"pipeline '{source.name}' defined twice"))
        pipelines[source.name] = PipelineTerms(
            name=source.name,
            title=source.title,
            calendar=CalendarTerms.of(calendar),
            legal=source.legal,
            stages=source.stages,
            approval_fields=sorted(set(source.approval_fields) | set(APPROVAL_FIELDS)),
        )
    if errors:
        raise SourceErrors(errors)
    return pipelines
