"""`modelaudit init`: a commented `providers.yaml` drafted from what this machine can
see (known vendors' keys, servers on loopback ports, OpenRouter's catalog) or from a
LiteLLM proxy's config. Every inference is written as a comment beside what it decided.
"""
