"""A workflow's form fields at rest: the personal ones (the catalogue's ``personal``) sealed with routing's data
keys, the rest in clear."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.crypto import FieldCipher
from satupintu.contract.tasks import DocumentHolder
from satupintu.routing.storage.tables import WorkflowRecord


def personal_field_names(service: ServiceDefinition) -> frozenset[str]:
    """The form fields of ``service`` the catalogue marks personal."""
    return frozenset(field.name for field in service.fields if field.personal)


def _personal_context(application_id: str) -> str:
    """What a workflow's sealed personal fields are bound to: its column and its application (a value copied to
    another row does not open)."""
    return f"workflows.personal_data:{application_id}"


def form_data(workflow: WorkflowRecord, cipher: FieldCipher) -> dict[str, Any]:
    """Every form field ``workflow`` keeps: the clear ones and the sealed personal ones opened (a row stored before
    sealing holds them all in clear)."""
    data = dict(workflow.data)
    if workflow.personal_data_ciphertext:
        sealed = cipher.decrypt(workflow.personal_data_ciphertext, _personal_context(workflow.application_id))
        data |= json.loads(sealed)
    return data


def store_form_data(
    workflow: WorkflowRecord, service: ServiceDefinition, data: Mapping[str, Any], cipher: FieldCipher
) -> None:
    """Keep ``data`` as ``workflow``'s form fields: the personal ones sealed, the rest in clear."""
    personal_names = personal_field_names(service)
    personal = {name: value for name, value in data.items() if name in personal_names}
    workflow.data = {name: value for name, value in data.items() if name not in personal_names}
    workflow.personal_data_ciphertext = (
        cipher.encrypt(json.dumps(personal, ensure_ascii=False), _personal_context(workflow.application_id))
        if personal
        else None
    )


def _holder_context(application_id: str) -> str:
    return f"workflows.holder:{application_id}"


def holder(workflow: WorkflowRecord, cipher: FieldCipher) -> DocumentHolder | None:
    """Who ``workflow``'s document is for, as stored by :func:`store_holder`."""
    if not workflow.holder_ciphertext:
        return None
    return DocumentHolder.model_validate_json(
        cipher.decrypt(workflow.holder_ciphertext, _holder_context(workflow.application_id))
    )


def store_holder(workflow: WorkflowRecord, value: DocumentHolder | None, cipher: FieldCipher) -> None:
    """Keep ``value`` (still sealed for the citizen's key) sealed once more with routing's data keys."""
    workflow.holder_ciphertext = (
        cipher.encrypt(value.model_dump_json(), _holder_context(workflow.application_id)) if value else None
    )
