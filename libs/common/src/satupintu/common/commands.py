"""The console script of every service: ``satupintu-<service>`` serves it; ``satupintu-<service> migrate`` brings
its database to head as the owner (``DATABASE_OWNER_URL``) and leaves the role the service connects as
(``DATABASE_URL``) only rows to read and write. The migration reads only the database settings: its job (Compose's
``<service>-migrate``, the Kubernetes Job) is given those and not the service's keys, which production would
otherwise demand."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import FastAPI

from satupintu.common.migrations import MigrationRefused, ServiceSchema, migrate
from satupintu.common.runtime import serve
from satupintu.common.settings import DatabaseSettings, ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def service_main(
    schema: ServiceSchema,
    settings_class: type[S],
    create_app: Callable[[S], FastAPI],
    argv: Sequence[str] | None = None,
) -> None:
    """Serve the service, or migrate its database, as the command line says."""
    service = schema.service
    parser = argparse.ArgumentParser(prog=f"satupintu-{service}", description=f"Satu Pintu's {service} service.")
    parser.add_argument(
        "command",
        nargs="?",
        choices=("serve", "migrate"),
        default="serve",
        help=(
            "serve (the default): run the service; migrate: upgrade its database to head as DATABASE_OWNER_URL's "
            "user and give DATABASE_URL's user only rows to read and write (creating the database and that role "
            "when missing)"
        ),
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "migrate":
        try:
            done = asyncio.run(migrate(schema, DatabaseSettings()))
        except MigrationRefused as refused:
            parser.exit(1, f"satupintu-{service} migrate: {refused}\n")
        sys.stdout.write("".join(f"{line}\n" for line in done))
        return
    settings = settings_class()
    serve(service, create_app(settings), settings)
