"""Filling in an assessment: the editor, check your answers, the family's PDF, history."""

from ui.form.editor import AssessmentEditor, ErrorSummary, SectionPage
from ui.form.history import HistoryView

__all__ = ["AssessmentEditor", "ErrorSummary", "HistoryView", "SectionPage"]
