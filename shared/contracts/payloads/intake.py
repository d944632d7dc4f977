"""Facts intake publishes: accounts, cities, submissions, clarification answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.submission import EvidenceItem
from shared.contracts.vocabulary import RegistrationRefusal, Role
from shared.i18n import Lang


class RegistrationRequested(BaseModel):
    """Mail the contact a link that confirms the address and creates the account."""

    registration_id: str
    email: str
    contact_name: str
    city_name: str
    language: Lang = "en"
    confirm_url: str
    expires_at: datetime


class RegistrationRefused(BaseModel):
    """Someone asked to register with this address, but it cannot be done: the address has
    an account already, or the city is registered. Only the address's owner is told (by
    mail); the API answers every registration request the same way."""

    email: str
    language: Lang = "en"
    city_name: str
    reason: RegistrationRefusal


class UserRegistered(BaseModel):
    """An account exists (city staff, auditor or operator): the directory other services
    keep of who to mail, assign and name."""

    user_id: str
    email: str
    name: str = ""
    role: Role
    city_id: str | None = None
    language: Lang = "en"
    # A staff member's own time zone (IANA, from the list of current zones), once chosen.
    timezone: str | None = None


class CityProfile(BaseModel):
    """A city as other services need it (name, place, time zone, language for its mail)."""

    city_id: str
    name: str
    state: str = Field(default="", description="ISO 3166-2 subdivision code (US-IL, CA-ON); empty where the "
                                               "country has none (shared.catalog.places)")
    country: str
    population: int
    region: str | None = None
    population_band: str | None = None
    timezone: str = "UTC"
    language: Lang = "en"


class FactChange(BaseModel):
    """One registration fact, before and after (name, country, state, population)."""

    fact: str = Field(description="name | country | state | population")
    old: str | int | None = None
    new: str | int | None = None


class CityFactsChanged(BaseModel):
    """Someone corrected a city's registration facts, with a reason: the city's staff before
    its assessment was submitted, an operator at any time. Audit shows it on the city's case.
    The city's new profile follows as `city.updated`."""

    change_id: str
    city_id: str
    city_name: str
    changes: list[FactChange]
    reason: str
    changed_by: str
    changed_by_name: str = ""
    changed_by_role: Role
    changed_at: datetime


class SubmissionSubmitted(BaseModel):
    submission_id: str
    city_id: str
    cycle: str
    catalog_version: str
    answered: int
    evidence_count: int
    city_name: str = ""
    contact_email: str | None = None
    # The city's staff member who submitted (operators' timelines name them).
    submitted_by: str | None = None


class SubmissionWithdrawn(BaseModel):
    submission_id: str
    city_id: str
    reason: str = ""
    by_name: str = ""  # the city's staff member who withdrew it (display name)


class CriterionAnswerSent(BaseModel):
    narrative: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class ClarificationAnswered(BaseModel):
    """A city's answer to a clarification request: new narratives and the files and links
    sent with it (audit shows them beside what was submitted)."""

    submission_id: str
    request_id: str
    answered_at: datetime
    answered_by: str | None = None
    answers: dict[str, CriterionAnswerSent] = Field(default_factory=dict)


class AppealedCriterionSent(BaseModel):
    criterion_id: str
    statement: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class AppealSubmitted(BaseModel):
    """A city appealed audited findings of a completed certification, within the
    programme's window (`wwc.intake.appeal.filed`); one appeal per certification."""

    submission_id: str
    appeal_id: str
    city_id: str
    criteria: list[AppealedCriterionSent]
    filed_at: datetime
    filed_by: str | None = None
    filed_by_name: str = ""
