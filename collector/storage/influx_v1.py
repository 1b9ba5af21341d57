"""InfluxDB 1.x HTTP API backend: ``POST /write`` (line protocol) and ``/query``.

This is what Debian's ``influxdb`` package (1.6) speaks, and what InfluxDB 2.x offers
through its v1 compatibility API. One keep-alive connection (urllib3), no retries of its
own: every failure goes back to the pipeline, which decides (see :mod:`collector.errors`).

How answers map to errors:

======================================  ===============================================
answer                                  error
======================================  ===============================================
2xx                                     none: every line is stored
400 (parse error, type conflict, ...)   :class:`PointsRejected` with InfluxDB's message
413 (body too large)                    :class:`PointsRejected` (a split batch passes)
404 ``database not found``              :class:`DatabaseNotFound`: run ``setup-db``
401, 403                                :class:`StorageUnavailable`: check credentials
other status, refused, timeout, reset   :class:`StorageUnavailable`
======================================  ===============================================
"""

from __future__ import annotations

import gzip
import json
import logging
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from collector.errors import (
    DatabaseNotFound,
    PointsRejected,
    StorageError,
    StorageUnavailable,
)
from collector.storage import setup_v1

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.config import InfluxV1Settings, RetentionSettings

log = logging.getLogger(__name__)

_MAX_MESSAGE_CHARS: Final = 500
"""InfluxDB echoes the offending line in its errors; keep log lines readable."""


