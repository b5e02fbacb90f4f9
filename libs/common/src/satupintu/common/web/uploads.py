"""Reading what a page's form sent, within limits: the form's number of fields and files, and each file's bytes
(read in chunks, refused the moment it passes its limit). The body as a whole was bounded before it was read, by the
upload guard in front of the routes (:mod:`satupintu.common.uploads`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

UPLOAD_CHUNK_BYTES: Final = 64 * 1024


class UploadTooLarge(Exception):
    """A file is larger than its limit."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"The file is larger than the limit of {max_bytes} bytes; upload a smaller or compressed file."
        )
        self.max_bytes = max_bytes


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """An uploaded file's bytes; raises :class:`UploadTooLarge` as soon as more than ``max_bytes`` have been read
    (before reading at all when the part declared its size)."""
    if upload.size is not None and upload.size > max_bytes:
        raise UploadTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise UploadTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class FormLimits:
    """How many fields and files a form may have (the parser refuses more with a 400)."""

    max_fields: int = 1000
    max_files: int = 1000


def read_form(request: Request, limits: FormLimits = FormLimits()) -> AbstractAsyncContextManager[FormData]:
    """The submitted form, within ``limits``; used as ``async with``, its files are closed (their temporary files
    gone) when the block ends, however it ends."""
    return request.form(max_files=limits.max_files, max_fields=limits.max_fields)


TEXT_FORM: Final = FormLimits(max_fields=100, max_files=0)
"""A form of a few text fields and no file (the mall's kiosk, survey, complaint and consent pages)."""


async def read_text_form(request: Request, limits: FormLimits = TEXT_FORM) -> dict[str, str]:
    """The text fields a form sent (the last value of a repeated name), within ``limits``; a file part is refused
    by the parser (400) when ``limits`` allows none."""
    async with read_form(request, limits) as form:
        return {name: value for name, value in form.multi_items() if isinstance(value, str)}
