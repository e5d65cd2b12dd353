"""Colour: the eight palette roles, WCAG contrast, and palettes that meet it.

``make_palette`` draws a domain's mood and palette from its seed, with the
contrast every role needs built in; ``fill_palette`` completes a partial
palette from another agent's design (``DEFAULT_PALETTE`` stands in for what it
lacks) without letting text fall below 4.5:1. Colours are ``#rrggbb`` strings.
"""

from __future__ import annotations

import colorsys

from .seeds import Seed

PALETTE_ROLES = ("background", "surface", "text", "muted", "primary", "on-primary", "accent", "border")

# Used for anything a design (perhaps from another agent) leaves out.
DEFAULT_PALETTE = {
    "background": "#f8fafc",
    "surface": "#eef2f7",
    "text": "#0f172a",
    "muted": "#475569",
    "primary": "#1d4ed8",
    "on-primary": "#ffffff",
    "accent": "#c2410c",
    "border": "#cbd5e1",
}


def _hsl_to_hex(hue: float, saturation: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb((hue % 360) / 360, lightness / 100, saturation / 100)
    return "#{:02x}{:02x}{:02x}".format(*(round(channel * 255) for channel in (red, green, blue)))


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _meet_contrast(
    hue: float, saturation: float, lightness: float, against: list[str], target: float, step: float
) -> str:
    """Move lightness by ``step`` until the colour reaches ``target`` on every backdrop.

    Lightness is the lever because hue and saturation carry the brand; the
    walk ends at black or white, which always reach 4.5:1 on our backdrops.
    """
    while True:
        colour = _hsl_to_hex(hue, saturation, lightness)
        if all(contrast_ratio(colour, backdrop) >= target for backdrop in against):
            return colour
        if not 0 < lightness < 100:
            return colour
        lightness = min(100.0, max(0.0, lightness + step))


def make_palette(seed: Seed) -> tuple[str, dict[str, str]]:
    """A mood (light or dark) and eight colour roles with WCAG contrast built in.

    Guarantees: text and muted reach 4.5:1 on background and surface, primary
    reaches 4.5:1 on both (it colours links), on-primary reaches 4.5:1 on
    primary (button labels), accent reaches 3:1 on both (focus rings).
    """
    hue = seed.number("hue", 360)
    mood = "dark" if seed.number("mood", 100) < 35 else "light"
    # Accent hue from a colour-wheel harmony: complementary, split or analogous.
    accent_hue = (hue + seed.choice("harmony", (180, 150, 210, 120, 40, -40))) % 360
    saturation = 45 + seed.number("saturation", 35)
    tint = 15 + seed.number("tint", 30)

    if mood == "light":
        background = _hsl_to_hex(hue, tint, 96 + seed.number("bg-light", 3))
        surface = _hsl_to_hex(hue, tint, 92 + seed.number("surface-light", 2))
        backdrops = [background, surface]
        text = _meet_contrast(hue, 30, 12 + seed.number("text-light", 6), backdrops, 7.0, -2)
        muted = _meet_contrast(hue, 14, 42, backdrops, 4.5, -2)
        primary = _meet_contrast(hue, saturation, 40, backdrops, 4.5, -2)
        accent = _meet_contrast(accent_hue, min(90, saturation + 10), 48, backdrops, 3.0, -2)
        border = _hsl_to_hex(hue, tint, 84)
    else:
        background = _hsl_to_hex(hue, tint + 10, 7 + seed.number("bg-dark", 4))
        surface = _hsl_to_hex(hue, tint + 10, 13 + seed.number("surface-dark", 3))
        backdrops = [background, surface]
        text = _meet_contrast(hue, 25, 92 + seed.number("text-dark", 4), backdrops, 7.0, 2)
        muted = _meet_contrast(hue, 15, 68, backdrops, 4.5, 2)
        primary = _meet_contrast(hue, saturation, 62, backdrops, 4.5, 2)
        accent = _meet_contrast(accent_hue, min(90, saturation + 10), 60, backdrops, 3.0, 2)
        border = _hsl_to_hex(hue, tint, 24)

    return mood, {
        "background": background,
        "surface": surface,
        "text": text,
        "muted": muted,
        "primary": primary,
        "on-primary": _best_label_colour(primary, (background, text, "#ffffff", "#000000")),
        "accent": accent,
        "border": border,
    }


def _best_label_colour(fill: str, candidates) -> str:
    """The first candidate readable (4.5:1) on ``fill``, else the most readable."""
    for candidate in candidates:
        if contrast_ratio(candidate, fill) >= 4.5:
            return candidate
    return max(candidates, key=lambda candidate: contrast_ratio(candidate, fill))


def _mix(first: str, second: str, amount: float) -> str:
    """``first`` moved ``amount`` (0 to 1) of the way towards ``second``, in sRGB."""
    channels = (
        round(int(first[i : i + 2], 16) * (1 - amount) + int(second[i : i + 2], 16) * amount) for i in (1, 3, 5)
    )
    return "#{:02x}{:02x}{:02x}".format(*channels)


def fill_palette(given: dict[str, str]) -> dict[str, str]:
    """Every role, derived from the ones given so a partial palette stays coherent.

    Readability is not negotiable even for a foreign design: text and muted
    text that miss 4.5:1 on the background are replaced by readable ones.
    """
    background = given.get("background", DEFAULT_PALETTE["background"])
    text = given.get("text", DEFAULT_PALETTE["text"])
    if contrast_ratio(text, background) < 4.5:
        text = _best_label_colour(background, ("#111111", "#f5f5f5", "#000000", "#ffffff"))
    primary = given.get("primary", DEFAULT_PALETTE["primary"])
    muted = given.get("muted", _mix(text, background, 0.3))
    if contrast_ratio(muted, background) < 4.5:
        muted = text
    return {
        "background": background,
        "surface": given.get("surface", _mix(background, text, 0.05)),
        "text": text,
        "muted": muted,
        "primary": primary,
        "on-primary": given.get("on-primary", _best_label_colour(primary, (background, text, "#ffffff", "#000000"))),
        "accent": given.get("accent", primary),
        "border": given.get("border", _mix(background, text, 0.18)),
    }
