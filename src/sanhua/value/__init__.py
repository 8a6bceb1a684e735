"""sanhua.value."""
