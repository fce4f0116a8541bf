"""hasslemap configuration: settings, sources and taxonomy, read and validated in one place."""

from config.settings import (
    ConfigError,
    FieldMapping,
    FilesSourceConfig,
    IngestSettings,
    Settings,
    SourceConfig,
    load_settings,
)

__all__ = [
    "ConfigError",
    "FieldMapping",
    "FilesSourceConfig",
    "IngestSettings",
    "Settings",
    "SourceConfig",
    "load_settings",
]
