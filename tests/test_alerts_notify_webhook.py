"""The webhook channel against a real local HTTP server: delivered, retryable, refused."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from collector.alerts.notify import samples
from collector.alerts.notify.errors import DeliveryRefused, DeliveryUnavailable
from collector.alerts.notify.render import Renderer
from collector.alerts.notify.settings import WebhookSettings
from collector.alerts.notify.webhook import WebhookChannel
from sandbox.servers import LOOPBACK

if TYPE_CHECKING:
    from sandbox.servers import Webhook

pytestmark = pytest.mark.servers

TOKEN = "Bearer rahasia"  # noqa: S105 - the test gateway's own


def channel_for(server: Webhook, timeout_s: float = 2.0) -> WebhookChannel:
    return WebhookChannel(
        WebhookSettings(
            url=server.url("/hooks/pelangi"),
            headers={"Authorization": SecretStr(TOKEN)},
            timeout_s=timeout_s,
        )
    )


def test_posts_the_notification_as_json_with_its_headers(webhook_server: Webhook) -> None:
    notification = samples.notifications()[1]
    rendered = Renderer("en").render(notification)

    delivery = channel_for(webhook_server).send(notification, rendered)

    assert delivery.status == 200
    [request] = webhook_server.wait_for_requests(1)
    assert request["path"] == "/hooks/pelangi"
    assert request["headers"]["Authorization"] == TOKEN
    assert request["headers"]["Idempotency-Key"] == notification.id
    body = request["body"]
    assert body["id"] == notification.id
    assert body["kind"] == "firing"
    assert body["subject"] == rendered.subject
    assert body["text"] == rendered.text
    assert [a["key"]["device"] for a in body["alerts"]] == ["pintu-utama", "sw-core"]
    assert body["alerts"][1]["key"]["item"] == "ge-0/0/1"
    assert body["alerts"][0]["since"] == "2026-12-02T19:02:00+00:00"


def test_a_500_is_retryable_and_the_same_notification_goes_through_once_it_recovers(
    webhook_server: Webhook,
) -> None:
    notification = samples.notifications()[0]
    rendered = Renderer("id").render(notification)
    channel = channel_for(webhook_server)
    webhook_server.status = 500

    with pytest.raises(DeliveryUnavailable) as caught:
        channel.send(notification, rendered)
    assert caught.value.retryable
    assert caught.value.answered
    assert "HTTP 500" in caught.value.reason

    webhook_server.status = 200
    assert channel.send(notification, rendered).status == 200
    statuses = [r["status"] for r in webhook_server.wait_for_requests(2)]
    assert statuses == [500, 200]


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (408, True), (404, False)])
def test_client_errors_are_permanent_except_throttling_and_timeouts(
    webhook_server: Webhook,
    status: int,
    retryable: bool,  # noqa: FBT001 - a parameter
) -> None:
    webhook_server.status = status
    notification = samples.notifications()[0]
    expected = DeliveryUnavailable if retryable else DeliveryRefused
    with pytest.raises(expected) as caught:
        channel_for(webhook_server).send(notification, Renderer().render(notification))
    assert caught.value.retryable is retryable
    assert f"HTTP {status}" in str(caught.value)


def test_a_stopped_gateway_is_retryable_without_an_answer(webhook_server: Webhook) -> None:
    channel = channel_for(webhook_server)
    webhook_server.stop()
    notification = samples.notifications()[0]
    with pytest.raises(DeliveryUnavailable) as caught:
        channel.send(notification, Renderer().render(notification))
    assert not caught.value.answered
    assert "connection refused" in caught.value.reason
    assert TOKEN not in str(caught.value)


def test_a_gateway_that_never_answers_times_out_as_retryable() -> None:
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        port = silent.getsockname()[1]
        channel = WebhookChannel(WebhookSettings(url=f"http://{LOOPBACK}:{port}/h", timeout_s=0.3))
        notification = samples.notifications()[0]
        with pytest.raises(DeliveryUnavailable) as caught:
            channel.send(notification, Renderer().render(notification))
    assert "no answer within the timeout" in caught.value.reason
