"""An XForm as a form-filling app reads it: the downloaded form's own instance, binds,
controls, choices and actions, evaluated the way Collect evaluates them.

A person filling a form sees labels, not field names, so everything here is found by
what the form shows: ``choose("检查对象", "昆仑路加油站")`` picks the choice labelled so
in the question labelled so. The form's logic is the form's: which questions are shown
(``relevant``), which choices a list offers (its itemset's filter), what a choice sets
(``setvalue`` on ``xforms-value-changed``), what is computed (``calculate``, the
``jr:preload`` start/end times and instanceID), what must be answered before the form
may be finalized (``required``), and secondary instances, inline or attached as CSV
(``jr://file-csv/…``, from the manifest's media). The XPath is evaluated by elementpath;
the XForms functions these forms use (``instance``, ``if``, ``once``, ``uuid``) are
given to it under other names, since XPath 2 reserves ``instance`` and ``if``.
Not done, since no form made from a checklist needs it: absolute paths in expressions
are not made relative to the current repeat instance (only the targets of answers and
``setvalue`` are), and nothing beyond these functions.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import elementpath
from elementpath import XPath2Parser

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"
CONTROLS = ("input", "select1", "select", "upload", "trigger", "range")
_FUNCTION = re.compile(r"\b(instance|if|once|uuid)\s*\(")
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
_RENAMED = {"instance": "xf:secondary(", "if": "xf:choose(", "once": "xf:once(", "uuid": "xf:uuid("}


class FormError(AssertionError):
    """The form cannot be filled as asked (no such question or choice, a rule broken)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _plain(element: ET.Element) -> ET.Element:
    """A copy of an instance without namespaces on its elements (an instance's data is
    addressed by local names) and without the templates of its repeats."""
    out = ET.Element(_local(element.tag), {k: v for k, v in element.attrib.items() if "}" not in k})
    out.text = element.text
    for child in element:
        if child.get(f"{JR}template") is not None:
            continue
        out.append(_plain(child))
    return out


def _xpath(expression: str) -> str:
    """The expression with the XForms functions renamed outside its string literals."""
    out, last = [], 0
    for literal in _LITERAL.finditer(expression):
        out.append(
            _FUNCTION.sub(lambda m: _RENAMED[m.group(1)], expression[last : literal.start()])
        )
        out.append(literal.group())
        last = literal.end()
    out.append(_FUNCTION.sub(lambda m: _RENAMED[m.group(1)], expression[last:]))
    return "".join(out)


def csv_instance(data: bytes) -> ET.Element:
    """An attached CSV as the apps read it: ``<root><item><column>value…`` per row."""
    wrapper = ET.Element("instance")
    root = ET.SubElement(wrapper, "root")
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        item = ET.SubElement(root, "item")
        for column, value in row.items():
            ET.SubElement(item, column).text = value
    return wrapper


@dataclass
class Control:
    kind: str
    ref: str
    label: str
    hint: str
    repeat: str | None  # the nodeset of the innermost repeat around it
    itemset: str | None = None
    value_ref: str = "name"
    label_ref: str = "label"
    items: list[tuple[str, str]] = field(default_factory=list)  # inline <item>s
    actions: list[tuple[str, str]] = field(default_factory=list)  # setvalue (ref, value)