class InfluxV1Writer:
    """Writes line protocol to one InfluxDB 1.x database.

    Implements :class:`collector.storage.base.Backend`.
    """

    def __init__(self, settings: InfluxV1Settings) -> None:
        """Prepare the connection pool; nothing is sent until the first call."""
        self._settings = settings
        self._base = settings.url.rstrip("/")
        headers: dict[str, str] = {}
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else ""
            # Basic auth rather than u=/p= parameters: the password stays out of URLs and logs.
            headers |= urllib3.make_headers(basic_auth=f"{settings.username}:{password}")
        self._headers = headers
        self._pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=1,
            timeout=urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s),
            retries=False,
        )
        params = {"db": settings.database, "precision": "ns"}
        if settings.retention_policy is not None:
            params["rp"] = settings.retention_policy
        self._write_url = f"{self._base}/write?{urlencode(params)}"

    @property
    def target(self) -> str:
        """``InfluxDB at URL``, for log lines."""
        return f"InfluxDB at {self._settings.url}"

    def write(self, lines: Sequence[str]) -> None:
        """POST ``lines`` to ``/write`` (see :meth:`collector.storage.base.Writer.write`)."""
        body = "\n".join(lines).encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self._settings.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", self._write_url, body=body, headers=headers)
        if 200 <= response.status < 300:
            return
        message = _error_message(response)
        if response.status in {400, 413}:
            raise PointsRejected(message)
        if response.status == 404 and "database not found" in message:
            raise DatabaseNotFound(self._settings.url, self._settings.database)
        raise self._unavailable(response.status, message)

    def ping(self) -> str:
        """GET ``/ping``; return the server's version, e.g. ``1.6.7`` (see ``Writer.ping``)."""
        response = self._request("GET", f"{self._base}/ping")
        version = response.headers.get("X-Influxdb-Version")
        if response.status != 204 or version is None:
            raise StorageUnavailable(
                self._settings.url,
                f"/ping answered HTTP {response.status} without an InfluxDB version; "
                "is this the InfluxDB 1.x HTTP API?",
                answered=True,
            )
        return version

    def setup(self, retention: RetentionSettings) -> list[str]:
        """Create the database, retention policies and rollups (see :mod:`.setup_v1`).

        Returns one sentence per change; empty when everything was already in place.
        """
        database = self._settings.database
        done = []
        if database not in self.databases():
            self._query(f"CREATE DATABASE {quote_ident(database)}")
            done.append(f"created database {database!r}")
        raw = self._settings.retention_policy or setup_v1.RAW
        policies = self.retention_policies()
        cqs = self.continuous_queries()
        for statement in setup_v1.plan(database, raw, retention, policies, cqs):
            self._query(statement)
            done.append(statement.split(" ON ")[0].lower().replace('"', "'"))
        for line in done:
            log.info("%s: %s", self.target, line)
        return done

    def retention_policies(self) -> dict[str, setup_v1.RetentionPolicy]:
        """The database's retention policies, by name."""
        results = self._query(f"SHOW RETENTION POLICIES ON {quote_ident(self._settings.database)}")
        series = results[0].get("series", []) if results else []
        policies = {}
        for part in series:
            columns = part["columns"]
            for row in part.get("values") or []:
                item = dict(zip(columns, row, strict=True))
                policies[item["name"]] = setup_v1.RetentionPolicy(
                    item["name"], item["duration"], bool(item["default"])
                )
        return policies

    def continuous_queries(self) -> set[str]:
        """Names of the database's continuous queries."""
        results = self._query("SHOW CONTINUOUS QUERIES")
        series = results[0].get("series", []) if results else []
        return {
            row[0]
            for part in series
            if part.get("name") == self._settings.database
            for row in part.get("values") or []
        }

    def databases(self) -> list[str]:
        """Names of the databases the server shows us."""
        results = self._query("SHOW DATABASES")
        series = results[0].get("series", []) if results else []
        return [row[0] for part in series for row in part.get("values") or []]

    def close(self) -> None:
        """Close the pooled connection."""
        self._pool.clear()

    def select(self, statement: str) -> list[dict[str, Any]]:
        """Run an InfluxQL query on the configured database; every series' rows.

        Each row maps column names (tags of a ``GROUP BY`` too) to values; ``time`` is
        integer nanoseconds.

        Raises:
            StorageError: the server is unreachable or refused the query.
        """
        fields = {"db": self._settings.database, "epoch": "ns"}
        rows: list[dict[str, Any]] = []
        for result in self._query(statement, fields):
            for series in result.get("series", []):
                tags = series.get("tags") or {}
                columns = series["columns"]
                rows.extend(
                    {**tags, **dict(zip(columns, values, strict=True))}
                    for values in series.get("values") or []
                )
        return rows

    def measurement(self, name: str) -> str:
        """``name`` quoted for a ``FROM`` clause, in the configured retention policy."""
        policy = self._settings.retention_policy
        return quote_ident(name) if policy is None else f"{quote_ident(policy)}.{quote_ident(name)}"

    def _query(self, statement: str, fields: dict[str, str] | None = None) -> list[dict[str, Any]]:
        response = self._request(
            "POST",
            f"{self._base}/query",
            body=urlencode({"q": statement, **(fields or {})}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status != 200:
            raise self._unavailable(response.status, _error_message(response))
        results: list[dict[str, Any]] = json.loads(response.data).get("results", [])
        for result in results:
            if "error" in result:
                raise StorageError(f"{self.target} refused {statement!r}: {result['error']}")
        return results

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                method, url, body=body, headers={**self._headers, **(headers or {})}
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable(self._settings.url, self._describe(exc)) from None

    def _unavailable(self, status: int, message: str) -> StorageUnavailable:
        if status in {401, 403}:
            return StorageUnavailable(
                self._settings.url,
                f"credentials refused (HTTP {status}: {message}); "
                "check influxdb.username and influxdb.password",
                answered=True,
            )
        return StorageUnavailable(self._settings.url, f"HTTP {status}: {message}", answered=True)

    def _describe(self, exc: Exception) -> str:
        timeout = f"{self._settings.timeout_s:g} s"
        # NewConnectionError subclasses ConnectTimeoutError: test it first.
        if isinstance(exc, NewConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = getattr(cause, "strerror", None) or str(cause or exc)
            return f"cannot connect: {reason}"
        if isinstance(exc, ConnectTimeoutError):
            return f"no connection within {timeout}"
        if isinstance(exc, ReadTimeoutError):
            return f"no answer within {timeout}"
        if isinstance(exc, SSLError):
            return f"TLS failed: {exc}"
        if isinstance(exc, ProtocolError):
            return f"connection broken: {exc.args[-1] if exc.args else exc}"
        return str(exc)


def quote_ident(name: str) -> str:
    """Quote ``name`` as an InfluxQL identifier (any text becomes one identifier)."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _error_message(response: urllib3.BaseHTTPResponse) -> str:
    """InfluxDB's own explanation: the JSON ``error``, else the header, else the body."""
    text = response.data.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        text = parsed["error"]
    elif not text:
        text = response.headers.get("X-Influxdb-Error", "") or response.reason or "no reason given"
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 3] + "..."
    return text


__all__ = ["InfluxV1Writer", "quote_ident"]
