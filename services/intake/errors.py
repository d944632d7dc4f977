"""Intake's domain errors. Each has a stable `code`; `services/intake/problems.py` maps
codes to HTTP and the portal's locales map them to messages. Generic ones (`NotFound`,
`Forbidden`, `InvalidInput`, `Unavailable`) come from `shared.errors`."""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unavailable

__all__ = [
    "AppealExists", "AppealNotOpen", "AppealWindowClosed", "NotAppealable",
    "AnswerIncomplete", "AssessmentLocked", "CityAlreadyRegistered", "CityFactsLocked", "ClarificationAnswered",
    "ClarificationPastDue", "CriterionNotRequested", "DownloadLinkExpired", "DownloadLinkInvalid",
    "EditConflict", "EmailTaken", "FileRejected", "Forbidden", "InvalidCycle", "InvalidInput",
    "InvalidVersion", "NotAFile", "NotEligible", "NotFound", "NothingToCarryOver", "SignInFailed",
    "SnapshotAlreadyTaken", "SnapshotIncomplete", "SnapshotNeeded", "SubmissionIncomplete",
    "TooLateToWithdraw", "Unavailable", "UnknownState", "VersionRequired", "WorkflowUnavailable",
]


# --- accounts ---------------------------------------------------------------------------------


class CityAlreadyRegistered(DomainError):
    code = "city_already_registered"


class EmailTaken(DomainError):
    code = "email_taken"


class RegistrationLinkInvalid(DomainError):
    """A confirmation link that is unknown, used already, or expired."""

    code = "registration_link_invalid"


class IneligibleCity(DomainError):
    """The programme cannot certify this city (too small, or a country it does not serve):
    said at registration, before anyone fills in a Data Snapshot."""

    code = "ineligible_city"


class CityFactsLocked(DomainError):
    """The city's assessment was submitted: its facts are the programme's to correct now
    (an operator's), not the city's."""

    code = "city_facts_locked"


class UnknownState(DomainError):
    """A US city needs a US state (the region is derived from it)."""

    code = "unknown_state"


class SignInFailed(DomainError):
    """Unknown email or wrong password: one answer for both (no account probing)."""

    code = "sign_in_failed"


# --- Data Snapshot and drafts -----------------------------------------------------------------


class InvalidCycle(DomainError):
    code = "invalid_cycle"


class SnapshotIncomplete(DomainError):
    """Every question answered once, none unknown."""

    code = "snapshot_incomplete"


class SnapshotAlreadyTaken(DomainError):
    code = "snapshot_already_taken"


class SnapshotNeeded(DomainError):
    code = "snapshot_needed"


class NotEligible(DomainError):
    code = "not_eligible"


class AssessmentLocked(DomainError):
    """The assessment was submitted (or withdrawn): it can no longer change."""

    code = "assessment_locked"


class EditConflict(DomainError):
    """Someone saved the criterion since the version the editor read."""

    code = "edit_conflict"


class VersionRequired(DomainError):
    code = "version_required"


class InvalidVersion(DomainError):
    code = "invalid_version"


class NothingToCarryOver(DomainError):
    code = "nothing_to_carry_over"


class SubmissionIncomplete(DomainError):
    """`errors` lists each criterion and what it lacks."""

    code = "submission_incomplete"


# --- evidence ---------------------------------------------------------------------------------


class FileRejected(DomainError):
    """A file refused before anything was stored; `kind` says why."""

    KINDS: ClassVar[dict[str, str]] = {
        "too_large": "file_too_large",          # over the per-file limit
        "quota": "submission_size_limit",       # over the per-submission limit
        "type": "file_type_not_accepted",       # by name or by content
        "mismatch": "file_content_mismatch",    # the content is not what the name says
        "empty": "file_empty",
        "missing": "file_missing",              # no file in the request
        "malformed": "upload_malformed",        # the multipart body could not be read
        "unsafe": "file_unsafe",                # zip bomb, program, macros, traversal...: `check` says which
        "polyglot": "file_polyglot",            # two formats at once (or data hidden in an archive)
    }
    all_codes = tuple(KINDS.values())

    def __init__(self, kind: str, reason: str, **params) -> None:
        super().__init__(f"file: {reason}", field="file", reason=reason, **params)
        self.kind = kind
        self.code = self.KINDS[kind]  # type: ignore[misc]


class NotAFile(DomainError):
    code = "not_a_file"


class DownloadLinkExpired(DomainError):
    code = "download_link_expired"


class DownloadLinkInvalid(DomainError):
    code = "download_link_invalid"


# --- submission and clarifications ------------------------------------------------------------


class TooLateToWithdraw(DomainError):
    code = "too_late_to_withdraw"


class WorkflowUnavailable(Unavailable):
    """The workflow engine (or the submission's workflow) does not answer right now."""

    code = "workflow_unavailable"


class ClarificationAnswered(DomainError):
    code = "clarification_answered"


class ClarificationPastDue(DomainError):
    code = "clarification_past_due"


class CriterionNotRequested(DomainError):
    """An answer or file for a criterion the clarification request does not name."""

    code = "criterion_not_requested"


class AnswerIncomplete(DomainError):
    """A clarification answer must give a new narrative for every criterion it names."""

    code = "answer_incomplete"


# --- appeals ----------------------------------------------------------------------------------


class AppealNotOpen(DomainError):
    """The certification has not completed yet (or the programme takes no appeals)."""

    code = "appeal_not_open"


class AppealWindowClosed(DomainError):
    code = "appeal_window_closed"


class AppealExists(DomainError):
    """One appeal per certification."""

    code = "appeal_exists"


class NotAppealable(DomainError):
    """Only findings the audit changed can be appealed; `errors` name each criterion."""

    code = "not_appealable"
