"""The desk's use cases, one module per use case: the task inbox kept from the tasks topics (:mod:`.inbox`), the
decisions topics watched (:mod:`.watch`), what officers do with tasks (:mod:`.tasks`) and documents
(:mod:`.documents`), all one :class:`DeskService`; and the officers who log in (:mod:`.officers`)."""

from satupintu.agency.services.base import ACTOR, SOURCE
from satupintu.agency.services.desk import DeskService
from satupintu.agency.services.documents import DocumentContent, DocumentDamaged, DocumentKeyMissing
from satupintu.agency.services.officers import (
    MIN_PASSWORD_LENGTH,
    PASSWORD_HASHER,
    USERNAME_PATTERN,
    OfficerError,
    OfficerService,
    password_stamp,
)
from satupintu.agency.services.views import NOT_READABLE, ClaimView, DecisionView, FieldView, TaskView

__all__ = [
    "ACTOR",
    "MIN_PASSWORD_LENGTH",
    "NOT_READABLE",
    "PASSWORD_HASHER",
    "SOURCE",
    "USERNAME_PATTERN",
    "ClaimView",
    "DecisionView",
    "DeskService",
    "DocumentContent",
    "DocumentDamaged",
    "DocumentKeyMissing",
    "FieldView",
    "OfficerError",
    "OfficerService",
    "TaskView",
    "password_stamp",
]
