"""sanhua.report."""
