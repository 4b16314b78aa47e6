"""The shared S3-compatible server does what Hubbub's S3 file store asks of one."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.support.objects import S3_ENDPOINT, s3_environ

DATA = bytes(range(256)) * 64 + b"\x00 end"


def test_put_list_get_delete(s3_server: BaseClient, s3_bucket: str) -> None:
    key = "attachments/ab/cd/photo.png"
    put = s3_server.put_object(Bucket=s3_bucket, Key=key, Body=DATA, ContentType="image/png")
    assert put["ETag"] == f'"{hashlib.md5(DATA).hexdigest()}"'  # noqa: S324 - S3's own ETag

    listed = s3_server.list_objects_v2(Bucket=s3_bucket)
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [(key, len(DATA))]

    got = s3_server.get_object(Bucket=s3_bucket, Key=key)
    assert got["Body"].read() == DATA
    assert got["ContentType"] == "image/png"

    s3_server.delete_objects(Bucket=s3_bucket, Delete={"Objects": [{"Key": key}], "Quiet": True})
    assert s3_server.list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []
    with pytest.raises(ClientError) as missing:
        s3_server.get_object(Bucket=s3_bucket, Key=key)
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"


def test_presigned_get(s3_server: BaseClient, s3_bucket: str) -> None:
    s3_server.put_object(Bucket=s3_bucket, Key="a.bin", Body=DATA)
    url = s3_server.generate_presigned_url(
        "get_object", Params={"Bucket": s3_bucket, "Key": "a.bin"}, ExpiresIn=60
    )
    assert url.startswith(S3_ENDPOINT + "/")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our own http URL
        assert answer.status == 200
        assert answer.read() == DATA
    # Without its signature the same URL is refused: the bucket is not public.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.split("?")[0], timeout=10)  # noqa: S310
    refused.value.close()
    assert refused.value.code == 403


def test_settings_alone_reach_the_bucket(
    s3_server: BaseClient, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client made from s3_environ's variables alone, as the app's store makes one."""
    for name, value in s3_environ(s3_bucket).items():
        monkeypatch.setenv(name, value)
    s3_server.put_object(Bucket=s3_bucket, Key="k", Body=b"v")
    assert boto3.client("s3").get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"v"
