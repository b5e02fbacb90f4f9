"""Alembic's environment of payment's database: ``satupintu-payment migrate`` and ``alembic -n payment`` run it."""

from satupintu.common.migrations import run_environment
from satupintu.payment.migrations import SCHEMA

run_environment(SCHEMA)
