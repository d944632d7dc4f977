"""Audit's HTTP edge for errors: every audit code with its status and title (the common
codes, e.g. `not_found`, come from `shared.web.problems.COMMON_ERRORS`)."""

from __future__ import annotations

from shared.errors import DomainError
from shared.web.problems import COMMON_ERRORS, ErrorTable

ERRORS = ErrorTable({
    "case_state": (409, "Not possible in the case's state"),
    "case_taken": (409, "Case held by another auditor"),
    "not_holder": (409, "You do not hold this case"),
    "unknown_auditor": (422, "Unknown auditor"),
    "conflict_of_interest": (403, "Conflict of interest"),
    "no_eligible_auditor": (409, "No auditor free of a conflict"),
    "submission_not_received": (409, "Submission not received yet"),
    "decision_invalid": (422, "Decision not valid"),
    "decision_conflict": (409, "Decision changed meanwhile"),
    "decisions_incomplete": (409, "Criteria without a decision"),
    "four_eyes": (403, "Four-eyes rule"),
    "decisions_changed": (409, "Decisions changed since you read them"),
    "changed_since_decided": (409, "Answers or evidence changed since decided"),
    "decision_not_changed": (409, "Nothing changed since the decision"),
    "not_double_review": (409, "Not in the double-review sample"),
    "second_reviewer_assigned": (409, "Second reviewer already assigned"),
    "not_second_reviewer": (403, "Not the case's second reviewer"),
    "blind_review": (403, "Blind second review"),
    "second_review_incomplete": (409, "Second review not complete"),
    "differences_unresolved": (409, "Differences between the reviews not resolved"),
    "already_resolved": (409, "Difference already resolved"),
    "round_invalid": (422, "Clarification round not valid"),
    "round_open": (409, "A clarification round is open"),
    "round_limit_reached": (409, "No clarification rounds left"),
    "evidence_unavailable": (503, "Evidence unavailable"),
    "evidence_mismatch": (409, "Evidence does not match its manifest"),
    "evidence_too_large": (413, "Evidence too large to preview"),
    "not_independent": (403, "Took part in the review"),
    "appeal_state": (409, "Not possible in the appeal's state"),
    "appeal_incomplete": (409, "Appealed criteria without a decision"),
})

_TABLE = COMMON_ERRORS | ERRORS
# Every operation that needs a signed-in user may answer these.
AUTH = ("not_authenticated", "token_expired", "invalid_token", "forbidden")


def problems(*errors: str | type[DomainError]) -> dict:
    """The problem+json responses of an operation, by code or error class."""
    return _TABLE.responses(*errors)
