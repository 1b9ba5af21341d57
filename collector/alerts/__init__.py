"""The alert engine (issue 11): rules over the readings stream, notifications, their state.

Built in layers, like attendance: pure values (:mod:`.model`) and rules fed observations
and ``now``; the state database keeps alert state, the log of what was sent and the
outbox of what is still to send; SMTP and webhooks sit behind small channel interfaces.
"""
