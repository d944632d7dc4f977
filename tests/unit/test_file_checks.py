"""Deep content checks of uploads (`services.intake.file_checks`), as plain functions on
files built in memory: zip bombs, programs, macros, traversal, encryption, hidden data
and polyglots are refused with their `check`; documents as Word, LibreOffice or a
streaming writer make them still pass. The hostile builders are reused by the API
tests (tests/intake/test_upload_safety.py)."""

from __future__ import annotations

import functools
import io
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass

import pytest

from services.intake import file_checks, uploads
from services.intake.errors import FileRejected
from services.intake.file_checks import ArchiveLimits, check_ooxml, check_single_format

MiB = 1024 * 1024

# --- realistic Office documents (the parts Word and Excel write) -----------------------------------

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml"
SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def content_types(main: str, *overrides: tuple[str, str], defaults: tuple[tuple[str, str], ...] = ()) -> str:
    items = [f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in (
        ("rels", "application/vnd.openxmlformats-package.relationships+xml"), ("xml", "application/xml"),
        ("png", "image/png"), *defaults)]
    items += [f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in (
        main, ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"), *overrides)]
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{CT_NS}">{"".join(items)}</Types>'


def rels(*targets: tuple[str, str]) -> str:
    body = "".join(f'<Relationship Id="rId{i}" Type="{OFFICE_REL}/{kind}" Target="{target}"/>'
                   for i, (kind, target) in enumerate(targets, 1))
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{REL_NS}">{body}</Relationships>'


CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:title>Open data policy</dc:title><dc:creator>Springfield Data Office</dc:creator></cp:coreProperties>')
DOCUMENT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + "".join(f"<w:p><w:r><w:t>Section {i}: the city publishes its datasets every quarter.</w:t></w:r></w:p>"
                      for i in range(40))
            + "</w:body></w:document>")
SHEET = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats'
         '.org/spreadsheetml/2006/main"><sheetData>'
         + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r * 7}</v></c></row>' for r in range(1, 200))
         + "</sheetData></worksheet>")


def docx_parts(*overrides: tuple[str, str], defaults: tuple[tuple[str, str], ...] = ()) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": content_types(("/word/document.xml", f"{WML}.document.main+xml"),
                                             ("/word/styles.xml", f"{WML}.styles+xml"), *overrides,
                                             defaults=defaults).encode(),
        "_rels/.rels": rels(("officeDocument", "word/document.xml")).encode(),
        "docProps/core.xml": CORE.encode(),
        "word/document.xml": DOCUMENT.encode(),
        "word/_rels/document.xml.rels": rels(("styles", "styles.xml")).encode(),
        "word/styles.xml": b'<?xml version="1.0"?><w:styles xmlns:w="urn:w"/>',
    }


def xlsx_parts() -> dict[str, bytes]:
    return {
        "[Content_Types].xml": content_types(("/xl/workbook.xml", f"{SML}.sheet.main+xml"),
                                             ("/xl/worksheets/sheet1.xml", f"{SML}.worksheet+xml")).encode(),
        "_rels/.rels": rels(("officeDocument", "xl/workbook.xml")).encode(),
        "docProps/core.xml": CORE.encode(),
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="urn:x"><sheets><sheet name="Data" sheetId="1" '
                           b'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": rels(("worksheet", "worksheets/sheet1.xml")).encode(),
        "xl/worksheets/sheet1.xml": SHEET.encode(),
    }


def with_zipfile(parts: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Written the way zipfile (and most libraries) write: deflated, sizes in the headers."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it writes data descriptors (flag bit 3),
    as streaming writers (LibreOffice's, Java's ZipOutputStream) do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)

    def tell(self) -> int:
        return len(self.data)

    def seek(self, *args) -> int:
        raise OSError("not seekable")


def streamed(parts: dict[str, bytes]) -> bytes:
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return bytes(out.data)


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    return with_zipfile({**docx_parts(), **(extra or {})})


def xlsx() -> bytes:
    return with_zipfile(xlsx_parts())


# --- a ZIP writer for what zipfile will not write ------------------------------------------------


