"""The local broker with authentication and authorization, to run and test the system under the broker ACLs it has
in production: SASL/SCRAM-SHA-512 on its one client listener, KRaft's ``StandardAuthorizer`` denying what no rule
allows, a SCRAM user for every principal of :mod:`satupintu.common.kafka_acls`, and an administrator (a super user)
the tooling creates topics, rules and late users with.

It runs beside the plaintext broker, on ports and in a directory of its own (``.run/kafka-secure``). The passwords
are generated for this installation into that directory the first time (``credentials.json``, mode 0600, never in
git); the users exist from the moment the log directory is formatted (``StorageTool format --add-scram``), and one
added later (a new agency in the catalogue) is added with Kafka's own ``ConfigCommand``. Nothing is downloaded but
the broker's jars, as for the plaintext broker.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from satupintu.common.catalogue import load_catalogue
from satupintu.common.kafka_acls import all_acls, users
from satupintu.common.settings import KafkaSettings
from satupintu.common.topics_admin import delete_topics, ensure_topics
from satupintu.contract.topics import all_topic_names, key_topic_names
from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.acls import apply_acls, remove_acls
from satupintu.devtools.localstack.kafka import KafkaStartError, LocalKafka, ensure_jars
from satupintu.devtools.localstack.paths import deploy_dir

ADMIN_USER = "satupintu-admin"
"""The tooling's own user, a super user of the secured broker: it creates topics, rules and late users."""
MECHANISM = "SCRAM-SHA-512"
PROCESS_NAME = "kafka-secure"


def agency_codes() -> list[str]:
    """The catalogue's agencies, whose systems each get a user."""
    return sorted(load_catalogue().agency_codes())


