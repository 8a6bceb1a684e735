"""sanhua.segment."""
