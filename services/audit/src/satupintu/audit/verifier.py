"""``satupintu-audit-verify EXPORT.jsonl --public-key KEY.pem``: checks an export of the audit log offline, against
the audit service's public key: every entry's hash, the links between consecutive entries, every inclusion proof,
and the checkpoint's signature. Exit status 0 when everything checks out, 1 when something does not (the message
names the entry), 2 for unusable arguments. It never talks to the network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from satupintu.audit.export import verify_export
from satupintu.audit.signing import key_id, load_public_key


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns its exit status."""
    parser = argparse.ArgumentParser(
        prog="satupintu-audit-verify",
        description="Verify an export of the Satu Pintu audit log (GET /audit/export) without the service.",
    )
    parser.add_argument("export", type=Path, help="the JSON Lines export")
    parser.add_argument(
        "--public-key", type=Path, required=True, help="the audit service's public key, PEM (GET /audit/public-key)"
    )
    arguments = parser.parse_args(argv)
    try:
        public_key_pem = arguments.public_key.read_bytes()
        public_key = load_public_key(public_key_pem)
        with arguments.export.open(encoding="utf-8") as lines:
            verdict = verify_export(lines, public_key)
    except (OSError, ValueError) as unusable:
        parser.exit(2, f"satupintu-audit-verify: {unusable}\n")
    stream = sys.stdout if verdict.ok else sys.stderr
    prefix = "" if verdict.ok else f"FAILED (key {key_id(public_key)}): "
    stream.write(f"{prefix}{verdict.message}\n")
    return 0 if verdict.ok else 1
