"""`make bench`: run every benchmark and rewrite the measured section of docs/PERFORMANCE.md.

`python -m bench report` (names: scoring, pipeline, upload, report, telemetry) runs only those and
replaces only their sections, each then stamped with its own date.
"""

from __future__ import annotations

import asyncio
import importlib
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# Section order in the document; modules are imported only when run (the pipeline's
# import the services, the report's matplotlib and WeasyPrint).
BENCHES = {"scoring": "scoring_bench", "pipeline": "pipeline_bench", "upload": "upload_bench",
           "report": "report_bench", "telemetry": "telemetry_bench"}


def main(argv: list[str] | None = None) -> None:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHES)})")
    partial = set(names) != set(BENCHES)
    stamp = (f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
             f"Python {sys.version.split()[0]}, {platform.system()} ({_cores()} cores).")
    new = {name: asyncio.run(importlib.import_module(f"bench.{BENCHES[name]}").run())
           for name in names}
    if partial:
        new = {name: f"{text}\n\n_{stamp} Run alone: `python -m bench {name}`._"
               for name, text in new.items()}
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    old_body, tail = rest.split(END, 1)
    old_stamp, old = _sections(old_body)
    sections = [new.get(name) or old.get(name) for name in BENCHES]
    body = "\n\n".join([old_stamp if partial and old_stamp else stamp,
                        *[s for s in sections if s]])
    DOC.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
    print("\n\n".join(new.values()))


def _sections(body: str) -> tuple[str, dict[str, str]]:
    """The shared stamp line and each benchmark's section, by its module's name."""
    chunks = re.split(r"\n(?=### )", body.strip())
    stamp = chunks[0].strip() if chunks and not chunks[0].startswith("### ") else ""
    found = {}
    for chunk in chunks:
        for name, module in BENCHES.items():
            if f"(`bench/{module}.py`)" in chunk.split("\n", 1)[0]:
                found[name] = chunk.strip()
    return stamp, found


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
