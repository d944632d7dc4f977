"""Deep content checks of an upload, on the spooled file, before anything is stored.

Auditors open what cities upload, so a file must be what it says and only that.

Office documents (DOCX/XLSX are ZIP archives, "OOXML") are judged by their structure
alone: the end-of-central-directory record, the central directory, each member's 30-byte
local header, the first bytes of each member and `[Content_Types].xml` (read with a hard
cap). Nothing else is decompressed, so a check costs about the same for a 3 MB file and
for a zip bomb. A document is refused (`FileRejected`, kind `unsafe`, `check=` says which
rule) when:

- it has more than `max_members` entries (counted by walking the central directory
  before `zipfile` builds anything) ............................ check="members"
- its members declare more than `max_total_size` bytes uncompressed ....... "size"
- a member over `ratio_floor` bytes declares more than `max_ratio`:1 ........ "ratio"
- a member name has control or bidi characters ............................ "names"
- a member name is absolute, has a drive letter or a `..` segment ...... "traversal"
- a member name appears twice (case-insensitively, as OPC reads names) .. "duplicate"
- a member is encrypted ................................................ "encrypted"
- a member uses a compression other than stored/deflate ............. "compression"
- a member is a program by name (`.exe`, `.dll`, `.js`, ...) or by its first bytes
  (MZ, ELF, Mach-O, Java class, `#!`) ................................. "executable"
- a member is another archive by name (`.zip`, `.7z`, ...) or by its first bytes;
  embedded OOXML packages (`.xlsx` charts in a DOCX) are allowed ........ "archive"
- it carries macros or ActiveX: `vbaProject.bin`, `vbaData.xml`, `activeX/` or
  `macrosheets/` parts, embedded `.docm`/`.xlsm`/..., or a macro content type in
  `[Content_Types].xml` (`application/vnd.ms-office.vbaProject`, `...macroEnabled...`,
  Excel 4 macro sheets, ActiveX) ........................................... "macros"
- `[Content_Types].xml` is over `max_content_types` bytes, has a DTD or is not XML
  ................................................................ "content_types"
- entries overlap (the overlapping-file zip bomb) .......................... "overlap"
- local headers and the central directory disagree, or a member cannot be read
  ................................................................. "inconsistent"

A file that is two formats at once is refused as kind `polyglot`:

- OOXML: every byte must belong to the archive. Members are contiguous from offset 0
  (a data descriptor may follow a member whose flag says so), the central directory
  follows the last member, the end record follows it and ends the file; a comment over
  `max_comment` bytes, or `%PDF-` in the first 1024 bytes (where PDF readers look), is
  refused too ..................................................... check="hidden_data"
- PDF, PNG, JPEG and text: a ZIP end-of-central-directory record in the last
  64 KiB + 22 bytes that points at a central directory (as `zipfile` and unzip find an
  archive) ................................................................. "zip"

The declared sizes of a zip bomb may lie; these checks never rely on them to bound work:
the only reads of member data are at most `MEMBER_PEEK` bytes of each member and
`max_content_types` bytes of `[Content_Types].xml` (`ZipExtFile.read(n)` inflates at
most about n bytes). What is not verified without inflating everything is that a member
really expands to its declared size; readers that respect the sizes and the CRC stop there.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

from services.intake.errors import FileRejected

MiB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_size: int = 200 * MiB  # declared uncompressed bytes of all members
    max_members: int = 10_000
    max_ratio: int = 100             # uncompressed : compressed, for members ...
    ratio_floor: int = 1 * MiB       # ... that declare more than this uncompressed
    max_content_types: int = 1 * MiB  # [Content_Types].xml, read with this hard cap
    max_comment: int = 1024           # the archive comment


LIMITS = ArchiveLimits()
MEMBER_PEEK = 8  # bytes read from the start of each member to recognise programs and archives
PDF_WINDOW = 1024  # PDF readers accept %PDF- anywhere in the first KiB

EXECUTABLE_EXTENSIONS = frozenset({
    ".exe", ".dll", ".bat", ".cmd", ".com", ".scr", ".js", ".jse", ".vbs", ".vbe", ".wsf", ".wsh",
    ".ps1", ".psm1", ".jar", ".msi", ".msp", ".hta", ".cpl", ".lnk", ".pif", ".reg", ".ocx",
    ".sys", ".scf", ".sh", ".so", ".dylib", ".apk", ".app", ".class",
})
ARCHIVE_EXTENSIONS = frozenset({
    ".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".iso", ".img", ".vhd",
    ".vhdx", ".arj", ".lzh", ".z",
})
# Office embeds these as members (a chart's workbook in a DOCX): ZIPs, but documents.
OOXML_EMBEDDINGS = frozenset({".docx", ".dotx", ".xlsx", ".xltx", ".pptx", ".potx", ".ppsx", ".sldx", ".vsdx"})
MACRO_EXTENSIONS = frozenset({
    ".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".xlsb", ".pptm", ".potm", ".ppsm", ".ppam", ".sldm",
    ".vsdm",
})
MACRO_PART_NAMES = frozenset({
    "vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin", "vbaprojectsignatureagile.bin",
    "vbaprojectsignaturev3.bin",
})
MACRO_FOLDERS = frozenset({"activex", "macrosheets"})
MACRO_CONTENT_TYPES = ("vnd.ms-office.vbaproject", "macroenabled", "vnd.ms-excel.macrosheet",
                       "vnd.ms-excel.intlmacrosheet", "vnd.ms-office.activex", "vnd.ms-word.vbadata")
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"MSCF",
                 b"BZh", b"\xfd7zXZ\x00")
CONTENT_TYPES = "[content_types].xml"
# Unicode bidi controls: embeddings/overrides, isolates, marks (they reorder what is shown).
BIDI_CONTROLS = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C})

_EOCD = struct.Struct("<4s4H2LH")            # end of central directory, 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")     # 20 bytes, right before the end record
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")    # 56 bytes
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")   # a central directory entry's fixed 46 bytes
_LOCAL = struct.Struct("<4s2B4HL2L2H")       # a local file header's fixed 30 bytes
_DRIVE = re.compile(r"^[A-Za-z]:")
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED = 0x01 | 0x40  # traditional and strong encryption
_DESCRIPTOR = 0x08        # sizes and CRC follow the data (data descriptor)
_UTF8 = 0x800


def unsafe(check: str, reason: str) -> FileRejected:
    return FileRejected("unsafe", reason, check=check)


def polyglot(check: str, reason: str) -> FileRejected:
    return FileRejected("polyglot", reason, check=check)


def _shown(name: str) -> str:
    """A member name fit for a message: no control or format characters, at most 80."""
    kept = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    return repr(kept[:80] + ("…" if len(kept) > 80 else ""))


def _size(f: IO[bytes]) -> int:
    f.seek(0, 2)
    return f.tell()


def _read_at(f: IO[bytes], offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


# --- the end of central directory -------------------------------------------------------------


@dataclass(frozen=True)
class EndRecord:
    offset: int        # where the end record starts
    entries: int       # as declared
    cd_size: int
    cd_offset: int     # as declared
    cd_start: int      # where zip readers find it: right before the end (zip64) record(s)
    comment_length: int
    zip64_offset: int | None = None  # the zip64 end record, if any

    @property
    def end(self) -> int:
        return self.offset + _EOCD.size + self.comment_length


def end_record(f: IO[bytes], size: int | None = None) -> EndRecord | None:
    """The ZIP end record as zip readers find it (the last `PK\\x05\\x06` in the last
    64 KiB + 22 bytes), or None. Reads at most that tail and the zip64 records."""
    size = _size(f) if size is None else size
    start = max(size - (1 << 16) - _EOCD.size, 0)
    tail = _read_at(f, start, size - start)
    at = len(tail) - _EOCD.size  # as zipfile: a record without comment ending the file first
    if at < 0 or tail[at:at + 4] != b"PK\x05\x06" or tail[-2:] != b"\x00\x00":
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            return None
    _, _, _, _, entries, cd_size, cd_offset, comment_length = _EOCD.unpack_from(tail, at)
    offset = start + at
    locator_at = offset - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        locator = _read_at(f, locator_at, _ZIP64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            zip64_at = locator_at - _ZIP64_EOCD.size
            record = _read_at(f, zip64_at, _ZIP64_EOCD.size) if zip64_at >= 0 else b""
            if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                *_, entries, cd_size, cd_offset = _ZIP64_EOCD.unpack(record)
                return EndRecord(offset, entries, cd_size, cd_offset, zip64_at - cd_size, comment_length,
                                 zip64_offset=_ZIP64_LOCATOR.unpack(locator)[2])
    return EndRecord(offset, entries, cd_size, cd_offset, offset - cd_size, comment_length)


def count_entries(f: IO[bytes], record: EndRecord, limit: int) -> int:
    """Walk the central directory's fixed headers (not trusting the declared count) and
    refuse past `limit` entries, before `zipfile` builds an object per entry."""
    pos, end, count = record.cd_start, record.cd_start + record.cd_size, 0
    while pos + _CENTRAL.size <= end:
        fixed = _read_at(f, pos, _CENTRAL.size)
        if len(fixed) < _CENTRAL.size or fixed[:4] != b"PK\x01\x02":
            break
        count += 1
        if count > limit:
            raise unsafe("members", f"the document has more than {limit:,} parts")
        name_len, extra_len, comment_len = struct.unpack_from("<3H", fixed, 28)
        pos += _CENTRAL.size + name_len + extra_len + comment_len
    return count


def check_member_count(f: IO[bytes], limits: ArchiveLimits = LIMITS) -> None:
    """Refuse a ZIP with too many entries, by the declared count or by its directory."""
    record = end_record(f)
    if record is None:
        return
    if record.entries > limits.max_members:
        raise unsafe("members", f"the document has {record.entries:,} parts; the limit is {limits.max_members:,}")
    count_entries(f, record, limits.max_members)


# --- polyglots: a non-ZIP type that is also a ZIP ----------------------------------------------


def check_single_format(f: IO[bytes], description: str) -> None:
    """PDF, PNG, JPEG or text that zip readers would also open as an archive is refused:
    an end record in the tail whose central directory starts where it says (or where a
    reader looks when data was prepended) with a central directory entry."""
    try:
        size = _size(f)
        record = end_record(f, size)
        if record is None or record.entries == 0:
            return
        for at in {record.cd_offset, record.cd_start}:
            if 0 <= at < size and _read_at(f, at, 4) == b"PK\x01\x02":
                raise polyglot("zip", f"the file is {description} and also a ZIP archive")
    finally:
        f.seek(0)


# --- OOXML ---------------------------------------------------------------------------------------


def _suffix(name: str) -> str:
    base = name.rstrip("/").rsplit("/", 1)[-1].rstrip(". ")  # Windows ignores trailing dots/spaces
    dot = base.rfind(".")
    return base[dot:].lower() if dot >= 0 else ""


def _check_name(info: zipfile.ZipInfo) -> None:
    raw = info.orig_filename
    if any(unicodedata.category(c) == "Cc" or ord(c) in BIDI_CONTROLS for c in raw):
        raise unsafe("names", f"a part's name has control or bidi characters ({_shown(raw)})")
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name) or ".." in name.split("/"):
        raise unsafe("traversal", f"a part's name points outside the document ({_shown(raw)})")


def _check_member(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    _check_name(info)
    name = info.filename.replace("\\", "/")
    if info.flag_bits & _ENCRYPTED:
        raise unsafe("encrypted", f"the part {_shown(name)} is encrypted")
    if info.compress_type not in _COMPRESSIONS:
        raise unsafe("compression", f"the part {_shown(name)} uses an unusual compression ({info.compress_type})")
    ext = _suffix(name)
    lower = name.lower()
    if ext in EXECUTABLE_EXTENSIONS:
        raise unsafe("executable", f"the document contains a program ({_shown(name)})")
    if ext in ARCHIVE_EXTENSIONS:
        raise unsafe("archive", f"the document contains another archive ({_shown(name)})")
    folders = set(lower.split("/")[:-1])
    if (ext in MACRO_EXTENSIONS or lower.rsplit("/", 1)[-1] in MACRO_PART_NAMES
            or folders & MACRO_FOLDERS):
        raise unsafe("macros", f"the document contains macros or ActiveX controls ({_shown(name)})")
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise unsafe("ratio", f"the part {_shown(name)} expands {ratio:,.0f} times (the limit is "
                              f"{limits.max_ratio}:1): it looks like a zip bomb")


def _check_layout(f: IO[bytes], infos: list[zipfile.ZipInfo], record: EndRecord, size: int,
                  limits: ArchiveLimits) -> None:
    """Every byte belongs to the archive: members back to back from 0, then the central
    directory, the (zip64) end records, the comment, the end of the file."""
    if record.cd_start != record.cd_offset:
        raise polyglot("hidden_data", "there is data in front of the document's archive")
    if record.end != size:
        raise polyglot("hidden_data", "there is data after the end of the document's archive")
    if record.comment_length > limits.max_comment:
        raise polyglot("hidden_data", f"the archive comment holds {record.comment_length:,} bytes")
    if record.zip64_offset is not None and record.zip64_offset != record.cd_start + record.cd_size:
        raise polyglot("hidden_data", "there is data between the document's directory and its end")
    ordered = sorted(infos, key=lambda i: i.header_offset)
    if ordered and ordered[0].header_offset != 0:
        raise polyglot("hidden_data", f"there is data hidden before the part {_shown(ordered[0].filename)}")
    for i, info in enumerate(ordered):  # each starts where the one before ends (checked below)
        fixed = _read_at(f, info.header_offset, _LOCAL.size)
        if len(fixed) < _LOCAL.size or fixed[:4] != b"PK\x03\x04":
            raise unsafe("inconsistent", f"the part {_shown(info.filename)} has no local header")
        (_, _, _, flags, method, _, _, _, compress_size, file_size, name_len, extra_len) = _LOCAL.unpack(fixed)
        raw_name = _read_at(f, info.header_offset + _LOCAL.size, name_len)
        central_name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8 else "cp437")
        if (raw_name != central_name or method != info.compress_type
                or (flags & _ENCRYPTED) != (info.flag_bits & _ENCRYPTED)
                or (not flags & _DESCRIPTOR and 0xFFFFFFFF not in (compress_size, file_size)
                    and (compress_size, file_size) != (info.compress_size, info.file_size))):
            raise unsafe("inconsistent", f"the part {_shown(info.filename)} is described two different ways "
                                         "in the archive")
        data_end = info.header_offset + _LOCAL.size + name_len + extra_len + info.compress_size
        following = ordered[i + 1].header_offset if i + 1 < len(ordered) else record.cd_start
        if following < data_end:
            raise unsafe("overlap", f"the part {_shown(info.filename)} overlaps what follows it: "
                                    "a zip bomb technique")
        gap = following - data_end
        if flags & _DESCRIPTOR and gap:
            signed = _read_at(f, data_end, 4) == b"PK\x07\x08"
            if gap in ((16, 24) if signed else (12, 20)):
                gap = 0
        if gap:
            raise polyglot("hidden_data", f"there is data hidden after the part {_shown(info.filename)}")


class _DtdFound(Exception):
    pass


def _content_types(xml: bytes) -> list[str]:
    """Every ContentType/Extension/PartName value in [Content_Types].xml, lowercased.
    A DTD (entity tricks) is refused; character references are resolved by the parser,
    so `macro&#x45;nabled` is seen as `macroEnabled`."""
    values: list[str] = []
    parser = expat.ParserCreate()

    def forbid(*_args) -> None:
        raise _DtdFound

    def start(_tag: str, attrs: dict[str, str]) -> None:
        values.extend(v.lower() for v in attrs.values())

    parser.StartDoctypeDeclHandler = forbid  # entities can only be declared in a DOCTYPE
    parser.StartElementHandler = start
    try:
        parser.Parse(xml, True)
    except _DtdFound:
        raise unsafe("content_types", "the document's [Content_Types].xml declares a DTD") from None
    except expat.ExpatError as exc:
        raise unsafe("content_types", f"the document's [Content_Types].xml is not XML ({exc})") from None
    return values


def _check_content_types(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    info = next((i for i in infos if i.filename.lower() == CONTENT_TYPES), None)
    if info is None:  # sniffing already refuses it; kept so this check stands alone
        raise FileRejected("type", "the content is a ZIP archive, not an Office document (no [Content_Types].xml)")
    cap = limits.max_content_types
    if info.file_size > cap:
        raise unsafe("content_types", f"the document's [Content_Types].xml is larger than {cap // 1024:,} KiB")
    with archive.open(info) as member:
        xml = member.read(cap + 1)  # inflates about cap + 1 bytes at most, whatever the sizes claim
    if len(xml) > cap:
        raise unsafe("content_types", f"the document's [Content_Types].xml is larger than {cap // 1024:,} KiB")
    for value in _content_types(xml):
        if any(marker in value for marker in MACRO_CONTENT_TYPES):
            raise unsafe("macros", f"the document declares macros or ActiveX controls ({value[:80]})")


def _check_member_starts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.file_size == 0:  # a "directory" with data is read too
            continue
        with archive.open(info) as member:
            head = member.read(MEMBER_PEEK)  # at most a few KiB inflated
        if head.startswith(EXECUTABLE_MAGIC):
            raise unsafe("executable", f"the part {_shown(info.filename)} is a program")
        if head.startswith(ARCHIVE_MAGIC) and not (
                head.startswith(b"PK\x03\x04") and _suffix(info.filename) in OOXML_EMBEDDINGS):
            raise unsafe("archive", f"the part {_shown(info.filename)} is another archive")


def check_ooxml(f: IO[bytes], limits: ArchiveLimits = LIMITS) -> None:
    """Refuse a DOCX/XLSX that is unsafe to open or hides another format (see the module
    docstring for the rules). Reads the directory, the local headers and a few bytes."""
    try:
        size = _size(f)
        head = _read_at(f, 0, PDF_WINDOW)
        if b"%PDF-" in head:
            raise polyglot("hidden_data", "the document is also a PDF")
        record = end_record(f, size)
        if record is None:
            raise unsafe("inconsistent", "the document's archive has no directory")
        if record.entries > limits.max_members:
            raise unsafe("members", f"the document has {record.entries:,} parts; the limit is "
                                    f"{limits.max_members:,}")
        walked = count_entries(f, record, limits.max_members)
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            infos = archive.infolist()
            if not (len(infos) == walked == record.entries):
                raise unsafe("inconsistent", "the document's archive directory does not match its count")
            total = sum(i.file_size for i in infos)
            if total > limits.max_total_size:
                raise unsafe("size", f"the document expands to {total / MiB:,.0f} MiB (the limit is "
                                     f"{limits.max_total_size / MiB:g} MiB): it looks like a zip bomb")
            seen: set[str] = set()
            for info in infos:
                _check_member(info, limits)
                key = info.filename.replace("\\", "/").lower()
                if key in seen:
                    raise unsafe("duplicate", f"the part {_shown(info.filename)} appears twice")
                seen.add(key)
            _check_layout(f, infos, record, size, limits)
            _check_content_types(archive, infos, limits)
            _check_member_starts(archive, infos)
    except FileRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, struct.error) as exc:
        raise unsafe("inconsistent", f"the document's archive is damaged or inconsistent ({exc})") from None
    finally:
        f.seek(0)
