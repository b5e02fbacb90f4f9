"""Sum py-spy's collapsed stacks (``--format raw``, one file per service from ``bench/run.py --profile DIR``) into
the functions that cost most: own samples (where the time is spent) and inclusive samples of the project's own
functions (which of our calls leads there).

``python -m bench.stacks DIR [--top N]``
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

OURS = ("common/", "contract/", "intake/", "routing/", "agency/", "notification/", "audit/", "mall/", "payment/")
"""Where py-spy's short file names put the project's own code."""


def _ours(frame: str) -> bool:
    where = frame.rpartition("(")[2]
    return where.startswith(OURS)


def summarise(path: Path, top: int) -> str:
    """The ``top`` functions by own and by inclusive share of the samples in one collapsed-stacks file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for function in {frame.rsplit(":", 1)[0] for frame in frames if _ours(frame)}:
            inclusive[function] += samples
    if not total:
        return f"{path.stem}: no samples"
    lines = [f"{path.stem}: {total} samples", "  own:"]
    lines += [f"    {count * 100 / total:5.1f}%  {frame}" for frame, count in own.most_common(top)]
    lines.append("  inclusive (satupintu):")
    lines += [f"    {count * 100 / total:5.1f}%  {frame}" for frame, count in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=15)
    options = parser.parse_args()
    for file in sorted(options.directory.glob("*.txt")):
        print(summarise(file, options.top))
