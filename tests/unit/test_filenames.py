"""File names as cities send them, cleaned by a pure function before anything checks,
stores or shows them (`services.intake.uploads.clean_filename`)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.errors import FileRejected
from services.intake.uploads import BIDI_CONTROLS, SpooledUpload, check_filename, clean_filename

BIDI = [chr(c) for c in sorted(BIDI_CONTROLS)]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


@pytest.mark.parametrize(("raw", "clean"), [
    ("inventory 2026.pdf", "inventory 2026.pdf"),
    ("re\x00port.pdf", "report.pdf"),
    ("re\x07po\x1brt\x7f.pdf", "report.pdf"),
    ("re\x85po\x9brt.pdf", "report.pdf"),                      # C1 controls
    ("annual\treport\r\n2026.pdf", "annual report 2026.pdf"),  # tabs and line breaks are spaces
    ("  open   data   policy.docx  ", "open data policy.docx"),
    ("report\u202efdp.exe", "reportfdp.exe"),                  # shown as "reportexe.pdf" before
    ("\u2067invoice\u2069\u200e.pdf\u200f\u061c", "invoice.pdf"),
    ("Sa\u0303o Paulo.pdf", "S\u00e3o Paulo.pdf"),              # NFC
    ("C:\\Users\\ana\\Desktop\\report.pdf", "report.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("\u05d3\u05d5\u05d7.pdf", "\u05d3\u05d5\u05d7.pdf"),      # right-to-left letters are kept
    ("\u0641\u064a\u200c\u0644.pdf", "\u0641\u064a\u200c\u0644.pdf"),  # so is the ZWNJ of Persian
])
def test_cleaning(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize("bidi", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_every_bidi_control_is_removed(bidi):
    assert clean_filename(f"a{bidi}b.pdf") == "ab.pdf"


@pytest.mark.parametrize(("raw", "clean"), [
    ("", ""),                          # no name given: check_filename says so
    ("   ", ""),
    ("\u202e\x00", "evidence"),        # a name that had only invisible characters
    (".pdf", "evidence.pdf"),
    ("\u202e.pdf", "evidence.pdf"),
    ("\x00\x01 .docx", "evidence.docx"),
    ("dir/", "evidence"),
])
def test_a_name_left_empty_gets_a_safe_default(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(("stem", "ext"), [
    ("a" * 300, ".pdf"),
    ("\u00e9" * 300, ".pdf"),          # two bytes each
    ("\u6570\u636e" * 150, ".xlsx"),   # three bytes each
    ("\U0001f4ca" * 100, ".docx"),     # four bytes each
    ("e\u0301" * 200, ".csv"),         # NFC first: 200 characters of two bytes
    ("report " * 60, ".txt"),          # the cut lands on a space: no trailing space before the extension
], ids=["ascii", "2-byte", "3-byte", "4-byte", "combining", "spaces"])
def test_a_long_name_is_shortened_in_its_stem_and_keeps_its_extension(stem, ext):
    clean = clean_filename(stem + ext)
    assert utf8_len(clean) <= 255 and utf8_len(clean) > 240
    assert clean.endswith(ext) and not clean[: -len(ext)].endswith((" ", "."))
    assert unicodedata.is_normalized("NFC", clean)
    assert clean_filename(clean) == clean
    assert check_filename(stem + ext).extensions[0] == ext


def test_a_very_long_extension_is_not_kept_whole():
    clean = clean_filename("a." + "b" * 400)
    assert utf8_len(clean) <= 255 and clean.startswith("a.bbb")


def test_the_limit_is_a_parameter():
    assert clean_filename("abcdefghij.pdf", max_bytes=9) == "abcde.pdf"


def test_the_extension_is_checked_on_the_cleaned_name():
    with pytest.raises(FileRejected) as caught:
        check_filename("report\u202efdp.exe")  # looks like "reportexe.pdf"
    assert caught.value.kind == "type" and ".exe" in caught.value.errors[0]["reason"]
    with pytest.raises(FileRejected):
        check_filename("policy.docx\x00.exe")
    assert check_filename("re\x00port\u202e.pdf").id == "pdf"
    assert check_filename(".pdf").id == "pdf"
    with pytest.raises(FileRejected) as caught:
        check_filename("\u202e\u202c")
    assert caught.value.kind == "type"
    with pytest.raises(FileRejected) as caught:
        check_filename("  ")
    assert caught.value.kind == "missing"


def test_the_upload_keeps_the_cleaned_name():
    with SpooledUpload(1024, "C:\\scans\\in\u202eventory\x00 2026\t.pdf") as upload:
        assert upload.filename == "inventory 2026 .pdf"
    with SpooledUpload(1024, "\u00e9" * 300 + ".pdf") as upload:
        assert utf8_len(upload.filename) <= 255 and upload.filename.endswith(".pdf")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
       | st.lists(st.sampled_from(["a", "\u00e9", "\U0001f4ca", ".", " ", "/", "\\", "\x00", "\t", "\u202e",
                                   "e\u0301", "pdf", "\u2066"]), max_size=300).map("".join))
def test_cleaned_names_are_safe_and_stable(raw):
    clean = clean_filename(raw)
    assert utf8_len(clean) <= 255
    assert not any(unicodedata.category(c) in ("Cc", "Cs") or ord(c) in BIDI_CONTROLS for c in clean)
    assert "/" not in clean and "\\" not in clean
    assert clean == " ".join(clean.split())
    assert unicodedata.is_normalized("NFC", clean)
    assert clean_filename(clean) == clean
    assert (clean == "") == (raw.strip() == "")
