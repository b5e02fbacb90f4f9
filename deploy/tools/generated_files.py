"""The command every generator in deploy/tools shares: write the generated files, or with ``--check`` only report
the committed ones that differ from what the generator makes (the drift tests call the same)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def write_or_check(description: str | None, rendered: Callable[[], dict[Path, str]], argv: list[str] | None) -> int:
    """Write ``rendered()``'s files, or with ``--check`` report the ones that differ and answer 1."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether the committed files are current")
    arguments = parser.parse_args(argv)
    stale = []
    for path, content in rendered().items():
        if path.exists() and path.read_text() == content:
            continue
        stale.append(path)
        if not arguments.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    for path in stale:
        print(f"{'out of date' if arguments.check else 'wrote'}: {path.relative_to(REPOSITORY)}")
    return 1 if arguments.check and stale else 0
