"""Documented settings parameters: unit, source and assumption tag as data.

Every number in a settings model of the segment, value and strategy stages is
declared with :func:`param`, which stores its unit and its source (or the tag
``ASSUMPTION`` when no source backs it) in the field's JSON schema extra.
:func:`assumption_rows` walks a settings model, nested models included, and
returns those records for ``run.json``, so the run record lists every number
the valuation used and where it came from.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ASSUMPTION", "SOURCED", "POLICY", "param", "assumption_rows"]

ASSUMPTION = "ASSUMPTION"
"""Tag of a parameter that no published source backs: configure it per bank."""

SOURCED = "SOURCED"
"""Tag of a parameter whose default comes from the named source."""

POLICY = "POLICY"
"""Tag of a switch that states a bank's choice rather than a fact (for example, offer an action or not)."""


def param(
    default: Any, description: str, *, unit: str, source: str | None = None, policy: bool = False, **constraints: Any
) -> Any:
    """Declare a settings field with its unit and its source or assumption tag.

    Parameters
    ----------
    default : Any
        Default value.
    description : str
        Meaning of the parameter. ``ASSUMPTION`` is appended when ``source``
        is None, so the tag is visible in the JSON schema and the docs.
    unit : str
        Unit of the value, for example ``"fraction of EAD"`` or ``"months"``.
    source : str or None
        Published source of the default. None marks the default as an
        assumption unless ``policy`` is set.
    policy : bool
        The parameter is a bank's choice (tag ``POLICY``), not a fact.
    **constraints
        Pydantic constraints such as ``ge``, ``le``, ``gt``.

    Returns
    -------
    pydantic.fields.FieldInfo
        The field declaration.
    """
    if source:
        tag = SOURCED
    elif policy:
        tag = POLICY
    else:
        tag = ASSUMPTION
    text = f"{description} ASSUMPTION." if tag == ASSUMPTION else description
    extra = {"unit": unit, "source": source or "", "tag": tag}
    return Field(default, description=text, json_schema_extra=extra, **constraints)


def assumption_rows(model: BaseModel, prefix: str = "") -> list[dict[str, Any]]:
    """List every declared parameter of a settings model with its provenance.

    Parameters
    ----------
    model : pydantic.BaseModel
        Settings instance. Nested settings models are walked; their names are
        joined with dots (``litigate.fixed_cost_cny``).
    prefix : str
        Name prefix for nested models.

    Returns
    -------
    list of dict
        One ``{"name", "value", "unit", "source", "tag"}`` record per field
        declared with :func:`param`, with the instance's current value. A
        value that differs from the default keeps its default's source and
        gets the tag ``CONFIGURED``.
    """
    rows: list[dict[str, Any]] = []

    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        full_name = f"{prefix}{name}"

        if isinstance(value, BaseModel):
            rows.extend(assumption_rows(value, prefix=f"{full_name}."))
            continue

        extra = info.json_schema_extra
        if not isinstance(extra, dict) or "tag" not in extra:
            continue

        tag = str(extra["tag"])
        if value != info.default:
            tag = "CONFIGURED"

        rows.append(
            {
                "name": full_name,
                "value": value,
                "unit": str(extra["unit"]),
                "source": str(extra["source"]),
                "tag": tag,
            }
        )

    return rows