@dataclass
class Member:
    name: str | bytes
    data: bytes = b""
    method: int = zipfile.ZIP_DEFLATED
    raw: bytes | None = None          # the member's bytes as stored (already compressed)
    size: int | None = None           # declared uncompressed size (default: len(data))
    crc: int | None = None
    flags: int = 0
    local_name: bytes | None = None   # another name in the local header than in the directory
    same_as: int | None = None        # no local header: the directory entry points at member n's
    after: bytes = b""                # bytes hidden after the member's data
    hidden: bool = False              # a local header and data only: not in the directory


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def build_zip(members: list[Member], *, prefix: bytes = b"", suffix: bytes = b"", comment: bytes = b"",
              zip64_end: bool = False, declared_entries: int | None = None) -> bytes:
    out = bytearray(prefix)
    central = bytearray()
    offsets: list[int] = []
    for m in members:
        name = m.name.encode() if isinstance(m.name, str) else m.name
        stored = m.raw if m.raw is not None else (_deflate(m.data) if m.method == zipfile.ZIP_DEFLATED else m.data)
        size = len(m.data) if m.size is None else m.size
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        if m.same_as is None:
            offsets.append(len(out))
            local = m.local_name if m.local_name is not None else name
            out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, m.flags, m.method, 0, 0x21, crc,
                               len(stored), size, len(local), 0) + local + stored + m.after
        else:
            offsets.append(offsets[m.same_as])
        if m.hidden:
            continue
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, m.flags, m.method, 0, 0x21, crc,
                               len(stored), size, len(name), 0, 0, 0, 0, 0o100644 << 16,
                               offsets[-1] - len(prefix)) + name
    count = sum(not m.hidden for m in members) if declared_entries is None else declared_entries
    cd_offset = len(out) - len(prefix)
    out += central
    if zip64_end:
        zip64_at = len(out) - len(prefix)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), cd_offset)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_at, 1)
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, len(comment))
    return bytes(out + comment + suffix)


def members(parts: dict[str, bytes]) -> list[Member]:
    return [Member(name, data) for name, data in parts.items()]


@functools.cache
def zeros_deflated(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `mib` MiB of zeros and its CRC, without compressing them
    all: after a full flush the compressor starts afresh, so every MiB compresses to the
    same bytes (about 1 KiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MiB)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return block * mib + end, crc


@functools.cache
def bomb_docx(mib: int = 256, name: str = "word/media/image1.png") -> bytes:
    """A real zip bomb: a genuine DOCX whose one more member inflates to `mib` MiB of
    zeros from about `mib` KiB (ratio about 1000:1). Sizes in the headers are honest."""
    raw, crc = zeros_deflated(mib)
    return build_zip([*members(docx_parts()), Member(name, raw=raw, size=mib * MiB, crc=crc)])


def zip_with_exe() -> bytes:
    """The finding's "ZIP named .docx carrying an .exe": a real document and a program."""
    return docx({"word/embeddings/setup.exe": b"MZ\x90\x00\x03" + bytes(500)})


def macro_docx() -> bytes:
    """A .docm saved as .docx: vbaProject.bin and its content type."""
    return docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)})


def encrypted_docx() -> bytes:
    return build_zip([*members(docx_parts()), Member("word/media/secret.xml", b"<x/>" * 50, flags=0x01)])


def traversal_docx() -> bytes:
    return build_zip([*members(docx_parts()), Member("../../../../tmp/evil.xml", b"<x/>")])


def many_members_docx(count: int) -> bytes:
    parts = docx_parts()
    return build_zip([*members(parts), *(Member(f"customXml/item{i}.xml", b"", method=zipfile.ZIP_STORED)
                                        for i in range(count - len(parts)))])


