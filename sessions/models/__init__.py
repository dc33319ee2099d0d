from .ingest import DeadLetter, LateEvent
from .jobs import JobAttempt, JobRun
from .reports import CorrelationReport
from .sessions import Session, SessionConclusion, SessionField, SessionNode
from .templates import AnalysisTemplate, TemplateVersion

__all__ = [
    "AnalysisTemplate",
    "TemplateVersion",
    "Session",
    "SessionField",
    "SessionNode",
    "SessionConclusion",
    "DeadLetter",
    "LateEvent",
    "JobRun",
    "JobAttempt",
    "CorrelationReport",
]
