"""The check that a service's Alembic revisions only expand the schema (docs/operations.md, "Expand, then contract"):
a revision that drops, renames or narrows what the previous release may still use (a table, a column, a type, a
NULL it writes), or that deletes rows, is refused unless its module says it is a contract step.

The marker is a module-level ``contract_step = "why it is safe now: which release stopped using what it removes"``.
The revisions are read with :mod:`ast`, never imported or run; every function but ``downgrade()`` is read, so a
helper that ``upgrade()`` calls is read too. Run it with ``uv run python -m satupintu.devtools.migration_check``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

MARKER = "contract_step"
"""The module-level name whose non-blank string says why a revision's destructive operations are safe."""
SHARED_STEPS = "satupintu.common.migration_steps"
SCHEMA_ENTRY_POINTS = "satupintu.schemas"  # satupintu.common.migrations.SCHEMA_ENTRY_POINTS, without its imports

_DESTRUCTIVE_SQL = (
    (re.compile(r"\bDROP\s+(TABLE|COLUMN|SCHEMA)\b"), "drops a table or column and its data"),
    (
        re.compile(r"\bALTER\s+TABLE\s+(IF\s+EXISTS\s+)?(ONLY\s+)?\S+\s+DROP\s+(?!CONSTRAINT\b)"),
        "drops a column and its values",
    ),
    (re.compile(r"\bTRUNCATE\b(?!\s+ON\b)"), "empties a table"),
    (re.compile(r"\bDELETE\s+FROM\b"), "deletes rows"),
    (re.compile(r"\bSET\s+NOT\s+NULL\b"), "adds NOT NULL to an existing column"),
    (re.compile(r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b"), "changes a column's type"),
    (re.compile(r"\bRENAME\b"), "renames what the previous release uses"),
)


@dataclass(frozen=True)
class Refusal:
    """A destructive operation in a revision that is not marked as a contract step."""

    path: Path
    line: int
    operation: str
    """The call as written (whitespace collapsed, shortened)."""
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.operation}: {self.reason}"


def refusals_in(path: Path) -> list[Refusal]:
    """The destructive operations of the revision at ``path``; none when its module sets :data:`MARKER`."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source, filename=str(path))
    marker = _marker(module)
    if marker is not None and marker.strip():
        return []
    refusals = [Refusal(path, call.lineno, _shown(source, call), reason) for call, reason in _destructive_calls(module)]
    if marker is not None:  # present but blank: say so rather than pass silently
        refusals = [
            Refusal(path, refusal.line, refusal.operation, f"{refusal.reason} ({MARKER} is blank: say why it is safe)")
            for refusal in refusals
        ]
    return refusals


def service_revisions() -> dict[str, list[Path]]:
    """Every installed service's revision files (``satupintu/<service>/migrations/versions/*.py``), by service: the
    services that register a schema under the ``satupintu.schemas`` entry points."""
    revisions: dict[str, list[Path]] = {}
    for entry_point in entry_points(group=SCHEMA_ENTRY_POINTS):
        spec = find_spec(f"satupintu.{entry_point.name}")
        if spec is None or not spec.submodule_search_locations:
            raise LookupError(f"service {entry_point.name} registers a schema but its package is not found")
        versions = Path(next(iter(spec.submodule_search_locations))) / "migrations" / "versions"
        revisions[entry_point.name] = sorted(versions.glob("*.py"))
    return revisions


def shared_steps() -> Path:
    """``satupintu.common.migration_steps``: the frozen steps every service's revisions call, read like a revision."""
    spec = find_spec(SHARED_STEPS)
    if spec is None or spec.origin is None:
        raise LookupError(f"{SHARED_STEPS} is not found")
    return Path(spec.origin)


def refusals_in_services() -> list[Refusal]:
    """The refusals of every service's revisions and of the shared steps they call."""
    paths = [*(path for paths in service_revisions().values() for path in paths), shared_steps()]
    return [refusal for path in paths for refusal in refusals_in(path)]


def main() -> int:
    """Print every refusal, a line each; exit 1 when there is one."""
    refusals = refusals_in_services()
    for refusal in refusals:
        print(refusal)
    if refusals:
        print(
            f"{len(refusals)} destructive operation(s) in revisions not marked as contract steps: expand first, and "
            f"set {MARKER} = '...' only in a later revision, once no running release uses what it removes "
            "(docs/operations.md, 'Expand, then contract')",
            file=sys.stderr,
        )
    return 1 if refusals else 0


def _marker(module: ast.Module) -> str | None:
    for statement in module.body:
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == MARKER for target in targets):
            value = statement.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""
    return None


