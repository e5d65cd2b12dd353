"""Decorative inline SVG for the page: feature icons and the hero illustration.

Everything is drawn from the domain's seed as markup in the page itself: no
image files, no requests. The shapes carry ``art-*`` and ``icon`` classes
whose colours come from the palette in ``assets/site.css``, and they are
``aria-hidden``: they decorate, they say nothing.
"""

from __future__ import annotations

from .seeds import Seed

# 24x24 line icons, drawn with currentColor so they follow the palette. A
# trade's entry names three (``icons`` in trades/*.json); the first six are
# the generic set a design of no known trade cycles through.
ICONS = {
    "clock": '<circle cx="12" cy="12" r="8"/><path d="M12 8v4l3 2"/>',
    "check": '<path d="M4 12l5 5L20 6"/>',
    "plus": '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="M9 12h6M12 9v6"/>',
    "hexagon": '<path d="M12 3l8 5v8l-8 5-8-5V8z"/>',
    "leaf": '<path d="M5 19c8 0 14-6 14-14C11 5 5 11 5 19z"/><path d="M5 19l7-7"/>',
    "star": '<path d="M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6-5.4-3-5.4 3 1.2-6-4.5-4.2 6.1-.7z"/>',
    "truck": '<path d="M2 7h11v9H2zM13 10h4l3 3v3h-7z"/><circle cx="6" cy="17.5" r="1.8"/><circle cx="16.5" cy="17.5" r="1.8"/>',
    "box": '<path d="M4 8l8-4 8 4v8l-8 4-8-4z"/><path d="M4 8l8 4 8-4M12 12v8"/>',
    "drop": '<path d="M12 3c3 4.5 6 7.5 6 11a6 6 0 0 1-12 0c0-3.5 3-6.5 6-11z"/>',
    "wrench": '<path d="M14.5 5.5a4 4 0 0 0 4.9 4.9L11 18.8a2 2 0 0 1-2.8-2.8l8.4-8.4"/><path d="M14.5 5.5l2-2"/>',
    "bolt": '<path d="M13 2L5 13h6l-1 9 8-11h-6z"/>',
    "house": '<path d="M3 11l9-7 9 7"/><path d="M5 10v10h14V10M10 20v-6h4v6"/>',
    "shield": '<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"/>',
    "brush": '<path d="M14 4l6 6-7 7-6-6z"/><path d="M7 11l-3 7 3 2 4-5"/>',
    "sparkle": '<path d="M12 3l2 7 7 2-7 2-2 7-2-7-7-2 7-2z"/>',
    "key": '<circle cx="8" cy="12" r="4"/><path d="M12 12h9M18 12v3M21 12v2"/>',
    "gauge": '<path d="M4 17a8 8 0 1 1 16 0"/><path d="M12 17l4-6"/>',
    "tree": '<path d="M12 3l6 9h-4l4 5H6l4-5H6z"/><path d="M12 17v4"/>',
    "sun": '<circle cx="12" cy="12" r="4"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2"/>',
    "ruler": '<path d="M3 17L17 3l4 4L7 21z"/><path d="M7 13l2 2M10 10l2 2M13 7l2 2"/>',
    "pencil": '<path d="M4 20l1-5L16 4l4 4L9 19z"/><path d="M14 6l4 4"/>',
    "tooth": '<path d="M7 4c-3 0-4 3-3 6s1 10 3 10 2-5 5-5 3 5 5 5 2-7 3-10-0-6-3-6-3 1-5 1-2-1-5-1z"/>',
    "heart": '<path d="M12 20s-8-5-8-11a4.5 4.5 0 0 1 8-2.8A4.5 4.5 0 0 1 20 9c0 6-8 11-8 11z"/>',
    "paw": '<circle cx="7" cy="9" r="2"/><circle cx="12" cy="6" r="2"/><circle cx="17" cy="9" r="2"/><path d="M8 17c0-3 2-5 4-5s4 2 4 5-2 3-4 3-4 0-4-3z"/>',
    "scissors": '<circle cx="6" cy="7" r="3"/><circle cx="6" cy="17" r="3"/><path d="M8.5 8.5L20 18M8.5 15.5L20 6"/>',
    "eye": '<path d="M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>',
    "pill": '<rect x="3" y="8" width="18" height="8" rx="4" transform="rotate(-45 12 12)"/><path d="M9 9l6 6"/>',
    "dumbbell": '<path d="M7 12h10M4 8v8M7 6v12M17 6v12M20 8v8"/>',
    "mountain": '<path d="M2 20l7-12 4 6 3-4 6 10z"/>',
    "hand": '<path d="M7 12V6a1.5 1.5 0 0 1 3 0v5M10 11V4a1.5 1.5 0 0 1 3 0v7M13 11V5a1.5 1.5 0 0 1 3 0v7M16 12V8a1.5 1.5 0 0 1 3 0v6c0 4-3 7-7 7s-6-3-7-6l-1-3a1.5 1.5 0 0 1 3-1z"/>',
    "lotus": '<path d="M12 5c2 3 2 7 0 11-2-4-2-8 0-11z"/><path d="M12 16c-3 0-7-2-8-6 3 0 6 2 8 6zM12 16c3 0 7-2 8-6-3 0-6 2-8 6z"/><path d="M5 19h14"/>',
    "bread": '<path d="M5 10a4 4 0 0 1 2-7h10a4 4 0 0 1 2 7v10H5z"/><path d="M9 9v2M15 9v2"/>',
    "cup": '<path d="M5 8h11v6a5 5 0 0 1-5 5h-1a5 5 0 0 1-5-5z"/><path d="M16 10h2a2 2 0 0 1 0 4h-2M8 3v2M11 3v2"/>',
    "plate": '<circle cx="12" cy="12" r="8"/><circle cx="12" cy="12" r="4"/>',
    "glass": '<path d="M7 3h10l-1 17H8z"/><path d="M7.5 8h9"/>',
    "flower": '<circle cx="12" cy="9" r="2"/><path d="M12 4a3 3 0 0 1 0 3M12 11v10M12 17c-2-3-5-3-6-2M12 15c2-3 5-3 6-2"/><circle cx="12" cy="9" r="5"/>',
    "book": '<path d="M4 5a2 2 0 0 1 2-2h13v16H6a2 2 0 0 0-2 2z"/><path d="M4 21V5M19 19v2H6"/>',
    "pot": '<path d="M8 4h8M9 4c0 3-4 4-4 9a7 7 0 0 0 14 0c0-5-4-6-4-9"/>',
    "gem": '<path d="M6 4h12l3 5-9 11L3 9z"/><path d="M3 9h18M9 4l3 16 3-16"/>',
    "needle": '<path d="M19 3L6 16l-2 5 5-2L22 6z"/><circle cx="18" cy="6" r="1"/>',
    "bike": '<circle cx="6" cy="16" r="4"/><circle cx="18" cy="16" r="4"/><path d="M6 16l4-8h5l3 8M10 8l2 8h-6M13 5h3"/>',
    "note": '<path d="M9 18V5l10-2v13"/><circle cx="7" cy="18" r="2.5"/><circle cx="17" cy="16" r="2.5"/>',
    "wave": '<path d="M2 9c3-3 5 3 8 0s5 3 8 0 3 0 4 0M2 15c3-3 5 3 8 0s5 3 8 0 3 0 4 0"/>',
    "bed": '<path d="M3 6v14M3 16h18v4M21 16v-4a3 3 0 0 0-3-3h-8v7"/><circle cx="6.5" cy="11.5" r="2"/>',
    "plane": '<path d="M2 13l20-8-6 15-4-6z"/><path d="M12 14l4-5"/>',
    "camera": '<path d="M3 8h4l2-3h6l2 3h4v11H3z"/><circle cx="12" cy="13" r="4"/>',
    "mic": '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>',
    "scale": '<path d="M12 3v18M6 21h12M4 7h16"/><path d="M4 7l-3 6h6zM20 7l-3 6h6z"/>',
    "chart": '<path d="M4 20V4M4 20h16"/><path d="M8 16v-4M12 16V8M16 16v-6"/>',
    "umbrella": '<path d="M2 12a10 10 0 0 1 20 0z"/><path d="M12 12v7a2 2 0 0 0 4 0"/>',
    "code": '<path d="M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16"/>',
    "cloud": '<path d="M7 18a4 4 0 0 1-.5-8A6 6 0 0 1 18 9a4.5 4.5 0 0 1 0 9z"/>',
}
_GENERIC = ("clock", "check", "plus", "hexagon", "leaf", "star")


