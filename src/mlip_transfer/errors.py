"""Errors shared across stages, defined below every module that raises or catches them (imports flow one way)."""


class ConfigError(ValueError):
    """A configuration that cannot run as written (the message names the config key)."""
