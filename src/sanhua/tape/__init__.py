"""sanhua.tape."""
