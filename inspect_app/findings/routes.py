"""Findings and their rectification lifecycle: GET /findings, GET /findings/{id}, POST events."""

from inspect_app.api import Blueprint

blp = Blueprint(
    "findings", __name__, url_prefix="/api/v1/findings", description="问题整改 Findings"
)
