"""Every model, imported in one place so Alembic and the app see the whole schema."""

from inspect_app.assignments.models import Assignment, AssignmentMember, RevisitDraw
from inspect_app.audit.models import AuditLog
from inspect_app.auth.models import ApiToken, LoginFailure, User
from inspect_app.campaigns.models import Campaign, ChecklistItem, ChecklistVersion
from inspect_app.documents.models import ReportJob
from inspect_app.escalation.models import Reminder, Webhook, WebhookDelivery
from inspect_app.findings.models import Enforcement, Finding, FindingPhoto, RectificationEvent
from inspect_app.inspections.models import Answer, Inspection
from inspect_app.openrosa.models import AppKey
from inspect_app.openrosa.submission_models import FormAttachment, FormSubmission
from inspect_app.photos.models import Photo, PhotoHolder
from inspect_app.sites.models import Site
from inspect_app.sync.models import ChangeCounter

__all__ = [
    "Answer",
    "ApiToken",
    "AppKey",
    "Assignment",
    "AssignmentMember",
    "AuditLog",
    "Campaign",
    "ChangeCounter",
    "ChecklistItem",
    "ChecklistVersion",
    "Enforcement",
    "Finding",
    "FindingPhoto",
    "FormAttachment",
    "FormSubmission",
    "Inspection",
    "LoginFailure",
    "Photo",
    "PhotoHolder",
    "RectificationEvent",
    "Reminder",
    "ReportJob",
    "RevisitDraw",
    "Site",
    "User",
    "Webhook",
    "WebhookDelivery",
]