def pdf_with_image() -> bytes:
    """A small real PDF with a deflated image stream (binary data that must not be
    mistaken for anything else)."""
    image = _deflate(bytes((x * y) % 251 for y in range(64) for x in range(64)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /Im1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Filter /FlateDecode /Length " + str(len(image)).encode() + b" >>\nstream\n" + image + b"\nendstream",
        b"<< /Length 30 >>\nstream\nq 64 0 0 64 10 10 cm /Im1 Do Q\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    xref = []
    for i, body in enumerate(objects, 1):
        xref.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    start = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in xref)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes((x + y) % 256 for x in range(16)) for y in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">2I5B", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"


def small_zip() -> bytes:
    return with_zipfile({"payload/readme.txt": b"run me", "payload/tool.exe": b"MZ" + bytes(64)})


def pdf_zip() -> bytes:
    """PDF + ZIP polyglot: a whole PDF, then a ZIP archive (both readers open it)."""
    return pdf_with_image() + small_zip()


def png_zip() -> bytes:
    return png() + small_zip()


# --- helpers -------------------------------------------------------------------------------------


def refused(data: bytes, *, limits: ArchiveLimits = file_checks.LIMITS) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        check_ooxml(io.BytesIO(data), limits)
    return caught.value


def assert_refused(data: bytes, kind: str, check: str, **kwargs) -> FileRejected:
    exc = refused(data, **kwargs)
    assert (exc.kind, exc.params.get("check")) == (kind, check), (exc.kind, exc.params, exc.errors)
    assert exc.code == {"unsafe": "file_unsafe", "polyglot": "file_polyglot"}[kind]
    return exc


def validate(filename: str, data: bytes):
    upload = uploads.SpooledUpload(50 * MiB, filename)
    upload.write(data)
    upload.finish()
    with upload:
        return uploads.validate(upload)


# --- legitimate files pass -----------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda: docx(), lambda: xlsx(),
    lambda: with_zipfile(docx_parts(), compression=zipfile.ZIP_STORED),
    lambda: streamed(docx_parts()),  # data descriptors, as streaming writers make them
    lambda: streamed(xlsx_parts()),
    # A chart: Word embeds its workbook, an XLSX (a ZIP) inside the DOCX.
    lambda: docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(), "word/media/image1.png": png()}),
    lambda: build_zip(members(docx_parts())),
    lambda: build_zip(members(docx_parts()), zip64_end=True),
    lambda: build_zip(members(docx_parts()), comment=b"made by a tool"),
    # A big, ordinary part: compressible XML, but far below the ratio limit.
    lambda: docx({"word/document.xml": (DOCUMENT * 60).encode()}),
], ids=["docx", "xlsx", "stored", "descriptors", "xlsx-descriptors", "embedded-xlsx", "handmade", "zip64-end",
        "comment", "big-part"])
def test_real_documents_pass(build):
    data = build()
    check_ooxml(io.BytesIO(data))


@pytest.mark.parametrize(("name", "build", "stored_as"), [
    ("policy.docx", docx, "docx"),
    ("metrics.xlsx", xlsx, "xlsx"),
    ("inventory.pdf", pdf_with_image, "pdf"),
    ("chart.png", png, "png"),
    ("photo.jpg", jpeg, "jpeg"),
    ("metrics.csv", lambda: b"a,b\n1,2\n", "csv"),
], ids=["docx", "xlsx", "pdf", "png", "jpeg", "csv"])
def test_good_files_validate(name, build, stored_as):
    assert validate(name, build()).id == stored_as


def test_a_pdf_whose_tail_happens_to_hold_the_zip_end_signature_is_not_a_zip():
    data = pdf_with_image()[:-6] + b"PK\x05\x06" + bytes(range(40)) + b"\n%%EOF\n"
    check_single_format(io.BytesIO(data), "a PDF")


def test_the_bomb_fixture_is_real_and_small():
    raw, crc = zeros_deflated(64)
    assert len(raw) < 100 * 1024
    d, out, check = zlib.decompressobj(-15), 0, 0
    for i in range(0, len(raw), 4096):  # never more than 1 MiB inflated at once
        chunk = raw[i:i + 4096]
        while chunk:
            piece = d.decompress(chunk, MiB)
            out, check = out + len(piece), zlib.crc32(piece, check)
            chunk = d.unconsumed_tail
    assert (out, check) == (64 * MiB, crc) and d.eof


# --- zip bombs -----------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_declared_total_without_inflating_it():
    data = bomb_docx(256)
    assert len(data) < 400 * 1024
    started = time.perf_counter()
    exc = assert_refused(data, "unsafe", "size")
    assert time.perf_counter() - started < 0.5
    assert "256 MiB" in exc.errors[0]["reason"] and "200 MiB" in exc.errors[0]["reason"]


