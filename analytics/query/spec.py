"""The typed macro query (pydantic): measures × dimensions, filters and a time range on one template.

Names of fields are checked against a strict pattern here and against the template by the planner; every value
(filter values, time bounds, conclusion names) reaches SQL only as a bound parameter.
"""
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldName = str
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
DURATION = "duration"  # the session's duration column, usable wherever a numeric field is
Granularity = Literal["minute", "hour", "day", "week", "month"]
MAX_RANGE_MS = 400 * 86_400_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measure(_Strict):
    """sessions; distinct/sum/avg of a field; pNN of duration or a numeric field; share of a conclusion; completeness."""

    kind: Literal["sessions", "distinct", "sum", "avg", "percentile", "share", "completeness"]
    field: str | None = Field(default=None, pattern=NAME_PATTERN)
    p: Literal[50, 90, 95, 99] | None = None
    conclusion: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _arguments(self) -> "Measure":
        needs_field = self.kind in ("distinct", "sum", "avg", "percentile")
        if needs_field != (self.field is not None):
            raise ValueError(f"measure {self.kind!r} {'needs' if needs_field else 'takes no'} `field`")
        if (self.kind == "percentile") != (self.p is not None):
            raise ValueError("`p` (50, 90, 95 or 99) goes with a percentile measure, and only there")
        if (self.kind == "share") != bool(self.conclusion):
            raise ValueError("`conclusion` goes with a share measure, and only there")
        return self

    @property
    def name(self) -> str:
        """Column name of the measure in the result."""
        if self.kind == "percentile":
            return f"p{self.p}_{self.field}"
        if self.kind == "share":
            return f"share:{self.conclusion}"  # a result label only; SQL names the column by position
        return f"{self.kind}_{self.field}" if self.field else self.kind


class Dimension(_Strict):
    """A group-by: the start-time bucket, conclusion, severity, status, node reached, or a field's value."""

    kind: Literal["time", "conclusion", "severity", "status", "node", "field"]
    granularity: Granularity = "hour"
    field: str | None = Field(default=None, pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _arguments(self) -> "Dimension":
        if (self.kind == "field") != (self.field is not None):
            raise ValueError("`field` names the field of a field dimension, and only there")
        return self

    @property
    def name(self) -> str:
        return self.field if self.kind == "field" else self.kind


class Filter(_Strict):
    """Keep sessions whose conclusion/severity/status/node reached/field value is one of `values`."""

    kind: Literal["conclusion", "severity", "status", "node", "field"]
    field: str | None = Field(default=None, pattern=NAME_PATTERN)
    values: list[str] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _arguments(self) -> "Filter":
        if (self.kind == "field") != (self.field is not None):
            raise ValueError("`field` names the field of a field filter, and only there")
        if any(len(v) > 191 for v in self.values):
            raise ValueError("filter values are at most 191 characters")
        return self


class MacroQuery(_Strict):
    """One macro query: sessions of `template` starting in [since_ms, until_ms)."""

    template: str = Field(min_length=1, max_length=100)
    measures: list[Measure] = Field(min_length=1, max_length=12)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=4)
    filters: list[Filter] = Field(default_factory=list, max_length=12)
    since_ms: int = Field(ge=0)
    until_ms: int = Field(ge=0)
    time_zone: str = "UTC"
    source: Literal["auto", "rollups", "facts", "fields"] = "auto"  # facts: fact table if it holds the query, else fields

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "MacroQuery":
        if self.since_ms >= self.until_ms:
            raise ValueError("since_ms must be before until_ms")
        if self.until_ms - self.since_ms > MAX_RANGE_MS:
            raise ValueError("the time range is at most 400 days")
        if sum(d.kind == "time" for d in self.dimensions) > 1:
            raise ValueError("at most one time dimension")
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError("a dimension appears twice")
        if len({m.name for m in self.measures}) != len(self.measures):
            raise ValueError("a measure appears twice")
        if any(d.kind == "node" for d in self.dimensions) and any(m.kind != "sessions" for m in self.measures):
            raise ValueError("the node dimension counts sessions only (a session reaches several nodes)")
        return self

    @property
    def time_dimension(self) -> Dimension | None:
        return next((d for d in self.dimensions if d.kind == "time"), None)
