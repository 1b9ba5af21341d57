"""Uploading dashboards (and the datasource) to a running Grafana over its HTTP API.

A few documented calls with urllib3, which the collector already uses, rather than a
Grafana client library: ``grafana-api`` has not been released since 2020, and
grafana-client 5.x pulls in niquests/urllib3-future, whose start-up hook replaces urllib3
in the whole environment and broke influxdb-client (``tests/test_dashboards_push.py``
proves both work side by side with this module).

The calls (Grafana HTTP API, 9.x-11.x):

=================================  =========================================================
``GET /api/health``                is this a Grafana, and is it up (no auth needed)
``POST /api/datasources``          create the datasource; ``409`` (it exists) ->
``PUT /api/datasources/uid/UID``   update it in place
``POST /api/folders``              create the folder (``409``/``412``: it exists already)
``POST /api/dashboards/db``        ``{"dashboard": ..., "overwrite": true, "folderUid": ...}``
=================================  =========================================================

Authentication: ``Authorization: Bearer <service account token>`` or basic auth.

Errors: Grafana out of reach (refused, timeout, not a Grafana) and a refused token (401)
stop the whole push (:class:`GrafanaUnreachable`, :class:`GrafanaAuthError`: nothing
else could succeed); a dashboard Grafana refuses (400 invalid, 403 no permission, 404
folder not found, 412 version conflict or same name in the folder) is reported in its
:class:`PushResult`, with Grafana's own message, and the others are still pushed.

Tree (under :class:`collector.errors.CollectorError`)::

    GrafanaError
    ├── GrafanaUnreachable   refused, timed out, or no Grafana at that URL
    ├── GrafanaAuthError     401: the token (or user/password) was refused
    └── GrafanaRefused       another error answer to a call the push cannot do without
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from collector.errors import CollectorError

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TIMEOUT_S: Final = 10.0
PUSH_MESSAGE: Final = "pelangi-collector dashboards push"
_REPLY_CHARS: Final = 300


class GrafanaError(CollectorError):
    """Base class of the push's errors (see the module docstring)."""


class GrafanaUnreachable(GrafanaError):  # noqa: N818 - reads as the condition it reports
    """No Grafana answered at the URL (connection refused, timeout, or something else)."""


class GrafanaAuthError(GrafanaError):
    """Grafana answered 401: the service account token or user/password was refused."""


class GrafanaRefused(GrafanaError):  # noqa: N818 - reads as the condition it reports
    """Grafana refused a call the push needs (the datasource, the folder)."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What happened to one dashboard file.

    Attributes:
        file: the file's name.
        title: the dashboard's title.
        uid: its uid.
        ok: Grafana stored it.
        status: Grafana's HTTP status.
        version: the version Grafana now holds (on success).
        url: where Grafana shows it (on success; relative to Grafana's root URL).
        detail: Grafana's message when it refused, in words.
    """

    file: str
    title: str
    uid: str
    ok: bool
    status: int
    version: int | None = None
    url: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: dict[str, Any]
    text: str


