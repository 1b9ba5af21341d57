"""Subjects and plain-text + HTML bodies of alert notifications, from Jinja2 templates.

The templates (``templates/``) only lay out what this module prepares: every alert becomes
a flat view (title, severity, where it is, since when in WITA, current value, what to check
first), so a template needs no logic beyond loops. HTML templates (``*.html.j2``) are
autoescaped: a device named ``<script>`` shows as text. Every template renders with
``StrictUndefined``: a misspelt name is an error, which :func:`check_templates` finds at
``validate`` time by rendering each template in each language with sample values.

Subjects are one line whatever the alerts' names hold (a CR or LF in a header would be
refused by the email library, or worse, read as another header).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import jinja2

from collector.alerts.model import Notification, NotificationKind, Severity
from collector.alerts.notify import samples
from collector.alerts.notify.digest import DIGEST_PARTS, Digest, digest_view
from collector.alerts.notify.errors import TemplateError
from collector.alerts.notify.formats import one_line, wita
from collector.alerts.notify.phrases import PHRASES
from collector.alerts.notify.views import alert_view

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from collector.alerts.notify.settings import Language

_SEVERITY_ORDER: Final = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for any channel: one-line subject, plain text, HTML."""

    subject: str
    text: str
    html: str


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("collector.alerts.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class Renderer:
    """Renders notifications in one language (templates loaded once, on first use)."""

    def __init__(self, language: Language = "id", hints: Mapping[str, str] | None = None) -> None:
        """Render in ``language``; ``hints`` replace the built-in "check first" texts per rule."""
        self.language: Language = language
        self.hints = dict(hints or {})
        self._env = _environment()

    def render_template(self, name: str, context: Mapping[str, Any]) -> str:
        """Render ``templates/<name>``: ``context``, the phrasebook ``t`` and ``language``.

        Raises:
            TemplateError: the template is missing, broken or names an unknown value.
        """
        try:
            template = self._env.get_template(name)
            return template.render(
                {"t": PHRASES[self.language], "language": self.language, **context}
            )
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(name, f"line {exc.lineno}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise TemplateError(name, str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - anything a template does wrong is its problem
            raise TemplateError(name, f"{type(exc).__name__}: {exc}") from None

    def _message(self, stem: str, subject: str, context: Mapping[str, Any]) -> RenderedMessage:
        return RenderedMessage(
            subject=one_line(subject),
            text=self.render_template(f"{stem}.txt.j2", context),
            html=self.render_template(f"{stem}.html.j2", context),
        )

    def render(self, notification: Notification) -> RenderedMessage:
        """Subject and bodies of any notification (a digest's from the values it carries).

        Raises:
            TemplateError: see :meth:`render_template`; a digest notification without
                its digest values.
        """
        if notification.kind is NotificationKind.TEST:
            return self.render_test()
        if notification.kind is NotificationKind.DIGEST:
            if notification.digest is None:
                raise TemplateError("digest", f"notification {notification.id} has no digest")
            return self.render_digest(notification.digest)
        words = PHRASES[self.language]
        alerts = [alert_view(a, self.language, self.hints) for a in notification.alerts]
        context = {
            "kind": notification.kind.value,
            "label": words[notification.kind.value],
            "intro": words[f"intro_{notification.kind.value}"],
            "alerts": alerts,
            "group": notification.group,
            "created_at": wita(notification.created_at, self.language),
        }
        return self._message("notification", self._subject(notification, alerts), context)

    def _subject(self, notification: Notification, alerts: list[dict[str, Any]]) -> str:
        words = PHRASES[self.language]
        label = words[notification.kind.value]
        worst = max((a.severity for a in notification.alerts), key=_SEVERITY_ORDER.index)
        critical = words["severity_critical"].upper()
        tag = f"[{label}]" if worst is not Severity.CRITICAL else f"[{label} · {critical}]"
        if len(alerts) == 1:
            only = alerts[0]
            return f"{tag} {only['title']}: {only['where_line']}"
        count_words = words[f"alerts_{notification.kind.value}"]
        return f"{tag} {len(alerts)} {count_words}: {notification.group}"

    def render_test(self) -> RenderedMessage:
        """The test message of ``alerts test --to``."""
        words = PHRASES[self.language]
        return self._message("test", words["test_subject"], {})

    def render_digest(self, digest: Digest) -> RenderedMessage:
        """The daily digest (see :mod:`.digest`)."""
        context = digest_view(digest, self.language, self.hints)
        subject = f"{PHRASES[self.language]['digest_subject']} {context['day']}"
        return self._message("digest", subject, context)


def check_templates(languages: Iterable[Language] = ("id", "en")) -> list[str]:
    """Render every template in every language with sample values; return the problems.

    For ``validate``: a broken template, or a phrase missing in one language, shows up
    here, one line each (``template notification.html.j2: 'dict object' has no attribute
    ...``), and not when the first alert of the night is rendered. Empty: all is well.
    """
    problems: list[str] = []
    for language in languages:
        renderer = Renderer(language)
        jobs: list[Callable[[], RenderedMessage]] = [
            *(partial(renderer.render, n) for n in samples.notifications()),
            renderer.render_test,
            partial(renderer.render_digest, samples.digest()),
            partial(renderer.render_digest, samples.digest(unavailable=DIGEST_PARTS)),
        ]
        for job in jobs:
            try:
                job()
            except TemplateError as exc:
                problems.append(f"[{language}] {exc}")
    # A broken shared part breaks every message that includes it: say so once.
    return list(dict.fromkeys(problems))
