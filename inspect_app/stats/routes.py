"""Campaign statistics and spreadsheets: /campaigns/{code}/stats, stats.xlsx, findings.xlsx."""

from inspect_app.api import Blueprint

blp = Blueprint("stats", __name__, url_prefix="/api/v1/campaigns", description="统计 Statistics")
