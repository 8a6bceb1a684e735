"""sanhua.strategy."""
