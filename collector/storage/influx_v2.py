"""The v2 write API (``POST /api/v2/write``) through influxdb-client: InfluxDB 2.x and 3.x.

One client (one keep-alive connection) per writer, synchronous writes, no retries of its
own: every failure goes back to the pipeline, which decides (see :mod:`collector.errors`).

======================================  ===============================================
answer                                  error
======================================  ===============================================
2xx                                     none: every line is stored
400, 413, 422                           :class:`PointsRejected` with the server's message
401, 403                                :class:`StorageUnavailable`: check the token
404 (bucket or org not found)           :class:`StorageUnavailable`: run ``setup-db``
other status, refused, timeout, reset   :class:`StorageUnavailable`
======================================  ===============================================

Beware (measured): influxdb-client's ``ping()`` answers True against an InfluxDB 1.x
server too, which has no v2 API. :meth:`InfluxV2Writer.ping` therefore writes an empty
body to ``/api/v2/write``, which a v2 server answers 204 (or 400 for the empty body) and a
1.x server 404.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Final

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.bucket_retention_rules import BucketRetentionRules
from influxdb_client.rest import ApiException

from collector.errors import PointsRejected, StorageError, StorageUnavailable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.config import InfluxV2Settings, RetentionSettings

log = logging.getLogger(__name__)

_MAX_MESSAGE_CHARS: Final = 500
_REJECTED: Final = frozenset({400, 413, 422})


class InfluxV2Writer:
    """Writes line protocol to one bucket through the v2 write API.

    Implements :class:`collector.storage.base.Backend`.
    """

    def __init__(self, settings: InfluxV2Settings) -> None:
        """Prepare the client; nothing is sent until the first call."""
        self._settings = settings
        token = settings.token.get_secret_value() if settings.token else ""
        timeout_ms = int(settings.timeout_s * 1000)
        self._client = InfluxDBClient(
            url=settings.url,
            token=token,
            org=settings.org,
            timeout=timeout_ms,
            enable_gzip=settings.gzip,
            connection_pool_maxsize=1,
            retries=False,
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    @property
    def target(self) -> str:
        """``InfluxDB (v2 API) at URL``, for log lines."""
        return f"InfluxDB (v2 API) at {self._settings.url}"

    def write(self, lines: Sequence[str]) -> None:
        """POST ``lines`` to ``/api/v2/write`` (see :meth:`collector.storage.base.Writer.write`)."""
        body = "\n".join(lines).encode()
        try:
            self._write_api.write(
                bucket=self._settings.bucket,
                org=self._settings.org,
                record=body,  # nanosecond precision: the API's default
            )
        except ApiException as exc:
            raise self._error(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(self._settings.url, _describe(exc)) from None

    def ping(self) -> str:
        """Check that the v2 write API answers; return the server's version if it says."""
        try:
            self._write_api.write(bucket=self._settings.bucket, org=self._settings.org, record=b"")
        except ApiException as exc:
            if exc.status not in _REJECTED:
                raise self._error(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(self._settings.url, _describe(exc)) from None
        try:
            return self._client.version()
        except (ApiException, urllib3.exceptions.HTTPError, OSError):
            return "unknown"

    def setup(self, retention: RetentionSettings) -> list[str]:
        """Create the bucket (kept ``retention.raw_days``) unless it exists.

        Downsampling on 2.x/3.x is the server's own business (tasks, or 3.x's processing
        engine); ``setup-db`` does not create it there.

        Needs the buckets API (InfluxDB 2.x, and 3.x's v2 compatibility where offered).

        Raises:
            StorageError: no buckets API, or the token may not create buckets.
        """
        buckets = self._client.buckets_api()
        try:
            found = buckets.find_bucket_by_name(self._settings.bucket)  # type: ignore[no-untyped-call]
            if found is not None:
                return []
            rule = BucketRetentionRules(  # type: ignore[no-untyped-call]
                type="expire", every_seconds=retention.raw_days * 86_400
            )
            buckets.create_bucket(
                bucket_name=self._settings.bucket,
                org=self._settings.org,
                retention_rules=rule,
            )
        except ApiException as exc:
            raise StorageError(
                f"{self.target} cannot create bucket {self._settings.bucket!r}: "
                f"HTTP {exc.status}: {_message(exc)} (create it with the server's own tools)"
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(self._settings.url, _describe(exc)) from None
        log.info("created bucket %r on %s", self._settings.bucket, self.target)
        return [f"created bucket {self._settings.bucket!r} (kept {retention.raw_days} days)"]

    def close(self) -> None:
        """Close the client and its connection."""
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]

    def _error(self, exc: ApiException) -> StorageError:
        status = exc.status or 0
        message = _message(exc)
        if status in _REJECTED:
            return PointsRejected(message)
        answered = status != 0  # no status: no HTTP answer came
        if status in {401, 403}:
            return StorageUnavailable(
                self._settings.url,
                f"token refused (HTTP {status}: {message}); check influxdb.token",
                answered=answered,
            )
        if status == 404:
            return StorageUnavailable(
                self._settings.url,
                f"HTTP 404: {message}; does bucket {self._settings.bucket!r} exist in org "
                f"{self._settings.org!r}? (`pelangi-collector setup-db` creates it)",
                answered=answered,
            )
        return StorageUnavailable(
            self._settings.url, f"HTTP {status}: {message}", answered=answered
        )


def _message(exc: ApiException) -> str:
    text = (exc.body or "") if isinstance(exc.body, str) else ""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        text = parsed["message"]
    text = text.strip() or str(exc.reason or "no reason given")
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 3] + "..."


def _describe(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    reason = getattr(cause, "strerror", None) or str(getattr(exc, "reason", None) or exc)
    return f"request failed: {reason}"


__all__ = ["InfluxV2Writer"]
