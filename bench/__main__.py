"""`make bench`: run every benchmark and rewrite the measured section of docs/PERFORMANCE.md.

    python -m bench                       # all of them (the cycle at 200 cities)
    python -m bench report pipeline       # only those; their sections get their own date
    python -m bench cycle --cities 1000   # a cycle of another size, kept in its own section

Each prints one progress line while it runs (on stderr) and its table when done; the
services' own logs go to files, never to the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import platform
import re
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

# Services refuse the development secret published in the repository: the benchmarks'
# in-process services (and the tokens they mint) share one made for this run.
os.environ.setdefault("WWC_AUTH_SECRET", secrets.token_hex(32))
# Cohorts of hundreds of cities register from this one process.
os.environ.setdefault("WWC_INTAKE_REGISTRATION_LIMITS_PER_CLIENT", "100000/minute")

DOC = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# Section order in the document; modules are imported only when run.
BENCHES = {"scoring": "scoring_bench", "pipeline": "pipeline_bench", "cycle": "cycle_bench",
           "upload": "upload_bench", "report": "report_bench", "telemetry": "telemetry_bench"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(BENCHES)}")
    parser.add_argument("--cities", type=int, default=None, help="cities in the cycle benchmark (default 200)")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHES)})")
    _quiet()
    partial = set(names) != set(BENCHES)
    stamp = (f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
             f"Python {sys.version.split()[0]}, {platform.system()} ({_cores()} cores).")
    new: dict[str, str] = {}
    for name in names:
        module = importlib.import_module(f"bench.{BENCHES[name]}")
        kwargs = {"cities": args.cities} if name == "cycle" and args.cities else {}
        text = asyncio.run(module.run(**kwargs))
        new[_key(text)] = text
        print(text + "\n", flush=True)
    if partial:
        new = {key: f"{text}\n\n_{stamp} Run alone: `python -m bench {' '.join(sys.argv[1:]) or 'NAME'}`._"
               for key, text in new.items()}
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    old_body, tail = rest.split(END, 1)
    old_stamp, old = _sections(old_body)
    merged = {**old, **new}
    order = {BENCHES[name]: i for i, name in enumerate(BENCHES)}
    sections = sorted(merged.items(), key=lambda kv: (order.get(_module_of(kv[0]), len(order)), kv[0]))
    body = "\n\n".join([old_stamp if partial and old_stamp else stamp, *[s for _, s in sections]])
    DOC.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")


def _key(section: str) -> str:
    """A section is known by its module and what its heading adds after the module's
    name (`### A cycle's worth (`bench/cycle_bench.py`, 1,000 cities)`): a renamed
    heading replaces the old section, another size of the same benchmark keeps its own."""
    heading = section.strip().split("\n", 1)[0]
    found = re.search(r"`bench/(\w+)\.py`([^)]*)\)", heading)
    return f"{found.group(1)}{found.group(2)}" if found else ""


def _module_of(key: str) -> str:
    return key.split(",", 1)[0]


def _sections(body: str) -> tuple[str, dict[str, str]]:
    """The shared stamp line and each benchmark's section, by its heading."""
    chunks = re.split(r"\n(?=### )", body.strip())
    stamp = chunks[0].strip() if chunks and not chunks[0].startswith("### ") else ""
    return stamp, {_key(c): c.strip() for c in chunks if c.startswith("### ") and _key(c)}


def _quiet() -> None:
    """Nothing but the tables and the progress lines: library loggers and our own
    structured log of code running in this process stay silent."""
    logging.disable(logging.WARNING)
    from shared.infra.logging import configure_logging

    configure_logging("bench", level="ERROR")


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
