"""Who may do what on Kafka: every principal's allow rules, from the event contract's topics and the catalogue's
agency codes. The one source of Strimzi's ``KafkaUser`` resources (``deploy/tools/generate_k8s_kafka.py``), of
``deploy/kafka-acls/`` (for a cluster without Strimzi) and of the local secured broker (``satupintu-local up
--secure`` and the test fixture ``secure_kafka``).

- Each service (``User:satupintu-<service>``) reads the topics it consumes in its own consumer groups, writes those it
  produces and ``access``, and reads and writes the dead-letter twins of those it reads (decision 0003, and its
  ``GET /dlq`` without a group). Audit reads every topic of :func:`all_topic_names` and dead-letters nothing.
- An agency's own systems (``User:agency-<code>``) read its tasks topic and its key topic in consumer groups named
  ``satupintu.agency.<code>.*`` (the worker SDK's), dead-letter to their twins, write its decisions topic.
- The desk (``User:satupintu-agency``) reads every agency's tasks, decisions and key topic, writes decisions,
  ``applications`` (the documents an agency issues and revokes) and ``access``, and reads and writes the twins of
  what it reads.
- Key topics (decision 0016): intake writes every one; notification reads ``keys.notification``, an agency its own,
  the desk every agency's; the mall, audit and the operators' credential none.
- The operators' credential (``User:satupintu-operator``) reads every dead-letter topic of :func:`all_topic_names`
  and writes every topic a dead letter can go back to (``deploy/tools/replay_dlq.py``); not the key topics.

Names are logical: a cluster with a topic prefix (``KAFKA_TOPIC_PREFIX``) gets it in front of every topic and group
name. Everything no rule allows is denied (``allow.everyone.if.no.acl.found=false``).

    satupintu-kafka-acls            # (re)writes deploy/kafka-acls/acls.json and apply-acls.sh
    satupintu-kafka-acls --check    # exits 1 when they are out of date with the catalogue and the contract
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from satupintu.common.catalogue import load_catalogue
from satupintu.contract.topics import DLQ_SUFFIX, KeyTopic, Topic, all_topic_names, dead_letter_topic

ResourceType = Literal["topic", "group"]
PatternType = Literal["literal", "prefixed"]

SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")
"""Every service; each has a Kafka user of its own."""
OPERATOR_USER = "satupintu-operator"
"""The credential operators replay dead letters with when a service cannot (republishing them)."""
NOTIFICATION_KEYS_GROUP = "satupintu.notification-keys"
"""The consumer group notification reads ``keys.notification`` in."""
DESK_KEYS_GROUP = "satupintu.agency-keys"
"""The consumer group the desk reads every agency's key topic in."""
DESK_GROUPS = ("satupintu.agency-desk", "satupintu.agency-watch", DESK_KEYS_GROUP)
"""The desk's consumer groups: its task inbox, its watch on decisions, and the agencies' keys."""


def service_user(service: str) -> str:
    """The Kafka user of a service (the SASL user name; Strimzi's password secret has the same name)."""
    return f"satupintu-{service}"


def agency_user(agency: str) -> str:
    """The Kafka user of an agency's own systems."""
    return f"agency-{agency.lower()}"


def principal(user: str) -> str:
    """The broker principal of a SASL user."""
    return f"User:{user}"


def user_name(of_principal: str) -> str:
    """The SASL user of a broker principal."""
    return of_principal.removeprefix("User:")


def agency_principal(agency: str) -> str:
    """The broker principal of an agency's own systems (its SASL user's or client certificate's name)."""
    return principal(agency_user(agency))


DESK_PRINCIPAL = principal(service_user("agency"))
OPERATOR_PRINCIPAL = principal(OPERATOR_USER)


def agency_group_prefix(agency: str) -> str:
    """The prefix of every consumer group of an agency's own systems (the SDK names its group
    ``satupintu.agency.<code>.<worker>``)."""
    return f"satupintu.agency.{agency.lower()}."


@dataclass(frozen=True)
class Acl:
    """One allow rule: ``principal`` may do ``operations`` on the topic or group ``name`` (a literal name or a
    prefix); topic and group names get the cluster's topic prefix when applied."""

    principal: str
    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    operations: tuple[str, ...]


