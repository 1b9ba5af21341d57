"""The gateways' block of the broker's ACL file. Pure.

``pelangi-collector gateway add`` confines each gateway's broker user to its own subtree
on its own site. Those lines live in one block at the end of the ACL file, between two
marker comments, and only that block is ever rewritten; everything above it (the
collectors' user, patterns, comments) is kept byte for byte::

    # >>> pelangi gateways (managed by `pelangi-collector gateway add|remove`)
    # gateway bukit-pelangi/gw-kantor-bupati
    user gw-kantor-bupati
    topic readwrite pelangi/bukit-pelangi/gw-kantor-bupati/#
    # <<< pelangi gateways

At the end because a Mosquitto ``user`` line opens a section that runs to the next
``user`` line: a ``topic`` line placed after the block would silently belong to its last
gateway. A file with such lines is refused (:class:`AclError` says which line), never
rearranged, since moving them would hand them to whichever user precedes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

BEGIN: Final = "# >>> pelangi gateways (managed by `pelangi-collector gateway add|remove`)"
END: Final = "# <<< pelangi gateways"
_GATEWAY: Final = "# gateway "


class AclError(ValueError):
    """The ACL file's gateway block is broken, or lines follow it."""


@dataclass(frozen=True, slots=True, order=True)
class GatewayAccess:
    """One gateway's broker user and where it stands."""

    site: str
    gateway: str
    user: str

    def lines(self) -> list[str]:
        """Its lines in the block."""
        return [
            f"{_GATEWAY}{self.site}/{self.gateway}",
            f"user {self.user}",
            f"topic readwrite pelangi/{self.site}/{self.gateway}/#",
        ]


@dataclass(frozen=True, slots=True)
class AclFile:
    """The ACL file: the lines before the gateway block, and the gateways in it."""

    head: tuple[str, ...]
    gateways: tuple[GatewayAccess, ...] = ()

    @classmethod
    def parse(cls, text: str, source: str) -> AclFile:
        """Read ``text`` (from ``source``, for errors); raises :class:`AclError`."""
        lines = text.splitlines()
        if BEGIN not in lines:
            return cls(tuple(lines))
        start = lines.index(BEGIN)
        if END not in lines[start:]:
            raise AclError(f"{source}:{start + 1}: the gateway block has no end line {END!r}")
        end = start + lines[start:].index(END)
        for number, line in enumerate(lines[end + 1 :], end + 2):
            if line.strip() and not line.lstrip().startswith("#"):
                raise AclError(
                    f"{source}:{number}: {line!r} follows the gateway block, so Mosquitto "
                    "gives it to the block's last gateway; move it above the line "
                    f"{BEGIN!r}"
                )
        return cls(tuple(lines[:start]), _gateways(lines[start + 1 : end], source, start + 2))

    def find(self, site: str, gateway: str) -> GatewayAccess | None:
        """The entry of ``site/gateway`` (None: not in the block)."""
        return next((g for g in self.gateways if (g.site, g.gateway) == (site, gateway)), None)

    def with_gateway(self, access: GatewayAccess) -> AclFile:
        """This file with ``access`` in the block (replacing the same gateway's entry)."""
        others = [g for g in self.gateways if (g.site, g.gateway) != (access.site, access.gateway)]
        return AclFile(self.head, tuple(sorted([*others, access])))

    def without_gateway(self, site: str, gateway: str) -> AclFile:
        """This file without ``site/gateway``'s entry."""
        kept = tuple(g for g in self.gateways if (g.site, g.gateway) != (site, gateway))
        return AclFile(self.head, kept)

    def text(self) -> str:
        """The file's content: the head as it was, then the block."""
        head = list(self.head)
        while head and not head[-1].strip():
            head.pop()
        block = [BEGIN, *(line for g in self.gateways for line in g.lines()), END]
        return "\n".join([*head, "", *block]) + "\n" if head else "\n".join(block) + "\n"


def _gateways(lines: list[str], source: str, first: int) -> tuple[GatewayAccess, ...]:
    """The entries of the block's ``lines`` (the topic lines are derived, not read)."""
    found: list[GatewayAccess] = []
    where: tuple[str, str] | None = None
    for number, line in enumerate(lines, first):
        if line.startswith(_GATEWAY):
            site, slash, gateway = line.removeprefix(_GATEWAY).partition("/")
            if not slash:
                raise AclError(f"{source}:{number}: expected '# gateway SITE/ID', got {line!r}")
            where = (site, gateway)
        elif line.startswith("user "):
            if where is None:
                raise AclError(f"{source}:{number}: a user line without its '# gateway' line")
            found.append(GatewayAccess(*where, line.removeprefix("user ").strip()))
            where = None
    return tuple(found)


__all__ = ["BEGIN", "END", "AclError", "AclFile", "GatewayAccess"]
