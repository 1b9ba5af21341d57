"""A private Net-SNMP ``snmpd`` on a loopback UDP port, standing in for a network switch.

It serves the machine's own interfaces (``lo``, ``eth0``...) through the real IF-MIB
ifTable/ifXTable, with a v2c community and a v3 authPriv (SHA + AES-128) user. Its
persistent state (engine boots, localised keys) stays in the work folder: nothing is
written to /var/lib/snmp.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from sandbox.processes import find_program
from sandbox.servers.base import LOOPBACK, Server, free_port

if TYPE_CHECKING:
    from pathlib import Path

COMMUNITY: Final = "pelangi-test"
V3_USER: Final = "pelangi"
V3_AUTH_KEY: Final = "auth-pass-123"
V3_PRIV_KEY: Final = "priv-pass-123"


class Snmpd(Server):
    """Net-SNMP agent on ``127.0.0.1:<udp port>`` (see the module docstring)."""

    name = "snmpd"

    def __init__(
        self, workdir: Path, *, port: int | None = None, sys_name: str = "sw-test"
    ) -> None:
        """Prepare an agent in ``workdir`` on UDP ``port`` (a free one if None)."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port("udp")
        self.sys_name = sys_name

    @property
    def conf_path(self) -> Path:
        """The generated snmpd.conf."""
        return self.workdir / "snmpd.conf"

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    def _prepare(self) -> None:
        (self.workdir / "persist").mkdir(exist_ok=True)
        self.conf_path.write_text(
            "\n".join(
                [
                    f"agentAddress udp:{self.host}:{self.port}",
                    f"rocommunity {COMMUNITY} {self.host}",
                    f'createUser {V3_USER} SHA "{V3_AUTH_KEY}" AES "{V3_PRIV_KEY}"',
                    f"rouser {V3_USER} priv",
                    f"sysName {self.sys_name}",
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def _env(self) -> dict[str, str]:
        # MIBS="": Debian has no IF-MIB module; without this snmpd prints hundreds of
        # "Cannot find module" lines. SNMP_PERSISTENT_DIR keeps its state in our folder.
        return {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(self.workdir / "persist")}

    def _argv(self) -> list[str]:
        # -f foreground, -Lo log to stdout, -C ignore the system's snmpd.conf files.
        return [find_program("snmpd"), "-f", "-Lo", "-C", "-c", str(self.conf_path)]

    def _is_ready(self) -> bool:
        return "NET-SNMP version" in self.log_text()
