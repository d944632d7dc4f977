"""``wwc report preview FILE --lang LANG --out PATH``: a Certification Report from a
JSON file, offline (no services, no database).

FILE holds the catalog version, cycle, city, final audited responses, and optionally
the audited changes and the other applicants (the cohort the benchmarks are computed
over); see examples/report-preview.json. PATH ending in .pdf gives a tagged PDF, .html
a self-contained page. Bad input: one line on stderr naming the field, exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from services.reporting.report import ReportInputError, render_html, render_pdf
from services.reporting.report.preview import preview_document, read_preview_file
from shared.i18n import DEFAULT_LANGUAGE, languages

EXIT_BAD_INPUT = 2
FORMATS = {".pdf": render_pdf, ".html": render_html}


def register(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="Certification Reports").add_subparsers(
        dest="report_command", required=True)
    preview = report.add_parser(
        "preview", help="render a report from a JSON file, offline",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    preview.add_argument("file", type=Path, help="the report's data (JSON)")
    preview.add_argument("--lang", choices=languages(), default=DEFAULT_LANGUAGE, help="report language")
    preview.add_argument("--out", type=Path, required=True, help="output file: .pdf or .html")
    preview.set_defaults(func=run_preview)


def run_preview(args: argparse.Namespace, stdout: TextIO | None = None,
                stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    render = FORMATS.get(args.out.suffix.lower())
    try:
        if render is None:
            raise ReportInputError("--out", f"{args.out.name}: the name must end in .pdf or .html")
        doc = preview_document(read_preview_file(args.file), language=args.lang,
                               rendered_at=datetime.now(UTC))
        output = render(doc, args.lang)
    except ReportInputError as exc:
        print(f"wwc report preview: error: {args.file}: {exc}", file=stderr)
        return EXIT_BAD_INPUT
    data = output.encode("utf-8") if isinstance(output, str) else output
    try:
        _write_atomically(args.out, data)
    except OSError as exc:
        print(f"wwc report preview: error: --out: {args.out}: {exc.strerror or exc}",
              file=stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {args.out} ({len(data):,} bytes, {args.lang})", file=stdout)
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    """Never leave half a report behind: write beside the target, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
