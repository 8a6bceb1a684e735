"""sanhua.features."""