def test_a_member_with_an_absurd_ratio_is_refused():
    assert_refused(bomb_docx(8), "unsafe", "ratio")  # 8 MiB from 8 KiB: under the total, over 100:1
    # The same ratio in a member of 1 MiB or less is fine (XML compresses well).
    raw, crc = zeros_deflated(1)
    check_ooxml(io.BytesIO(build_zip([*members(docx_parts()), Member("word/pad.xml", raw=raw, size=MiB, crc=crc)])))
    fine = ArchiveLimits(max_ratio=2000)
    check_ooxml(io.BytesIO(bomb_docx(8)), fine)


def test_the_total_and_member_limits_are_settings():
    assert_refused(docx(), "unsafe", "size", limits=ArchiveLimits(max_total_size=2000))
    assert_refused(docx(), "unsafe", "members", limits=ArchiveLimits(max_members=3))


def test_too_many_members_are_refused_before_zipfile_reads_them():
    assert_refused(many_members_docx(10_001), "unsafe", "members")
    check_ooxml(io.BytesIO(many_members_docx(300)))
    # The declared count may lie: the directory itself is walked.
    lying = build_zip([*members(docx_parts()), *(Member(f"x/{i}.xml", b"") for i in range(40))], declared_entries=5)
    assert_refused(lying, "unsafe", "members", limits=ArchiveLimits(max_members=20))
    # A declared count over the limit is refused before the directory is walked.
    assert_refused(build_zip(members(docx_parts()), declared_entries=50_000), "unsafe", "members")
    # sniffing counts too, before zipfile builds an object per entry
    upload = uploads.SpooledUpload(50 * MiB, "policy.docx")
    upload.write(many_members_docx(10_001))
    upload.finish()
    with upload, pytest.raises(FileRejected) as caught:
        uploads.sniff(upload)
    assert caught.value.params == {"check": "members"}


def test_overlapping_members_are_refused():
    """The overlapping-file bomb: directory entries sharing one local header's data."""
    parts = members(docx_parts())
    overlapping = [*parts, Member("word/media/a.xml", b"<a/>"), Member("word/media/b.xml", b"<a/>",
                                                                       same_as=len(parts))]
    assert_refused(build_zip(overlapping), "unsafe", "overlap")


def test_headers_that_disagree_are_refused():
    parts = members(docx_parts())
    renamed = build_zip([*parts, Member("word/media/a.xml", b"<a/>", local_name=b"word/media/a.exe")])
    assert_refused(renamed, "unsafe", "inconsistent")
    lying = bytearray(build_zip([*parts, Member("word/media/a.xml", b"<a/>" * 100)]))
    at = lying.index(b"word/media/a.xml") - 30  # its local header (they come before the directory)
    assert lying[at:at + 4] == b"PK\x03\x04"
    struct.pack_into("<L", lying, at + 22, 99)  # the local header's uncompressed size
    assert_refused(bytes(lying), "unsafe", "inconsistent")


# --- programs, archives, macros ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["word/embeddings/setup.exe", "word/media/RUN.BAT", "word/x.js",
                                  "word/tool.jar", "word/install.msi", "word/evil.exe.", "word/a.ps1",
                                  "word/lib.dll", "word/s.vbs", "word/c.scr", "word/d.cmd", "word/e.com"])
def test_programs_by_name_are_refused(name):
    assert_refused(docx({name: b"hello"}), "unsafe", "executable")


def test_the_findings_zip_named_docx_carrying_an_exe_is_refused():
    assert_refused(zip_with_exe(), "unsafe", "executable")


@pytest.mark.parametrize("magic", [b"MZ\x90\x00", b"\x7fELF\x02\x01", b"\xcf\xfa\xed\xfe", b"#!/bin/sh\n"],
                         ids=["pe", "elf", "macho", "script"])
def test_programs_by_content_are_refused(magic):
    assert_refused(docx({"word/media/image1.png": magic + bytes(300)}), "unsafe", "executable")
    assert_refused(docx({"word/media/": magic + bytes(300)}), "unsafe", "executable")  # a "directory"


