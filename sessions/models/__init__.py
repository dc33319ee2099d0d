from .ingest import DeadLetter, LateEvent
from .reports import CorrelationReport
from .saved import SavedSearch
from .sessions import Session, SessionConclusion, SessionField, SessionNode, SessionRevision, SessionRuleError
from .templates import AnalysisTemplate, TemplateVersion

__all__ = [
    "AnalysisTemplate",
    "TemplateVersion",
    "Session",
    "SessionField",
    "SessionNode",
    "SessionConclusion",
    "SessionRuleError",
    "SessionRevision",
    "DeadLetter",
    "LateEvent",
    "CorrelationReport",
    "SavedSearch",
]
