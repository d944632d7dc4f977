"""`wwc report preview FILE --lang L --out PATH`, end to end."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from services import cli as wwc_cli
from services.reporting import cli
from tests.reporting.helpers import EXAMPLE, flatten


def _run(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="wwc")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    return cli.run_preview(args, stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_html_preview_in_portuguese(tmp_path):
    out = tmp_path / "relatorio.html"
    code, stdout, stderr = _run(["report", "preview", str(EXAMPLE), "--lang", "pt",
                                 "--out", str(out)])
    assert (code, stderr) == (0, "")
    assert str(out) in stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and '<html lang="pt">' in html
    assert "Port Alder" in html and "Prévia" in html
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left over


def test_pdf_preview_through_the_wwc_command(tmp_path):
    """Registered with the other subcommands: `wwc report preview`."""
    out = tmp_path / "report.PDF"
    assert "services.reporting.cli" in wwc_cli.COMMAND_MODULES
    assert wwc_cli.main(["report", "preview", str(EXAMPLE), "--out", str(out)]) == 0
    reader = PdfReader(out)
    assert reader.trailer["/Root"]["/Lang"] == "en"
    text = flatten(" ".join(page.extract_text() for page in reader.pages))
    assert "Your city has achieved 27 of 45 criteria" in text


def test_subprocess_bad_file_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["changes"][1]["reason_code"] = "lost_in_the_mail"
    bad.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "r.pdf"
    proc = subprocess.run([sys.executable, "-m", "services.cli", "report", "preview", str(bad),
                           "--out", str(out)], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"wwc report preview: error: {bad}: changes[1].reason_code: ")
    assert "'lost_in_the_mail'" in lines[0]
    assert not out.exists()


def _mutate(change):
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    change(data)
    return data


@pytest.mark.parametrize("content,field", [
    ("{not json", "file: not valid JSON"),
    ("[1, 2]", "file: expected a JSON object"),
    (_mutate(lambda d: d.pop("responses")), "responses: Field required"),
    (_mutate(lambda d: d.update(extra=1)), "extra: Extra inputs are not permitted"),
    (_mutate(lambda d: d.update(catalog="wwc-1999")), "catalog: unknown catalog version"),
    (_mutate(lambda d: d["responses"].update(DG1="SURE")), "responses.DG1: criterion DG1: "
                                                           "invalid response 'SURE'"),
    (_mutate(lambda d: d["city"].update(population=12_000)), "city.population: 12,000 is below"),
    (_mutate(lambda d: d["city"].update(state="ZZ")), "city.state: 'ZZ' is not a state or province of US"),
    (_mutate(lambda d: d["cohort"][3].update(population="big")), "cohort[3].population: "),
    (_mutate(lambda d: d["cohort"][4]["responses"].update(XX9="YES")),
     "cohort[4].responses.XX9: unknown criterion"),
    (_mutate(lambda d: d["cohort"][5].update(country="FR")), "cohort[5].country: FR is not"),
    (_mutate(lambda d: d["changes"][0].update(to="NO")), "changes: the last change to EVAL1"),
    (_mutate(lambda d: d["changes"][2].pop("reason")), "changes[2].reason: Field required"),
])
def test_bad_input_names_the_field(tmp_path, content, field):
    path = tmp_path / "in.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    out = tmp_path / "out.html"
    code, stdout, stderr = _run(["report", "preview", str(path), "--out", str(out)])
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith(f"wwc report preview: error: {path}: {field}"), stderr
    assert not out.exists()


def test_bad_output_paths(tmp_path):
    code, _, stderr = _run(["report", "preview", str(EXAMPLE), "--out", str(tmp_path / "r.docx")])
    assert code == 2 and "--out: r.docx: the name must end in .pdf or .html" in stderr
    missing = tmp_path / "no" / "such" / "dir" / "r.html"
    code, _, stderr = _run(["report", "preview", str(EXAMPLE), "--out", str(missing)])
    assert code == 2 and stderr.startswith("wwc report preview: error: --out: ")
    code, _, stderr = _run(["report", "preview", str(tmp_path / "nope.json"), "--out",
                            str(tmp_path / "r.html")])
    assert code == 2 and "file: cannot read" in stderr


def test_the_example_is_realistic():
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert data["city"]["country"] == "US" and 100_000 <= data["city"]["population"] < 250_000
    assert 20 <= len(data["cohort"]) <= 30 and len(data["changes"]) == 3
