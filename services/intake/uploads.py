"""Streaming evidence uploads and content-type sniffing.

The request body is never held whole in memory: it is read chunk by chunk into a
`SpooledTemporaryFile` (in memory up to `SPOOL_MEMORY`, then on disk) while it is hashed
(SHA-256) and counted, and reading stops as soon as the per-file limit is passed.

Two ways to send a file, both streamed:
- `multipart/form-data` with the file in the field `file` (what a browser form sends;
  an optional text field `title`), parsed incrementally with python-multipart;
- a raw body: `Content-Type` of the file and its name in `X-Filename`
  (percent-encoded if not ASCII), an optional `X-Title`.

The type is decided by the content (magic bytes), never by the client's Content-Type:
PDF `%PDF-`; DOCX/XLSX are ZIP archives with `[Content_Types].xml` and `word/` or `xl/`
entries; PNG; JPEG; CSV/TXT are valid UTF-8 text without NUL bytes (CSV by its
extension). The extension must agree with the content. Then the content is checked
deeply on the spooled file (`file_checks`): an Office document by its ZIP structure
(zip bombs, programs, macros, traversal, encryption, hidden data), every other type for
being a ZIP archive too (a polyglot).

The file name is cleaned before anything looks at it (`clean_filename`): no control or
bidi characters, NFC, single spaces, at most 255 UTF-8 bytes with its extension kept.
"""

from __future__ import annotations

import codecs
import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from tempfile import SpooledTemporaryFile
from urllib.parse import unquote

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from services.intake import file_checks
from services.intake.domain import check_file_size
from services.intake.errors import FileRejected

SPOOL_MEMORY = 256 * 1024  # bytes kept in memory before the spool moves to disk
MAX_FORM_FIELD = 4096  # a text field of the upload form (e.g. title)
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers on top of the file itself


@dataclass(frozen=True)
class FileType:
    id: str
    label: str
    content_type: str
    extensions: tuple[str, ...]


FILE_TYPES: dict[str, FileType] = {t.id: t for t in (
    FileType("pdf", "PDF", "application/pdf", (".pdf",)),
    FileType("docx", "Word document (DOCX)",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    FileType("xlsx", "Excel workbook (XLSX)",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    FileType("csv", "CSV", "text/csv", (".csv",)),
    FileType("png", "PNG image", "image/png", (".png",)),
    FileType("jpeg", "JPEG image", "image/jpeg", (".jpg", ".jpeg")),
    FileType("txt", "plain text", "text/plain", (".txt",)),
)}
BY_EXTENSION: dict[str, FileType] = {ext: t for t in FILE_TYPES.values() for ext in t.extensions}
ALLOWED_LABEL = "PDF, DOCX, XLSX, CSV, PNG, JPEG or TXT"

# Recognised but refused content, named in the error so the city knows what it sent.
_OTHER_SIGNATURES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (DOC/XLS); save it as DOCX/XLSX or PDF"),
)


MAX_FILENAME_BYTES = 255  # evidence.filename is String(255); bytes also bound every backend
MAX_EXTENSION_BYTES = 32  # a longer "extension" is not one: such a name is cut from its end
DEFAULT_STEM = "evidence"  # for a name that has nothing left once cleaned
BIDI_CONTROLS = file_checks.BIDI_CONTROLS  # U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C
_SPACES = frozenset("\t\n\r\v\f")


def _fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return unicodedata.normalize("NFC", data[:limit].decode("utf-8", "ignore"))


def clean_filename(raw: str, max_bytes: int = MAX_FILENAME_BYTES) -> str:
    """The name a file is checked, stored and shown under. Pure; idempotent.

    Tabs and line breaks become spaces; every other control character (C0, DEL, C1,
    NUL included), lone surrogates and bidi controls (U+202A-U+202E, U+2066-U+2069,
    U+200E, U+200F, U+061C) are removed; the rest is normalised to NFC; the directory
    part is dropped (`/` or `\\`); runs of whitespace become one space, none at the ends.
    A name over `max_bytes` UTF-8 bytes is shortened in its stem, keeping the
    extension. A stem left empty becomes "evidence" (".pdf" -> "evidence.pdf"); an empty
    name stays empty (no name was given)."""
    if not raw or not raw.strip():
        return ""
    kept = []
    for char in raw:
        if char in _SPACES:
            kept.append(" ")
        elif ord(char) in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            kept.append(char)
    name = unicodedata.normalize("NFC", "".join(kept)).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split())
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) + 1 > MAX_EXTENSION_BYTES:
        stem, ext = name, ""
    else:
        ext = "." + ext
    if not stem.strip(". "):
        stem = DEFAULT_STEM
    name = stem + ext
    if len(name.encode("utf-8")) > max_bytes:
        stem = _fit(stem, max_bytes - len(ext.encode("utf-8"))).rstrip(" .") or DEFAULT_STEM
        name = _fit(stem + ext, max_bytes)
    return name


