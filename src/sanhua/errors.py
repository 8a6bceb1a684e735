"""Typed errors raised by the library.

Each message says what failed, on which file, row, column or value (masked
when personal), what is allowed and what to do next. The CLI turns these into
a message on stderr and a non-zero exit code.
"""

from __future__ import annotations


class SanhuaError(Exception):
    """Base class of every error the library raises on purpose."""


class InputFileError(SanhuaError):
    """An input file or folder cannot be read at all."""


class ProfileError(SanhuaError):
    """A mapping profile is missing, malformed or inconsistent with the source."""


class InputDataError(SanhuaError, ValueError):
    """A table handed to a stage lacks a column or holds invalid values."""


class ConfigError(SanhuaError):
    """A configuration value is invalid."""


class PrivacyError(SanhuaError):
    """Personal data cannot be protected as required (for example, no pseudonym key)."""


class NotFittedError(SanhuaError):
    """A model or estimator was used before ``fit``."""


class ModelError(SanhuaError):
    """A model bundle is missing, incompatible or cannot be fitted."""


class CatalogueError(SanhuaError):
    """The run catalogue cannot be read or written, or a run id is unknown."""
