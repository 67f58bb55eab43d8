"""Finding out what providers serve: catalogs read without spending tokens, ids told apart
as dated snapshots or floating aliases, servers on this machine's loopback ports.

`modelaudit discover` renders it; `modelaudit init` writes a registry from it.
"""
