"""A draft checklist written as YAML in the layout of ``checklists/<code>.yaml``."""

from __future__ import annotations

import yaml

from .model import clause_citation
from .vocab import ITEM_KEYS as _ITEM_ORDER

# --------------------------------------------------------------------------- YAML


class _Flow(dict):
    """A mapping written on one line: ``{name: …, starts_on: …}``."""


class _FlowList(list):
    """A list written on one line: ``[加油站, 油库]``."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def dump_yaml(checklist: dict) -> str:
    """The checklist as YAML in the layout of ``checklists/<code>.yaml``."""
    campaign = dict(checklist["campaign"])
    campaign["stages"] = [_Flow(s) for s in campaign.get("stages", [])]
    campaign["departments"] = [_Flow(d) for d in campaign.get("departments", [])]
    if "deadline_days" in campaign:
        campaign["deadline_days"] = _Flow(campaign["deadline_days"])
    items = []
    for item in checklist["items"]:
        ordered = {key: item[key] for key in _ITEM_ORDER if key in item}
        ordered.update({k: v for k, v in item.items() if k not in ordered})
        if isinstance(ordered.get("site_types"), list):
            ordered["site_types"] = _FlowList(ordered["site_types"])
        items.append(ordered)
    return yaml.dump(
        {"campaign": campaign, "items": items},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=10**6,
        default_flow_style=False,
    )


def dump_draft(draft) -> str:
    """A draft as YAML: the fit check and what was left out first, as comments."""
    lines = [f"# {draft.summary.sentence}"]
    for part in draft.missing:
        lines.append(f"# 未找到：{part}")
    if draft.excluded:
        lines.append("# 未列入检查项（条款 — 原因 — 原文）：")
        for left in draft.excluded:
            text = left.text if len(left.text) <= 60 else left.text[:59] + "…"
            lines.append(f"#   {clause_citation(left.clause)} — {left.reason} — {text}")
    return "\n".join(lines) + "\n" + dump_yaml(draft.checklist())
