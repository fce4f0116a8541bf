"""hasslemap configuration: settings, sources and taxonomy, read and validated in one place."""

from config.base import ConfigError
from config.settings import Settings, load_settings
from config.sources import FieldMapping, FilesSourceConfig, IngestSettings, SourceConfig

__all__ = [
    "ConfigError",
    "FieldMapping",
    "FilesSourceConfig",
    "IngestSettings",
    "Settings",
    "SourceConfig",
    "load_settings",
]
