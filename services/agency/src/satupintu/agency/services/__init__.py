"""The desk's use cases, one module per use case: the task inbox kept from the tasks topics (:mod:`.inbox`), the
decisions topics watched (:mod:`.watch`), what officers do with tasks (:mod:`.tasks`), what their supervisors do
(:mod:`.supervision`) and documents (:mod:`.documents`), all one :class:`DeskService`. Officers sign in through the
provider (``satupintu.common.oidc``); the desk keeps no passwords."""

from satupintu.agency.services.base import ACTOR, SOURCE
from satupintu.agency.services.desk import DeskService
from satupintu.agency.services.documents import DocumentContent, DocumentDamaged, DocumentKeyMissing
from satupintu.agency.services.supervision import ReassignmentView
from satupintu.agency.services.views import NOT_READABLE, ClaimView, DecisionView, FieldView, TaskView

__all__ = [
    "ACTOR",
    "NOT_READABLE",
    "SOURCE",
    "ClaimView",
    "DecisionView",
    "DeskService",
    "DocumentContent",
    "DocumentDamaged",
    "DocumentKeyMissing",
    "FieldView",
    "ReassignmentView",
    "TaskView",
]
