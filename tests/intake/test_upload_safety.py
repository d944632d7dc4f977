"""Uploads checked by content, deeply, through the real API (real S3, SQLite and
PostgreSQL): zip bombs, programs and macros inside Office documents, polyglots and
hostile file names. A refused file gets its code and `check`, and leaves neither an
object nor a row; real documents still go through; names are stored cleaned."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.intake.helpers import bucket_keys, draft, evidence_rows, problem, upload
from tests.unit import test_file_checks as files

HOSTILE = [
    # (name, file, code, check)
    ("bomb", "policy.docx", lambda: files.bomb_docx(256), "file_unsafe", "size"),
    ("ratio", "policy.docx", lambda: files.bomb_docx(8), "file_unsafe", "ratio"),
    ("exe", "policy.docx", files.zip_with_exe, "file_unsafe", "executable"),
    ("macros", "policy.docx", files.macro_docx, "file_unsafe", "macros"),
    ("xlsm", "metrics.xlsx", lambda: files.with_zipfile({
        **files.xlsx_parts(), "[Content_Types].xml": files.content_types(
            ("/xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")).encode()}),
     "file_unsafe", "macros"),
    ("encrypted", "policy.docx", files.encrypted_docx, "file_unsafe", "encrypted"),
    ("traversal", "policy.docx", files.traversal_docx, "file_unsafe", "traversal"),
    ("members", "policy.docx", lambda: files.many_members_docx(10_001), "file_unsafe", "members"),
    ("pdf+zip", "report.pdf", files.pdf_zip, "file_polyglot", "zip"),
    ("png+zip", "chart.png", files.png_zip, "file_polyglot", "zip"),
    ("docx+data", "policy.docx", lambda: files.docx() + b"MZ\x90\x00" + bytes(200), "file_polyglot", "hidden_data"),
]


@pytest.mark.parametrize("raw", [False, True], ids=["multipart", "raw"])
async def test_hostile_files_are_refused_and_leave_nothing(intake, raw):
    client, _ = await draft(intake)
    for case, filename, build, code, check in HOSTILE:
        body = problem(await upload(client, "DG1", filename, build(), raw=raw), 422)
        assert (body["code"], body.get("check")) == (code, check), (case, body)
        assert body["errors"][0]["field"] == "file" and body["errors"][0]["reason"], (case, body)
        assert await bucket_keys(intake) == [] and await evidence_rows(intake) == [], case


async def test_real_documents_still_go_through(intake):
    client, _ = await draft(intake)
    good = {
        "policy.docx": files.docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": files.xlsx(),
                                   "word/media/image1.png": files.png()}),
        "streamed.docx": files.streamed(files.docx_parts()),
        "metrics.xlsx": files.xlsx(),
        "inventory.pdf": files.pdf_with_image(),
        "chart.png": files.png(),
        "photo.jpg": files.jpeg(),
    }
    for name, content in good.items():
        r = await upload(client, "DG1", name, content)
        assert r.status_code == 201, (name, r.text)
    assert len(await bucket_keys(intake)) == len(await evidence_rows(intake)) == len(good)


async def test_file_names_are_stored_cleaned(intake):
    client, _ = await draft(intake)
    pdf = files.pdf_with_image()

    # A raw upload: X-Filename percent-encoded, with NUL, a control and bidi characters.
    r = await upload(client, "DG1", quote("in\u202eventory\x00 \x07 2026\u2069.pdf"), pdf, raw=True)
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "inventory 2026.pdf"
    # A form upload whose name carries bidi controls and decomposed accents.
    r = await upload(client, "DG1", "\u2066Sa\u0303o Paulo\u200f report.pdf", pdf)
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "S\u00e3o Paulo report.pdf"
    # 300 two-byte characters: shortened to fit the column, the extension kept.
    r = await upload(client, "DG1", quote("\u00e9" * 300 + ".pdf"), pdf, raw=True)
    assert r.status_code == 201, r.text
    long_name = r.json()["filename"]
    assert long_name.endswith(".pdf") and len(long_name.encode()) <= 255 and long_name.startswith("\u00e9" * 100)

    stored = sorted(row.filename for row in await evidence_rows(intake))
    assert stored == sorted(["inventory 2026.pdf", "S\u00e3o Paulo report.pdf", long_name])

    # What the city sees is what is checked: "report<RLO>fdp.exe" shows as "reportexe.pdf".
    for raw in (False, True):
        name = "report\u202efdp.exe"
        body = problem(await upload(client, "DG2", quote(name) if raw else name, pdf, raw=raw), 415)
        assert body["code"] == "file_type_not_accepted" and ".exe" in body["errors"][0]["reason"]
    assert len(await bucket_keys(intake)) == len(await evidence_rows(intake)) == 3