@pytest.mark.parametrize(("name", "data"), [
    ("word/embeddings/data.zip", b"anything"),
    ("word/embeddings/backup.7z", b"anything"),
    ("word/media/image2.png", small_zip()),               # a ZIP by content
    ("word/media/image3.png", b"Rar!\x1a\x07\x00" + bytes(50)),
    ("word/media/image4.png", b"7z\xbc\xaf\x27\x1c" + bytes(50)),
])
def test_nested_archives_are_refused(name, data):
    assert_refused(docx({name: data}), "unsafe", "archive")


@pytest.mark.parametrize(("extra", "ct"), [
    ({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(100)}, None),
    ({"word/vbaData.xml": b"<wne:vbaSuppData/>"}, None),
    ({"word/activeX/activeX1.xml": b"<ax:ocx/>"}, None),
    ({"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"}, None),
    ({"word/embeddings/Book1.xlsm": b"\x00"}, None),
    ({}, ("/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml")),
    ({}, ("/word/x.bin", "application/vnd.ms-office.vbaProject")),
    # A character reference does not hide it: the XML is parsed.
    ({}, ("/word/document.xml", "application/vnd.ms-word.document.macro&#x45;nabled.main+xml")),
], ids=["vbaProject", "vbaData", "activeX", "macrosheet", "embedded-xlsm", "docm-type", "vba-type", "escaped-type"])
def test_macros_are_refused(extra, ct):
    parts = docx_parts(*([ct] if ct else []))
    assert_refused(with_zipfile({**parts, **extra}), "unsafe", "macros")


def test_the_findings_macro_docx_is_refused():
    assert_refused(macro_docx(), "unsafe", "macros")


# --- names, encryption, compression --------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../../tmp/evil.xml", "/etc/cron.d/x.xml", "C:/Windows/x.xml",
                                  "word\\..\\..\\x.xml", "word/../../x.xml"])
def test_path_traversal_is_refused(name):
    assert_refused(build_zip([*members(docx_parts()), Member(name, b"<x/>")]), "unsafe", "traversal")


def test_the_traversal_fixture_is_refused():
    assert_refused(traversal_docx(), "unsafe", "traversal")


@pytest.mark.parametrize("name", [b"word/evil.exe\x00.xml", b"word/a\x1b[2Jb.xml",
                                  "word/\u202elmx.exe".encode()], ids=["nul", "escape", "bidi"])
def test_control_characters_in_member_names_are_refused(name):
    utf8 = Member(name, b"<x/>", flags=0x800)  # the name is UTF-8 (general purpose flag bit 11)
    assert_refused(build_zip([*members(docx_parts()), utf8]), "unsafe", "names")


def test_duplicate_members_are_refused():
    assert_refused(build_zip([*members(docx_parts()), Member("WORD/document.xml", b"<x/>")]), "unsafe", "duplicate")


def test_encrypted_members_are_refused():
    assert_refused(encrypted_docx(), "unsafe", "encrypted")


def test_unusual_compression_is_refused():
    assert_refused(docx_with_compression(zipfile.ZIP_BZIP2), "unsafe", "compression")


def docx_with_compression(method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in docx_parts().items():
            z.writestr(name, data)
        z.writestr("word/media/a.xml", b"<a/>" * 100, compress_type=method)
    return buf.getvalue()


# --- [Content_Types].xml -------------------------------------------------------------------------


def test_a_zip_without_content_types_is_not_a_document():
    parts = docx_parts()
    del parts["[Content_Types].xml"]
    with pytest.raises(FileRejected) as caught:
        validate("policy.docx", with_zipfile(parts))
    assert caught.value.kind == "type" and "no [Content_Types].xml" in caught.value.errors[0]["reason"]


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Types>&b;</Types>',
    b'<?xml version="1.0"?><!DOCTYPE Types SYSTEM "http://attacker.example/types.dtd"><Types/>',
    b"not xml at all <",
    b"<Types>" + b"".join(b"<Default Extension='e%d' ContentType='application/x-%07d'/>" % (i, i * 7919)
                          for i in range(20_000)) + b"</Types>",  # over 1 MiB
], ids=["entities", "external-dtd", "not-xml", "too-big"])
def test_a_bad_content_types_part_is_refused(xml):
    assert_refused(with_zipfile({**docx_parts(), "[Content_Types].xml": xml}), "unsafe", "content_types")


