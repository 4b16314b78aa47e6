"""The object store for the tests: the shared S3-compatible server, a bucket per test, and the
settings that put a Hubbub server's files in that bucket.

The shared server (Versity Gateway from deploy/s3/s3.sh, which `make s3` starts on
127.0.0.1:19000, or HUBBUB_TEST_S3_ENDPOINT) serves every test that needs one: each takes a
bucket no other test uses. Its fixtures are registered for all tests by tests/conftest.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support import unavailable

S3_ENDPOINT = os.environ.get("HUBBUB_TEST_S3_ENDPOINT", "http://127.0.0.1:19000")
# deploy/s3/s3.sh's development keys.
S3_ACCESS_KEY = os.environ.get("HUBBUB_TEST_S3_ACCESS_KEY", "hubbub")
S3_SECRET_KEY = os.environ.get("HUBBUB_TEST_S3_SECRET_KEY", "hubbub-secret-key")
S3_REGION = "us-east-1"
# DeleteObjects takes at most this many keys per call.
DELETE_BATCH = 1000


def s3_client() -> BaseClient:
    """A boto3 client of the shared server.

    Signature version 4 for presigned URLs too: botocore presigns with version 2 unless told,
    and versitygw refuses those (400 InvalidRequest). One attempt and short timeouts, so that a
    missing server is found out at once rather than after botocore's retries.
    """
    return boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name=S3_REGION,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
        ),
    )


def bucket_name() -> str:
    """A valid bucket name (lowercase letters, digits and hyphens, 3 to 63 of them) no other
    test uses."""
    return f"hubbub-test-{uuid.uuid4().hex[:12]}"


def delete_bucket(client: BaseClient, bucket: str) -> None:
    """Delete every object in the bucket, then the bucket."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", [])]
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        answer = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        assert not answer.get("Errors"), f"could not empty {bucket}: {answer['Errors']}"
    client.delete_bucket(Bucket=bucket)


def s3_environ(bucket: str) -> dict[str, str]:
    """The settings of a Hubbub server whose files are in this bucket of the shared server: the
    store's URL, and the endpoint, keys and region in the variables boto3 reads by itself."""
    return {
        "HUBBUB_FILES_URL": f"s3://{bucket}",
        "AWS_ENDPOINT_URL": S3_ENDPOINT,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": S3_REGION,
    }


@pytest.fixture(scope="session")
def s3_server() -> BaseClient:
    """A client of the shared server; skipped (or failed, with HUBBUB_REQUIRE_SERVICES=1) when
    no server answers there with these keys."""
    client = s3_client()
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError) as error:
        unavailable(f"S3 at {S3_ENDPOINT} (make s3 starts one)", error)
    return client


@pytest.fixture
def s3_bucket(s3_server: BaseClient) -> Iterator[str]:
    """The name of a new, empty bucket of the test's own; emptied and deleted after the test."""
    bucket = bucket_name()
    s3_server.create_bucket(Bucket=bucket)
    yield bucket
    delete_bucket(s3_server, bucket)
