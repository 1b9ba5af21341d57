"""Alert notifications: settings, grouping, rendering, and the email and webhook channels.

Layers, each usable alone:

- :mod:`.settings`: ``alerts.notify`` in the configuration (SMTP, recipients per audience
  and site, language, webhook, grouping and digest timings, hints);
- :mod:`.grouping`: transitions in, grouped :class:`~collector.alerts.model.Notification`
  values out (pure, ``now`` passed in; exportable state);
- :mod:`.render` (+ ``templates/``, :mod:`.phrases`, :mod:`.views`, :mod:`.digest`):
  subject, plain text and HTML in Bahasa Indonesia or English; :func:`check_templates`
  for ``validate``;
- :mod:`.email`, :mod:`.webhook`: the channels (IO), with a result per recipient and
  retryable vs permanent errors (:mod:`.errors`).

Import from the modules themselves: this package imports nothing, because loading the
collector's configuration reaches :mod:`.settings`, and a ``pelangi-collector run`` start
should not pay for Jinja2, smtplib and the channels it never uses.
"""
