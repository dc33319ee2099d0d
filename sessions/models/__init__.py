from .ingest import DeadLetter, LateEvent
from .jobs import JobAttempt, JobRun, SinkOutage
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
    "SinkOutage",
    "DeadLetter",
    "LateEvent",
    "JobRun",
    "JobAttempt",
    "CorrelationReport",
    "SavedSearch",
]
