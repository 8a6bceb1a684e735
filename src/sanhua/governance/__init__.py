"""Governance: the run catalogue, the model registry and the drift monitor."""

from sanhua.governance.catalogue import Catalogue
from sanhua.governance.monitor import Monitor, MonitorResult, MonitorSettings
from sanhua.governance.registry import Registry

__all__ = ["Catalogue", "Monitor", "MonitorResult", "MonitorSettings", "Registry"]
