"""Assignments, coverage and 回头看: /assignments, /campaigns/{code}/coverage, revisit draws."""

from flask import g

from inspect_app.api import Blueprint
from inspect_app.assignments import revisits, services
from inspect_app.assignments.schemas import (
    AssignInSchema,
    AssignmentListSchema,
    AssignmentQuerySchema,
    AssignmentSchema,
    AssignResultSchema,
    CoverageQuerySchema,
    CoverageSchema,
    DrawInSchema,
    DrawSchema,
    RelapseSchema,
    RevisitInSchema,
)
from inspect_app.auth.guard import protected

blp = Blueprint("assignments", __name__, url_prefix="/api/v1", description="检查任务 Assignments")


@blp.route("/assignments")
@blp.arguments(AssignmentQuerySchema, location="query")
@blp.response(200, AssignmentListSchema)
@blp.errors(404, 422)
@protected(blp)
def list_assignments(query):
    """Assignments: an inspector's own, a team lead's districts', all for the office.

    Open ones first, by due date.
    """
    return services.list_assignments(g.current_user, **query)


@blp.route("/assignments", methods=["POST"])
@blp.arguments(AssignInSchema)
@blp.response(201, AssignResultSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, "team_lead", "office")
def assign(data):
    """Assign sites (by id, or a district's sites of a type) to an inspector or a team.

    One assignment per site and stage: assigning again replaces the team, due date and
    department. A team lead assigns in their districts only (403 for another district).
    """
    return services.assign(g.current_user, data)


@blp.route("/assignments/<int:assignment_id>")
@blp.response(200, AssignmentSchema)
@blp.errors(404)
@protected(blp)
def get_assignment(assignment_id):
    """One assignment (an inspector sees only their own)."""
    return services.views([services.visible_assignment(g.current_user, assignment_id)])[0]


@blp.route("/assignments/<int:assignment_id>/revisit", methods=["POST"])
@blp.arguments(RevisitInSchema)
@blp.response(200, AssignmentSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp)
def record_revisit(data, assignment_id):
    """Record what a 回头看 revisit found; relapsed reopens the finding (team lead or office)."""
    return revisits.record_revisit(g.current_user, assignment_id, data)


@blp.route("/campaigns/<code>/coverage")
@blp.arguments(CoverageQuerySchema, location="query")
@blp.response(200, CoverageSchema)
@blp.errors(404, 422)
@protected(blp, "team_lead", "office")
def coverage(query, code):
    """Sites assigned in a stage, inspected within it and not (yet): by district, department."""
    return services.coverage(g.current_user, code, query["stage"])


@blp.route("/campaigns/<code>/revisit-draws", methods=["POST"])
@blp.arguments(DrawInSchema)
@blp.response(201, DrawSchema)
@blp.errors(400, 403, 404, 422)
@protected(blp, "team_lead", "office")
def draw_revisits(data, code):
    """Draw closed findings for 回头看: a share per district, every 重大隐患, from a stored seed.

    Each drawn finding becomes a revisit assignment.
    """
    return revisits.draw(g.current_user, code, data)


@blp.route("/revisit-draws/<int:draw_id>")
@blp.response(200, DrawSchema)
@blp.errors(404)
@protected(blp, "team_lead", "office")
def show_draw(draw_id):
    """A 回头看 draw as stored, checked again from its seed (``reproducible``)."""
    return revisits.show_draw(g.current_user, draw_id)


@blp.route("/campaigns/<code>/relapse")
@blp.response(200, RelapseSchema)
@blp.errors(404)
@protected(blp, "team_lead", "office")
def relapse(code):
    """Relapse rate (反弹率) of 回头看 revisits, by district and by the finding's department."""
    return revisits.relapse(g.current_user, code)
