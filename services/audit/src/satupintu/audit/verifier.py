"""``satupintu-audit-verify EXPORT.jsonl --public-key KEY.pem``: checks an export of the audit log offline, against
the audit service's public keys: every entry's hash, the links between consecutive entries, every inclusion proof,
and the checkpoint's signature by the key it names (``--public-key`` may be repeated, and a file may hold several
keys, so retired keys verify the checkpoints they signed). Exit status 0 when everything checks out, 1 when
something does not (the message names the entry or the checkpoint), 2 for unusable arguments. It never talks to the
network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from satupintu.audit.export import verify_export
from satupintu.audit.signing import KeyRing, load_public_keys


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns its exit status."""
    parser = argparse.ArgumentParser(
        prog="satupintu-audit-verify",
        description="Verify an export of the Satu Pintu audit log (GET /audit/export) without the service.",
    )
    parser.add_argument("export", type=Path, help="the JSON Lines export")
    parser.add_argument(
        "--public-key",
        type=Path,
        action="append",
        required=True,
        help="the audit service's public key, PEM (GET /audit/public-key); repeat it, or give a file of several "
        "keys, to trust retired keys too",
    )
    arguments = parser.parse_args(argv)
    try:
        public_keys = []
        for path in arguments.public_key:
            found = load_public_keys(path.read_bytes())
            if not found:
                raise ValueError(f"{path} holds no PEM public key")
            public_keys += found
        ring = KeyRing(public_keys, described_as="the given public key" + ("s" if len(public_keys) > 1 else ""))
        with arguments.export.open(encoding="utf-8") as lines:
            verdict = verify_export(lines, ring)
    except (OSError, ValueError) as unusable:
        parser.exit(2, f"satupintu-audit-verify: {unusable}\n")
    stream = sys.stdout if verdict.ok else sys.stderr
    prefix = "" if verdict.ok else f"FAILED (keys {', '.join(ring.key_ids)}): "
    stream.write(f"{prefix}{verdict.message}\n")
    return 0 if verdict.ok else 1
