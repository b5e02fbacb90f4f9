"""``/audit``: the auditors' JSON API: search, timelines, checkpoints, proofs, verification and export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from satupintu.audit.api import dependencies
from satupintu.audit.api.access import PERSONAL_PARAMETER, auditor, requested_resource
from satupintu.audit.domain import EventFilters
from satupintu.audit.schemas import (
    CheckpointPageRead,
    CheckpointRead,
    ConsistencyProofRead,
    EntryPageRead,
    EntryRead,
    InclusionProofRead,
    TimelineRead,
    VerificationRead,
)
from satupintu.common.auth import Principal
from satupintu.common.problems import documented_problems

MAX_SEQ = 2**63 - 1  # PostgreSQL bigint: larger numbers cannot name an entry

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(auditor)]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def event_filters(
    request: Request,
    *,
    application_id: Annotated[str | None, Query(description="Entries about this application.")] = None,
    agency: Annotated[str | None, Query(description="Entries concerning this agency (lower-case code).")] = None,
    event_type: Annotated[str | None, Query(alias="type", description="CloudEvents type, e.g. task.decided.")] = None,
    actor: Annotated[str | None, Query(description="Who caused it, e.g. `officer:polres:budi`.")] = None,
    since: Annotated[datetime | None, Query(description="Events at or after this time (UTC if no offset).")] = None,
    until: Annotated[datetime | None, Query(description="Events at or before this time (UTC if no offset).")] = None,
    personal: Annotated[
        str | None,
        Query(
            alias=PERSONAL_PARAMETER,
            description="A personal value (a NIK, an e-mail address) to match against the keyed hashes; it is "
            "never stored or recorded in the clear.",
        ),
    ] = None,
) -> EventFilters:
    """The search filters of a request (shared by search, export and the search page)."""
    return EventFilters(
        application_id=application_id or None,
        agency=agency or None,
        type=event_type or None,
        actor=actor or None,
        since=_utc(since),
        until=_utc(until),
        personal_hash=dependencies.queries(request).personal_hash(personal) if personal else None,
    )


Filters = Annotated[EventFilters, Depends(event_filters)]


@router.get("/events", summary="Search the log, one page at a time")
async def search_events(
    request: Request,
    principal: Auditor,
    filters: Filters,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Entries per page.")] = None,
) -> EntryPageRead:
    """Entries matching every given filter, in log order."""
    context = dependencies.context(request)
    page = await context.queries.events(
        principal, filters, cursor, limit or context.settings.page_size, requested_resource(request)
    )
    return EntryPageRead(items=[EntryRead.of(entry) for entry in page.entries], next_cursor=page.next_cursor)


@router.get(
    "/entries/{seq}",
    summary="One entry by its sequence number",
    responses=documented_problems({404: "The log has no such entry (yet)."}),
)
async def entry(
    seq: Annotated[int, Path(ge=1, le=MAX_SEQ, description="The entry's sequence number.")],
    request: Request,
    principal: Auditor,
) -> EntryRead:
    """Entry ``seq`` with the hashes that chain it; 404 (problem+json) when the log has no such entry."""
    found = await dependencies.queries(request).entry(principal, seq, requested_resource(request))
    return EntryRead.of(found)


@router.get("/applications/{application_id}", summary="One application's timeline across agencies")
async def application_timeline(application_id: str, request: Request, principal: Auditor) -> TimelineRead:
    """Everything about one application: its events at every agency, dead letters and who looked at it."""
    entries = await dependencies.queries(request).timeline(principal, application_id, requested_resource(request))
    return TimelineRead(
        application_id=application_id,
        agencies=sorted({entry.agency for entry in entries if entry.agency}),
        entries=[EntryRead.of(entry) for entry in entries],
    )


@router.get("/checkpoints", summary="Past signed checkpoints, newest first, one page at a time")
async def list_checkpoints(
    request: Request,
    principal: Auditor,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=1000, description="Checkpoints per page (default AUDIT_PAGE_SIZE).")
    ] = None,
) -> CheckpointPageRead:
    """Every signed checkpoint taken, the largest tree first; follow `next_cursor` for older ones."""
    context = dependencies.context(request)
    page = await context.queries.checkpoints(
        principal, cursor, limit or context.settings.page_size, requested_resource(request)
    )
    return CheckpointPageRead(
        items=[CheckpointRead.of(checkpoint) for checkpoint in page.checkpoints], next_cursor=page.next_cursor
    )


@router.get(
    "/checkpoints/latest",
    summary="The latest signed checkpoint",
    responses=documented_problems({404: "No checkpoint has been taken yet."}),
)
async def latest_checkpoint(request: Request, principal: Auditor) -> CheckpointRead:
    """The signed tree head of the largest tree (404 before the first checkpoint)."""
    checkpoint = await dependencies.queries(request).latest_checkpoint(principal, requested_resource(request))
    return CheckpointRead.of(checkpoint)


@router.post("/checkpoints", status_code=201, summary="Take a signed checkpoint now")
async def take_checkpoint(request: Request, principal: Auditor) -> CheckpointRead:
    """A checkpoint of the log as it is now (the latest one if the log has not grown since)."""
    checkpoint = await dependencies.queries(request).take_checkpoint(principal, requested_resource(request))
    return CheckpointRead.of(checkpoint)


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    summary="The public key that verifies checkpoints (PEM)",
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
async def public_key(request: Request) -> PlainTextResponse:
    """The Ed25519 public key of checkpoint signatures; public, so anyone can verify an export with it."""
    return PlainTextResponse(dependencies.signer(request).public_key_pem, media_type="application/x-pem-file")


@router.get(
    "/proofs/inclusion/{seq}",
    summary="Prove an entry is in the tree",
    responses=documented_problems({404: "The log has no such entry (yet)."}),
)
async def inclusion_proof(
    seq: Annotated[int, Path(ge=1, le=MAX_SEQ, description="The entry's sequence number.")],
    request: Request,
    principal: Auditor,
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_SEQ, description="The tree to prove it in; default: a checkpoint of the log now."),
    ] = None,
) -> InclusionProofRead:
    """RFC 6962 audit path of entry ``seq`` in the tree of ``tree_size`` entries."""
    proof = await dependencies.queries(request).inclusion(principal, seq, tree_size, requested_resource(request))
    return InclusionProofRead(
        seq=proof.entry.seq,
        leaf_index=proof.entry.seq - 1,
        tree_size=proof.tree_size,
        entry_hash=proof.entry.entry_hash,
        leaf_hash=proof.leaf_hash,
        audit_path=proof.audit_path,
        root_hash=proof.root_hash,
        checkpoint=CheckpointRead.of_optional(proof.checkpoint),
    )


@router.get("/proofs/consistency", summary="Prove one tree is a prefix of a later one")
async def consistency_proof(
    request: Request,
    principal: Auditor,
    first: Annotated[int, Query(ge=1, le=MAX_SEQ, description="The smaller tree size (e.g. an older checkpoint's).")],
    second: Annotated[int, Query(ge=1, le=MAX_SEQ, description="The larger tree size.")],
) -> ConsistencyProofRead:
    """RFC 6962 consistency proof between the trees of ``first`` and ``second`` entries."""
    proof = await dependencies.queries(request).consistency(principal, first, second, requested_resource(request))
    return ConsistencyProofRead(
        first=proof.first,
        second=proof.second,
        first_root=proof.first_root,
        second_root=proof.second_root,
        proof=proof.proof,
        first_checkpoint=CheckpointRead.of_optional(proof.first_checkpoint),
        second_checkpoint=CheckpointRead.of_optional(proof.second_checkpoint),
    )


@router.get("/verify", summary="Re-check the whole log")
async def verify(request: Request, principal: Auditor) -> VerificationRead:
    """Every entry against its hash and its predecessor, its Merkle leaf, and every checkpoint's root and signature
    (against the current and retired keys): ok, or the first bad entry or checkpoint and why."""
    result = await dependencies.queries(request).verify(principal, requested_resource(request))
    return VerificationRead(
        ok=result.ok,
        tree_size=result.tree_size,
        entries_checked=result.entries_checked,
        checkpoints_checked=result.checkpoints_checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        bad_checkpoint=result.bad_checkpoint,
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Export matching entries with proofs (JSON Lines)",
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def export(request: Request, principal: Auditor, filters: Filters) -> StreamingResponse:
    """The matching entries up to the latest checkpoint, with their inclusion proofs in it, for
    ``satupintu-audit-verify EXPORT.jsonl --public-key KEY.pem``."""
    lines = await dependencies.queries(request).export(principal, filters, requested_resource(request))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        lines,
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="audit-export-{stamp}.jsonl"'},
    )
