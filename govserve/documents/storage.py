"""Where sealed document bytes live: a Django storage, under names that say nothing.

The storage is ``STORAGES[settings.GOVSERVE_DOCUMENTS_STORAGE]`` (default
``"default"``: the file system under ``MEDIA_ROOT``; an S3 bucket through
django-storages works the same). Objects are only ever written sealed, named
``documents/<first two hex digits>/<random uuid hex>`` — never derived from
the person's file name, the document id or the owner — and never served by
the storage directly: only the decrypting, permission-checked view serves them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

PREFIX = "documents"


def document_storage() -> Storage:
    """Return the storage holding sealed documents (read from settings at each call)."""
    return storages[str(getattr(settings, "GOVSERVE_DOCUMENTS_STORAGE", "default"))]


def storage_name_new() -> str:
    """Return a fresh random object name: ``documents/ab/<32 hex digits>``."""
    token = uuid.uuid4().hex
    return f"{PREFIX}/{token[:2]}/{token}"


def sealed_object_write(name: str, sealed: bytes) -> None:
    """Write ``sealed`` as the object ``name``; raise RuntimeError if the storage chose another name.

    A random name never collides; a storage that renames anyway would leave
    the row pointing at nothing, so the renamed object is deleted and the
    write fails loudly.
    """
    storage = document_storage()
    saved = storage.save(name, ContentFile(sealed))
    if saved != name:
        storage.delete(saved)
        msg = f"the document storage renamed {name!r} to {saved!r}"
        raise RuntimeError(msg)


def sealed_object_read(name: str) -> bytes:
    """Return the sealed bytes of the object ``name``; raise FileNotFoundError when it is gone."""
    with document_storage().open(name, "rb") as handle:
        data: bytes = handle.read()
    return data


def sealed_object_delete(name: str) -> None:
    """Delete the object ``name``; idempotent (a missing object is not an error)."""
    document_storage().delete(name)


def sealed_object_names() -> Iterator[str]:
    """Yield the name of every object under ``documents/`` in the storage (for the orphan sweep)."""
    storage = document_storage()
    if not storage.exists(PREFIX):
        return
    directories, _files = storage.listdir(PREFIX)
    for directory in sorted(directories):
        _subdirectories, names = storage.listdir(f"{PREFIX}/{directory}")
        for name in sorted(names):
            yield f"{PREFIX}/{directory}/{name}"


def sealed_object_modified_at(name: str) -> dt.datetime:
    """Return when the object ``name`` was last written (aware)."""
    return document_storage().get_modified_time(name)
