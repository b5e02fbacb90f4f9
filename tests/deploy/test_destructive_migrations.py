"""A revision may only expand the schema while the previous release still runs on it: one that drops, renames or
narrows (or deletes rows) is refused, with its file and line, unless it says it is a contract step
(``satupintu.devtools.migration_check``; docs/operations.md, "Expand, then contract")."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from satupintu.devtools.migration_check import refusals_in, refusals_in_services, service_revisions

pytestmark = pytest.mark.unit

SERVICES_WITH_DATABASES = {"intake", "routing", "agency", "notification", "audit", "mall", "payment"}


def write_revision(directory: Path, upgrade_body: str, module_extra: str = "") -> Path:
    """A revision file as autogenerate writes them, with ``upgrade_body`` as ``upgrade()``'s body."""
    path = directory / "0099_fixture.py"
    body = "\n".join("    " + line if line else line for line in dedent(upgrade_body).strip().splitlines())
    path.write_text(
        '"""A fixture revision."""\n\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        'revision = "0099"\n'
        'down_revision = "0098"\n'
        f"{module_extra}\n\n"
        "def upgrade() -> None:\n"
        f"{body}\n\n\n"
        "def downgrade() -> None:\n"
        '    op.drop_table("applications")\n'
    )
    return path


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` that holds ``text``."""
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_every_service_revision_only_expands_or_is_marked_as_a_contract_step() -> None:
    revisions = service_revisions()

    assert set(revisions) == SERVICES_WITH_DATABASES
    assert all(revisions.values()), "a service's revisions were not found: the check would pass vacuously"
    refusals = refusals_in_services()
    assert not refusals, "\n".join(map(str, refusals))


def test_dropped_column_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        """
        op.add_column("documents", sa.Column("sealed_with", sa.String(), nullable=True))
        op.drop_column("documents", "key_id")
        """,
    )

    [refusal] = refusals_in(path)

    line = line_of(path, "op.drop_column")
    assert (refusal.path, refusal.line) == (path, line)
    assert str(refusal).startswith(f'{path}:{line}: op.drop_column("documents", "key_id"): drops a column')


def test_dropped_column_in_a_marked_contract_step_passes(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        'op.drop_column("documents", "key_id")',
        module_extra='contract_step = "release 14 stopped reading documents.key_id (it reads sealed_with)"',
    )

    assert refusals_in(path) == []


def test_blank_contract_step_does_not_excuse_a_drop(tmp_path: Path) -> None:
    path = write_revision(tmp_path, 'op.drop_table("officers")', module_extra='contract_step = " "')

    [refusal] = refusals_in(path)

    assert "contract_step is blank" in refusal.reason


@pytest.mark.parametrize(
    "alteration",
    [
        'op.alter_column("documents", "used_at", existing_type=sa.DateTime(timezone=True), nullable=False)',
        'op.alter_column("documents", "name", existing_type=sa.String(200), type_=sa.String(50))',
        'op.alter_column("documents", "size", existing_type=sa.BigInteger(), type_=sa.Integer())',
        'op.alter_column("documents", "name", new_column_name="file_name")',
    ],
    ids=["not-null-added", "shorter-length", "type-changed", "renamed"],
)
def test_narrowing_alter_column_is_refused(tmp_path: Path, alteration: str) -> None:
    path = write_revision(tmp_path, alteration)

    [refusal] = refusals_in(path)

    assert refusal.line == line_of(path, "op.alter_column")
    assert refusal.operation.startswith("op.alter_column(")


def test_narrowing_inside_a_batch_alter_table_is_refused(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        """
        with op.batch_alter_table("documents") as batch_op:
            batch_op.drop_column("key_id")
        """,
    )

    assert [refusal.line for refusal in refusals_in(path)] == [line_of(path, "batch_op.drop_column")]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ('op.execute("ALTER TABLE documents DROP COLUMN key_id")', "drops"),
        ('op.execute(sa.text("DROP TABLE officers"))', "drops"),
        ('op.execute("TRUNCATE parked_events")', "empties"),
        ("op.execute(\"DELETE FROM documents WHERE used_at < now() - interval '1 year'\")", "deletes rows"),
        ("op.execute(statement)", "cannot read"),
    ],
)
def test_destructive_sql_is_refused(tmp_path: Path, statement: str, reason: str) -> None:
    path = write_revision(tmp_path, statement)

    [refusal] = refusals_in(path)

    assert reason in refusal.reason


def test_expanding_operations_are_allowed(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        """
        op.add_column("documents", sa.Column("key_id", sa.String(), nullable=True))
        op.add_column("documents", sa.Column("used_at", sa.DateTime(), server_default=sa.text("now()"), nullable=False))
        op.alter_column("documents", "name", existing_type=sa.String(50), type_=sa.String(200))
        op.alter_column("documents", "note", existing_type=sa.String(), nullable=True)
        op.drop_index("ix_documents_due", table_name="documents")
        op.execute("UPDATE documents SET used_at = uploaded_at")
        op.execute("CREATE OR REPLACE TRIGGER log_no_truncate BEFORE TRUNCATE ON log FOR EACH STATEMENT EXECUTE "
                   "FUNCTION append_only()")
        """,
    )

    assert refusals_in(path) == []


def test_adding_a_not_null_column_without_a_default_is_refused(tmp_path: Path) -> None:
    path = write_revision(tmp_path, 'op.add_column("documents", sa.Column("owner", sa.String(), nullable=False))')

    [refusal] = refusals_in(path)

    assert "without a server default" in refusal.reason
