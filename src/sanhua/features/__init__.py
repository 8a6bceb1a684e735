"""Point-in-time features per loan from the canonical tables."""

from sanhua.features.build import FeatureSet, build_features

__all__ = ["FeatureSet", "build_features"]
