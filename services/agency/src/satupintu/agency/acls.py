"""The broker ACLs that enforce agency isolation on Kafka, generated from the catalogue's agency codes.

Each agency's system (principal ``User:agency-<code>``) may read its tasks topic with consumer groups named
``satupintu.agency.<code>.*`` (the worker SDK's), and write its decisions topic; nothing else. The desk (principal
``User:satupintu-agency``) reads every agency's tasks and decisions, writes decisions, ``access`` and its dead letters,
and reads its dead letters (the operators' ``GET /dlq``, without a consumer group).

    satupintu-agency-acls                 # (re)writes deploy/kafka-acls/acls.json and apply-acls.sh
    satupintu-agency-acls --check         # exits 1 when they are out of date with the catalogue
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from satupintu.agency.handlers import DECISIONS_WATCH_CONSUMER, TASK_INBOX_CONSUMER
from satupintu.agency.sdk import consumer_group
from satupintu.common.catalogue import load_catalogue
from satupintu.common.events.topics import Topic, dead_letter_topic

DESK_PRINCIPAL = "User:satupintu-agency"
DEFAULT_OUT = Path("deploy/kafka-acls")


def agency_principal(agency: str) -> str:
    """The broker principal of an agency's own systems (its client certificate's or SASL user's name)."""
    return f"User:agency-{agency}"


@dataclass(frozen=True)
class Acl:
    """One allow rule: ``principal`` may do ``operations`` on the topic or group ``name`` (a literal name or a
    prefix); topic and group names get the cluster's topic prefix when applied."""

    principal: str
    resource_type: Literal["topic", "group"]
    name: str
    pattern_type: Literal["literal", "prefixed"]
    operations: tuple[str, ...]


def agency_acls(agency: str) -> list[Acl]:
    """What one agency's systems may do: read its tasks (in its own consumer groups), dead-letter a task record its
    worker cannot read (the worker SDK takes the consumers' one path), write its decisions."""
    principal = agency_principal(agency)
    tasks = Topic.AGENCY_TASKS.name_for(agency)
    return [
        Acl(principal, "topic", tasks, "literal", ("Read", "Describe")),
        Acl(principal, "topic", dead_letter_topic(tasks), "literal", ("Write", "Describe")),
        Acl(principal, "group", consumer_group(agency, ""), "prefixed", ("Read", "Describe")),
        Acl(principal, "topic", Topic.AGENCY_DECISIONS.name_for(agency), "literal", ("Write", "Describe")),
    ]


def desk_acls(agencies: Iterable[str]) -> list[Acl]:
    """What the desk may do: keep every agency's task inbox, watch and write decisions, record access, dead-letter
    what it cannot process and read those dead letters back."""
    rules: list[Acl] = []
    for agency in agencies:
        tasks, decisions = Topic.AGENCY_TASKS.name_for(agency), Topic.AGENCY_DECISIONS.name_for(agency)
        rules += [
            Acl(DESK_PRINCIPAL, "topic", tasks, "literal", ("Read", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", dead_letter_topic(tasks), "literal", ("Read", "Write", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", decisions, "literal", ("Read", "Write", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", dead_letter_topic(decisions), "literal", ("Read", "Write", "Describe")),
        ]
    rules += [
        Acl(DESK_PRINCIPAL, "topic", Topic.ACCESS.name_for(), "literal", ("Write", "Describe")),
        Acl(DESK_PRINCIPAL, "group", f"satupintu.{TASK_INBOX_CONSUMER}", "literal", ("Read", "Describe")),
        Acl(DESK_PRINCIPAL, "group", f"satupintu.{DECISIONS_WATCH_CONSUMER}", "literal", ("Read", "Describe")),
    ]
    return rules


def all_acls(agencies: Iterable[str]) -> list[Acl]:
    """Every agency's rules, then the desk's, in a stable order."""
    codes = sorted({code.lower() for code in agencies})
    return [rule for code in codes for rule in agency_acls(code)] + desk_acls(codes)


def render_json(agencies: Iterable[str], catalogue_version: str) -> str:
    """``acls.json``: the rules as data, for review and for tooling other than ``kafka-acls.sh``."""
    codes = sorted(agencies)
    document = {
        "generated_by": "satupintu-agency-acls",
        "catalogue_version": catalogue_version,
        "default": "deny (allow.everyone.if.no.acl.found=false)",
        "names_get_the_cluster_topic_prefix": True,
        "principals": {
            **{agency_principal(code): f"agency {code}'s own systems (worker SDK)" for code in codes},
            DESK_PRINCIPAL: "the agency service (officers' desk)",
        },
        "acls": [asdict(rule) for rule in all_acls(codes)],
    }
    return json.dumps(document, indent=2) + "\n"


def render_script(agencies: Iterable[str], catalogue_version: str) -> str:
    """``apply-acls.sh``: the same rules as ``kafka-acls.sh --add`` commands."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Generated by satupintu-agency-acls from catalogue {catalogue_version}; do not edit, regenerate.",
        "# Usage: KAFKA_BOOTSTRAP_SERVERS=host:9093 KAFKA_ADMIN_CONFIG=admin.properties [KAFKA_TOPIC_PREFIX=...] \\",
        "#        [KAFKA_ACLS=/opt/kafka/bin/kafka-acls.sh] deploy/kafka-acls/apply-acls.sh",
        "set -euo pipefail",
        'BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"',
        'ADMIN_CONFIG="${KAFKA_ADMIN_CONFIG:?set KAFKA_ADMIN_CONFIG (an admin client properties file)}"',
        'PREFIX="${KAFKA_TOPIC_PREFIX:-}"',
        'KAFKA_ACLS="${KAFKA_ACLS:-kafka-acls.sh}"',
        "",
        "allow() {  # principal resource-type name pattern-type operation...",
        '  local principal="$1" kind="$2" name="$3" pattern="$4"',
        "  shift 4",
        "  local operations=()",
        '  for operation in "$@"; do operations+=(--operation "$operation"); done',
        '  "$KAFKA_ACLS" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CONFIG" --add \\',
        '    --allow-principal "$principal" --"$kind" "${PREFIX}${name}" --resource-pattern-type "$pattern" \\',
        '    "${operations[@]}"',
        "}",
        "",
    ]
    for rule in all_acls(agencies):
        operations = " ".join(rule.operations)
        lines.append(f"allow {rule.principal} {rule.resource_type} {rule.name} {rule.pattern_type} {operations}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Console script ``satupintu-agency-acls``."""
    parser = argparse.ArgumentParser(prog="satupintu-agency-acls", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"directory (default: {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true", help="only check the files are up to date")
    arguments = parser.parse_args()
    catalogue = load_catalogue()
    codes = sorted(catalogue.agency_codes())
    wanted = {
        "acls.json": render_json(codes, catalogue.version),
        "apply-acls.sh": render_script(codes, catalogue.version),
    }
    stale = [name for name, text in wanted.items() if _read(arguments.out / name) != text]
    if arguments.check:
        if stale:
            sys.stderr.write(f"out of date with the catalogue: {', '.join(stale)}; run satupintu-agency-acls\n")
            sys.exit(1)
        return
    arguments.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (arguments.out / name).write_text(wanted[name])
    (arguments.out / "apply-acls.sh").chmod(0o755)
    sys.stdout.write(f"{len(stale)} file(s) written to {arguments.out}\n")


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None
