"""`make bench`: run every benchmark and rewrite the measured section of docs/PERFORMANCE.md."""

from __future__ import annotations

import asyncio
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import pipeline_bench, scoring_bench, upload_bench

DOC = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def main() -> None:
    sections = [asyncio.run(m.run()) for m in (scoring_bench, pipeline_bench, upload_bench)]
    stamp = (f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
             f"Python {sys.version.split()[0]}, {platform.system()} ({_cores()} cores).")
    body = "\n\n".join([stamp, *sections])
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
    print(body)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
