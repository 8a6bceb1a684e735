"""Replace a run output file in one step, so a reader never sees half a file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sanhua.errors import InputFileError

__all__ = ["replace_file"]


def replace_file(target: Path, write: Callable[[Path], None]) -> Path:
    """Write ``target`` through a temporary file beside it, then rename it over ``target``.

    Parameters
    ----------
    target : Path
        File to create or replace; its folder must exist.
    write : callable
        Writes the whole content to the path it is given. The temporary
        file gets the user's umask (``tempfile.mkstemp`` would force 0600).

    Raises
    ------
    InputFileError
        The file cannot be written; the temporary file is removed.
    """
    temporary = target.with_name(f".{target.stem}-{uuid.uuid4().hex}{target.suffix}")
    try:
        write(temporary)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputFileError(
            f"Cannot write {target}: {error.strerror or error}. Check that the run folder is writable and the disk has space."
        ) from None
    return target
