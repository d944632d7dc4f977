"""Words between services are typed: every field of an event or a workflow message that
names a status, stage, kind, outcome, role, reason or language takes only the words of
its vocabulary, and the AsyncAPI document lists them."""

from __future__ import annotations

import typing
from enum import Enum

import pytest
from pydantic import BaseModel, ValidationError

from certification.activities import (
    DebriefClosed,
    DebriefReminder,
    ReviewReminder,
    RoundClosed,
    StatusRecord,
)
from shared.contracts import asyncapi
from shared.contracts.events import PAYLOADS
from shared.contracts.payloads.certification import MessageReplayed, StatusChanged
from shared.contracts.payloads.notify import DebriefCompleted
from shared.contracts.vocabulary import Stage, WaitingFor
from shared.i18n import languages

# Field names that always carry a word of a closed vocabulary, never free text.
VOCABULARY_FIELDS = {"status", "previous", "stage", "kind", "outcome", "role", "reason", "language",
                     "waiting_for"}
# Free text that happens to share a name: the reasons people write when they cancel a call,
# release a case or withdraw; a mail's kind is notify's own (its template's name).
FREE_TEXT = {("DebriefCancelled", "reason"), ("CaseReleased", "reason"), ("SubmissionWithdrawn", "reason"),
             ("MailFailed", "kind"), ("CityFactsChanged", "reason")}


def _closed(annotation, metadata=()) -> bool:
    """An enum, a Literal, or the platform's language type (validated against `languages()`)."""
    if any(type(m).__name__ == "_Spoken" for m in metadata):
        return True
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return any(type(m).__name__ == "_Spoken" for m in annotation.__metadata__)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return all(_closed(a) or a is type(None) for a in typing.get_args(annotation))
    return False


def _models() -> list[type[BaseModel]]:
    from certification import activities
    workflow_messages = [v for v in vars(activities).values()
                         if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == activities.__name__]
    return list(PAYLOADS.values()) + workflow_messages


def test_every_vocabulary_field_between_services_is_typed():
    loose = []
    for model in _models():
        for name, field in model.model_fields.items():
            if name in VOCABULARY_FIELDS and (model.__name__, name) not in FREE_TEXT:
                if not _closed(field.annotation, field.metadata):
                    loose.append(f"{model.__name__}.{name}: {field.annotation}")
    assert not loose, "bare strings between services: " + ", ".join(loose)


@pytest.mark.parametrize("make", [
    lambda: StatusChanged(submission_id="s", status="reviewing"),
    lambda: StatusChanged(submission_id="s", status=Stage.SCORING, waiting_for="operator (failed step x)"),
    lambda: DebriefCompleted(submission_id="s", offer_id="o", outcome="maybe"),
    lambda: MessageReplayed(service="audit", parked_id=1, status="done"),
    lambda: ReviewReminder(submission_id="s", case_id="c", kind="soon", due_at="2026-01-01T00:00:00Z"),
    lambda: DebriefReminder(submission_id="s", offer_id="o", booking_id="b", starts_at="2026-01-01T00:00:00Z",
                            kind="week"),
    lambda: DebriefClosed(submission_id="s", offer_id="o", outcome="held later"),
    lambda: RoundClosed(submission_id="s", case_id="c", request_id="r", outcome="lost"),
    lambda: StatusRecord(submission_id="s", status=Stage.SCORING, waiting_for="someone"),
], ids=["stage", "waiting_for", "debrief_outcome", "replay_status", "review_reminder", "call_reminder",
        "debrief_closed", "round_ending", "status_record"])
def test_a_word_outside_the_vocabulary_is_refused_at_the_edge(make):
    with pytest.raises(ValidationError):
        make()


def test_a_failed_step_is_named_beside_who_waits_not_inside_it():
    assert WaitingFor.OPERATOR == "operator"
    assert not hasattr(WaitingFor, "failed_step")


def test_the_asyncapi_document_lists_the_allowed_words():
    schemas = asyncapi.document()["components"]["schemas"]
    assert schemas["Stage"]["enum"] == [s.value for s in Stage]
    assert "operator" in schemas["WaitingFor"]["enum"]
    assert set(schemas["DebriefEnding"]["enum"]) == {"held", "no_show", "declined", "expired"}
    assert schemas["UserRegistered"]["properties"]["role"] == {"$ref": "#/components/schemas/Role"}
    assert schemas["UserRegistered"]["properties"]["language"]["enum"] == list(languages())