def check_filename(filename: str) -> FileType:
    """The cleaned name's extension must be an allowed type (checked before reading the
    body): what the city sees is what is checked, so "report\\u202efdp.exe" is an .exe."""
    name = clean_filename(filename)
    if not name:
        raise FileRejected("missing", "a file name is needed (the form's filename or the X-Filename header)")
    ext = PurePosixPath(name).suffix.lower()
    ftype = BY_EXTENSION.get(ext)
    if ftype is None:
        shown = ext or "without an extension"
        raise FileRejected("type", f"files of type {shown} are not accepted; upload a {ALLOWED_LABEL} file")
    return ftype


class SpooledUpload:
    """One received file: spooled, hashed and counted while it arrives."""

    def __init__(self, max_bytes: int, filename: str = "", declared_type: str = "") -> None:
        self.max_bytes = max_bytes
        self.filename = clean_filename(filename)
        self.declared_type = declared_type
        self.file = SpooledTemporaryFile(max_size=SPOOL_MEMORY)
        self.size = 0
        self._hash = hashlib.sha256()
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._text = True
        self.fields: dict[str, str] = {}
        self.finished = False

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        check_file_size(self.size, self.max_bytes)
        self._hash.update(chunk)
        self.file.write(chunk)
        if self._text:
            if b"\x00" in chunk:
                self._text = False
            else:
                try:
                    self._utf8.decode(chunk)
                except UnicodeDecodeError:
                    self._text = False

    def finish(self) -> None:
        if self._text:
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                self._text = False
        self.file.seek(0)
        self.finished = True

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def is_text(self) -> bool:
        return self._text

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> SpooledUpload:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sniff(upload: SpooledUpload, limits: file_checks.ArchiveLimits = file_checks.LIMITS
          ) -> tuple[str | None, str]:
    """(allowed type id or None, a description of what the content is). A ZIP's entries
    are counted before `zipfile` reads its directory (refused past `limits.max_members`)."""
    f = upload.file
    f.seek(0)
    head = f.read(16)
    f.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf", "a PDF"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "a PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", "a JPEG image"
    if head.startswith(b"PK\x03\x04"):
        try:
            file_checks.check_member_count(f, limits)
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None, "a damaged ZIP archive"
        finally:
            f.seek(0)
        if not any(n.lower() == file_checks.CONTENT_TYPES for n in names):
            return None, "a ZIP archive, not an Office document (it has no [Content_Types].xml)"
        if any(n.startswith("word/") for n in names):
            return "docx", "a Word document (DOCX)"
        if any(n.startswith("xl/") for n in names):
            return "xlsx", "an Excel workbook (XLSX)"
        return None, "a ZIP archive"
    for signature, description in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return None, description
    if upload.is_text:
        return "text", "plain text"
    return None, "content of an unrecognised type"


def validate(upload: SpooledUpload, limits: file_checks.ArchiveLimits = file_checks.LIMITS) -> FileType:
    """Decide the stored type from the content; the extension must agree with it; then
    check the content deeply (`file_checks`): DOCX/XLSX by their ZIP structure, every
    other type for being a ZIP too. All on the spooled file, never read whole."""
    if not upload.finished:
        upload.finish()
    expected = check_filename(upload.filename)
    if upload.size == 0:
        raise FileRejected("empty", "the file is empty")
    sniffed, description = sniff(upload, limits)
    if sniffed is None:
        raise FileRejected("type", f"the content is {description}, not a {ALLOWED_LABEL} file")
    matches = (sniffed == expected.id) or (sniffed == "text" and expected.id in ("csv", "txt"))
    if not matches:
        raise FileRejected(
            "mismatch", f"the file is named {PurePosixPath(upload.filename).suffix.lower()} but its content is "
                        f"{description}, not a {expected.label}")
    if expected.id in ("docx", "xlsx"):
        file_checks.check_ooxml(upload.file, limits)
    else:
        file_checks.check_single_format(upload.file, description)
    return expected


