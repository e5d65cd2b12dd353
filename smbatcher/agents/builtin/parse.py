"""Reading a design document back: ``parse_design`` and its tolerant rules.

The document may be this agent's own (``design.make_design``) or another
agent's markdown: ``- key: value`` lines, ``**Key**: value``, palette tables,
level-2 headings that are page sections ("## Hero"), bare lists and prose. The
alias tables map other agents' words onto this agent's fields; what the
document lacks is filled with defaults and listed under ``defaults`` so the
renderer can replace it with the domain's own choices.
"""

from __future__ import annotations

import re

from .design import SCALAR_FIELDS
from .look import CORNERS, DEFAULT_FONTS, LAYOUTS
from .palette import PALETTE_ROLES, fill_palette, relative_luminance

# "- key: value", also "**Key**: value" and "- **Key:** value" from other agents.
_KEY_VALUE = re.compile(r"^(?:[-*+]\s+)?[*_`]*([A-Za-z][A-Za-z0-9 _-]{0,30}?)[*_`]*\s*:[*_`]*\s*(.*?)$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+(.*)$")
_SECTION_FIELD_ALIASES = {
    "headline": "heading", "title": "heading", "subheading": "text", "subtitle": "text", "body": "text",
    "copy": "text", "description": "text", "intro": "text", "paragraph": "text", "cta": "button",
    "button text": "button", "button label": "button", "author": "cite", "name": "cite", "q": "item",
    "question": "item", "feature": "item", "service": "item", "subheadline": "text", "lead": "text",
    "tagline": "text", "testimonial": "quote",
}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_PALETTE_ALIASES = {
    "bg": "background", "base": "background", "page": "background",
    "card": "surface", "panel": "surface", "surface alt": "surface",
    "foreground": "text", "fg": "text", "ink": "text", "body text": "text", "text colour": "text",
    "text color": "text", "muted text": "muted", "secondary text": "muted", "subtle": "muted",
    "brand": "primary", "main": "primary", "on primary": "on-primary", "button text": "on-primary",
    "secondary": "accent", "highlight": "accent", "line": "border", "divider": "border",
}


def _section_key(title: str) -> str | None:
    lowered = title.lower()
    for needle, key in (
        ("hero", "hero"), ("feature", "features"), ("service", "features"), ("about", "about"),
        ("testimonial", "testimonial"), ("quote", "testimonial"), ("faq", "faq"), ("question", "faq"),
        ("call to action", "cta"), ("cta", "cta"), ("contact", "cta"), ("footer", "footer"),
    ):
        if needle in lowered:
            return key
    return None


def _plain(text: str) -> str:
    """Markdown emphasis and code marks removed: ``**Primary**`` -> ``Primary``."""
    return re.sub(r"[*_`]+", "", text).strip()


