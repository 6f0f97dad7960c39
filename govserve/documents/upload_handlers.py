"""A Django upload handler that keeps uploads in memory and stops buffering past the platform ceiling.

Django's default handlers spill uploads over 2.5 MB to a temporary file:
the person's document in clear on the web server's disk, outside the
encrypted storage path. This handler (``FILE_UPLOAD_HANDLERS`` in
config/settings/base.py) keeps every file in memory instead, and bounds that
memory while the body streams in: past ``GOVSERVE_UPLOAD_MAX_BYTES`` for one
file (or twice that for all files of one request) it stops keeping bytes,
reads the rest of the body through, and hands the view an
:class:`OversizeUploadedFile` — empty, flagged — which the upload service
refuses with "The selected file must be smaller than ...". The person gets
that message, not a broken connection.

Django's multipart parser also "sanitises" file names silently: it drops
path segments and unprintable characters, so ``../../etc/passwd.pdf``
arrives as ``passwd.pdf`` and ``invoice\u202efdp.exe`` as ``invoicefdp.exe``.
govserve refuses such names instead of guessing (see
:mod:`govserve.documents.filenames`), so this handler parses the body itself
with a parser that keeps the name exactly as sent (after Django's HTML
unescaping) on the file as ``govserve_raw_name``, which the upload service
checks. Django's sanitised name stays the file's ``name``.
"""

from __future__ import annotations

import html
import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import MultiValueDict

from govserve.documents.services import platform_max_upload_bytes


class OversizeUploadedFile(UploadedFile[bytes]):
    """A file that passed the ceiling while it streamed in: no bytes kept, ``size`` is what was received."""

    govserve_oversize = True

    def __init__(self, *, name: str, content_type: str | None, size: int, charset: str | None) -> None:
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=size, charset=charset)


PLACEHOLDER_NAME = "upload"


def _raw_name_attach(uploaded: Any, raw_name: str) -> None:
    uploaded.govserve_raw_name = raw_name


class _RawNameMultiPartParser(MultiPartParser):
    """Django's parser, telling ``handler`` each file name exactly as sent before Django sanitises it."""

    def __init__(self, *args: Any, handler: BoundedMemoryUploadHandler, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._govserve_handler = handler

    def sanitize_file_name(self, file_name: str) -> str | None:
        self._govserve_handler.raw_name = html.unescape(file_name)
        sanitised: str | None = super().sanitize_file_name(file_name)
        # Django drops a file named "..", "." or only unprintable characters; keep it
        # under a placeholder so the service can refuse its name rather than report no file.
        return sanitised if sanitised is not None else PLACEHOLDER_NAME


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keep each uploaded file in memory up to the platform ceiling; flag larger ones (see the module docstring)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.file_limit = platform_max_upload_bytes()
        self.request_limit = 2 * self.file_limit
        self.request_received = 0
        self.buffer: io.BytesIO | None = None
        self.received = 0
        self.oversize = False
        self.raw_name: str | None = None
        self._parsing = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's parameter name
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[bytes]]] | None:
        """Parse the body with the raw-name parser (once: the nested parser's call gets None and parses)."""
        if self._parsing:
            return None
        self._parsing = True
        parser = _RawNameMultiPartParser(META, input_data, [self], encoding, handler=self)
        post, files = parser.parse()
        return post, files

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.received = 0
        self.oversize = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        self.request_received += len(raw_data)
        if self.oversize:
            return None
        if self.received > self.file_limit or self.request_received > self.request_limit:
            self.oversize = True
            self.buffer = None  # let the memory go now
            return None
        assert self.buffer is not None  # noqa: S101 - set by new_file
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile[bytes] | None:
        name = self.file_name or ""
        uploaded: UploadedFile[bytes]
        if self.oversize or self.buffer is None:
            uploaded = OversizeUploadedFile(
                name=name, content_type=self.content_type, size=self.received, charset=self.charset
            )
        else:
            self.buffer.seek(0)
            uploaded = InMemoryUploadedFile(
                file=self.buffer,
                field_name=self.field_name,
                name=name,
                content_type=self.content_type or "application/octet-stream",
                size=file_size,
                charset=self.charset,
                content_type_extra=self.content_type_extra,
            )
        # The name as the client sent it, for the upload service to judge (see the module docstring).
        _raw_name_attach(uploaded, self.raw_name if self.raw_name is not None else name)
        self.raw_name = None
        self.buffer = None
        return uploaded