@dataclass(frozen=True)
class SecureLocalKafka(LocalKafka):
    """The secured local broker: SASL_PLAINTEXT with SCRAM-SHA-512 on 9192, controller on 9193 (PLAIN)."""

    port: int = 9192
    controller_port: int = 9193
    heap: str = "512m"
    name: str = PROCESS_NAME

    @property
    def credentials_file(self) -> Path:
        """Every user's password and which users the broker has (JSON, readable by this user alone)."""
        return self.config_dir / "credentials.json"

    def wanted_users(self) -> list[str]:
        """The administrator and one user per principal of the rules."""
        return [ADMIN_USER, *users(agency_codes())]

    def _credentials(self) -> tuple[dict[str, str], set[str]]:
        if not self.credentials_file.is_file():
            return {}, set()
        document = json.loads(self.credentials_file.read_text())
        return dict(document["passwords"]), set(document["registered"])

    def _save_credentials(self, passwords: dict[str, str], registered: Iterable[str]) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.credentials_file.touch(mode=0o600)
        self.credentials_file.chmod(0o600)
        document = {"passwords": dict(sorted(passwords.items())), "registered": sorted(registered)}
        self.credentials_file.write_text(json.dumps(document, indent=2) + "\n")

    def passwords(self) -> dict[str, str]:
        """User → password for every wanted user, generating (and keeping) those that have none yet."""
        passwords, registered = self._credentials()
        missing = [user for user in self.wanted_users() if user not in passwords]
        if missing:
            passwords |= {user: secrets.token_urlsafe(24) for user in missing}
            self._save_credentials(passwords, registered)
        return passwords

    def settings(self, user: str, topic_prefix: str = "", **overrides: Any) -> KafkaSettings:
        """Kafka settings of ``user`` on this broker. Only the administrator creates topics: a service's user may
        not, as with Strimzi, where the operator owns them."""
        return KafkaSettings(
            bootstrap_servers=self.bootstrap_servers,
            topic_prefix=topic_prefix,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=MECHANISM,
            sasl_username=user,
            sasl_password=SecretStr(self.passwords()[user]),
            create_topics=user == ADMIN_USER,
            **overrides,
        )

    def environment(self, user: str) -> dict[str, str]:
        """The ``KAFKA_*`` variables a process connecting as ``user`` is started with."""
        settings = self.settings(user)
        return {
            "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": settings.security_protocol,
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": self.passwords()[user],
            "KAFKA_CREATE_TOPICS": "true" if settings.create_topics else "false",
        }

    def client_options(self) -> dict[str, Any]:
        """The security arguments of the administrator's aiokafka clients."""
        return self.settings(ADMIN_USER).client_options()

    def server_properties(self) -> str:
        """The plaintext broker's configuration with a SASL_PLAINTEXT listener, then the authentication and the
        authorizer (``deploy/local/kafka/server-sasl.properties``)."""
        base = (deploy_dir() / "kafka" / "server.properties").read_text()
        secured = (deploy_dir() / "kafka" / "server-sasl.properties").read_text()
        values = {
            "host": self.host,
            "port": self.port,
            "controller_port": self.controller_port,
            "log_dirs": self.data_dir,
            "protocol": "SASL_PLAINTEXT",
            "controller_protocol": "SASL_PLAINTEXT",
            "admin_user": ADMIN_USER,
            "admin_password": self.passwords()[ADMIN_USER],
        }
        return base.format(**values) + "\n" + secured.format(**values)

    def format_arguments(self) -> list[str]:
        """A standalone controller, with a SCRAM credential for every user in the metadata log from the start."""
        scram = [f"{MECHANISM}=[name={user},password={password}]" for user, password in self.passwords().items()]
        return ["--standalone", *(argument for entry in scram for argument in ("--add-scram", entry))]

    def start(self, timeout: float = 90.0) -> bool:
        """Start the broker unless it answers, then make sure every wanted user exists; True if this call started it.

        A log directory whose passwords are lost (``credentials.json`` deleted) cannot be administered again: it is
        formatted afresh (it holds only local development and test data)."""
        formatted = (self.data_dir / "meta.properties").is_file()
        if formatted and not self.credentials_file.is_file():
            processes.stop(self.name, timeout=30.0)
            shutil.rmtree(self.data_dir)
            formatted = False
        passwords = self.passwords()
        started = super().start(timeout)
        if not formatted and started:
            self._save_credentials(passwords, passwords)
        self._register_missing_users()
        return started

    def _register_missing_users(self) -> None:
        passwords, registered = self._credentials()
        missing = sorted(passwords.keys() - registered)
        if not missing:
            return
        admin_config = self.config_dir / "admin.properties"
        admin_config.touch(mode=0o600)
        admin_config.chmod(0o600)
        admin_config.write_text(
            f"security.protocol=SASL_PLAINTEXT\nsasl.mechanism={MECHANISM}\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{ADMIN_USER}" password="{passwords[ADMIN_USER]}";\n'
        )
        java = self.java_command(ensure_jars(), heap="128m")
        for user in missing:
            adding = subprocess.run(
                [
                    *java,
                    "kafka.admin.ConfigCommand",
                    "--bootstrap-server",
                    self.bootstrap_servers,
                    "--command-config",
                    str(admin_config),
                    "--alter",
                    "--add-config",
                    f"{MECHANISM}=[password={passwords[user]}]",
                    "--entity-type",
                    "users",
                    "--entity-name",
                    user,
                ],
                check=False,
                capture_output=True,
                text=True,
            )
            if adding.returncode != 0:
                raise KafkaStartError(f"adding the Kafka user {user} failed:\n{adding.stdout}{adding.stderr}")
            registered.add(user)
            self._save_credentials(passwords, registered)

    async def provision(self, topic_prefix: str = "", partitions: int = 6) -> tuple[list[str], int]:
        """As the administrator, create every topic and key topic under ``topic_prefix`` (key topics compacted) and
        add every principal's rules with the prefix in front of each name, as ``apply-acls.sh`` does with
        ``KAFKA_TOPIC_PREFIX``; the topics created and the number of rule bindings."""
        codes = agency_codes()
        admin = self.settings(ADMIN_USER, topic_prefix, partitions=partitions)
        created = await ensure_topics(admin, [*all_topic_names(codes), *key_topic_names(codes)])
        return created, await apply_acls(admin, all_acls(codes))

    async def deprovision(self, topic_prefix: str) -> None:
        """Remove the rules and delete the topics :meth:`provision` made under ``topic_prefix`` (a test module's)."""
        await remove_acls(self.settings(ADMIN_USER, topic_prefix), all_acls(agency_codes()))
        await delete_topics(self.bootstrap_servers, topic_prefix, self.client_options())
