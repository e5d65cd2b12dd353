"""Rendering the site: a design in, ``index.html``, ``styles.css`` and ``script.js`` out.

``render_site`` first completes the design from the domain's own builtin
design (a foreign one may lack sections, copy or a palette), then builds the
page in Python (its sections depend on the design) and fills the stylesheet
template ``assets/site.css`` (``${...}`` placeholders, string.Template) plus
the layout's ``assets/layout-<name>.css``; ``assets/site.js`` ships as is.
The assets are package data, read with importlib.resources so an installed
wheel renders the same bytes as a checkout.
"""

from __future__ import annotations

import functools
import html
import re
from string import Template

from .art import hero_art, icon
from .copytext import trade_by_key
from .design import SECTION_TITLES, build_design
from .look import CORNERS, LAYOUTS
from .palette import PALETTE_ROLES, relative_luminance
from .seeds import Seed

_SAFE_FONT_STACK = re.compile(r"[\w\s,\"'.-]{1,300}")
_HEX6 = re.compile(r"#[0-9a-f]{6}")


def _complete(design: dict, domain: str) -> dict:
    """The design with every gap filled from the builtin design of ``domain``.

    A design from another agent may lack sections or copy; the site must
    still be whole, so gaps take this agent's own choices for the domain.
    Values that reach CSS are checked, since they are not HTML-escaped there.
    """
    base = build_design(domain, name=design.get("name") or None)
    guessed = set(design.get("defaults") or ())
    palette = dict(base["palette"])
    for role, colour in ({} if "palette" in guessed else design.get("palette") or {}).items():
        if role in palette and isinstance(colour, str) and _HEX6.fullmatch(colour.lower()):
            palette[role] = colour.lower()
    fonts = dict(base["fonts"])
    if "fonts" not in guessed and design.get("fonts"):
        fonts["pairing"] = str(design["fonts"].get("pairing") or "Custom")
    for key in ("heading", "body"):
        stack = None if "fonts" in guessed else (design.get("fonts") or {}).get(key)
        if isinstance(stack, str) and _SAFE_FONT_STACK.fullmatch(stack):
            fonts[key] = stack

    given_sections = design.get("sections") or {}
    sections: dict[str, dict] = {}
    for key in SECTION_TITLES:
        given, fallback = given_sections.get(key), base["sections"].get(key)
        if given is None and key in ("testimonial", "faq"):
            # Keep the base's proof section only if the design has neither.
            if fallback is None or "testimonial" in given_sections or "faq" in given_sections:
                continue
        merged = {**(fallback or {}), **{k: v for k, v in (given or {}).items() if v}}
        if key == "testimonial" and not merged.get("quote"):
            continue
        if key in ("features", "faq") and not merged.get("items"):
            if not (fallback or {}).get("items"):
                continue
            merged["items"] = fallback["items"]
        sections[key] = merged

    def chosen(key: str, allowed) -> str:
        value = design.get(key)
        return value if value in allowed and key not in guessed else base[key]

    return {
        **base,
        "name": design.get("name") or base["name"],
        "tagline": design.get("tagline") or base["tagline"],
        "keywords": design.get("keywords") or base["keywords"],
        "kind": design.get("kind") or base["kind"],
        "layout": chosen("layout", LAYOUTS),
        # The mood follows the palette actually used, not the document's word.
        "mood": "dark" if relative_luminance(palette["background"]) < 0.2 else "light",
        "corners": chosen("corners", CORNERS),
        "palette": palette,
        "fonts": fonts,
        "sections": sections,
    }


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


