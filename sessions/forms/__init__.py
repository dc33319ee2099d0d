from .search import DeadLetterFilterForm, SessionSearchForm
from .templates import TemplateUploadForm

__all__ = ["SessionSearchForm", "DeadLetterFilterForm", "TemplateUploadForm"]
