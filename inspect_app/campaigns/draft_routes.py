"""Checklist drafts (检查清单草稿): upload a notice, edit the draft, compare, publish.

Only the campaign office (专项办); team leads and inspectors get 403. Publishing makes a
new immutable checklist version (phones see it in /sync and by a new ETag).
"""

from flask import Response, g, request

from inspect_app.api import Blueprint
from inspect_app.auth.guard import protected
from inspect_app.campaigns import draft_services as drafts
from inspect_app.campaigns.draft_schemas import (
    NOTICE,
    DraftDiffSchema,
    DraftItemAddSchema,
    DraftItemEditSchema,
    DraftItemSchema,
    DraftMergeSchema,
    DraftMoveSchema,
    DraftPublishSchema,
    DraftSchema,
    DraftUploadQuerySchema,
    PublishedSchema,
    VersionYamlQuerySchema,
)
from inspect_app.campaigns.notice_pdf import notice_text

OFFICE = "office"

blp = Blueprint(
    "checklist_drafts",
    __name__,
    url_prefix="/api/v1",
    description="检查清单草稿 Checklist drafts (campaign office only)",
)


def draft_view(draft) -> dict:
    meta = draft.campaign
    return {
        "id": draft.id,
        "status": draft.status,
        "published_version": draft.published_version,
        "source_name": draft.source_name,
        "prefix": draft.prefix,
        "campaign": {
            "code": draft.campaign_code,
            "name": meta.get("name"),
            "document_no": meta.get("document_no"),
            "issued_on": drafts.day(meta.get("issued_on")),
            "lead_office": meta.get("lead_office"),
            "stages": drafts.checklist_data(draft)["campaign"]["stages"],
        },
        "summary": draft.summary,
        "excluded": draft.excluded,
        "items": [item_view(i) for i in draft.items],
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
    }


def item_view(item) -> dict:
    return {
        "id": item.id,
        "position": item.position + 1,
        "code": item.code,
        "section": item.section,
        "clause": item.clause,
        "clause_label": item.clause_label,
        "text": item.text,
        "basis": item.basis,
        "lead_department": item.lead_department,
        "site_types": item.site_types,
        "answer_type": item.answer_type,
        "default_severity": item.default_severity,
        "photo_required": item.photo_required,
    }


@blp.route("/checklist-drafts", methods=["POST"])
@blp.arguments(DraftUploadQuerySchema, location="query")
@blp.response(201, DraftSchema)
@blp.doc(
    requestBody={
        "required": True,
        "description": "The notice as received: its PDF (text read by pdftotext) or its text",
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary", **NOTICE}},
            "text/plain": {"schema": {"type": "string", **NOTICE}},
        },
    }
)
@blp.errors(400, 403, 413, 415, 422)
@protected(blp, OFFICE)
def upload_notice(query):
    """Make a draft checklist from a notice (PDF or text); 422 when it gives none."""
    text = notice_text(request.get_data(cache=True), (request.mimetype or "").lower())
    draft = drafts.create_draft(
        g.current_user, text, query["campaign"], query["prefix"], query["source_name"]
    )
    return draft_view(draft)


@blp.route("/checklist-drafts/<int:draft_id>")
@blp.response(200, DraftSchema)
@blp.errors(403, 404)
@protected(blp, OFFICE)
def get_draft(draft_id):
    """A draft with its items, each beside its notice clause, and what was left out."""
    return draft_view(drafts.get_draft(g.current_user, draft_id))


