"""The look besides colour: system font stacks and pairings, layouts, corners.

These are the vocabularies a design chooses from (``design.py``), a foreign
design is checked against (``parse.py``), and the stylesheet turns into CSS
(``render.py``, with one ``assets/layout-<name>.css`` per layout).
"""

from __future__ import annotations

# System font stacks only: the site must render offline, with no font files or
# CDN requests. Each stack ends in a generic family so something always shows.
_SYSTEM_SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'
_OLDSTYLE_SERIF = '"Iowan Old Style", "Palatino Linotype", Palatino, "Book Antiqua", Georgia, serif'
_TRANSITIONAL_SERIF = 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif'
_GEOMETRIC_SANS = 'Avenir, "Avenir Next", Montserrat, "Century Gothic", Futura, "Trebuchet MS", sans-serif'
_HUMANIST_SANS = 'Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", "Trebuchet MS", sans-serif'
_ROUNDED_SANS = 'ui-rounded, "SF Pro Rounded", "Hiragino Maru Gothic ProN", Quicksand, Comfortaa, "Arial Rounded MT Bold", sans-serif'
_MONOSPACE = 'ui-monospace, "SF Mono", "Cascadia Code", "Roboto Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace'
_DIDONE_SERIF = 'Didot, "Bodoni MT", "Noto Serif Display", "Hoefler Text", Garamond, "Times New Roman", serif'

# (pairing name, heading stack, body stack)
FONT_PAIRINGS = (
    ("Classic", _OLDSTYLE_SERIF, _SYSTEM_SANS),
    ("Editorial", _DIDONE_SERIF, _TRANSITIONAL_SERIF),
    ("Geometric", _GEOMETRIC_SANS, _HUMANIST_SANS),
    ("Technical", _MONOSPACE, _SYSTEM_SANS),
    ("Friendly", _ROUNDED_SANS, _HUMANIST_SANS),
    ("Bookish", _TRANSITIONAL_SERIF, _OLDSTYLE_SERIF),
)

# What a foreign design without fonts gets.
DEFAULT_FONTS = {"pairing": "Classic", "heading": _OLDSTYLE_SERIF, "body": _SYSTEM_SANS}

# centered: a centred headline over a full-width wave band; features as open columns.
# split:    copy and illustration side by side; features as a ruled list.
# cards:    content on raised cards; the illustration sits behind the hero card.
LAYOUTS = ("centered", "split", "cards")

# Corner style -> (radius of cards and panels, radius of buttons).
CORNERS = {"sharp": ("2px", "2px"), "soft": ("12px", "10px"), "round": ("24px", "999px")}
