"""``pelangi-agent init``: the wizard that writes a gateway's first configuration file.

Layers, from pure to IO:

- :mod:`.builder`: flag values and answers -> the config document, validated (pure);
- :mod:`.sniffer`: bytes from a port -> the reader's framing and baud rate (pure), with a
  small wrapper that reads a real port;
- :mod:`.ports`: the serial ports of this machine and their stable ``by-id`` names;
- :mod:`.prompts`: the interactive questions;
- :mod:`.command`: the typer command, and writing the file atomically.
"""
