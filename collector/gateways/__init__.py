"""The gateways' broker identities: Mosquitto password-file logins and ACL lines.

:mod:`.passwd` and :mod:`.acl` are the two file formats (pure), :mod:`.files` changes them
under a lock and atomically, :mod:`.cli` is ``pelangi-collector gateway add|list|remove``.
"""