class XForm:
    """A downloaded form and its media (file name → bytes)."""

    def __init__(self, xml: bytes, media: dict[str, bytes] | None = None):
        self.xml = xml
        self.media = dict(media or {})
        document = ET.fromstring(xml)
        self.title = (document.findtext(f"{H}head/{H}title") or "").strip()
        model = document.find(f"{H}head/{XF}model")
        if model is None:
            raise FormError("the form has no model")
        instances = model.findall(f"{XF}instance")
        self.template = next(iter(instances[0]))
        self.form_id = self.template.get("id")
        self.version = self.template.get("version")
        self.secondary: dict[str, ET.Element] = {}
        for instance in instances[1:]:
            src = instance.get("src")
            if src:
                name = src.rsplit("/", 1)[-1]
                if name not in self.media:
                    raise FormError(f"the form needs {name}, which the manifest did not bring")
                self.secondary[instance.get("id")] = csv_instance(self.media[name])
            else:
                wrapper = ET.Element("instance")
                wrapper.append(_plain(next(iter(instance))))
                self.secondary[instance.get("id")] = wrapper
        self.binds = {bind.get("nodeset"): bind.attrib for bind in model.iter(f"{XF}bind")}
        self.prototypes: dict[str, ET.Element] = {}
        self._templates(self.template, "")
        self.controls: list[Control] = []
        self.groups: dict[str, str] = {}  # label → ref of each group and repeat
        self._walk(document.find(f"{H}body"), None)
        self.parser = XPath2Parser(namespaces={"xf": "urn:xforms-functions"})
        self.parser.external_function(
            lambda name: self._instance(name), name="secondary", prefix="xf"
        )
        self.parser.external_function(lambda c, a, b: a if c else b, name="choose", prefix="xf")
        self.parser.external_function(lambda value: value, name="once", prefix="xf")
        self.parser.external_function(lambda: str(uuid.uuid4()), name="uuid", prefix="xf")

    def _instance(self, name):
        if str(name) not in self.secondary:
            raise FormError(f"no instance {name!r}")
        return elementpath.get_node_tree(self.secondary[str(name)])

    def _templates(self, element: ET.Element, path: str) -> None:
        path = f"{path}/{_local(element.tag)}"
        if element.get(f"{JR}template") is not None:
            self.prototypes[path] = element
        for child in element:
            self._templates(child, path)

    def _walk(self, element: ET.Element, repeat: str | None) -> None:
        for child in element:
            kind = _local(child.tag)
            if kind in ("group", "repeat"):
                ref = child.get("nodeset") if kind == "repeat" else child.get("ref")
                label = (child.findtext(f"{XF}label") or "").strip()
                if label and ref:
                    self.groups.setdefault(label, ref)
                self._walk(child, ref if kind == "repeat" else repeat)
            elif kind in CONTROLS:
                control = Control(
                    kind,
                    child.get("ref"),
                    (child.findtext(f"{XF}label") or "").strip(),
                    (child.findtext(f"{XF}hint") or "").strip(),
                    repeat,
                )
                itemset = child.find(f"{XF}itemset")
                if itemset is not None:
                    control.itemset = itemset.get("nodeset")
                    control.value_ref = itemset.find(f"{XF}value").get("ref")
                    control.label_ref = itemset.find(f"{XF}label").get("ref")
                for item in child.findall(f"{XF}item"):
                    control.items.append(
                        (item.findtext(f"{XF}value"), (item.findtext(f"{XF}label") or "").strip())
                    )
                for action in child.findall(f"{XF}setvalue"):
                    if action.get("event") == "xforms-value-changed":
                        control.actions.append((action.get("ref"), action.get("value") or ""))
                self.controls.append(control)

    def start(self, **preloads) -> Filling:
        return Filling(self, **preloads)


def _path(element: ET.Element, parents: dict) -> str:
    steps = []
    while element is not None:
        steps.append(_local(element.tag))
        element = parents.get(element)
    return "/" + "/".join(reversed(steps))


