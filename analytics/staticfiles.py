"""A static-files finder for the plotly package's own plotly.min.js (served locally by WhiteNoise, no CDN).

Only that one file is exposed, at static/plotly/plotly.min.js; its version is the installed package's.
"""
from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC_PATH = "plotly/plotly.min.js"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(BUNDLE.parent))
        self.storage.prefix = "plotly"

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != STATIC_PATH:
            return [] if find_all else None
        return [str(BUNDLE)] if find_all else str(BUNDLE)

    def list(self, ignore_patterns):
        yield BUNDLE.name, self.storage
