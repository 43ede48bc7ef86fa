"""The form each action needs, read off the API's own body models (`api/actions.BODIES`),
and the form's answer turned back into the body the API would have been sent."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from api.actions import BODIES
from console.i18n import N_

# Long text gets a text area; the rest one line.
LONG = frozenset({"text", "message", "resolution", "note", "reason"})
LABELS = {
    "text": N_("Comment"),
    "public": N_("Visible to the customer"),
    "message": N_("Message to the customer"),
    "resolution": N_("Resolution"),
    "reason": N_("Reason"),
    "note": N_("Note for the department"),
    "to_line": N_("To line"),
    "queue": N_("Queue"),
    "assignee": N_("Assignee"),
    "priority": N_("Priority"),
    "system": N_("External system"),
    "override_capacity": N_("Take over my capacity"),
}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # "textarea", "text", "select", "checkbox"
    required: bool
    choices: tuple[str, ...] = ()


def _choices(annotation: Any) -> tuple[str, ...]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    for arg in args:
        if typing.get_origin(arg) is typing.Literal:
            return tuple(str(a) for a in typing.get_args(arg))
    return ()


def fields_of(action: str) -> list[Field]:
    """The inputs of the action's form, in the body model's order (files are attached on
    the case page's upload, not here)."""
    found = []
    for name, info in BODIES[action].model_fields.items():
        annotation = info.annotation
        if typing.get_origin(annotation) in (list, types.GenericAlias):
            continue
        choices = _choices(annotation)
        if annotation is bool:
            kind = "checkbox"
        elif choices:
            kind = "select"
        elif name in LONG:
            kind = "textarea"
        else:
            kind = "text"
        found.append(Field(name, LABELS.get(name, name), kind, info.is_required(), choices))
    return found


def body_of(action: str, form: FormData) -> dict[str, Any]:
    """What the person filled in, as the API's JSON body: unticked boxes are false, empty
    inputs are left out (the model says what is then missing)."""
    body: dict[str, Any] = {}
    for field in fields_of(action):
        if field.kind == "checkbox":
            body[field.name] = form.get(field.name) in ("on", "true", "1")
            continue
        value = form.get(field.name)
        if isinstance(value, str) and value.strip():
            body[field.name] = value
    return body
