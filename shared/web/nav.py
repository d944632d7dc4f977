"""The staff consoles' navigations. Several services serve staff pages (audit: the queue,
cases and calibration; notify: the debrief slots; reporting: the operator console and the
programme dashboard); each carries the same entries for the same person, so an auditor or an
operator moves between services as within one console. Labels are in shared/web/locales (`nav.*`)."""

from __future__ import annotations

from dataclasses import replace

from shared.infra.auth import Role
from shared.web.pages import NavItem

AUDITOR_NAV = (
    NavItem("queue", "/audit/queue", service="audit"),
    NavItem("mine", "/audit/queue?assignee=me", service="audit"),
    NavItem("signoff", "/audit/queue?status=signoff", service="audit"),
    NavItem("appeals", "/audit/appeals", service="audit"),
    NavItem("conflicts", "/audit/conflicts", service="audit"),
    NavItem("calibration", "/audit/calibration", service="audit"),
    # Slots are an auditor's own; operators read cases but publish no slots.
    NavItem("debriefs", "/slots/", service="notify", roles=(Role.AUDITOR,)),
    NavItem("settings", "/audit/settings", service="audit"),
)

# The operator console's entries. Reviewer consistency is measured where the decisions are
# (audit) and the dashboard is reporting's public console: both show this navigation to an
# operator, so they are pages of the operator console wherever they are served.
OPERATOR_NAV = (
    NavItem("overview", "/operator/", service="reporting"),
    NavItem("submissions", "/operator/submissions", service="reporting"),
    NavItem("appeals", "/operator/appeals", service="reporting"),
    NavItem("calibration", "/audit/calibration", service="audit"),
    NavItem("programme", "/programme", service="reporting"),
    NavItem("settings", "/audit/settings", service="audit"),
)


def for_role(role: Role, items: tuple[NavItem, ...]) -> tuple[NavItem, ...]:
    """The entries shown only to `role` (an entry already limited to others stays hidden)."""
    return tuple(replace(item, roles=(role,)) for item in items if not item.roles or role in item.roles)


# Auditors and operators both use audit's pages; each sees their own navigation there.
STAFF_NAV = for_role(Role.AUDITOR, AUDITOR_NAV) + for_role(Role.OPERATOR, OPERATOR_NAV)
