"""sanhua.demo."""
