"""The provider registry: `providers.yaml` schema and loader."""

from modelaudit.registry.loader import LoadedRegistry, discover, load

__all__ = ["LoadedRegistry", "discover", "load"]