def icon(index: int, seed: Seed, names: tuple[str, ...] = ()) -> str:
    """The icon of feature ``index``: the trade's own icons, else the generic set.

    Generic icons run consecutively from a seeded start, so a site's three differ.
    """
    if len(names) > index and names[index] in ICONS:
        body = ICONS[names[index]]
    else:
        body = ICONS[_GENERIC[(seed.number("icons", len(_GENERIC)) + index) % len(_GENERIC)]]
    return (
        '<svg class="icon" viewBox="0 0 24 24" width="40" height="40" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


def hero_art(layout: str, seed: Seed) -> str:
    """Decorative inline SVG drawn from the seed: no image files, no requests."""
    if layout == "centered":
        # A wide band of two waves under the hero copy.
        crest, trough = 20 + seed.number("wave-crest", 30), 70 + seed.number("wave-trough", 30)
        shift = seed.number("wave-shift", 200)
        shapes = (
            f'<path class="art-accent" d="M0 {trough} C {300 + shift} {crest}, {600 + shift} {trough + 30}, '
            f'1200 {crest + 10} V160 H0 Z"/>'
            f'<path class="art-primary" d="M0 {crest + 50} C {250 - shift // 2} {trough + 40}, '
            f'{800 - shift} {crest}, 1200 {trough + 10} V160 H0 Z"/>'
        )
        return (
            '<svg class="hero-art" viewBox="0 0 1200 160" preserveAspectRatio="none" aria-hidden="true" '
            f'focusable="false">{shapes}</svg>'
        )
    motif = seed.choice("motif", ("orbits", "blocks", "petals"))
    cx, cy = 170 + seed.number("art-x", 60), 140 + seed.number("art-y", 40)
    parts = []
    if motif == "orbits":
        parts.append(f'<circle class="art-primary" cx="{cx}" cy="{cy}" r="{90 + seed.number("r", 30)}"/>')
        parts.append(f'<circle class="art-ring" cx="{cx + 60}" cy="{cy + 40}" r="110"/>')
        parts.append(f'<circle class="art-accent" cx="{cx + 110}" cy="{cy - 80}" r="26"/>')
    elif motif == "blocks":
        for index in range(3):
            angle = -12 + 12 * index + seed.number(f"tilt-{index}", 8)
            parts.append(
                f'<rect class="{("art-primary", "art-accent", "art-surface")[index]}" x="{80 + 40 * index}" '
                f'y="{60 + 30 * index}" width="200" height="140" rx="18" '
                f'transform="rotate({angle} {cx} {cy})"/>'
            )
    else:
        for index in range(6):
            angle = index * 60 + seed.number("petal-turn", 60)
            parts.append(
                f'<ellipse class="{"art-primary" if index % 2 else "art-accent"}" cx="{cx}" cy="{cy - 70}" '
                f'rx="34" ry="70" transform="rotate({angle} {cx} {cy})"/>'
            )
        parts.append(f'<circle class="art-surface" cx="{cx}" cy="{cy}" r="30"/>')
    dots = "".join(
        f'<circle class="art-dot" cx="{24 + 22 * column}" cy="{230 + 22 * row}" r="3"/>'
        for row in range(3)
        for column in range(5)
    )
    return (
        '<svg class="hero-art" viewBox="0 0 400 320" aria-hidden="true" focusable="false">'
        f'{"".join(parts)}{dots}</svg>'
    )
