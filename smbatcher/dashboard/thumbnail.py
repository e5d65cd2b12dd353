"""A generated thumbnail for a site without a ``finish --screenshots`` picture.

Drawn from the site's design (its first palette colours, when the design names
hex colours) so a gallery of 568 sites is still tellable apart at a glance; a
colour from the domain's hash otherwise. Cheap: an SVG string, no browser.
"""

from __future__ import annotations

import hashlib
import re

from markupsafe import escape

_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def palette_from_design(design: str | None, limit: int = 4) -> list[str]:
    if not design:
        return []
    seen: dict[str, None] = {}
    for match in _HEX.finditer(design[:20000]):
        seen.setdefault(match.group(0).lower(), None)
        if len(seen) == limit:
            break
    return list(seen)


def _hashed(domain: str) -> list[str]:
    digest = hashlib.sha256(domain.encode()).digest()
    hue = digest[0] * 360 // 256
    return [f"hsl({hue}, 45%, 30%)", f"hsl({(hue + 40) % 360}, 60%, 55%)", f"hsl({hue}, 30%, 92%)"]


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def thumbnail_svg(domain: str, status_label: str, design: str | None) -> str:
    colours = palette_from_design(design)
    if len(colours) < 2:
        colours = _hashed(domain)
        ink = "#ffffff"
    else:
        ink = "#111111" if _luminance(colours[0]) > 0.55 else "#ffffff"
    background, accent = colours[0], colours[1]
    stripes = "".join(f'<rect x="{16 + i * 26}" y="150" width="20" height="20" rx="4" fill="{escape(c)}" '
                      'stroke="#ffffff" stroke-opacity="0.6"/>' for i, c in enumerate(colours[:4]))
    name = domain if len(domain) <= 26 else domain[:24] + "…"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">'
        f"<title>{escape(domain)}</title>"
        f'<rect width="320" height="200" fill="{escape(background)}"/>'
        f'<rect y="0" width="320" height="34" fill="{escape(accent)}" fill-opacity="0.85"/>'
        '<circle cx="18" cy="17" r="5" fill="#ffffff" fill-opacity="0.7"/>'
        f'<text x="160" y="100" text-anchor="middle" font-family="sans-serif" font-size="19" font-weight="600" '
        f'fill="{ink}">{escape(name)}</text>'
        f'<text x="160" y="124" text-anchor="middle" font-family="sans-serif" font-size="12" fill="{ink}" '
        f'fill-opacity="0.8">{escape(status_label)} · no screenshot yet</text>'
        f"{stripes}</svg>"
    )
