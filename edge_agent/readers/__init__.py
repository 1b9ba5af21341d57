"""Card readers: settings, sans-IO frame decoders, the hold filter, and the reader service.

- :mod:`edge_agent.readers.settings`: one ``readers:`` item of the agent's configuration.
- :mod:`edge_agent.readers.em4100` (RDM6300 / ID-12LA frames) and
  :mod:`edge_agent.readers.textline` (decimal, hex, Wiegand-26 lines): pure decoders;
  :mod:`edge_agent.readers.decoders` picks one per reader ``kind``.
- :mod:`edge_agent.readers.hold`: a card held on the reader is one tap.
- :mod:`edge_agent.readers.reader`: one reader, bytes in, readings out (:class:`CardReader`).
- :mod:`edge_agent.readers.service`: every reader with its serial port thread
  (:mod:`edge_agent.serial`).
"""