class GrafanaApi:
    """The handful of Grafana HTTP API calls the push makes, on one connection pool."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """Talk to the Grafana at ``url`` with a token (preferred) or basic auth."""
        self.url = url.rstrip("/")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif user is not None:
            basic = urllib3.make_headers(basic_auth=f"{user}:{password or ''}")
            self._headers["Authorization"] = basic["authorization"]
        self._http = urllib3.PoolManager(
            maxsize=1, retries=False, timeout=urllib3.Timeout(timeout_s)
        )

    def call(self, method: str, path: str, body: object | None = None) -> _Reply:
        """One request (401: :class:`GrafanaAuthError`; no answer: :class:`GrafanaUnreachable`)."""
        data = None if body is None else json.dumps(body).encode()
        try:
            response = self._http.request(method, self.url + path, body=data, headers=self._headers)
        except (NewConnectionError, MaxRetryError, Urllib3Timeout, ConnectionError) as exc:
            raise GrafanaUnreachable(
                f"cannot reach Grafana at {self.url}: {_reason(exc)}"
            ) from None
        except HTTPError as exc:
            raise GrafanaUnreachable(f"Grafana at {self.url} failed: {exc}") from None
        text = response.data.decode(errors="replace")
        try:
            parsed = json.loads(text) if text else {}
        except ValueError:
            parsed = {}
        reply = _Reply(response.status, parsed if isinstance(parsed, dict) else {}, text)
        if reply.status == 401:
            raise GrafanaAuthError(
                f"Grafana at {self.url} refused the token (or user/password): "
                f"HTTP 401 {_message(reply)}"
            )
        return reply

    def health(self) -> str:
        """``GET /api/health``; return Grafana's version.

        Raises:
            GrafanaUnreachable: no answer, or not a Grafana's answer.
        """
        reply = self.call("GET", "/api/health")
        if reply.status != 200 or "database" not in reply.body:
            raise GrafanaUnreachable(
                f"{self.url}/api/health answered HTTP {reply.status} "
                f"{_message(reply)!r}: is this Grafana's root URL?"
            )
        return str(reply.body.get("version", "unknown"))

    def close(self) -> None:
        """Close the connections."""
        self._http.clear()


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text


def _message(reply: _Reply) -> str:
    """Grafana's own words for an answer (its ``message``, else the body's start)."""
    message = reply.body.get("message") or reply.body.get("status") or reply.text
    return str(message).strip()[:_REPLY_CHARS]


def _folder_uid(title: str) -> str:
    """A stable uid for a folder title (Grafana uids: at most 40 of ``[a-zA-Z0-9_-]``)."""
    return (re.sub(r"[^a-zA-Z0-9_-]+", "-", title).strip("-").lower() or "pelangi")[:40]


def ensure_folder(api: GrafanaApi, title: str) -> str:
    """Create folder ``title`` unless it exists; return its uid.

    Raises:
        GrafanaRefused: Grafana refused to create it for another reason (e.g. 403).
    """
    uid = _folder_uid(title)
    reply = api.call("POST", "/api/folders", {"uid": uid, "title": title})
    if reply.status == 200:
        return str(reply.body.get("uid", uid))
    if reply.status in {409, 412}:  # same title, or same uid: it is there
        return uid
    raise GrafanaRefused(
        f"Grafana at {api.url} refused to create folder {title!r}: "
        f"HTTP {reply.status} {_message(reply)}"
    )


def push_datasource(api: GrafanaApi, datasource: Mapping[str, Any]) -> str:
    """Create the datasource, or update it in place when it exists; return its uid.

    ``datasource`` is the API's datasource JSON (``name``, ``uid``, ``type``, ``url``,
    ``jsonData``, ``secureJsonData``...), e.g. the entry of a provisioning file.

    Raises:
        GrafanaRefused: Grafana refused it.
    """
    uid = str(datasource.get("uid", ""))
    reply = api.call("POST", "/api/datasources", dict(datasource))
    if reply.status == 409 and uid:
        reply = api.call("PUT", f"/api/datasources/uid/{uid}", dict(datasource))
    if reply.status != 200:
        raise GrafanaRefused(
            f"Grafana at {api.url} refused datasource {datasource.get('name', uid)!r}: "
            f"HTTP {reply.status} {_message(reply)}"
        )
    return uid


def push_dashboard(
    api: GrafanaApi, name: str, dashboard: Mapping[str, Any], folder_uid: str | None
) -> PushResult:
    """``POST /api/dashboards/db`` of one dashboard (overwriting); never raises for a refusal."""
    body: dict[str, Any] = {
        "dashboard": {**dashboard, "id": None},  # Grafana matches by uid; an id is per instance
        "overwrite": True,
        "message": PUSH_MESSAGE,
    }
    if folder_uid is not None:
        body["folderUid"] = folder_uid
    title, uid = str(dashboard.get("title", "")), str(dashboard.get("uid", ""))
    reply = api.call("POST", "/api/dashboards/db", body)
    if reply.status == 200:
        version = reply.body.get("version")
        return PushResult(
            file=name,
            title=title,
            uid=str(reply.body.get("uid", uid)),
            ok=True,
            status=200,
            version=int(version) if isinstance(version, int) else None,
            url=reply.body.get("url"),
        )
    meaning = {
        400: "Grafana found the dashboard JSON invalid",
        403: "the token may not write dashboards (or this folder)",
        404: "the folder (or dashboard) was not found",
        412: "version conflict, or another dashboard of that name in the folder",
    }.get(reply.status, "refused")
    return PushResult(
        file=name,
        title=title,
        uid=uid,
        ok=False,
        status=reply.status,
        detail=f"{meaning}: HTTP {reply.status} {_message(reply)}",
    )


def push_dashboards(  # noqa: PLR0913 - keyword-only options of one command
    url: str,
    directory: Path,
    *,
    token: str | None = None,
    user: str | None = None,
    password: str | None = None,
    folder: str | None = None,
    datasource: Mapping[str, Any] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[PushResult]:
    """Upload every ``*.json`` dashboard of ``directory`` to the Grafana at ``url``.

    Args:
        url: Grafana's root URL, e.g. ``http://grafana.kantor:3000``.
        directory: where the dashboard JSON files are (``dashboards export DIR``'s output);
            a file may hold the dashboard itself or ``{"dashboard": ...}``.
        token: a service account token (``Authorization: Bearer``); preferred.
        user: basic-auth user when there is no token (e.g. ``admin``).
        password: basic-auth password.
        folder: the folder's title to put them in (created if missing); None: General.
        datasource: the datasource JSON to create or update first (None: leave it).
        timeout_s: per request.

    Returns:
        One :class:`PushResult` per file, in file-name order; refusals are in there,
        not raised, so one bad dashboard does not stop the others.

    Raises:
        GrafanaUnreachable: no Grafana at ``url`` (the message names the URL).
        GrafanaAuthError: the token or user/password was refused (401).
        GrafanaRefused: the datasource or the folder was refused.
        GrafanaError: a file is not JSON (the message names it).
    """
    files = sorted(Path(directory).glob("*.json"))
    dashboards = []
    for path in files:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise GrafanaError(f"{path}: not JSON ({exc}); nothing was pushed") from None
        dashboards.append((path.name, loaded.get("dashboard", loaded)))
    api = GrafanaApi(url, token=token, user=user, password=password, timeout_s=timeout_s)
    try:
        api.health()
        if datasource is not None:
            push_datasource(api, datasource)
        folder_uid = ensure_folder(api, folder) if folder else None
        return [push_dashboard(api, name, d, folder_uid) for name, d in dashboards]
    finally:
        api.close()


def describe(results: list[PushResult]) -> list[str]:
    """One line per dashboard, for the command's output."""
    return [
        f"{r.file}: pushed {r.title!r} (uid {r.uid}, version {r.version}) at {r.url}"
        if r.ok
        else f"{r.file}: NOT pushed {r.title!r} (uid {r.uid}): {r.detail}"
        for r in results
    ]


__all__ = [
    "GrafanaApi",
    "GrafanaAuthError",
    "GrafanaError",
    "GrafanaRefused",
    "GrafanaUnreachable",
    "PushResult",
    "describe",
    "ensure_folder",
    "push_dashboard",
    "push_dashboards",
    "push_datasource",
]
