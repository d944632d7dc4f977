"""The auditor console's one navigation. Two services serve its pages (audit: the queue and
cases; notify: the debrief slots), and both consoles carry these entries, so an auditor
moves between them as within one console. Labels are in shared/web/locales (`nav.*`)."""

from __future__ import annotations

from shared.infra.auth import Role
from shared.web.pages import NavItem

AUDITOR_NAV = (
    NavItem("queue", "/audit/queue", service="audit"),
    NavItem("mine", "/audit/queue?assignee=me", service="audit"),
    NavItem("signoff", "/audit/queue?status=signoff", service="audit"),
    NavItem("conflicts", "/audit/conflicts", service="audit"),
    NavItem("calibration", "/audit/calibration", service="audit"),
    # Slots are an auditor's own; operators read cases but publish no slots.
    NavItem("debriefs", "/slots/", service="notify", roles=(Role.AUDITOR,)),
    NavItem("settings", "/audit/settings", service="audit"),
)
