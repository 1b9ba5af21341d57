"""Whether the kernel says the clock is NTP-synchronised: ``adjtimex(2)``, read only.

An NTP daemon (chrony, systemd-timesyncd, ntpd) disciplining the clock clears the
kernel's ``STA_UNSYNC`` flag; ``adjtimex`` then returns ``TIME_OK`` (or a leap-second
state) instead of ``TIME_ERROR``. With ``modes = 0`` the call changes nothing and needs no
privilege. Reported in the birth and the health reading; the decision to correct
readings rests on the measured offset (:mod:`edge_agent.timebase`), not on this flag.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

TIME_ERROR: Final = 5
"""adjtimex's return value when the clock is not synchronised (``<sys/timex.h>``)."""
STA_UNSYNC: Final = 0x0040
"""``status`` flag: the clock is not synchronised."""


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class _Timex(ctypes.Structure):
    """``struct timex`` of Linux (``<bits/timex.h>``), including its reserved tail."""

    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),  # the kernel writes the whole struct
    )


@functools.cache
def _adjtimex() -> Callable[..., int] | None:
    """The C library's ``adjtimex``, looked up once (``find_library`` runs ``ldconfig``)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        adjtimex = libc.adjtimex
    except (OSError, AttributeError):
        return None
    adjtimex.argtypes = (ctypes.POINTER(_Timex),)
    adjtimex.restype = ctypes.c_int
    return cast("Callable[..., int]", adjtimex)


def synchronized() -> bool | None:
    """True if NTP keeps the clock, False if the kernel says it is unsynchronised.

    None when it cannot tell (no libc ``adjtimex``, or the call fails); never raises.
    """
    adjtimex = _adjtimex()
    if adjtimex is None:
        return None
    timex = _Timex()  # modes 0: read only
    state = adjtimex(ctypes.byref(timex))
    if state == -1:
        log.debug("adjtimex failed: errno %d", ctypes.get_errno())
        return None
    return state != TIME_ERROR and not timex.status & STA_UNSYNC
