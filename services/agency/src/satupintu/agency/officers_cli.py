"""The ``satupintu-agency-officer`` command: add officers to the desk, change their passwords, list them.

    satupintu-agency-officer add --agency polres --username budi --name "Budi Santoso"   # asks for the password
    satupintu-agency-officer passwd --username budi
    satupintu-agency-officer list --agency polres

The database is the agency service's own (``DATABASE_*`` settings), at head (``satupintu-agency migrate``); the
command works as the service's role.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from satupintu.agency.config import AgencySettings
from satupintu.agency.factory import SERVICE_NAME
from satupintu.agency.migrations import SCHEMA
from satupintu.agency.services import OfficerError, OfficerService
from satupintu.common.catalogue import load_catalogue
from satupintu.common.database import create_engine, session_factory
from satupintu.common.migrations import SchemaNotAtHead, check_at_head


def _password(given: str | None) -> str:
    if given is not None:
        return given
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise OfficerError("the passwords differ")
    return first


async def _run(arguments: argparse.Namespace, settings: AgencySettings) -> str:
    engine = create_engine(settings.database, SERVICE_NAME)
    try:
        await check_at_head(engine, SCHEMA)
        officers = OfficerService(session_factory(engine), load_catalogue())
        if arguments.command == "add":
            officer = await officers.add(
                arguments.username, arguments.agency, _password(arguments.password), arguments.name
            )
            return f"added {officer.username} ({officer.display_name}) to {officer.agency}\n"
        if arguments.command == "passwd":
            await officers.set_password(arguments.username, _password(arguments.password))
            return f"password of {arguments.username} changed; their desk sessions have ended\n"
        rows = await officers.officers(arguments.agency)
        return "".join(f"{o.username}\t{o.agency}\t{o.display_name}\n" for o in rows)
    finally:
        await engine.dispose()


def main() -> None:
    """Console script ``satupintu-agency-officer``."""
    parser = argparse.ArgumentParser(prog="satupintu-agency-officer", description="Officers of the agency desk.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add an officer (asks for the password unless --password)")
    add.add_argument("--agency", required=True, help="lower-case agency code from the catalogue, e.g. polres")
    add.add_argument("--username", required=True, help="login name, e.g. budi")
    add.add_argument("--name", help="name shown on the desk, e.g. 'Budi Santoso'")
    add.add_argument("--password", help="the password (for scripts; otherwise asked twice, not echoed)")
    passwd = commands.add_parser("passwd", help="change an officer's password")
    passwd.add_argument("--username", required=True)
    passwd.add_argument("--password")
    listing = commands.add_parser("list", help="list officers")
    listing.add_argument("--agency", help="only this agency's officers")
    arguments = parser.parse_args()
    try:
        sys.stdout.write(asyncio.run(_run(arguments, AgencySettings())))
    except (OfficerError, SchemaNotAtHead) as error:
        parser.exit(2, f"satupintu-agency-officer: {error}\n")