class Filling:
    """One filled instance of a form, from its start to its finalized XML."""

    def __init__(self, form: XForm, now: dt.datetime | None = None):
        self.form = form
        self.data = _plain(form.template)
        self.files: dict[str, bytes] = {}
        self._now = now or dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
        # The repeat instances the form starts with (pyxform gives each repeat one): shown
        # empty, they are the first ones ``add`` hands out.
        parents = {c: p for p in self.data.iter() for c in p}
        self._pristine = [n for n in self.data.iter() if _path(n, parents) in form.prototypes]
        for node, bind in self._bound():
            preload = bind.get(f"{JR}preload")
            if preload == "uid" and not node.text:
                node.text = f"uuid:{uuid.uuid4()}"
            elif preload == "timestamp" and bind.get(f"{JR}preloadParams") == "start":
                node.text = _timestamp(self._now)
        self._recalculate()

    # What the person sees and does.

    @property
    def instance_id(self) -> str:
        node = self._only("/meta/instanceID")
        return node.text.removeprefix("uuid:")

    def questions(self, group: str, within: ET.Element | None = None) -> list[str]:
        """The labels of the questions shown in ``group`` (a group's or repeat's label)."""
        ref = self.form.groups.get(group)
        if ref is None:
            raise FormError(f"no group {group!r}")
        return [
            control.label
            for control in self.form.controls
            if control.ref.startswith(ref + "/") and self._relevant(self._target(control, within))
        ]

    def choices(self, label: str, within: ET.Element | None = None) -> list[str]:
        control = self._control(label, within)
        return [text for _, text in self._choices(control, within)]

    def choose(self, label: str, choice: str, within: ET.Element | None = None) -> None:
        """Pick a choice by its label, or by the start of it when only one starts so."""
        control = self._control(label, within)
        offered = self._choices(control, within)
        exact = [value for value, text in offered if text == choice]
        starting = [value for value, text in offered if text.startswith(choice)]
        picked = exact or (starting if len(starting) == 1 else [])
        if not picked:
            shown = "、".join(text for _, text in offered)
            raise FormError(f"{label}: no choice {choice!r} among {shown}")
        self._set(control, picked[0], within)

    def answer(self, label: str, value: str, within: ET.Element | None = None) -> None:
        control = self._control(label, within)
        if control.kind != "input":
            raise FormError(f"{label} is a {control.kind}, not a question to type into")
        self._set(control, value, within)

    def attach(self, label: str, filename: str, data: bytes, within=None) -> None:
        control = self._control(label, within)
        if control.kind != "upload":
            raise FormError(f"{label} takes no file")
        self.files[filename] = data
        self._set(control, filename, within)

    def add(self, group: str, within: ET.Element | None = None) -> ET.Element:
        """A new instance of the repeat labelled ``group``; returns it, to fill ``within``."""
        ref = self.form.groups.get(group)
        if ref is None or ref not in self.form.prototypes:
            raise FormError(f"no repeat {group!r}")
        parent = self._parent_for(ref, within)
        if not self._relevant(parent, extra=ref):
            raise FormError(f"{group} is not shown: nothing to add it to")
        name = ref.rsplit("/", 1)[-1]
        for node in self._pristine:
            if node in list(parent) and node.tag == name:
                self._pristine.remove(node)
                return node
        instance = _plain(self.form.prototypes[ref])
        siblings = list(parent)
        position = max((i + 1 for i, c in enumerate(siblings) if c.tag == name), default=None)
        if position is None:
            position = self._template_position(ref, parent)
        parent.insert(position, instance)
        self._recalculate()
        return instance

    def finalize(self, *, deprecated: str | None = None) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The XML Collect saves and sends, and its files; refused as Collect refuses a
        form with a required question unanswered. ``deprecated``: the instanceID this
        one edits (a new instanceID is made for the edit, as the apps do)."""
        for node, bind in self._bound():
            if bind.get(f"{JR}preload") == "timestamp" and bind.get(f"{JR}preloadParams") == "end":
                node.text = _timestamp(dt.datetime.now(self._now.tzinfo))
        self._recalculate()
        missing = []
        for node, bind in self._bound():
            required = bind.get("required")
            if not required or (node.text or "").strip() or not self._relevant(node):
                continue
            if self._true(required, node):
                label = next((c.label for c in self.form.controls if c.ref == bind["nodeset"]), "")
                missing.append(f"{label}：{bind.get(f'{JR}requiredMsg') or '必填'}")
        if missing:
            raise FormError("；".join(dict.fromkeys(missing)))
        parents = {c: p for p in self.data.iter() for c in p}
        hidden = {
            id(node)
            for node in self.data.iter()
            if node is not self.data and len(node) == 0 and not self._relevant_path(node, parents)
        }
        out = copy.deepcopy(self.data)
        for live, copied in zip(self.data.iter(), out.iter(), strict=True):
            if id(live) in hidden:
                copied.text = None  # a question not shown keeps no answer
        if deprecated:
            meta = out.find("meta")
            meta.find("instanceID").text = f"uuid:{uuid.uuid4()}"
            ET.SubElement(meta, "deprecatedID").text = f"uuid:{deprecated}"
        out.set("xmlns:jr", "http://openrosa.org/javarosa")
        out.set("xmlns:orx", "http://openrosa.org/xforms")
        xml = b"<?xml version='1.0' encoding='UTF-8' ?>" + ET.tostring(out, encoding="utf-8")
        named = {node.text for node in out.iter() if node.text in self.files}
        return xml, [(name, data) for name, data in self.files.items() if name in named]

    # The form's logic.

    def _evaluate(self, expression: str, item: ET.Element | None = None):
        context = elementpath.XPathContext(ET.ElementTree(self.data), item=item)
        return self.form.parser.parse(_xpath(expression)).evaluate(context)

    def _true(self, expression: str, item=None) -> bool:
        # A node-set is true when not empty, a boolean or string as itself: bool() of each.
        return bool(self._evaluate(expression, item))

    def _bound(self):
        """(node, bind) for every node of the instance a bind names."""
        for nodeset, bind in self.form.binds.items():
            for node in self._select(nodeset):
                yield node, bind

    def _select(self, path: str) -> list[ET.Element]:
        steps = path.strip().split("/")[2:]  # "/data/a/b" → a, b
        nodes = [self.data]
        for step in steps:
            nodes = [c for n in nodes for c in n if c.tag == step]
        return nodes

    def _only(self, tail: str) -> ET.Element:
        nodes = self._select(f"/{self.data.tag}{tail}")
        if len(nodes) != 1:
            raise FormError(f"{tail}: {len(nodes)} nodes")
        return nodes[0]

    def _relevant(self, node: ET.Element, extra: str | None = None) -> bool:
        parents = {c: p for p in self.data.iter() for c in p}
        if extra is not None:  # a repeat not yet added: its own rule, in its parent
            bind = self.form.binds.get(extra, {})
            if bind.get("relevant") and not self._true(bind["relevant"], node):
                return False
        return self._relevant_path(node, parents)

    def _relevant_path(self, node: ET.Element, parents: dict) -> bool:
        """A node is shown when its bind's ``relevant`` and every ancestor's hold."""
        while node is not None:
            bind = self.form.binds.get(_path(node, parents), {})
            rule = bind.get("relevant")
            if rule and not self._true(rule, node):
                return False
            node = parents.get(node)
        return True

    def _recalculate(self) -> None:
        for node, bind in self._bound():
            calculation = bind.get("calculate")
            if not calculation:
                continue
            if calculation.strip().startswith("once(") and (node.text or ""):
                continue
            value = self._evaluate(calculation, node)
            node.text = _text(value)

    def _control(self, label: str, within) -> Control:
        found = [c for c in self.form.controls if c.label == label]
        if within is None:
            found = [c for c in found if c.repeat is None or c.repeat in self.form.prototypes]
        if not found:
            raise FormError(f"no question {label!r}")
        if len(found) > 1:
            raise FormError(f"{len(found)} questions labelled {label!r}")
        control = found[0]
        if not self._relevant(self._target(control, within)):
            raise FormError(f"{label} is not shown")
        return control

    def _target(self, control: Control, within: ET.Element | None) -> ET.Element:
        if control.repeat is None:
            nodes = self._select(control.ref)
        else:
            if within is None:
                raise FormError(f"{control.label} is in a repeat: say which instance of it")
            nodes = self._within(control.ref, control.repeat, within)
        if len(nodes) != 1:
            raise FormError(f"{control.label}: {len(nodes)} nodes at {control.ref}")
        return nodes[0]

    def _within(self, ref: str, repeat: str, within: ET.Element) -> list[ET.Element]:
        """``ref`` inside the repeat instance ``within`` (or an instance nested in it)."""
        parents = {c: p for p in self.data.iter() for c in p}
        node, base = within, _path(within, parents)
        while node is not None and not ref.startswith(base + "/"):
            node = parents.get(node)
            base = _path(node, parents) if node is not None else ""
        if node is None:
            raise FormError(f"{ref} is not inside {base}")
        nodes = [node]
        for step in ref[len(base) + 1 :].split("/"):
            nodes = [c for n in nodes for c in n if c.tag == step]
        return nodes

    def _parent_for(self, ref: str, within: ET.Element | None) -> ET.Element:
        parent_ref = ref.rsplit("/", 1)[0]
        if within is None:
            nodes = self._select(parent_ref)
        else:
            parents = {c: p for p in self.data.iter() for c in p}
            nodes = [within] if _path(within, parents) == parent_ref else []
        if len(nodes) != 1:
            raise FormError(f"{ref}: no single place to add it")
        return nodes[0]

    def _template_position(self, ref: str, parent: ET.Element) -> int:
        """Where the form's own instance puts the repeat among its parent's children."""
        names = [_local(c.tag) for c in self._template_node(ref.rsplit("/", 1)[0])]
        name = ref.rsplit("/", 1)[-1]
        before = set(names[: names.index(name)])
        return sum(1 for c in parent if c.tag in before)

    def _template_node(self, path: str) -> ET.Element:
        node = self.form.template
        for step in path.split("/")[2:]:
            node = next(c for c in node if _local(c.tag) == step)
        return node

    def _choices(self, control: Control, within) -> list[tuple[str, str]]:
        if control.itemset is None:
            return control.items
        target = self._target(control, within)
        out = []
        for node in self._evaluate(control.itemset, target):
            element = node.elem
            value = element.findtext(control.value_ref) or ""
            text = element.findtext(control.label_ref) or ""
            out.append((value, text))
        return out

    def _set(self, control: Control, value: str, within) -> None:
        target = self._target(control, within)
        changed = target.text != value
        target.text = value
        if changed:
            for ref, expression in control.actions:
                repeat_node = target if control.repeat else None
                nodes = (
                    self._within(ref, control.repeat, repeat_node)
                    if repeat_node is not None and control.repeat and ref.startswith(control.repeat)
                    else self._select(ref)
                )
                for node in nodes:
                    node.text = _text(self._evaluate(expression, node))
        self._recalculate()


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
        value = getattr(value, "elem", value)
        if isinstance(value, ET.Element):
            return "".join(value.itertext())
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _timestamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")