# --- receiving a request body ----------------------------------------------------------------


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def receive(request: Request, max_bytes: int) -> SpooledUpload:
    """Stream the file of a multipart or raw upload request into a SpooledUpload.

    The caller closes it (`with await receive(...) as upload:`). Raises a problem+json
    error (field `file`) for a missing or badly named file or one over `max_bytes`."""
    ctype, _ = parse_options_header(request.headers.get("content-type", ""))
    if ctype == b"multipart/form-data":
        return await receive_multipart(request, max_bytes)
    return await receive_raw(request, max_bytes)


async def receive_raw(request: Request, max_bytes: int) -> SpooledUpload:
    filename = unquote(request.headers.get("x-filename", ""))
    check_filename(filename)
    declared = _declared_length(request)
    if declared is not None:
        check_file_size(declared, max_bytes)
    upload = SpooledUpload(max_bytes, filename, request.headers.get("content-type", ""))
    try:
        async for chunk in request.stream():
            upload.write(chunk)
        upload.finish()
        if title := request.headers.get("x-title"):
            upload.fields["title"] = unquote(title)[:300]
    except BaseException:
        upload.close()
        raise
    return upload


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


async def receive_multipart(request: Request, max_bytes: int, file_field: str = "file") -> SpooledUpload:
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise FileRejected("malformed", "the multipart body has no boundary")
    declared = _declared_length(request)
    if declared is not None and declared > max_bytes + MULTIPART_SLACK:
        check_file_size(declared, max_bytes)

    # The parser's callbacks only record events; they are acted on between chunks, so
    # an error (too large, wrong name) is raised here and reading stops at once.
    events: list[tuple] = []
    header_name = bytearray()
    header_value = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        events.append(("header", bytes(header_name).lower(), bytes(header_value)))
        header_name.clear()
        header_value.clear()

    parser = MultipartParser(boundary, {
        "on_part_begin": lambda: events.append(("begin",)),
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": lambda: events.append(("headers",)),
        "on_part_data": lambda data, start, end: events.append(("data", bytes(data[start:end]))),
        "on_part_end": lambda: events.append(("end",)),
    })
    upload: SpooledUpload | None = None
    part = _Part()
    fields: dict[str, str] = {}
    in_file = False
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except Exception as exc:  # python-multipart's parse errors
                raise FileRejected("malformed", f"the multipart body is malformed ({exc})") from exc
            for event in events:
                kind = event[0]
                if kind == "begin":
                    part, in_file = _Part(), False
                elif kind == "header":
                    part.headers[event[1]] = event[2]
                elif kind == "headers":
                    _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
                    part.name = options.get(b"name", b"").decode("utf-8", "replace")
                    if b"filename" in options:
                        part.filename = options[b"filename"].decode("utf-8", "replace")
                    if part.name == file_field and part.filename is not None:
                        if upload is not None:
                            raise FileRejected("malformed", "send one file per upload")
                        check_filename(part.filename)
                        content_type = part.headers.get(b"content-type", b"").decode("latin-1")
                        upload = SpooledUpload(max_bytes, part.filename, content_type)
                        in_file = True
                elif kind == "data":
                    if in_file:
                        assert upload is not None
                        upload.write(event[1])
                    elif part.filename is None:
                        part.data.extend(event[1])
                        if len(part.data) > MAX_FORM_FIELD:
                            raise FileRejected("malformed", f"the form field {part.name[:40]!r} is too long")
                elif kind == "end":
                    if not in_file and part.filename is None and part.name:
                        fields[part.name] = part.data.decode("utf-8", "replace")
                    in_file = False
            events.clear()
        parser.finalize()
        if upload is None:
            raise FileRejected("missing", f"no file in the form field {file_field!r}")
        upload.finish()
        upload.fields = fields
    except BaseException:
        if upload is not None:
            upload.close()
        raise
    return upload
