"""The desk's use cases: keep the task inbox from the agencies' topics, list, show, claim and decide tasks, the
supervisor view and reassigning, serve documents, record who saw what (``access.recorded``). Officers sign in
through the provider.

A decision, made at the desk or seen on the agency's decisions topic, only sends the task to routing
(``decision_sent``): routing's answer on the tasks topic closes it (``task.decision_accepted``) or puts it back in
the pool with the reason (``task.decision_refused``).

Isolation is enforced here for every entry point (JSON API and pages): an officer's agency must own the task or a
task referencing the document, otherwise the answer is "not found" and the attempt is published as
``access.recorded`` with outcome ``denied``.
"""

from __future__ import annotations

from satupintu.agency.services.documents import DocumentReads
from satupintu.agency.services.inbox import TaskInbox
from satupintu.agency.services.supervision import SupervisorTasks
from satupintu.agency.services.tasks import OfficerTasks
from satupintu.agency.services.watch import DecisionWatch


class DeskService(TaskInbox, DecisionWatch, OfficerTasks, SupervisorTasks, DocumentReads):
    """The officers' desk: the task inbox, what officers do with it and what their supervisors do, one use case per
    module."""
