"""The builtin agent: an offline, deterministic designer and site builder.

It is the default agent (SPEC section 5), so a fresh checkout runs end to end
with no network. Every choice (palette, type pairing, layout, copy) is drawn
from a SHA-256 of the domain, never from ``hash()`` (salted per process) or the
clock, so the same domain always yields byte-identical files.

Only the standard library is imported here: the runner starts hundreds of
these processes and start-up time is multiplied by every site.

The package, in the order a site is made: ``seeds`` (the seeded draws),
``names`` (the name from the domain), ``palette`` (colours and contrast),
``look`` (fonts, layouts, corners), ``copytext`` (the words for each trade,
read from ``trades/*.json``), ``design`` (the design as data and as markdown), ``parse``
(reading any design document back), ``art`` (inline SVG), ``render`` (the
HTML, and the CSS and JS from ``assets/``) and ``entry`` (the process,
``python -m smbatcher.agents.builtin``). This module re-exports the names
other code uses.
"""

from __future__ import annotations

from .design import SECTION_TITLES, build_design, make_design
from .entry import main
from .look import CORNERS, DEFAULT_FONTS, FONT_PAIRINGS, LAYOUTS
from .names import name_from_domain
from .palette import DEFAULT_PALETTE, PALETTE_ROLES, contrast_ratio
from .parse import parse_design
from .render import render_site

__all__ = [
    "CORNERS",
    "DEFAULT_FONTS",
    "DEFAULT_PALETTE",
    "FONT_PAIRINGS",
    "LAYOUTS",
    "PALETTE_ROLES",
    "SECTION_TITLES",
    "build_design",
    "contrast_ratio",
    "main",
    "make_design",
    "name_from_domain",
    "parse_design",
    "render_site",
]
