"""Notify's own tables: contacts learned from events, sent mail, debrief offers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class Contact(Base):
    __tablename__ = "contacts"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(String(36))
    city_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))


class SentMail(Base):
    __tablename__ = "sent_mail"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # What caused the mail (an event id or an activity key): one mail per cause.
    cause: Mapped[str] = mapped_column(String(120), unique=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    to: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DebriefOffer(Base):
    __tablename__ = "debrief_offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    city_id: Mapped[str] = mapped_column(String(36))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
