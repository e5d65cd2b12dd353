"""The builtin design: a domain's choices as data, and as the design document.

``build_design`` draws everything from the domain's seed (palette, type,
layout, corners and copy; the trade the domain names, or the brief when the
domain names none, picks the copy); ``make_design`` writes it as the markdown the design phase leaves
behind, in the ``- key: value`` shape ``parse.py`` reads back.
``SECTION_TITLES`` fixes the page's sections, their order and headings.
"""

from __future__ import annotations

from .copytext import brief_keywords, pick_trade, shared
from .look import CORNERS, FONT_PAIRINGS, LAYOUTS
from .names import name_from_domain
from .palette import PALETTE_ROLES, contrast_ratio, make_palette
from .seeds import Seed


def build_design(domain: str, brief: str = "", name: str | None = None) -> dict:
    """The design as data: the same structure ``parse_design`` returns.

    ``name`` overrides the one read from the domain (a foreign design may
    have chosen another), so the copy filled into its gaps uses it.
    """
    domain = domain.strip().lower()
    seed = Seed(domain)
    name = name or name_from_domain(domain)
    # The brief only flavours: it can name the trade and adds keywords; the
    # look (palette, type, layout) stays a function of the domain alone.
    brief_words = brief_keywords(brief)
    trade = pick_trade(domain, brief)
    mood, palette = make_palette(seed)
    pairing, heading_stack, body_stack = seed.choice("fonts", FONT_PAIRINGS)

    def pick(label: str, options) -> str:
        return seed.choice(label, options).format(name=name)

    about = pick("about", trade.about)

    features = [
        {"title": title.format(name=name), "text": text.format(name=name)}
        for title, text in seed.sample("features", trade.services, 3)
    ]
    sections: dict[str, dict] = {
        "hero": {
            "heading": pick("hero-heading", trade.hero_headings),
            "text": pick("hero-text", trade.hero_texts),
            "button": pick("hero-button", trade.hero_buttons),
        },
        "features": {
            "label": trade.menu,
            "heading": pick("features-heading", shared("feature_headings")),
            "text": pick("features-intro", shared("feature_intros")),
            "items": features,
        },
        "about": {"label": "About", "heading": f"About {name}", "text": about},
    }
    if seed.number("proof", 2) == 0:
        quote, cite = seed.choice("quote", trade.quotes)
        sections["testimonial"] = {
            "label": "Kind words",
            "heading": "What people say",
            "quote": quote.format(name=name),
            "cite": cite,
        }
    else:
        sections["faq"] = {
            "label": "FAQ",
            "heading": "Questions, answered",
            "items": [
                {"title": question, "text": answer.format(name=name)}
                for question, answer in seed.sample("faq", trade.faqs, 3)
            ],
        }
    tagline = pick("tagline", trade.taglines)
    sections["cta"] = {
        "label": trade.contact,
        "heading": pick("cta-heading", trade.cta_headings),
        "text": pick("cta-text", trade.cta_texts),
        "email": f"hello@{domain}",
        "button": "Copy email address",
    }
    sections["footer"] = {"text": f"{name}. {tagline}. {seed.choice('footer', shared('footer_notes'))}"}

    return {
        "name": name,
        "domain": domain,
        "tagline": tagline,
        "kind": trade.key,
        "keywords": ", ".join(brief_words),
        "layout": seed.choice("layout", LAYOUTS),
        "mood": mood,
        "corners": seed.choice("corners", tuple(CORNERS)),
        "palette": palette,
        "fonts": {"pairing": pairing, "heading": heading_stack, "body": body_stack},
        "sections": sections,
    }


# Section keys in page order, with the heading each has in the design file.
SECTION_TITLES = {
    "hero": "Hero",
    "features": "Features",
    "about": "About",
    "testimonial": "Testimonial",
    "faq": "FAQ",
    "cta": "Call to action",
    "footer": "Footer",
}
# The one-value fields of a section, in the order the document lists them.
SCALAR_FIELDS = ("label", "heading", "text", "button", "quote", "cite", "email")


def make_design(domain: str, brief: str = "") -> str:
    """The design document for ``domain`` as markdown (see ``parse_design``)."""
    design = build_design(domain, brief)
    palette = design["palette"]
    lines = [
        f"# {design['name']} — design",
        "",
        f"Design for {design['domain']}. Every `- key: value` line is read back by the",
        "implement phase; keep that shape when editing.",
        "",
        "## Identity",
        "",
        f"- name: {design['name']}",
        f"- domain: {design['domain']}",
        f"- tagline: {design['tagline']}",
        f"- kind: {design['kind']}",
        *([f"- keywords: {design['keywords']}"] if design["keywords"] else []),
        f"- layout: {design['layout']}",
        f"- mood: {design['mood']}",
        f"- corners: {design['corners']}",
        "",
        "## Palette",
        "",
        *(f"- {role}: {palette[role]}" for role in PALETTE_ROLES),
        "",
        "Contrast (WCAG): text on background {:.1f}:1, muted on background {:.1f}:1, "
        "primary on background {:.1f}:1, on-primary on primary {:.1f}:1, accent on background {:.1f}:1.".format(
            contrast_ratio(palette["text"], palette["background"]),
            contrast_ratio(palette["muted"], palette["background"]),
            contrast_ratio(palette["primary"], palette["background"]),
            contrast_ratio(palette["on-primary"], palette["primary"]),
            contrast_ratio(palette["accent"], palette["background"]),
        ),
        "",
        "## Typography",
        "",
        f"- pairing: {design['fonts']['pairing']}",
        f"- heading: {design['fonts']['heading']}",
        f"- body: {design['fonts']['body']}",
        "",
        "## Sections",
    ]
    for key, section in design["sections"].items():
        lines += ["", f"### {SECTION_TITLES[key]}", ""]
        lines += [f"- {field}: {section[field]}" for field in SCALAR_FIELDS if field in section]
        lines += [f"- item: {item['title']} — {item['text']}" for item in section.get("items", ())]
    return "\n".join(lines) + "\n"


# --- Parsing a design back ---------------------------------------------------

