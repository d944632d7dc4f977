"""A realistic context for every kind of mail (the template tests render each in every
language; the end-to-end test checks real ones)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notify.domain import Kind

AT = datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 12, 14, 30, tzinfo=UTC)
URL = "https://wwc.example.org/x"

COMMON = {"city_name": "Riverton", "cycle": "2026", "preferences_url": f"{URL}/prefs"}

SAMPLES: dict[Kind, dict] = {
    Kind.REGISTRATION_REQUESTED: {"contact_name": "Dana", "city_name": "Riverton", "confirm_url": URL,
                                  "expires_at": AT},
    Kind.REGISTRATION_REFUSED: {"reason": "account_exists", "city_name": "Riverton", "sign_in_url": URL},
    Kind.SUBMISSION_RECEIVED: {**COMMON, "answered": 45, "evidence_count": 30, "portal_url": URL},
    Kind.CLARIFICATION_REQUESTED: {**COMMON, "criteria": ["DG1", "OD2"], "message": "Send the 2025 inventory.",
                                   "due_at": AT, "link": URL},
    Kind.CLARIFICATION_DUE_SOON: {**COMMON, "criteria": ["DG1"], "due_at": AT, "link": URL},
    Kind.REVIEW_COMPLETED: {**COMMON, "corrections": 1, "portal_url": URL, "changes": [
        {"criterion": "DG1", "from_response": "YES", "to_response": "IN_PROGRESS",
         "explanation": "documents not submitted"}]},
    Kind.REPORT_READY: {**COMMON, "report_url": URL, "tier": "gold"},
    Kind.CERTIFICATION_RESULT: {**COMMON, "tier": "gold", "percent": 71, "met": 32, "total": 45, "portal_url": URL},
    Kind.DEBRIEF_OFFERED: {**COMMON, "tier": "gold", "expires_at": LATER, "booking_url": URL, "report_url": URL},
    Kind.DEBRIEF_BOOKED: {**COMMON, "starts_at": AT, "ends_at": AT, "call_url": URL, "auditor_name": "Ana Auditor",
                          "booking_url": URL, "slots_url": URL, "by": "city", "previous_starts_at": None,
                          "offer_open": False, "expires_at": LATER},
    Kind.DEBRIEF_RESCHEDULED: {**COMMON, "starts_at": LATER, "ends_at": LATER, "previous_starts_at": AT,
                               "call_url": URL, "auditor_name": "Ana Auditor", "booking_url": URL, "slots_url": URL,
                               "by": "auditor", "offer_open": False, "expires_at": LATER},
    Kind.DEBRIEF_REMINDER: {**COMMON, "lead": "hour", "starts_at": AT, "call_url": URL, "auditor_name": "Ana",
                            "booking_url": URL},
    Kind.DEBRIEF_CANCELLED: {**COMMON, "starts_at": AT, "ends_at": AT, "call_url": URL, "auditor_name": "Ana",
                             "booking_url": URL, "slots_url": URL, "by": "city", "previous_starts_at": None,
                             "offer_open": True, "expires_at": LATER},
    Kind.APPEAL_FILED: {**COMMON, "criteria": [{"id": "DG1", "text": "An open data inventory"}],
                        "filed_by_name": "Dana Data", "portal_url": URL},
    Kind.APPEAL_DECIDED: {**COMMON, "overturned": [{"id": "DG1", "text": "An open data inventory"}],
                          "upheld": [{"id": "GM1", "text": "Goals"}], "tier": "gold", "previous_tier": "silver",
                          "report_version": 2, "report_url": URL},
    Kind.CASE_ASSIGNED: {"city_name": "Riverton", "case_id": "c1", "due_at": AT, "claimed": False,
                         "assigned_by": "Olga Operator"},
    Kind.REVIEW_DUE_SOON: {"city_name": "Riverton", "case_id": "c1", "due_at": AT},
    Kind.CLARIFICATION_ANSWERED: {"city_name": "Riverton", "criteria": ["DG1"], "answered_at": AT, "request_id": "r1"},
    Kind.SIGNOFF_RETURNED: {"city_name": "Riverton", "case_id": "c1", "comments": "Check OD2 again.",
                            "returned_by": "Sam Second"},
    Kind.AUDITOR_DEBRIEF_BOOKED: {"city_name": "Riverton", "starts_at": AT, "call_url": URL, "slots_url": URL},
    Kind.AUDITOR_DEBRIEF_RESCHEDULED: {"city_name": "Riverton", "starts_at": LATER, "previous_starts_at": AT,
                                       "call_url": URL, "slots_url": URL},
    Kind.AUDITOR_DEBRIEF_CANCELLED: {"city_name": "Riverton", "starts_at": AT, "by": "city"},
    Kind.REVIEW_OVERDUE: {"city_name": "Riverton", "case_id": "c1", "due_at": AT, "auditor_name": "Ana Auditor"},
    Kind.APPEAL_DUE_SOON: {"city_name": "Riverton", "appeal_id": "a1", "due_at": AT, "status": "open",
                           "to_operators": False, "appeal_url": URL},
    Kind.APPEAL_OVERDUE: {"city_name": "Riverton", "appeal_id": "a1", "due_at": AT, "status": "open",
                          "auditor_names": "Cam Auditor", "appeal_url": URL},
    Kind.MESSAGE_PARKED: {"service": "audit", "consumer": "audit-x", "event_subject": "wwc.intake.x",
                          "parked_id": 7, "error": "boom", "ops_url": URL},
    Kind.DELIVERY_FAILED: {"mail_kind": "report_ready", "mail_to": "a@b.gov", "attempts": 8, "error": "refused",
                           "mail_id": "m1", "ops_url": URL},
}
