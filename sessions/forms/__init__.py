from .search import DeadLetterFilterForm, SavedSearchForm, SessionSearchForm
from .templates import TemplateUploadForm

__all__ = ["SessionSearchForm", "DeadLetterFilterForm", "SavedSearchForm", "TemplateUploadForm"]
