"""Fixtures of the secured local broker (SASL/SCRAM, ``StandardAuthorizer``): the broker, started once per test
session if it is not running (and stopped at the end if this session started it), and per test module its topics
and every principal's ACLs under the module's topic prefix, with settings for each principal's user.

Test topic prefixes under ACLs: the module's rules are the production rules (``satupintu.common.kafka_acls``) with
the module's prefix put in front of every topic and group name, literal names staying literal, exactly as
``deploy/kafka-acls/apply-acls.sh`` applies them with ``KAFKA_TOPIC_PREFIX``; they are removed with the module's
topics. So what a test proves is what the rules allow, not a looser pattern made for tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from satupintu.common.kafka_acls import agency_user, service_user
from satupintu.common.settings import KafkaSettings
from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.secure_kafka import ADMIN_USER, SecureLocalKafka
from satupintu.devtools.testing.workers import stop_if_ours


@dataclass(frozen=True)
class SecuredKafka:
    """The secured broker as a test module sees it: its topics and rules under ``topic_prefix``, and the settings
    of each principal's user."""

    broker: SecureLocalKafka
    topic_prefix: str
    partitions: int = 3

    def as_user(self, user: str) -> KafkaSettings:
        """Kafka settings of ``user`` with this module's topic prefix (only the administrator creates topics)."""
        return self.broker.settings(user, self.topic_prefix, partitions=self.partitions)

    def service(self, name: str) -> KafkaSettings:
        """The settings of a service's own user (``satupintu-<name>``)."""
        return self.as_user(service_user(name))

    def agency(self, code: str) -> KafkaSettings:
        """The settings of an agency's own systems (``agency-<code>``)."""
        return self.as_user(agency_user(code))

    @property
    def admin(self) -> KafkaSettings:
        """The administrator's settings (a super user: what a test sets up by hand)."""
        return self.as_user(ADMIN_USER)


@pytest.fixture(scope="session")
def secure_kafka_broker() -> Iterator[SecureLocalKafka]:
    """The secured local broker (127.0.0.1:9192), started if it is not running and then stopped at the session's
    end (in a run split across workers, by the controller); one already running is left running."""
    broker = SecureLocalKafka()
    with processes.one_starter(broker.name):
        started = broker.start()
    yield broker
    if stop_if_ours(started):
        broker.stop()


@pytest.fixture(scope="module")
async def secure_kafka(secure_kafka_broker: SecureLocalKafka, test_module_id: str) -> AsyncIterator[SecuredKafka]:
    """Every topic and key topic of this module on the secured broker, with every principal's ACLs under the
    module's topic prefix; removed at the module's end."""
    secured = SecuredKafka(secure_kafka_broker, topic_prefix=f"t{test_module_id}.")
    await secure_kafka_broker.provision(secured.topic_prefix, partitions=secured.partitions)
    yield secured
    await secure_kafka_broker.deprovision(secured.topic_prefix)
