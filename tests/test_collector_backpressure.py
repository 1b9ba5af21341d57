"""When deferred messages are taken back (pure policy; the real broker: test_collector_faults)."""

from __future__ import annotations

from collector.backpressure import Deferrals


def test_nothing_to_resume_without_deferrals_or_room() -> None:
    policy = Deferrals(min_interval_s=5)
    assert policy.resume(0.0, has_room=True) == 0
    assert policy.defer() is True
    assert policy.defer() is False
    assert policy.resume(1.0, has_room=False) == 0
    assert policy.count == 2


def test_resume_takes_all_deferred_at_most_once_per_interval() -> None:
    policy = Deferrals(min_interval_s=5)
    policy.defer()
    assert policy.resume(10.0, has_room=True) == 1
    policy.defer()
    policy.defer()
    assert policy.resume(14.0, has_room=True) == 0  # too soon after the last one
    assert policy.resume(15.0, has_room=True) == 2
    assert policy.count == 0


def test_a_new_connection_forgets_the_deferred_the_broker_sends_again() -> None:
    policy = Deferrals()
    policy.defer()
    policy.connected()
    assert policy.resume(100.0, has_room=True) == 0
    assert policy.defer() is True  # the first again: logged again
