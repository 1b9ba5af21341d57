"""The field technician's commands of ``pelangi-agent`` (install, check, troubleshoot)."""
