"""Decorative inline SVG for the page: feature icons and the hero illustration.

Everything is drawn from the domain's seed as markup in the page itself: no
image files, no requests. The shapes carry ``art-*`` and ``icon`` classes
whose colours come from the palette in ``assets/site.css``, and they are
``aria-hidden``: they decorate, they say nothing.
"""

from __future__ import annotations

from .seeds import Seed

# 24x24 line icons, drawn with currentColor so they follow the palette.
_ICONS = (
    '<circle cx="12" cy="12" r="8"/><path d="M12 8v4l3 2"/>',
    '<path d="M4 12l5 5L20 6"/>',
    '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="M9 12h6M12 9v6"/>',
    '<path d="M12 3l8 5v8l-8 5-8-5V8z"/>',
    '<path d="M5 19c8 0 14-6 14-14C11 5 5 11 5 19z"/><path d="M5 19l7-7"/>',
    '<path d="M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6-5.4-3-5.4 3 1.2-6-4.5-4.2 6.1-.7z"/>',
)


def icon(index: int, seed: Seed) -> str:
    """The icon of feature ``index``: consecutive from a seeded start, so a site's three differ."""
    body = _ICONS[(seed.number("icons", len(_ICONS)) + index) % len(_ICONS)]
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