def _render_html(design: dict, seed: Seed) -> str:
    """``index.html``: landmarks, navigation and one section per section the design has."""
    sections = design["sections"]
    name, layout = design["name"], design["layout"]
    hero = sections["hero"]
    nav_targets = [key for key in ("features", "about", "testimonial", "faq", "cta") if key in sections]
    nav_links = "\n".join(
        f'          <li><a href="#{key}">{_escape(sections[key].get("label") or SECTION_TITLES[key])}</a></li>'
        for key in nav_targets
    )
    description = hero.get("text") or design["tagline"]

    body: list[str] = [
        '    <section id="hero" class="hero" aria-labelledby="hero-title">',
        '      <div class="container hero-inner">',
        '        <div class="hero-copy">',
        f'          <p class="eyebrow">{_escape(design["tagline"])}</p>',
        f'          <h1 id="hero-title">{_escape(hero.get("heading") or name)}</h1>',
        f'          <p class="lead">{_escape(hero.get("text", ""))}</p>',
        f'          <a class="button" href="#{nav_targets[0] if nav_targets else "main"}">'
        f'{_escape(hero.get("button") or "Find out more")}</a>',
        "        </div>",
        f"        {hero_art(layout, seed)}",
        "      </div>",
        "    </section>",
    ]
    if "features" in sections:
        features = sections["features"]
        trade = trade_by_key(design.get("kind") or "")
        icons = trade.icons if trade is not None and trade.key != "general" else ()
        items = "\n".join(
            '          <li class="feature">\n'
            f"            {icon(index, seed, icons)}\n"
            f'            <h3>{_escape(item["title"])}</h3>\n'
            f'            <p>{_escape(item["text"])}</p>\n'
            "          </li>"
            for index, item in enumerate(features["items"])
        )
        body += [
            '    <section id="features" class="section features" aria-labelledby="features-title">',
            '      <div class="container">',
            f'        <h2 id="features-title">{_escape(features.get("heading") or "What we do")}</h2>',
            *([f'        <p class="section-intro">{_escape(features["text"])}</p>'] if features.get("text") else []),
            '        <ul class="feature-list">',
            items,
            "        </ul>",
            "      </div>",
            "    </section>",
        ]
    if "about" in sections:
        about = sections["about"]
        body += [
            '    <section id="about" class="section about" aria-labelledby="about-title">',
            '      <div class="container about-inner">',
            f'        <h2 id="about-title">{_escape(about.get("heading") or "About " + name)}</h2>',
            f'        <p>{_escape(about.get("text", ""))}</p>',
            "      </div>",
            "    </section>",
        ]
    if "testimonial" in sections:
        testimonial = sections["testimonial"]
        cite = testimonial.get("cite")
        body += [
            '    <section id="testimonial" class="section testimonial" aria-labelledby="testimonial-title">',
            '      <div class="container">',
            f'        <h2 id="testimonial-title">{_escape(testimonial.get("heading") or "What people say")}</h2>',
            "        <figure>",
            f'          <blockquote><p>{_escape(testimonial["quote"])}</p></blockquote>',
            *([f"          <figcaption>{_escape(cite)}</figcaption>"] if cite else []),
            "        </figure>",
            "      </div>",
            "    </section>",
        ]
    if "faq" in sections:
        faq = sections["faq"]
        questions = "\n".join(
            f'        <details>\n          <summary>{_escape(item["title"])}</summary>\n'
            f'          <p>{_escape(item["text"])}</p>\n        </details>'
            for item in faq["items"]
        )
        body += [
            '    <section id="faq" class="section faq" aria-labelledby="faq-title">',
            '      <div class="container">',
            f'        <h2 id="faq-title">{_escape(faq.get("heading") or "Questions, answered")}</h2>',
            questions,
            "      </div>",
            "    </section>",
        ]
    if "cta" in sections:
        cta = sections["cta"]
        email = cta.get("email") or f"hello@{design['domain']}"
        body += [
            '    <section id="cta" class="section cta" aria-labelledby="cta-title">',
            '      <div class="container cta-inner">',
            f'        <h2 id="cta-title">{_escape(cta.get("heading") or "Get in touch")}</h2>',
            f'        <p>{_escape(cta.get("text", ""))}</p>',
            '        <p class="contact-line">',
            f'          <span class="email" id="contact-email">{_escape(email)}</span>',
            '          <button class="button copy-button" type="button" data-copy-target="contact-email">'
            f'{_escape(cta.get("button") or "Copy email address")}</button>',
            "        </p>",
            '        <p class="copy-status" role="status" aria-live="polite"></p>',
            "      </div>",
            "    </section>",
        ]
    footer_text = sections.get("footer", {}).get("text") or f"{name}. {design['tagline']}."

    lines = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '  <meta charset="utf-8">',
        '  <meta name="viewport" content="width=device-width, initial-scale=1">',
        f"  <title>{_escape(name)} — {_escape(design['tagline'])}</title>",
        f'  <meta name="description" content="{_escape(description)}">',
        *([f'  <meta name="keywords" content="{_escape(design["keywords"])}">'] if design["keywords"] else []),
        f'  <meta name="theme-color" content="{design["palette"]["background"]}">',
        '  <link rel="stylesheet" href="styles.css">',
        '  <script src="script.js" defer></script>',
        "</head>",
        f'<body class="layout-{layout} mood-{design["mood"]}">',
        '  <a class="skip-link" href="#main">Skip to content</a>',
        '  <header class="site-header" id="top">',
        '    <div class="container header-inner">',
        f'      <a class="brand" href="#hero"><span class="brand-mark" aria-hidden="true"></span>{_escape(name)}</a>',
        '      <button class="nav-toggle" type="button" aria-expanded="false" aria-controls="site-nav">',
        '        <span class="nav-toggle-bars" aria-hidden="true"></span>',
        '        <span class="visually-hidden">Menu</span>',
        "      </button>",
        '      <nav id="site-nav" class="site-nav" aria-label="Main">',
        "        <ul>",
        nav_links,
        "        </ul>",
        "      </nav>",
        "    </div>",
        "  </header>",
        '  <main id="main" tabindex="-1">',
        *body,
        "  </main>",
        '  <footer class="site-footer">',
        '    <div class="container footer-inner">',
        f"      <p>{_escape(footer_text)}</p>",
        '      <p><a href="#top">Back to top</a></p>',
        "    </div>",
        "  </footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _render_css(design: dict) -> str:
    """``styles.css``: the template filled with the palette, type and corners, then the layout's rules."""
    palette, fonts, layout = design["palette"], design["fonts"], design["layout"]
    radius, button_radius = CORNERS[design["corners"]]
    # The name and pairing may come from another agent's file: keep them from
    # closing the comment early.
    summary = f"{design['name']}: {fonts['pairing']} type, {layout} layout, {design['mood']} palette."
    summary = re.sub(r"[^\w ,.:'&-]", "", summary)
    base = Template(_asset("site.css")).substitute(
        summary=summary,
        variables="\n".join(f"  --{role}: {palette[role]};" for role in PALETTE_ROLES),
        font_heading=fonts["heading"],
        font_body=fonts["body"],
        radius=radius,
        radius_button=button_radius,
        mood=design["mood"],
    )
    # ``layout`` is one of LAYOUTS (``_complete`` saw to it), so the file exists.
    return base + "\n" + _asset(f"layout-{layout}.css")


@functools.cache
def _asset(name: str) -> str:
    """The text of ``assets/<name>``, read once per process."""
    # Imported here, not at the top: only the implement phase renders, and the
    # design phase's start-up (hundreds of processes) should not pay for it.
    from importlib.resources import files

    return (files(__package__) / "assets" / name).read_text(encoding="utf-8")


def render_site(design: dict, domain: str) -> dict[str, str]:
    """The site for ``design``: ``{"index.html": ..., "styles.css": ..., "script.js": ...}``.

    ``design`` is what ``parse_design`` returns; anything it lacks is taken
    from the builtin design of ``domain``.
    """
    domain = domain.strip().lower()
    complete = _complete(design, domain)
    seed = Seed(domain)
    return {
        "index.html": _render_html(complete, seed),
        "styles.css": _render_css(complete),
        "script.js": _asset("site.js"),
    }
