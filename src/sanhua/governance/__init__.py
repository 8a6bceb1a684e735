"""sanhua.governance."""