@dataclass(frozen=True)
class Access:
    """What one service's principal may do: topics it reads (in which consumer groups) and topics it writes."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    dead_letters: bool = True
    """Whether it may write and read the dead-letter twin of every topic it reads: every consumer dead-letters
    there, and the service lists and replays its dead letters from there (``GET /dlq``, without a consumer group)."""

    def _twins(self) -> set[str]:
        if not self.dead_letters:
            return set()
        return {dead_letter_topic(topic) for topic in self.reads if not topic.endswith(DLQ_SUFFIX)}

    def read_topics(self) -> list[str]:
        """Topics read: those it consumes, and the dead-letter twins of those."""
        return sorted(set(self.reads) | self._twins())

    def write_topics(self) -> list[str]:
        """Topics written: its own, and the dead-letter twins of those it reads."""
        return sorted(set(self.writes) | self._twins())

    def acls(self, of_principal: str) -> list[Acl]:
        """The rules of this access for ``of_principal``: one per topic (sorted), then one per group."""
        operations: dict[str, set[str]] = {}
        for topic in self.read_topics():
            operations.setdefault(topic, set()).update({"Describe", "Read"})
        for topic in self.write_topics():
            operations.setdefault(topic, set()).update({"Describe", "Write"})
        topics = [
            Acl(of_principal, "topic", topic, "literal", tuple(sorted(operations[topic])))
            for topic in sorted(operations)
        ]
        return topics + [Acl(of_principal, "group", group, "literal", ("Read",)) for group in self.groups]


def _per_agency(topic: Topic | KeyTopic, codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(topic.name_for(code) for code in codes)


def _codes(agency_codes: Iterable[str]) -> list[str]:
    return sorted({code.lower() for code in agency_codes})


def service_access(agency_codes: Iterable[str]) -> dict[str, Access]:
    """Each service's reads, writes and consumer groups but the desk's, as its code does them (consumer names are
    the ``name`` of ``ServiceRuntime.consume``; the group is ``satupintu.<name>``). Every service writes ``access``:
    its operators' use of its dead letters is recorded there."""
    codes = _codes(agency_codes)
    applications = Topic.APPLICATIONS.name_for()
    tasks, decisions = _per_agency(Topic.AGENCY_TASKS, codes), _per_agency(Topic.AGENCY_DECISIONS, codes)
    notifications, access, mall = Topic.NOTIFICATIONS.name_for(), Topic.ACCESS.name_for(), Topic.MALL.name_for()
    key_topics = (KeyTopic.NOTIFICATION.name_for(), *_per_agency(KeyTopic.AGENCY, codes))
    return {
        "intake": Access(
            reads=(applications, mall),
            groups=("satupintu.intake-status", "satupintu.intake-consent"),
            writes=(applications, notifications, access, *key_topics),
        ),
        "routing": Access(
            reads=(applications, *decisions),
            groups=("satupintu.routing",),
            writes=(applications, *tasks, access),
        ),
        "notification": Access(
            reads=(applications, notifications, mall, KeyTopic.NOTIFICATION.name_for()),
            groups=(
                "satupintu.notification",
                "satupintu.notification-codes",
                "satupintu.notification-mall",
                NOTIFICATION_KEYS_GROUP,
            ),
            writes=(notifications, access),
        ),
        "audit": Access(
            reads=tuple(all_topic_names(codes)),
            groups=("satupintu.audit",),
            writes=(access,),
            dead_letters=False,
        ),
        "mall": Access(
            reads=(applications,),
            groups=("satupintu.mall",),
            writes=(mall, access),
        ),
        "payment": Access(
            reads=(applications,),
            groups=("satupintu.payment",),
            writes=(applications, access),
        ),
    }


def operator_access(agency_codes: Iterable[str]) -> Access:
    """The operators' credential for the fallback replay by republishing (``deploy/tools/replay_dlq.py``): read
    every dead-letter topic, without a consumer group, and write every topic a dead letter can go back to. Key topics
    are not among them: only intake writes a key."""
    names = all_topic_names(agency_codes)
    return Access(
        reads=tuple(name for name in names if name.endswith(DLQ_SUFFIX)),
        writes=tuple(name for name in names if not name.endswith(DLQ_SUFFIX)),
        dead_letters=False,
    )


def agency_acls(agency: str) -> list[Acl]:
    """What one agency's systems may do: read its tasks and its citizens' keys (in its own consumer groups),
    dead-letter a record its worker cannot read (the worker SDK takes the consumers' one path), write its decisions."""
    who = agency_principal(agency)
    tasks, keys = Topic.AGENCY_TASKS.name_for(agency), KeyTopic.AGENCY.name_for(agency)
    return [
        Acl(who, "topic", tasks, "literal", ("Read", "Describe")),
        Acl(who, "topic", dead_letter_topic(tasks), "literal", ("Write", "Describe")),
        Acl(who, "group", agency_group_prefix(agency), "prefixed", ("Read", "Describe")),
        Acl(who, "topic", Topic.AGENCY_DECISIONS.name_for(agency), "literal", ("Write", "Describe")),
        Acl(who, "topic", keys, "literal", ("Read", "Describe")),
        Acl(who, "topic", dead_letter_topic(keys), "literal", ("Write", "Describe")),
    ]


