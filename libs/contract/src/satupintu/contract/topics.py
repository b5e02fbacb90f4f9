"""The one place topic names are spelled: every topic the services meet on, and its dead-letter twin."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

DLQ_SUFFIX = ".dlq"


class Topic(StrEnum):
    """Logical topics; per-agency topics are templates filled with the lowercase agency code."""

    APPLICATIONS = "applications"
    AGENCY_TASKS = "agency.{agency}.tasks"
    AGENCY_DECISIONS = "agency.{agency}.decisions"
    NOTIFICATIONS = "notifications"
    ACCESS = "access"
    MALL = "mall"

    @property
    def per_agency(self) -> bool:
        """Whether this topic exists once per agency."""
        return "{agency}" in self.value

    def name_for(self, agency: str | None = None) -> str:
        """The logical name of this topic (for an agency when it is per agency), without any cluster prefix."""
        if self.per_agency:
            if not agency:
                raise ValueError(f"topic {self.value} needs an agency code")
            return self.value.format(agency=agency.lower())
        return self.value


class KeyTopic(StrEnum):
    """Compacted topics of citizens' keys, one per kind of reader: each record is a citizen's key wrapped for that
    reader alone (a tombstone when the key is destroyed). Only intake writes them; only their reader reads them (the
    desk reads every agency's); the mall and audit never do, and they are not among :func:`all_topic_names`."""

    NOTIFICATION = "keys.notification"
    AGENCY = "keys.agency.{agency}"

    def name_for(self, agency: str | None = None) -> str:
        """The logical name of this key topic (for an agency when it is per agency), without any cluster prefix."""
        if "{agency}" in self.value:
            if not agency:
                raise ValueError(f"topic {self.value} needs an agency code")
            return self.value.format(agency=agency.lower())
        return self.value


NOTIFICATION_READER = "notification"
"""The reader name of the notification service (it needs a citizen's contact and name)."""


def agency_reader(agency: str) -> str:
    """The reader name of an agency's systems (its desk and its own workers): ``agency.<code>``."""
    return f"agency.{agency.lower()}"


def reader_topic(reader: str) -> str:
    """The logical key topic of ``reader`` (``notification`` or ``agency.<code>``)."""
    if reader == NOTIFICATION_READER:
        return KeyTopic.NOTIFICATION.name_for()
    if reader.startswith("agency."):
        return KeyTopic.AGENCY.name_for(reader.removeprefix("agency."))
    raise ValueError(f"unknown reader {reader!r}")


def key_topic_names(agency_codes: Iterable[str]) -> list[str]:
    """Every key topic for the given agencies and its dead-letter twin (what its reader could not read), without any
    cluster prefix."""
    codes = sorted({code.lower() for code in agency_codes})
    names = [KeyTopic.NOTIFICATION.name_for(), *(KeyTopic.AGENCY.name_for(code) for code in codes)]
    return [name for base in names for name in (base, dead_letter_topic(base))]


def dead_letter_topic(topic_name: str) -> str:
    """The dead-letter topic of ``topic_name``."""
    return f"{topic_name}{DLQ_SUFFIX}"


def all_topic_names(agency_codes: Iterable[str]) -> list[str]:
    """Every topic and its dead-letter twin, for the given agencies, without any cluster prefix."""
    codes = sorted({code.lower() for code in agency_codes})
    names: list[str] = []
    for topic in Topic:
        names += [topic.name_for(code) for code in codes] if topic.per_agency else [topic.name_for()]
    return [name for base in names for name in (base, dead_letter_topic(base))]
