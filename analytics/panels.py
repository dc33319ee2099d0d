"""Dashboard panels: a typed spec (what to plot) made into a MacroQuery for the page's range and granularity."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .query.spec import Dimension, Filter, Granularity, MacroQuery, Measure

Chart = Literal["line", "bar", "stacked", "funnel"]


class PanelSpec(BaseModel):
    """One chart. A `time` dimension takes the page's granularity; the first other dimension splits series."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    chart: Chart = "line"
    measures: list[Measure] = Field(min_length=1, max_length=6)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=2)
    filters: list[Filter] = Field(default_factory=list, max_length=6)

    def query(self, template: str, since_ms: int, until_ms: int, granularity: Granularity, time_zone: str) -> MacroQuery:
        dims = [d.model_copy(update={"granularity": granularity}) if d.kind == "time" else d for d in self.dimensions]
        return MacroQuery(template=template, measures=self.measures, dimensions=dims, filters=self.filters,
                          since_ms=since_ms, until_ms=until_ms, time_zone=time_zone)


def default_panels(dimensions: list[str]) -> list[PanelSpec]:
    """The issue's panels: sessions and conclusions over time, breakdowns by each configured dimension,
    duration percentiles, completeness, and the behaviour-tree funnel."""
    time = {"kind": "time"}
    panels = [
        PanelSpec(title="Sessions by conclusion", chart="stacked", measures=[{"kind": "sessions"}],
                  dimensions=[time, {"kind": "conclusion"}]),
        PanelSpec(title="Duration percentiles (ms)", chart="line", dimensions=[time],
                  measures=[{"kind": "percentile", "field": "duration", "p": p} for p in (50, 90, 95, 99)]),
        PanelSpec(title="Completeness", chart="line", measures=[{"kind": "completeness"}], dimensions=[time]),
    ]
    panels += [PanelSpec(title=f"Sessions by {name} and conclusion", chart="stacked", measures=[{"kind": "sessions"}],
                         dimensions=[{"kind": "field", "field": name}, {"kind": "conclusion"}]) for name in dimensions]
    panels.append(PanelSpec(title="Funnel: sessions reaching each node", chart="funnel", measures=[{"kind": "sessions"}],
                            dimensions=[{"kind": "node"}]))
    return panels
