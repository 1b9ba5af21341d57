"""Grafana dashboards for facility managers: generated, exported and pushed."""
