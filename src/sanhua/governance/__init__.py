"""Governance: the run catalogue (and, later, the model registry and monitoring)."""

from sanhua.governance.catalogue import Catalogue

__all__ = ["Catalogue"]
