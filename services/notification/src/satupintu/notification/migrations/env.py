"""Alembic's environment of notification's database: ``satupintu-notification migrate`` and ``alembic -n notification``
run it."""

from satupintu.common.migrations import run_environment
from satupintu.notification.migrations import SCHEMA

run_environment(SCHEMA)
