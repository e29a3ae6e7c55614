"""The `s3` deploy target: any S3-compatible bucket through boto3 (`pip install 'blogengine[s3]'`).

Only files whose MD5 differs from the object's ETag are uploaded; each gets a content type and a
Cache-Control header. Objects the build no longer has are deleted only with `delete`."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blogengine.config import S3TargetConfig
from blogengine.deploy import Changes, plan_changes
from blogengine.errors import DeployError

UPLOAD_THREADS = 8
DELETE_BATCH = 1000   # the most DeleteObjects takes at once
# Pages, feeds and data change with every post: short caching. The rest is assets.
SHORT_CACHE_SUFFIXES = frozenset({".html", ".htm", ".xml", ".json", ".txt", ""})
TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css",
    ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
    ".xml": "application/xml", ".txt": "text/plain", ".md": "text/markdown",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
    ".pdf": "application/pdf", ".webmanifest": "application/manifest+json",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".wasm": "application/wasm",
}


def split_bucket(destination: str) -> tuple[str, str]:
    """`bucket`, `bucket/prefix` or `s3://bucket/prefix` (from --to) -> (bucket, prefix)."""
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    return bucket, prefix


def content_type(rel: str) -> str:
    """The Content-Type for a file of the site; text gets charset=utf-8 (the build writes UTF-8)."""
    suffix = Path(rel).suffix.lower()
    kind = TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "application/xml", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


class S3Target:
    """Upload what changed, by MD5 against each object's ETag."""

    name = "s3"

    def __init__(self, settings: S3TargetConfig, *, bucket: str, prefix: str, delete: bool) -> None:
        self.settings = settings
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.delete = delete
        self.client: Any = None

    def describe(self) -> str:
        where = f" at {self.settings.endpoint_url}" if self.settings.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def check(self) -> None:
        if not self.bucket:
            raise DeployError("the s3 target needs a bucket: set `bucket` in [deploy.s3] or pass --to")
        try:
            import boto3
            import botocore.config
            import botocore.exceptions
        except ImportError:
            raise DeployError("the s3 target needs boto3: pip install 'blogengine[s3]'") from None
        settings = self.settings
        try:
            session = boto3.session.Session(profile_name=settings.profile or None)
        except botocore.exceptions.ProfileNotFound:
            raise DeployError(f"no AWS profile named {settings.profile!r} ([deploy.s3] profile)") from None
        config = botocore.config.Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60,
            # S3-compatible services differ in the checksums they accept: send Content-MD5 only.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required")
        self.client = session.client("s3", endpoint_url=settings.endpoint_url or None,
                                     region_name=settings.region or None, config=config)

    def publish(self, site: Path, files: dict[str, Path], dry_run: bool) -> Changes:
        with _s3_errors(self):
            present = self._list()
            digests = {rel: _md5(path) for rel, path in files.items()}
            changes = plan_changes({rel: d.hex() for rel, d in digests.items()}, present,
                                   delete=self.delete)
            if dry_run:
                return changes
            uploads = [*changes.new, *changes.changed]
            # Assets before the pages that link to them, deletions last.
            for wave in ([r for r in uploads if not _short_cache(r)], [r for r in uploads if _short_cache(r)]):
                with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
                    list(pool.map(lambda rel: self._upload(rel, files[rel], digests[rel]), wave))
            self._delete(changes.removed)
        return changes

    def _list(self) -> dict[str, str]:
        """Objects under the prefix: relative key -> ETag (an MD5 hex for single-part uploads)."""
        found: dict[str, str] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                       Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key: str = item["Key"]
                if not key.endswith("/"):
                    found[key[len(self.prefix):]] = str(item.get("ETag", "")).strip('"')
        return found

    def _upload(self, rel: str, path: Path, digest: bytes) -> None:
        cache = self.settings.cache_control if _short_cache(rel) else self.settings.cache_control_assets
        extra = {"CacheControl": cache} if cache else {}
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + rel, Body=path.read_bytes(),
                               ContentType=content_type(rel),
                               ContentMD5=base64.b64encode(digest).decode("ascii"), **extra)

    def _delete(self, removed: tuple[str, ...]) -> None:
        for start in range(0, len(removed), DELETE_BATCH):
            batch = removed[start:start + DELETE_BATCH]
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": self.prefix + rel} for rel in batch], "Quiet": True})
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise DeployError(f"S3 could not delete {first.get('Key')} from bucket "
                                  f"{self.bucket!r}: {first.get('Code')}: {first.get('Message')}")


def _short_cache(rel: str) -> bool:
    return Path(rel).suffix.lower() in SHORT_CACHE_SUFFIXES


def _md5(path: Path) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)   # what S3 ETags are made of, not for security
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


@contextmanager
def _s3_errors(target: S3Target) -> Iterator[None]:
    """Turn boto3's exceptions into one-line DeployErrors that name the bucket."""
    import botocore.exceptions as errors

    bucket = target.bucket
    endpoint = target.settings.endpoint_url or "AWS"
    try:
        yield
    except errors.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "") or "")
        if code in ("NoSuchBucket", "404"):
            raise DeployError(f"S3 bucket {bucket!r} does not exist (at {endpoint})") from None
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                    "AllAccessDisabled"):
            raise DeployError(f"S3 refused access to bucket {bucket!r} ({code}: {message}); "
                              "check the credentials and the bucket's policy") from None
        raise DeployError(f"S3 error on bucket {bucket!r}: {code}: {message}") from None
    except errors.NoCredentialsError:
        raise DeployError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                          "or `profile` in [deploy.s3]") from None
    except (errors.EndpointConnectionError, errors.ConnectTimeoutError) as exc:
        raise DeployError(f"cannot reach S3 at {endpoint}: {exc}") from None
    except errors.ParamValidationError as exc:
        raise DeployError(f"S3 refused the request for bucket {bucket!r}: "
                          f"{' '.join(str(exc).split())}") from None
    except errors.BotoCoreError as exc:
        raise DeployError(f"S3 ({endpoint}): {exc}") from None