def _destructive_calls(module: ast.Module) -> Iterator[tuple[ast.Call, str]]:
    read = [
        node
        for statement in module.body
        if not (isinstance(statement, ast.FunctionDef) and statement.name == "downgrade")
        for node in ast.walk(statement)
    ]
    receivers = {"op"} | {
        item.optional_vars.id
        for node in read
        if isinstance(node, ast.With)
        for item in node.items
        if isinstance(item.optional_vars, ast.Name) and _is_operation(item.context_expr, {"op"}, "batch_alter_table")
    }
    for node in read:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _receiver(node) in receivers:
            reason = _why_destructive(node.func.attr, node)
            if reason:
                yield node, reason


def _receiver(call: ast.Call) -> str | None:
    assert isinstance(call.func, ast.Attribute)
    return call.func.value.id if isinstance(call.func.value, ast.Name) else None


def _is_operation(node: ast.expr, receivers: set[str], name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in receivers
    )


_ALWAYS_DESTRUCTIVE = {
    "drop_table": "drops a table and its rows",
    "drop_column": "drops a column and its values",
    "rename_table": "renames a table the previous release uses",
}


def _why_destructive(operation: str, call: ast.Call) -> str | None:
    if operation in _ALWAYS_DESTRUCTIVE:
        return _ALWAYS_DESTRUCTIVE[operation]
    if operation == "alter_column":
        return _why_narrowing(call)
    if operation == "add_column":
        return _why_not_null_added(call)
    if operation == "execute":
        return _why_destructive_sql(call)
    return None


def _why_narrowing(call: ast.Call) -> str | None:
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if "new_column_name" in keywords:
        return "renames a column the previous release uses"
    nullable = keywords.get("nullable")
    if isinstance(nullable, ast.Constant) and nullable.value is False:
        return "adds NOT NULL to an existing column: the previous release's NULLs are refused"
    if "type_" in keywords and not _widens(keywords.get("existing_type"), keywords["type_"]):
        return "changes or shortens the column's type (only a longer length of the same type is an expansion)"
    return None


def _widens(existing: ast.expr | None, new: ast.expr) -> bool:
    """Whether ``new`` is ``existing`` with no or a longer length (``sa.String(50)`` to ``sa.String(200)``)."""
    if not (isinstance(existing, ast.Call) and isinstance(new, ast.Call)):
        return False
    if ast.dump(existing.func) != ast.dump(new.func):
        return False
    old_length, new_length = _length(existing), _length(new)
    if new_length is None:
        return True
    return isinstance(old_length, int) and isinstance(new_length, int) and new_length >= old_length


def _length(type_call: ast.Call) -> object:
    for keyword in type_call.keywords:
        if keyword.arg == "length":
            return keyword.value.value if isinstance(keyword.value, ast.Constant) else "unknown"
    if type_call.args:
        first = type_call.args[0]
        return first.value if isinstance(first, ast.Constant) else "unknown"
    return None


def _why_not_null_added(call: ast.Call) -> str | None:
    """A NOT NULL column without a server default: the previous release's inserts fail, as does the migration on a
    table with rows."""
    column = next((arg for arg in call.args if isinstance(arg, ast.Call) and _called(arg) == "Column"), None)
    if column is None:
        return None
    keywords = {keyword.arg: keyword.value for keyword in column.keywords if keyword.arg}
    nullable = keywords.get("nullable")
    primary_key = keywords.get("primary_key")
    not_null = (isinstance(nullable, ast.Constant) and nullable.value is False) or (
        nullable is None and isinstance(primary_key, ast.Constant) and primary_key.value is True
    )
    generated = any(isinstance(arg, ast.Call) and _called(arg) in {"Identity", "Computed"} for arg in column.args)
    if not_null and "server_default" not in keywords and not generated:
        return "adds a NOT NULL column without a server default: the previous release's inserts fail"
    return None


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else None


def _why_destructive_sql(call: ast.Call) -> str | None:
    statement = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "sqltext"), None)
    sql = _sql_text(statement) if statement is not None else ""
    if not sql.strip():
        return "runs SQL that is not written in the revision, which the check cannot read"
    sql = re.sub(r"--[^\n]*", " ", sql).upper()
    return next((reason for pattern, reason in _DESTRUCTIVE_SQL if pattern.search(sql)), None)


def _sql_text(node: ast.expr) -> str:
    """The SQL an expression spells: its string literals in order, an f-string's placeholders as ``_``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_sql_text(value) if isinstance(value, ast.Constant) else "_" for value in node.values)
    if isinstance(node, ast.BinOp):
        return _sql_text(node.left) + _sql_text(node.right)
    if isinstance(node, ast.Call):  # sa.text("..."), sa.text("...").bindparams(...)
        inner = node.func.value if isinstance(node.func, ast.Attribute) else None
        parts = [_sql_text(arg) for arg in node.args]
        return " ".join([_sql_text(inner) if isinstance(inner, ast.Call) else "", *parts])
    return ""


def _shown(source: str, call: ast.Call, width: int = 120) -> str:
    text = " ".join((ast.get_source_segment(source, call) or ast.unparse(call)).split())
    return text if len(text) <= width else text[: width - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