def test_content_types_is_read_with_a_hard_cap_even_when_its_size_lies():
    """It declares 100 bytes but inflates to 8 MiB: reading stops near the cap (the CRC
    then fails) instead of inflating it all."""
    raw, crc = zeros_deflated(8)
    parts = members(docx_parts())
    parts[0] = Member("[Content_Types].xml", raw=raw, size=100, crc=crc)
    assert_refused(build_zip(parts), "unsafe", "inconsistent")


# --- hidden data and polyglots -------------------------------------------------------------------


def test_data_hidden_in_or_around_the_archive_is_refused():
    parts = members(docx_parts())
    assert_refused(build_zip(parts, suffix=b"MZ" + bytes(100)), "polyglot", "hidden_data")
    assert_refused(build_zip(parts, prefix=b"JUNK" * 300), "polyglot", "hidden_data")
    assert_refused(build_zip(parts, prefix=pdf_with_image()), "polyglot", "hidden_data")
    gap = [*parts[:-1], Member(parts[-1].name, parts[-1].data, after=b"hidden bytes")]
    assert_refused(build_zip([*gap, Member("word/x.xml", b"<x/>")]), "polyglot", "hidden_data")
    assert_refused(build_zip(parts, comment=b"<script>" + b"x" * 4000), "polyglot", "hidden_data")
    # A part only streaming readers see (a local header missing from the directory).
    assert_refused(build_zip([Member("setup.exe", b"MZ" + bytes(99), hidden=True), *parts]),
                   "polyglot", "hidden_data")
    assert_refused(build_zip([*parts[:2], Member("run.js", b"alert(1)", hidden=True), *parts[2:]]),
                   "polyglot", "hidden_data")
    # A PDF in the first KiB (PDF readers look there): the first part is a stored PDF.
    first = Member("a.xml", pdf_with_image(), method=zipfile.ZIP_STORED)
    assert_refused(build_zip([first, *parts]), "polyglot", "hidden_data")


@pytest.mark.parametrize(("build", "description"), [
    (pdf_zip, "a PDF"), (png_zip, "a PNG image"), (lambda: jpeg() + small_zip(), "a JPEG image"),
    # The ZIP in the middle, the PDF's end after it (zip readers treat it as the comment).
    (lambda: pdf_with_image()[:-30] + small_zip() + pdf_with_image()[-30:], "a PDF"),
    (lambda: b"notes\n" + small_zip(), "plain text"),
], ids=["pdf+zip", "png+zip", "jpeg+zip", "zip-inside-pdf", "text+zip"])
def test_a_file_that_is_also_a_zip_is_refused(build, description):
    with pytest.raises(FileRejected) as caught:
        check_single_format(io.BytesIO(build()), description)
    assert (caught.value.kind, caught.value.code, caught.value.params) == ("polyglot", "file_polyglot",
                                                                          {"check": "zip"})


def test_polyglots_are_refused_through_validate():
    for name, data in (("report.pdf", pdf_zip()), ("chart.png", png_zip())):
        with pytest.raises(FileRejected) as caught:
            validate(name, data)
        assert caught.value.code == "file_polyglot", name


def test_validate_runs_the_office_checks():
    with pytest.raises(FileRejected) as caught:
        validate("policy.docx", macro_docx())
    assert caught.value.params == {"check": "macros"}
    with pytest.raises(FileRejected) as caught:
        validate("policy.docx", many_members_docx(10_001))
    assert caught.value.params == {"check": "members"}


def test_the_checks_stay_fast_on_a_large_ordinary_document():
    """10,000 parts (the limit) are judged by their headers in well under a second."""
    data = many_members_docx(10_000)
    started = time.perf_counter()
    check_ooxml(io.BytesIO(data))
    assert time.perf_counter() - started < 1.5
