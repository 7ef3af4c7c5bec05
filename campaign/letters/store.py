"""Where rendered PDFs live: off the database row, keyed by their SHA-256.

A folder under instance/ by default (`LETTER_STORE`), or any S3-compatible object
store when `LETTER_STORE` is `s3://bucket/prefix` (boto3; `LETTER_STORE_ENDPOINT`
for one other than AWS, credentials from boto3's usual environment variables).

A PDF is written once under the hash of its bytes, so writing it again (a chunk
taken again after its worker died, two letters with the same bytes) is harmless,
and a letter row holds only the key. Stores are small picklable values, so a
render process writes its PDFs itself instead of sending them back to its parent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flask import current_app

CHUNK = 64 * 1024


class LetterStore(Protocol):
    def put(self, pdf: bytes) -> str:
        """Keep the PDF; its key (the SHA-256 of its bytes, in hex)."""

    def put_file(self, path: Path) -> str:
        """Keep the file at `path` (a print pack, its manifest), read in pieces, never
        whole; its key, as `put`'s."""

    def get(self, key: str) -> bytes:
        """The PDF under `key`; KeyError if there is none."""

    def stream(self, key: str) -> Iterator[bytes]:
        """The PDF under `key` in pieces, for a download that never holds it whole."""

    def keys(self, before: float) -> Iterator[str]:
        """Every key last written before `before` (a Unix time): a PDF written since
        may be one a render is about to save a letter for."""

    def delete(self, key: str) -> None:
        """Forget the PDF under `key` (nothing if there is none)."""

    def size(self) -> int:
        """Bytes held, in all."""

    def check(self) -> None:
        """Raise if the store cannot be written to (for /healthz)."""


def key_of(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def key_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def _valid(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise KeyError(key)
    return key


@dataclass(frozen=True)
class FolderStore:
    """PDFs as files, <root>/<first two hex digits>/<key>.pdf, each written whole
    (to a temporary name, then renamed) so a reader never sees half a file."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{_valid(key)}.pdf"

    def put(self, pdf: bytes) -> str:
        return self._write(key_of(pdf), lambda tmp: tmp.write(pdf))

    def put_file(self, path: Path) -> str:
        def copy(tmp) -> None:
            with path.open("rb") as source:
                shutil.copyfileobj(source, tmp, CHUNK)

        return self._write(key_of_file(path), copy)

    def _write(self, key: str, write) -> str:
        path = self._path(key)
        try:
            os.utime(path)  # written again: as new, for keys(before=…)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
                write(tmp)
            os.replace(tmp.name, path)
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            file = self._path(key).open("rb")
        except FileNotFoundError:
            raise KeyError(key) from None

        def pieces() -> Iterator[bytes]:
            with file:
                while piece := file.read(CHUNK):
                    yield piece

        return pieces()

    def keys(self, before: float) -> Iterator[str]:
        for path in self.root.glob("??/*.pdf"):
            if path.stat().st_mtime < before:
                yield path.stem

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def size(self) -> int:
        return sum(path.stat().st_size for path in self.root.glob("??/*.pdf"))

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=self.root):
            pass


@dataclass(frozen=True)
class S3Store:
    """PDFs as objects <prefix><key>.pdf in a bucket of any S3-compatible store."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    _clients: dict = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self):  # the client stays behind: each process makes its own
        return {"bucket": self.bucket, "prefix": self.prefix, "endpoint": self.endpoint}

    def __setstate__(self, state):
        for name, value in {**state, "_clients": {}}.items():
            object.__setattr__(self, name, value)

    @property
    def client(self):
        if "s3" not in self._clients:
            import boto3  # noqa: PLC0415  (only deployments that use S3 load it)

            self._clients["s3"] = boto3.client("s3", endpoint_url=self.endpoint)
        return self._clients["s3"]

    def _name(self, key: str) -> str:
        return f"{self.prefix}{_valid(key)}.pdf"

    def put(self, pdf: bytes) -> str:
        key = key_of(pdf)
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=pdf, ContentType="application/pdf"
        )
        return key

    def put_file(self, path: Path) -> str:
        key = key_of_file(path)
        # boto3's managed upload: in parts, from the file, however large it is.
        self.client.upload_file(
            str(path), self.bucket, self._name(key), ExtraArgs={"ContentType": "application/pdf"}
        )
        return key

    def _body(self, key: str):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None

    def get(self, key: str) -> bytes:
        return self._body(key).read()

    def stream(self, key: str) -> Iterator[bytes]:
        return self._body(key).iter_chunks(CHUNK)

    def _objects(self) -> Iterable[dict]:
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            yield from page.get("Contents", [])

    def keys(self, before: float) -> Iterator[str]:
        for item in self._objects():
            if item["LastModified"].timestamp() < before:
                yield item["Key"][len(self.prefix) :].removesuffix(".pdf")

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def size(self) -> int:
        return sum(o["Size"] for o in self._objects())

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def store_from(setting: str, endpoint: str | None = None) -> LetterStore:
    """The store a `LETTER_STORE` setting names: a folder, or s3://bucket/prefix."""
    if setting.startswith("s3://"):
        bucket, _, prefix = setting.removeprefix("s3://").partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Store(bucket, prefix, endpoint or None)
    return FolderStore(Path(setting))


def letter_store() -> LetterStore:
    """The app's letter store, made once per app."""
    app = current_app._get_current_object()
    if "letter_store" not in app.extensions:
        app.extensions["letter_store"] = store_from(
            app.config["LETTER_STORE"], app.config.get("LETTER_STORE_ENDPOINT")
        )
    return app.extensions["letter_store"]