def _hex6(value: str) -> str | None:
    match = _HEX.search(value)
    if not match:
        return None
    digits = match.group(0)[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def parse_design(text: str) -> dict:
    """Read a design document back into the dict ``build_design`` produces.

    Tolerant by design: the file may come from another agent. Unknown lines
    are ignored; a missing name, tagline, palette role or font falls back to a
    default; missing sections are simply absent (``render_site`` fills them
    from the domain). It never raises on odd input.
    """
    design: dict = {"name": "", "tagline": "", "palette": {}, "fonts": {}, "sections": {}}
    title_name = ""
    part = ""
    section: dict | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level, title = len(heading.group(1)), _plain(heading.group(2))
            if level == 1:
                title_name = title_name or _name_from_title(title)
                continue
            # A level-2 heading may itself be a page section ("## Hero") in a
            # design from another agent; "## Palette" and the like are parts.
            key = _section_key(title)
            if level == 2:
                part = title.lower()
            section = design["sections"].setdefault(key, {}) if key else None
            continue
        if not line:
            continue
        if line.startswith("|"):
            _read_palette_row(line, design["palette"])
            continue
        match = _KEY_VALUE.match(line)
        if not match:
            if section is not None:
                _add_loose_line(section, line)
            continue
        key, value = _plain(match.group(1)).lower(), match.group(2).strip().strip("*`").strip()
        if not value:
            continue
        colour = _hex6(value)
        role = _PALETTE_ALIASES.get(key, key)
        if section is not None:
            key = _SECTION_FIELD_ALIASES.get(key, key)
            if key == "item":
                section.setdefault("items", []).append(_item(value))
            elif key in SCALAR_FIELDS:
                section.setdefault(key, value)
            elif _LIST_ITEM.match(line):
                # "- Pastries: flaky and fresh" is an item, not a field.
                section.setdefault("items", []).append({"title": _plain(match.group(1)), "text": value})
        elif colour and role in PALETTE_ROLES:
            design["palette"].setdefault(role, colour)
        elif part.startswith(("typograph", "type", "font")) and key in ("heading", "body", "pairing"):
            design["fonts"].setdefault(key, value)
        elif key in ("name", "tagline", "domain", "kind", "keywords", "layout", "mood", "corners"):
            design[key] = design.get(key) or value
    # An explicit "name:" field beats the document title.
    design["name"] = design["name"] or title_name
    return _with_defaults(design)


def _read_palette_row(line: str, palette: dict[str, str]) -> None:
    """``| Primary | #aa3300 |``: a palette written as a table."""
    cells = [_plain(cell).lower() for cell in line.strip("|").split("|")]
    colour = _hex6(line)
    role = _PALETTE_ALIASES.get(cells[0], cells[0]) if cells else ""
    if colour and role in PALETTE_ROLES:
        palette.setdefault(role, colour)


def _name_from_title(title: str) -> str:
    """``Lotus — design`` -> ``Lotus``; also ``Design: Lotus``, ``Lotus design document``."""
    title = re.sub(r"^design(?:\s+document|\s+doc)?(?:\s+for\s+|\s*[:—–-]\s*)", "", title, flags=re.I)
    title = re.split(r"\s+[—–-]+\s+", title, maxsplit=1)[0]
    return re.sub(r"\s+design(?: document| doc)?$", "", title, flags=re.I).strip()


def _add_loose_line(section: dict, line: str) -> None:
    """Prose or a bare list item in another agent's section: keep it as copy."""
    listed = _LIST_ITEM.match(line)
    if listed:
        section.setdefault("items", []).append(_item(_plain(listed.group(1))))
    elif not line.startswith(("|", ">", "```", "<")) and "text" not in section:
        section["text"] = _plain(line)


def _item(value: str) -> dict[str, str]:
    """``Title — text`` (or ``Title: text``) as ``{"title", "text"}``."""
    parts = re.split(r"\s+[—–]\s+|\s+-\s+", value, maxsplit=1)
    if len(parts) == 1:
        parts = value.split(": ", 1) if ": " in value else [value, ""]
    return {"title": parts[0].strip(), "text": parts[1].strip()}


def _with_defaults(design: dict) -> dict:
    """Fill what the document left out; list under ``defaults`` what was guessed.

    ``render_site`` replaces the guessed parts with the domain's own choices,
    so a foreign design without a palette still gets a distinct one.
    """
    defaults = []
    if not design["palette"]:
        defaults.append("palette")
    design["palette"] = fill_palette(design["palette"])
    if not design["fonts"]:
        defaults.append("fonts")
    for key, value in DEFAULT_FONTS.items():
        design["fonts"].setdefault(key, value)
    for key, allowed, fallback in (("layout", LAYOUTS, LAYOUTS[0]), ("corners", tuple(CORNERS), "soft")):
        if design.get(key) not in allowed:
            design[key] = fallback
            defaults.append(key)
    if design.get("mood") not in ("light", "dark"):
        design["mood"] = "dark" if relative_luminance(design["palette"]["background"]) < 0.2 else "light"
    for key in ("kind", "keywords", "domain"):
        design.setdefault(key, "")
    design["defaults"] = defaults
    return design
