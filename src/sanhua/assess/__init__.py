"""sanhua.assess."""
