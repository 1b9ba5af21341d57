"""SNMP switch polling: counter-rate math (sans-IO) and the poller."""
