"""``FormData``: a form body, URL-encoded or ``multipart/form-data`` (files included), like aiohttp's.

A form becomes multipart as soon as one field is a file (an ``io`` object, bytes, or a field given
a ``filename`` or ``content_type``); otherwise it is ``application/x-www-form-urlencoded``. The
body is built once, the first time the form is sent, and reused for redirects and later sends;
files on disk are not read then but streamed from a worker thread as the body goes out.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import re
import uuid
from collections.abc import Iterable, Mapping, Sized
from pathlib import Path
from typing import Any, Optional, Union, cast
from urllib.parse import quote, urlencode

from multidict import MultiDict, MultiDictProxy, MultiMapping

from ._files import FileSource, Segments, on_disk
from .payload import BytesPayload, IOBasePayload, Payload, TextIOPayload, charset_of

__all__ = ["FormData"]

# Bytes that may not appear in a header line (CR, LF, NUL).
_FORBIDDEN = re.compile(r"[\r\n\x00]")
# Characters of a 7-bit quoted-string (RFC 5322) and those needing a backslash inside one.
_QCONTENT = frozenset(chr(i) for i in range(0x20, 0x7F)) | {"\t"}
_NOT_QTEXT = re.compile(r"[^\x21\x23-\x5b\x5d-\x7e]")
_BACKSLASH_OR_QUOTE = re.compile(r'[\\"]')


def _escaped(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: "\\" + m[0], text)


def _safe(text: str) -> str:
    if _FORBIDDEN.search(text):
        raise ValueError("CR, LF and NUL are not allowed in a form field's name, filename or type")
    return text


def _file_name(value: Any, default: Optional[str]) -> Optional[str]:
    name = getattr(value, "name", None)
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        return Path(name).name
    return default


class _TextFile:
    """A text file in a form: read whole and encoded in the form's charset."""

    __slots__ = ("charset", "file")

    def __init__(self, file: io.TextIOBase, charset: str) -> None:
        self.file = file
        self.charset = charset


def _read_whole(part: Any) -> bytes:
    if isinstance(part, _TextFile):
        return str(part.file.read()).encode(part.charset)
    return bytes(part.read())


class _Field:
    __slots__ = ("content_type", "filename", "name", "value")

    def __init__(self, name: str, value: Any, content_type: Optional[str], filename: Optional[str]) -> None:
        self.name = name
        self.value = value
        self.content_type = content_type
        self.filename = filename


