"""The technician's part of ``make demo``: the checks a field technician runs over SSH.

With the agent running: ``pelangi-agent doctor`` (every check with ✓ / ! / ✗ and the fix;
warnings are expected here, e.g. a broker without logins), ``pelangi-agent snmp-check`` on
the demo's switch, and on the broker's side ``pelangi-collector gateway add`` making a
gateway's login and ACL lines (into the demo's own copies of the files, not a real broker's).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sandbox.demo.devices import SWITCH
from sandbox.demo.output import say, step
from sandbox.demo.stage import SITE

if TYPE_CHECKING:
    from sandbox.deployment import Deployment

REFERENCE_ACL: Final = Path(__file__).resolve().parents[2] / "config" / "mosquitto" / "pelangi.acl"
DOCTOR_WARNINGS: Final = 1
"""doctor's status when only warnings were found."""


def show_toolkit(deployment: Deployment) -> None:
    """doctor, snmp-check and gateway add, their output printed."""
    step("The technician checks the gateway: pelangi-agent doctor")
    _show(deployment.agent_command("doctor", ok=(0, DOCTOR_WARNINGS)))

    step(f"One poll of the switch, as a table: pelangi-agent snmp-check {SWITCH}")
    _show(deployment.agent_command("snmp-check", SWITCH))

    step("A new gateway's broker login and ACL lines: pelangi-collector gateway add")
    work = deployment.workdir
    acl = work / "pelangi.acl"
    shutil.copyfile(REFERENCE_ACL, acl)
    files = ["--password-file", str(work / "pelangi.passwd"), "--acl-file", str(acl)]
    broker = f"{deployment.broker.host}:{deployment.broker.port}"
    added = deployment.tool(
        "pelangi-collector", "gateway", "add", f"{SITE}/gw-aula", "--broker", broker, *files
    )
    _show(added)
    say(f"    {acl.name} now ends with:")
    _show("\n".join(acl.read_text(encoding="utf-8").splitlines()[-5:]))


def _show(output: str) -> None:
    for line in output.splitlines():
        say(f"    {line}")
