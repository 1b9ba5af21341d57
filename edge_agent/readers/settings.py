"""Configuration of one card reader (an item of ``readers:`` in the agent's YAML file)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from edge_agent.readers.textline import TextFormat
from edge_agent.serial.port import BaudRate
from pelangi.configfile import StrictModel
from pelangi.payloads import Ident


class ReaderSettings(StrictModel):
    """One RFID reader on a serial port."""

    id: Ident = Field(description="device id, unique on this gateway (used in topics and tags)")
    kind: Literal["rdm6300", "id12la", "text"] = Field(
        default="rdm6300",
        description=(
            "frame format: rdm6300 = EM4100 125 kHz (STX .. ETX); id12la = the same with CR LF "
            "before ETX; text = one card per line as decimal or hex text (see text_format)"
        ),
    )
    text_format: TextFormat = Field(
        default="auto",
        description="for kind text: decimal10, hex8, wiegand26, or auto (chosen per line)",
    )
    port: str = Field(min_length=1, description="serial device, e.g. /dev/ttyUSB0")
    baudrate: BaudRate = 9600
    hold_gap_ms: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=500,
        description="a card seen again within this gap is still the same tap (held on the reader)",
    )
    reopen_max_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="longest wait between attempts to reopen a vanished port"
    )