@blp.route("/checklist-drafts/<int:draft_id>/items", methods=["POST"])
@blp.arguments(DraftItemAddSchema)
@blp.response(201, DraftItemSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def add_item(data, draft_id):
    """Add an item (after the item ``after``, or at the end) with the next unused code."""
    draft = drafts.get_draft(g.current_user, draft_id, for_update=True)
    return item_view(drafts.add_item(g.current_user, draft, data))


@blp.route("/checklist-drafts/<int:draft_id>/items/<int:item_id>", methods=["PATCH"])
@blp.arguments(DraftItemEditSchema)
@blp.response(200, DraftItemSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def edit_item(data, draft_id, item_id):
    """Change an item's text, lead department, site types, severity or photo requirement."""
    draft = drafts.get_draft(g.current_user, draft_id, for_update=True)
    return item_view(drafts.update_item(g.current_user, draft, item_id, data))


@blp.route("/checklist-drafts/<int:draft_id>/items/<int:item_id>", methods=["DELETE"])
@blp.response(204)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def delete_item(draft_id, item_id):
    """Remove an item from the draft."""
    draft = drafts.get_draft(g.current_user, draft_id, for_update=True)
    drafts.delete_item(g.current_user, draft, item_id)
    return ""


@blp.route("/checklist-drafts/<int:draft_id>/items/<int:item_id>/move", methods=["POST"])
@blp.arguments(DraftMoveSchema)
@blp.response(200, DraftSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def move_item(data, draft_id, item_id):
    """Put an item at another place in the draft."""
    draft = drafts.get_draft(g.current_user, draft_id, for_update=True)
    drafts.move_item(g.current_user, draft, item_id, data["position"])
    return draft_view(draft)


@blp.route("/checklist-drafts/<int:draft_id>/merge", methods=["POST"])
@blp.arguments(DraftMergeSchema)
@blp.response(200, DraftItemSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def merge_items(data, draft_id):
    """Fold the second item into the first (one question, both clauses as basis)."""
    draft = drafts.get_draft(g.current_user, draft_id, for_update=True)
    first, second = data["items"]
    return item_view(drafts.merge_items(g.current_user, draft, first, second))


@blp.route("/checklist-drafts/<int:draft_id>/diff")
@blp.response(200, DraftDiffSchema)
@blp.errors(403, 404)
@protected(blp, OFFICE)
def draft_diff(draft_id):
    """What publishing would change against the current version: added, changed, withdrawn."""
    return drafts.draft_diff(g.current_user, drafts.get_draft(g.current_user, draft_id))


@blp.route("/checklist-drafts/<int:draft_id>/publish", methods=["POST"])
@blp.arguments(DraftPublishSchema)
@blp.response(201, PublishedSchema)
@blp.errors(400, 403, 404, 409, 422)
@protected(blp, OFFICE)
def publish(data, draft_id):
    """Publish the draft as the campaign's next checklist version (409 if the base moved on)."""
    draft = drafts.get_draft(g.current_user, draft_id)
    return drafts.publish_draft(g.current_user, draft, data["base_version"], request.remote_addr)


# A checklist file: the mapping of checklists/<code>.yaml (read by checklist_file).
YAML_RESPONSE = {
    "content": {
        "application/yaml": {
            "schema": {
                "type": "object",
                "required": ["campaign", "items"],
                "properties": {
                    "campaign": {"type": "object"},
                    "items": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    }
}


@blp.route("/checklist-drafts/<int:draft_id>/checklist.yaml")
@blp.doc(responses={"200": {"description": "The draft as a checklist file", **YAML_RESPONSE}})
@blp.errors(403, 404)
@protected(blp, OFFICE)
def draft_yaml(draft_id):
    """The draft as a checklist file (the format ``inspect-app checklists load`` reads)."""
    draft = drafts.get_draft(g.current_user, draft_id)
    return yaml_file(drafts.draft_yaml(draft), f"{draft.campaign_code}-draft-{draft.id}.yaml")


@blp.route("/campaigns/<code>/checklist.yaml")
@blp.arguments(VersionYamlQuerySchema, location="query")
@blp.doc(
    responses={"200": {"description": "A published version as a checklist file", **YAML_RESPONSE}}
)
@blp.errors(403, 404, 422)
@protected(blp, OFFICE)
def version_yaml(query, code):
    """A published checklist version (the current one by default) as a checklist file."""
    text, number = drafts.version_yaml(g.current_user, code, query["version"])
    return yaml_file(text, f"{code}-v{number}.yaml")


def yaml_file(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blp.route("/campaigns/<code>/checklist-drafts", methods=["POST"])
@blp.response(201, DraftSchema)
@blp.errors(403, 404)
@protected(blp, OFFICE)
def draft_from_version(code):
    """A draft holding the campaign's current version, to change it without a new notice."""
    return draft_view(drafts.create_draft_from_version(g.current_user, code))
