"""Audit's domain errors. Each has a stable `code`; `services/audit/problems.py` maps codes
to HTTP and the console's locales map them to messages. Generic ones (`NotFound`,
`Forbidden`, `InvalidInput`, `Unavailable`) come from `shared.errors`."""

from __future__ import annotations

from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unavailable

__all__ = [
    "CaseTaken", "ChangedSinceDecided", "ConflictOfInterest", "DecisionConflict", "DecisionInvalid", "DecisionsChanged",
    "DecisionsIncomplete", "EvidenceMismatch", "EvidenceTooLarge", "EvidenceUnavailable", "Forbidden", "FourEyes",
    "InvalidInput", "NoEligibleAuditor", "NotFound", "NotHolder", "NothingChanged", "RoundInvalid", "RoundLimitReached", "RoundOpen",
    "SubmissionNotReceived", "Unavailable", "UnknownAuditor", "WrongState",
    "AlreadyResolved", "BlindReview", "DifferencesUnresolved", "NotDoubleReview", "NotSecondReviewer",
    "SecondReviewIncomplete", "SecondReviewerAssigned", "AppealIncomplete", "AppealState", "NotIndependent",
]


# --- holding a case ---------------------------------------------------------------------------


class WrongState(DomainError):
    """The action does not fit the case's state (e.g. deciding a case awaiting sign-off)."""

    code = "case_state"


class CaseTaken(DomainError):
    """Someone else holds the case (a concurrent claim won, or it was assigned meanwhile)."""

    code = "case_taken"


class NotHolder(DomainError):
    """Only the auditor who holds the case may do this."""

    code = "not_holder"


class UnknownAuditor(DomainError):
    """Cases are assigned to auditors the platform knows (from intake's accounts)."""

    code = "unknown_auditor"


class NoEligibleAuditor(DomainError):
    """Automatic assignment found no auditor free of a conflict with the case's place."""

    code = "no_eligible_auditor"


class ConflictOfInterest(DomainError):
    """The auditor declared a conflict with the case's city, state or country."""

    code = "conflict_of_interest"


class SubmissionNotReceived(DomainError):
    """The case is open but the submission's content has not reached audit yet."""

    code = "submission_not_received"


# --- decisions and sign-off -------------------------------------------------------------------


class DecisionInvalid(InvalidInput):
    """A decision that breaks a rule (a change without its reason, ...); `errors` say which."""

    code = "decision_invalid"


class DecisionConflict(DomainError):
    """The decision was saved by someone else since the version the form was read at."""

    code = "decision_conflict"


class DecisionsIncomplete(DomainError):
    """Every criterion needs a decision (confirmed or changed) before sign-off."""

    code = "decisions_incomplete"


class FourEyes(DomainError):
    """The second auditor is neither the reviewer nor anyone who decided the case."""

    code = "four_eyes"


class ChangedSinceDecided(DomainError):
    """New answers or evidence arrived after some decisions: each must be decided again or
    confirmed with a note before sign-off (`errors` name the criteria)."""

    code = "changed_since_decided"


class NothingChanged(DomainError):
    """Confirming a decision with a note is for one whose material changed since."""

    code = "decision_not_changed"


class DecisionsChanged(DomainError):
    """The decisions differ from the set the approver read (their hash no longer matches)."""

    code = "decisions_changed"


# --- double review (calibration) --------------------------------------------------------------


class NotDoubleReview(DomainError):
    """The case is not in the double-review sample: it has no second review."""

    code = "not_double_review"


class SecondReviewerAssigned(DomainError):
    """The case already has its second reviewer (another auditor)."""

    code = "second_reviewer_assigned"


class NotSecondReviewer(DomainError):
    """Only the case's second reviewer records the blind second review."""

    code = "not_second_reviewer"


class BlindReview(DomainError):
    """The second reviewer does not see the first auditor's decisions (nor the case's trail,
    which records them) until the sign-off request discloses both reviews."""

    code = "blind_review"


class SecondReviewIncomplete(DomainError):
    """A double-reviewed case is submitted for sign-off once the second reviewer decided
    every criterion (`errors` name what is missing)."""

    code = "second_review_incomplete"


class DifferencesUnresolved(DomainError):
    """Each criterion the two reviewers answered differently needs a resolution (keep the
    first decision or take the second, with a note) before approval."""

    code = "differences_unresolved"


class AlreadyResolved(DomainError):
    code = "already_resolved"


# --- clarification rounds ---------------------------------------------------------------------


class RoundInvalid(InvalidInput):
    code = "round_invalid"


class RoundOpen(DomainError):
    code = "round_open"


class RoundLimitReached(DomainError):
    code = "round_limit_reached"


# --- evidence ---------------------------------------------------------------------------------


class EvidenceUnavailable(Unavailable):
    """Intake (which keeps the files) did not give a link or the file right now."""

    code = "evidence_unavailable"


class EvidenceMismatch(DomainError):
    """The stored file is not the one the manifest names (its SHA-256 or size differ)."""

    code = "evidence_mismatch"


class EvidenceTooLarge(DomainError):
    code = "evidence_too_large"


# --- appeals ----------------------------------------------------------------------------------


class NotIndependent(DomainError):
    """An appeal is decided and signed off only by auditors who took no part in the review."""

    code = "not_independent"


class AppealState(DomainError):
    """Not possible in the appeal's state (deciding a signed-off appeal, signing off an open one)."""

    code = "appeal_state"


class AppealIncomplete(DomainError):
    """Sign-off waits until every appealed criterion is decided."""

    code = "appeal_incomplete"
