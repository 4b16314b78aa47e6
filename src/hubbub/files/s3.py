"""The file store in an S3-compatible object store, through boto3."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from hubbub.files import check_key

# DeleteObjects takes at most this many keys per call.
DELETE_BATCH = 1000
MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Store:
    """Objects named prefix/key in one bucket. The bucket must exist: creating it, and its
    retention and access policies, are the operator's."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        # Path-style addressing: S3-compatible servers on a host name of their own (or an IP
        # address) seldom have a DNS name per bucket.
        self.client = client or boto3.client(
            "s3",
            config=Config(
                s3={"addressing_style": "path"},
                # Signature version 4: what S3 and every compatible server accept.
                signature_version="s3v4",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type
        )

    def open(self, key: str) -> IO[bytes]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                raise FileNotFoundError(key) from None
            raise
        return cast(IO[bytes], answer["Body"])

    def delete(self, keys: Iterable[str]) -> None:
        names = [self._name(key) for key in keys]
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start : start + DELETE_BATCH]
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
            )

    def keys(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"][len(self.prefix) :]
