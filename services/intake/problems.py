"""Intake's HTTP edge for errors: every intake code with its status and title (the
common codes, e.g. `not_found`, come from `shared.web.problems.COMMON_ERRORS`)."""

from __future__ import annotations

from shared.web.problems import ErrorTable

ERRORS = ErrorTable({
    "city_already_registered": (409, "City already registered"),
    "email_taken": (409, "Email already registered"),
    "unknown_state": (422, "Unknown state"),
    "city_facts_locked": (409, "City facts locked after submission"),
    "ineligible_city": (422, "The programme cannot certify this city"),
    "registration_link_invalid": (410, "Confirmation link not valid"),
    "sign_in_failed": (401, "Sign-in failed"),
    "invalid_cycle": (422, "Invalid cycle"),
    "snapshot_incomplete": (422, "Data Snapshot incomplete"),
    "snapshot_already_taken": (409, "Data Snapshot already answered"),
    "snapshot_needed": (409, "Data Snapshot needed"),
    "not_eligible": (409, "Not eligible for the Assessment"),
    "assessment_locked": (409, "Assessment already submitted"),
    "edit_conflict": (409, "Edit conflict"),
    "version_required": (428, "Version needed"),
    "invalid_version": (422, "Invalid version"),
    "nothing_to_carry_over": (404, "Nothing to carry over"),
    "submission_incomplete": (422, "Assessment incomplete"),
    "file_too_large": (413, "File too large"),
    "submission_size_limit": (413, "Submission size limit reached"),
    "file_type_not_accepted": (415, "File type not accepted"),
    "file_content_mismatch": (422, "File content does not match its name"),
    "file_empty": (422, "Empty file"),
    "file_missing": (422, "No file"),
    "upload_malformed": (400, "Malformed upload"),
    "file_unsafe": (422, "File refused as unsafe"),
    "file_polyglot": (422, "File is two formats at once"),
    "not_a_file": (409, "Not a file"),
    "download_link_expired": (410, "Link expired"),
    "download_link_invalid": (403, "Invalid link"),
    "too_late_to_withdraw": (409, "Too late to withdraw"),
    "workflow_unavailable": (503, "Workflow engine unavailable"),
    "clarification_answered": (409, "Clarification already answered"),
    "clarification_past_due": (409, "Clarification past its due date"),
    "criterion_not_requested": (422, "Criterion not named in the request"),
    "answer_incomplete": (422, "Clarification answer incomplete"),
    "appeal_not_open": (409, "Appeals open once the certification completes"),
    "appeal_window_closed": (409, "Appeal window closed"),
    "appeal_exists": (409, "Already appealed"),
    "not_appealable": (422, "Finding cannot be appealed"),
})