class FormData:
    """Form fields to send as a request body (``data=FormData(...)``)."""

    def __init__(
        self,
        fields: Iterable[Any] = (),
        quote_fields: bool = True,
        charset: Optional[str] = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._fields: list[_Field] = []
        self._is_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        self._encoded: Optional[tuple[bytes, str]] = None
        self._streamed: Optional[tuple[Segments, str]] = None
        if isinstance(fields, dict):
            fields = list(cast("Mapping[Any, Any]", fields).items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: Optional[str] = None,
        filename: Optional[str] = None,
        content_transfer_encoding: Optional[str] = None,
    ) -> None:
        """Add one field. Files (``io`` objects, bytes) make the form multipart."""
        if self._encoded is not None or self._streamed is not None:
            raise RuntimeError("Form data has been processed already")
        _safe(name)
        if isinstance(value, io.IOBase):
            self._is_multipart = True
            if filename is None:
                filename = _file_name(value, name)
        elif isinstance(value, Payload):
            self._is_multipart = True
            if filename is None:
                filename = value.filename
        elif isinstance(value, (bytes, bytearray, memoryview)) and filename is None:
            # aiohttp 3.x sends bytes as a file named after the field.
            filename = name
        if filename is not None:
            if not isinstance(filename, str):
                raise TypeError(f"filename must be an instance of str. Got: {filename}")
            _safe(filename)
            self._is_multipart = True
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be an instance of str. Got: {content_type}")
            _safe(content_type)
            self._is_multipart = True
        if content_transfer_encoding is not None:
            raise NotImplementedError("content_transfer_encoding is not supported by ferrofetch")
        self._fields.append(_Field(name, value, content_type, filename))

    def add_fields(self, *fields: Any) -> None:
        """Add ``(name, value)`` pairs, multidicts' items, or ``io`` objects (named after their file)."""
        pending = list(fields)
        while pending:
            field = pending.pop(0)
            if isinstance(field, io.IOBase):
                self.add_field(_file_name(field, "unknown") or "unknown", field)
            elif isinstance(field, (MultiDictProxy, MultiDict)):
                pending.extend(cast("MultiMapping[Any]", field).items())
            elif isinstance(field, (list, tuple)) and len(cast("Sized", field)) == 2:
                name, value = cast("tuple[Any, Any]", field)
                self.add_field(name, value)
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, use .add_field() "
                    f"for passing more complex parameters, got {field!r}"
                )

    def encode(self) -> tuple[bytes, str]:
        """The body and its ``Content-Type``; built on first use, files read then (on the
        calling thread: a session sends a form with :meth:`encode_streamed` instead)."""
        if self._encoded is None:
            if self._is_multipart:
                parts, content_type = self._multipart()
                content = b"".join(p if isinstance(p, bytes) else _read_whole(p) for p in parts)
                self._encoded = content, content_type
            else:
                self._encoded = self._urlencoded()
        return self._encoded

    async def encode_streamed(self) -> tuple[Union[bytes, Segments], str]:
        """The body and its ``Content-Type``, files not read yet: files on disk are streamed
        from a worker thread when the body is sent (:class:`~ferrofetch._files.Segments`)."""
        if self._encoded is not None:
            return self._encoded
        if self._streamed is not None:
            return self._streamed
        if not self._is_multipart:
            return self.encode()
        parts, content_type = self._multipart()
        if all(isinstance(p, bytes) for p in parts):
            self._encoded = b"".join(parts), content_type
            return self._encoded
        resolved: list[Union[bytes, FileSource]] = []
        for part in parts:
            if isinstance(part, bytes):
                resolved.append(part)
            elif on_disk(part):
                resolved.append(await FileSource.of(part))
            else:  # a text file: read whole (it must be encoded), off the event loop
                resolved.append(await asyncio.to_thread(_read_whole, part))
        self._streamed = Segments(resolved), content_type
        return self._streamed

    def _urlencoded(self) -> tuple[bytes, str]:
        charset = self._charset or "utf-8"
        body = urlencode([(f.name, f.value) for f in self._fields], doseq=True, encoding=charset)
        content_type = "application/x-www-form-urlencoded"
        if charset != "utf-8":
            content_type += f"; charset={charset}"
        return body.encode("ascii"), content_type

    def _multipart(self) -> tuple[list[Any], str]:
        """The body as bytes and file objects (not read here), and its ``Content-Type``."""
        boundary = uuid.uuid4().hex
        delimiter = f"--{boundary}\r\n".encode("ascii")
        parts: list[Any] = []
        out = bytearray()
        for field in self._fields:
            content, content_type = self._part_content(field)
            out += delimiter
            out += f"Content-Type: {content_type}\r\n".encode()
            out += f"Content-Disposition: {self._disposition(field)}\r\n\r\n".encode()
            if isinstance(content, bytes):
                out += content
            else:
                parts += [bytes(out), content]
                out = bytearray()
            out += b"\r\n"
        out += f"--{boundary}--\r\n".encode("ascii")
        parts.append(bytes(out))
        return parts, f"multipart/form-data; boundary={boundary}"

    def _part_content(self, field: _Field) -> tuple[Any, str]:
        """A part's bytes (or its file object, read later) and its ``Content-Type``."""
        value = field.value
        charset = self._charset or "utf-8"
        if isinstance(value, Payload):
            return self._payload_content(field, value)
        if isinstance(value, str):
            # A charset declared in the field's type is the one the text is sent in (aiohttp).
            declared = charset_of(field.content_type)
            return value.encode(declared or charset), field.content_type or f"text/plain; charset={charset}"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(
                cast("Union[bytes, bytearray, memoryview[int]]", value)
            ), field.content_type or "application/octet-stream"
        if isinstance(value, io.StringIO):
            return value.read().encode(charset), field.content_type or f"text/plain; charset={charset}"
        if isinstance(value, io.TextIOBase):
            return _TextFile(value, charset), field.content_type or f"text/plain; charset={charset}"
        data: Any
        if isinstance(value, io.BytesIO):
            data = value.read()
        elif isinstance(value, io.IOBase):
            data = value
        else:
            raise TypeError(f"Can not serialize value type: {type(value)!r}\n value: {value!r}")
        name = _file_name(value, None)
        guessed = mimetypes.guess_type(name)[0] if name else None
        return data, field.content_type or guessed or "application/octet-stream"

    def _payload_content(self, field: _Field, value: Payload) -> tuple[Any, str]:
        content_type = field.content_type or value.content_type
        if isinstance(value, BytesPayload):
            return bytes(value.value), content_type
        if isinstance(value, TextIOPayload):
            return _TextFile(value.value, value.encoding or "utf-8"), content_type
        if isinstance(value, IOBasePayload):
            file = value.value
            return (file.read() if isinstance(file, io.BytesIO) else file), content_type
        raise TypeError(f"Can not serialize value type: {type(value)!r}\n value: {value!r}")

    def _disposition(self, field: _Field) -> str:
        params = [("name", field.name)]
        if field.filename is not None:
            params.append(("filename", field.filename))
        charset = self._charset or "utf-8"
        rendered = ["form-data"]
        for key, value in params:
            if not self._quote_fields:
                rendered.append(f'{key}="{_escaped(_BACKSLASH_OR_QUOTE, value)}"')
            elif key == "filename":
                rendered.append(f'{key}="{quote(value, "", encoding=charset)}"')
            elif set(value) <= _QCONTENT:
                rendered.append(f'{key}="{_escaped(_NOT_QTEXT, value)}"')
            else:
                rendered.append(f"{key}*={charset}''{quote(value, '', encoding=charset)}")
        return "; ".join(rendered)
