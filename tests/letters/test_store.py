"""The letter store: a folder by default, any S3-compatible store when configured
(here moto's S3 server on loopback, spoken to by boto3 over HTTP). Both keep a PDF
under the SHA-256 of its bytes and give it back whole or in pieces."""

from __future__ import annotations

import hashlib
import pickle
import secrets
import time

import pytest

from campaign.letters.store import FolderStore, S3Store, store_from
from tests.letters.s3 import make_bucket, s3_server

PDF = b"%PDF-1.7\n" + secrets.token_bytes(200_000) + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FolderStore(tmp_path / "letters")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"letters-{secrets.token_hex(4)}"
    make_bucket(endpoint, bucket)
    return store_from(f"s3://{bucket}/campaign", endpoint)


def test_a_pdf_is_kept_under_its_sha256_and_given_back_whole_and_in_pieces(store):
    key = store.put(PDF)
    assert key == hashlib.sha256(PDF).hexdigest()
    assert store.get(key) == PDF
    pieces = list(store.stream(key))
    assert len(pieces) > 1 and b"".join(pieces) == PDF
    assert store.size() == len(PDF)


def test_a_file_is_kept_as_its_bytes_would_be(store, tmp_path):
    path = tmp_path / "pack.pdf"
    path.write_bytes(PDF)
    key = store.put_file(path)
    assert key == hashlib.sha256(PDF).hexdigest() == store.put(PDF)
    assert b"".join(store.stream(key)) == PDF
    assert store.size() == len(PDF)


def test_writing_the_same_pdf_again_keeps_one_copy(store):
    first, second = store.put(PDF), store.put(PDF)
    assert first == second
    assert list(store.keys(before=time.time() + 60)) == [first]
    assert store.size() == len(PDF)


def test_keys_are_only_those_written_before_the_time_given(store):
    key = store.put(PDF)
    assert list(store.keys(before=time.time() + 60)) == [key]
    # Written just now: a render may be about to save a letter for it.
    assert list(store.keys(before=time.time() - 3600)) == []


def test_a_missing_or_malformed_key_is_a_key_error(store):
    store.put(PDF)
    for key in ["0" * 64, "../../etc/passwd", "A" * 64, ""]:
        with pytest.raises(KeyError):
            store.get(key)
        with pytest.raises(KeyError):
            store.stream(key)


def test_delete_forgets_the_pdf(store):
    key = store.put(PDF)
    other = store.put(PDF + b" ")
    store.delete(key)
    with pytest.raises(KeyError):
        store.get(key)
    assert store.get(other) == PDF + b" "
    store.delete(key)  # again: nothing to do


def test_the_check_passes_on_a_working_store(store):
    store.check()


def test_a_store_travels_to_a_render_process_and_works_there(store):
    # Render processes get the store pickled; an S3 store makes its own client there.
    copy = pickle.loads(pickle.dumps(store))
    key = copy.put(PDF)
    assert store.get(key) == PDF


def test_a_folder_store_leaves_no_half_written_file(tmp_path):
    store = FolderStore(tmp_path / "letters")
    key = store.put(PDF)
    files = [p.name for p in (tmp_path / "letters").rglob("*") if p.is_file()]
    assert files == [f"{key}.pdf"]


def test_a_folder_that_cannot_be_made_fails_the_check(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OSError):
        FolderStore(tmp_path / "a-file" / "letters").check()


def test_a_bucket_that_does_not_exist_fails_the_check(s3_endpoint):
    with pytest.raises(Exception, match="404|Not Found|NoSuchBucket"):
        S3Store("no-such-bucket", endpoint=s3_endpoint).check()


def test_the_setting_names_a_folder_or_a_bucket_and_prefix(tmp_path):
    assert store_from(str(tmp_path)) == FolderStore(tmp_path)
    s3 = store_from("s3://campaign-letters/prod", "http://127.0.0.1:9000")
    assert (s3.bucket, s3.prefix, s3.endpoint) == (
        "campaign-letters",
        "prod/",
        "http://127.0.0.1:9000",
    )
    assert store_from("s3://campaign-letters").prefix == ""