def desk_acls(agency_codes: Iterable[str]) -> list[Acl]:
    """What the desk may do: keep every agency's task inbox, watch and write decisions, read every agency's keys,
    announce the documents agencies issue and revoke (on ``applications``), record access, dead-letter what it cannot
    process and read those dead letters back."""
    rules: list[Acl] = []
    for agency in _codes(agency_codes):
        tasks, decisions = Topic.AGENCY_TASKS.name_for(agency), Topic.AGENCY_DECISIONS.name_for(agency)
        keys = KeyTopic.AGENCY.name_for(agency)
        rules += [
            Acl(DESK_PRINCIPAL, "topic", tasks, "literal", ("Read", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", dead_letter_topic(tasks), "literal", ("Read", "Write", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", decisions, "literal", ("Read", "Write", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", dead_letter_topic(decisions), "literal", ("Read", "Write", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", keys, "literal", ("Read", "Describe")),
            Acl(DESK_PRINCIPAL, "topic", dead_letter_topic(keys), "literal", ("Read", "Write", "Describe")),
        ]
    rules.append(Acl(DESK_PRINCIPAL, "topic", Topic.APPLICATIONS.name_for(), "literal", ("Write", "Describe")))
    rules.append(Acl(DESK_PRINCIPAL, "topic", Topic.ACCESS.name_for(), "literal", ("Write", "Describe")))
    rules += [Acl(DESK_PRINCIPAL, "group", group, "literal", ("Read", "Describe")) for group in DESK_GROUPS]
    return rules


def principal_acls(agency_codes: Iterable[str]) -> dict[str, list[Acl]]:
    """Every principal's rules, in a stable order: the services (the desk among them), the operators', then each
    agency's."""
    codes = _codes(agency_codes)
    rules = {
        principal(service_user(name)): access.acls(principal(service_user(name)))
        for name, access in service_access(codes).items()
    }
    rules[DESK_PRINCIPAL] = desk_acls(codes)
    rules[OPERATOR_PRINCIPAL] = operator_access(codes).acls(OPERATOR_PRINCIPAL)
    rules |= {agency_principal(code): agency_acls(code) for code in codes}
    return rules


def all_acls(agency_codes: Iterable[str]) -> list[Acl]:
    """Every rule of every principal, in :func:`principal_acls` order."""
    return [rule for rules in principal_acls(agency_codes).values() for rule in rules]


def principal_descriptions(agency_codes: Iterable[str]) -> dict[str, str]:
    """Every principal and who holds its credential."""
    codes = _codes(agency_codes)
    described = {principal(service_user(name)): f"the {name} service" for name in SERVICES}
    described[DESK_PRINCIPAL] = "the agency service (officers' desk)"
    described[OPERATOR_PRINCIPAL] = "operators replaying dead letters by republishing them"
    return described | {agency_principal(code): f"agency {code}'s own systems (worker SDK)" for code in codes}


def users(agency_codes: Iterable[str]) -> list[str]:
    """Every SASL user a cluster needs, one per principal."""
    return [user_name(name) for name in principal_descriptions(agency_codes)]


DEFAULT_OUT = Path("deploy/kafka-acls")


def render_json(agency_codes: Iterable[str], catalogue_version: str) -> str:
    """``acls.json``: the rules as data, for review and for tooling other than ``kafka-acls.sh``."""
    document = {
        "generated_by": "satupintu-kafka-acls",
        "catalogue_version": catalogue_version,
        "default": "deny (allow.everyone.if.no.acl.found=false)",
        "names_get_the_cluster_topic_prefix": True,
        "principals": principal_descriptions(agency_codes),
        "acls": [asdict(rule) for rule in all_acls(agency_codes)],
    }
    return json.dumps(document, indent=2) + "\n"


def render_script(agency_codes: Iterable[str], catalogue_version: str) -> str:
    """``apply-acls.sh``: the same rules as ``kafka-acls.sh --add`` commands."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Generated by satupintu-kafka-acls from catalogue {catalogue_version}; do not edit, regenerate.",
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
    for rule in all_acls(agency_codes):
        operations = " ".join(rule.operations)
        lines.append(f"allow {rule.principal} {rule.resource_type} {rule.name} {rule.pattern_type} {operations}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Console script ``satupintu-kafka-acls``."""
    parser = argparse.ArgumentParser(prog="satupintu-kafka-acls", description=__doc__.splitlines()[0])
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
            sys.stderr.write(f"out of date with the catalogue: {', '.join(stale)}; run satupintu-kafka-acls\n")
            sys.exit(1)
        return
    arguments.out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (arguments.out / name).write_text(wanted[name])
    (arguments.out / "apply-acls.sh").chmod(0o755)
    sys.stdout.write(f"{len(stale)} file(s) written to {arguments.out}\n")


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None
