"""The builtin agent: an offline, deterministic designer and site builder.

It is the default agent (SPEC section 5), so a fresh checkout runs end to end
with no network. Every choice (palette, type pairing, layout, copy) is drawn
from a SHA-256 of the domain, never from ``hash()`` (salted per process) or the
clock, so the same domain always yields byte-identical files.

Only the standard library is imported here: the runner starts hundreds of
these processes and start-up time is multiplied by every site.
"""

from __future__ import annotations

import colorsys
import hashlib
import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["make_design", "parse_design", "render_site", "main"]


# --- Deterministic choices ---------------------------------------------------


class _Seed:
    """Stable pseudo-random draws keyed by (domain, label).

    Each choice hashes its own label, so adding a new choice later does not
    shift the ones already made: existing sites keep their look.
    """

    def __init__(self, domain: str) -> None:
        self._domain = domain

    def number(self, label: str, upper: int) -> int:
        digest = hashlib.sha256(f"{self._domain}|{label}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % upper

    def choice(self, label: str, options):
        return options[self.number(label, len(options))]

    def sample(self, label: str, options, count: int) -> list:
        """``count`` distinct options, in a stable shuffled order."""
        ranked = sorted(options, key=lambda option: self.number(f"{label}:{option!r}", 1 << 62))
        return list(ranked[:count])


# --- Names -------------------------------------------------------------------

# Second-level labels under country codes (lotus.co.uk): the brand is one
# label further left.
_GENERIC_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"}


def _brand_label(domain: str) -> str:
    labels = [label for label in domain.lower().strip(".").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _GENERIC_SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    if len(labels) >= 2:
        return labels[-2]
    return labels[0] if labels else "site"


def name_from_domain(domain: str) -> str:
    """``lotus.dev`` -> ``Lotus``; ``green-leaf.io`` -> ``Green Leaf``."""
    words = [word for word in re.split(r"[-_]+", _brand_label(domain)) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or "Site"


# --- Colour ------------------------------------------------------------------


def _hsl_to_hex(hue: float, saturation: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb((hue % 360) / 360, lightness / 100, saturation / 100)
    return "#{:02x}{:02x}{:02x}".format(*(round(channel * 255) for channel in (red, green, blue)))


def _relative_luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    lighter, darker = sorted((_relative_luminance(first), _relative_luminance(second)), reverse=True)
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


PALETTE_ROLES = ("background", "surface", "text", "muted", "primary", "on-primary", "accent", "border")


def _make_palette(seed: _Seed) -> tuple[str, dict[str, str]]:
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


# --- Type --------------------------------------------------------------------

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

LAYOUTS = ("centered", "split", "cards")
CORNERS = {"sharp": ("2px", "2px"), "soft": ("12px", "10px"), "round": ("24px", "999px")}


# --- Copy --------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """The copy for one kind of business; ``{name}`` is filled in later."""

    key: str
    hints: tuple[str, ...]
    features_label: str
    features_headings: tuple[str, ...]
    taglines: tuple[str, ...]
    hero_headings: tuple[str, ...]
    hero_texts: tuple[str, ...]
    hero_buttons: tuple[str, ...]
    features: tuple[tuple[str, str], ...]
    about_texts: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]
    faqs: tuple[tuple[str, str], ...]
    cta_headings: tuple[str, ...]
    cta_texts: tuple[str, ...]


_KINDS = (
    _Kind(
        key="software",
        hints=("dev", "code", "app", "api", "lab", "labs", "stack", "byte", "bit", "data", "cloud", "tech",
               "soft", "logic", "sys", "ops", "git", "bot", "net", "web", "io", "ai", "tool", "tools"),
        features_label="Features",
        features_headings=("What {name} does", "Built for the way you work", "Everything in one place"),
        taglines=("Calm software for focused teams", "Tools that stay out of your way",
                  "Ship smaller, ship sooner", "Reliable software, plainly built"),
        hero_headings=("Software that respects your time", "Do the work, skip the busywork",
                       "{name} keeps the small things running"),
        hero_texts=("{name} turns the chores between idea and release into a few quiet steps, so your team "
                    "can spend the day on the part that matters.",
                    "Fast to set up, easy to read, and built to keep working when nobody is watching. "
                    "{name} is the tool we wanted for ourselves."),
        hero_buttons=("See how it works", "Explore the features", "Start a project"),
        features=(("Fast by default", "Pages load in a blink and builds finish before your coffee does. "
                   "Speed is something we test for, not an afterthought."),
                  ("Plain-language errors", "When something goes wrong you get one clear sentence and the "
                   "exact command that fixes it."),
                  ("Works offline", "Your work keeps going on a train, in a basement or on a flaky hotel "
                   "connection."),
                  ("Safe to undo", "Every change is recorded, so trying an idea never risks the version "
                   "that already works."),
                  ("Small and readable", "A codebase a new colleague can read in an afternoon, with tests "
                   "that explain the intent.")),
        about_texts=("{name} started as a weekend fix for a problem we kept hitting at work. It grew slowly, "
                     "shaped by the people who use it every day, and it still fits in your head.",
                     "We are a small team that prefers boring technology, careful defaults and honest "
                     "documentation. {name} is what happens when those habits become a product."),
        quotes=(("We replaced three scripts and a wiki page with {name}. Monday mornings are quiet now.",
                 "Priya N., platform engineer"),
                ("The first tool in years that did exactly what the documentation said.",
                 "Marcus L., tech lead"),
                ("Setup took ten minutes and we have not thought about it since. That is the highest "
                 "praise I have.", "Ana S., founder")),
        faqs=(("Do I need an account?", "No. {name} runs on your own machine and keeps your data there."),
              ("Can I try it before committing?", "Yes. Start with a single project and grow from there; "
               "nothing locks you in."),
              ("How do updates work?", "Small, frequent releases with clear notes. You choose when to upgrade."),
              ("Is there support?", "Real people answer every message, usually within one working day.")),
        cta_headings=("Ready when you are", "Try {name} this week", "Let us build something small and good"),
        cta_texts=("Tell us what you are working on and we will reply with a plan, not a sales pitch.",
                   "Drop us a line: we read every message and answer the same week."),
    ),
    _Kind(
        key="studio",
        hints=("studio", "design", "craft", "art", "arts", "ink", "print", "photo", "film", "media", "brand",
               "type", "paper", "form", "made", "works", "pixel", "canvas", "color", "colour", "draw", "frame"),
        features_label="Services",
        features_headings=("What we make", "How we can help", "Our services"),
        taglines=("Thoughtful design for brave ideas", "Identity, print and web, made with care",
                  "Small studio, big attention to detail"),
        hero_headings=("Design that feels like you", "We make ideas look as good as they are",
                       "Clear ideas, beautifully made"),
        hero_texts=("{name} is an independent studio shaping brands, books and websites for people who "
                    "care about the details.",
                    "From the first sketch to the final file, {name} keeps the work personal, the process "
                    "open and the result unmistakably yours."),
        hero_buttons=("See our services", "View the work", "Start a conversation"),
        features=(("Brand identity", "Names, marks and visual systems that stay recognisable from a "
                   "business card to a billboard."),
                  ("Websites", "Fast, accessible sites that are easy to update and pleasant to read on "
                   "any screen."),
                  ("Print and packaging", "Books, posters and boxes with paper, colour and finish chosen "
                   "to be held."),
                  ("Illustration", "Drawings that explain, decorate or simply delight, in a style made "
                   "for your project."),
                  ("Art direction", "A steady hand across photography, type and layout, so every piece "
                   "feels like one family.")),
        about_texts=("{name} is a small studio with a simple rule: fewer projects, more care. We work "
                     "directly with you from brief to delivery, with no hand-offs and no surprises.",
                     "We started {name} to make work we would be proud to sign. Today we partner with "
                     "founders, publishers and local makers who want design that outlasts a trend."),
        quotes=(("They listened more than they talked, and the result looked like us on our best day.",
                 "Hannah K., bookshop owner"),
                ("Our new identity paid for itself within a season. People finally remember our name.",
                 "Tomás R., restaurateur"),
                ("Calm, organised and genuinely talented. We would hire {name} again tomorrow.",
                 "Leila M., publisher")),
        faqs=(("How long does a project take?", "Most identities take four to eight weeks; a website "
               "usually six to ten."),
              ("Do you work with small businesses?", "Yes. Many of our favourite projects started with "
               "a one-person company."),
              ("What do you need from us?", "An honest conversation about your goals, and someone who "
               "can make decisions."),
              ("Do we own the final files?", "Always. You receive every source file and full rights to "
               "use them.")),
        cta_headings=("Have a project in mind?", "Let us make something together", "Tell us about your idea"),
        cta_texts=("We take on a handful of projects each season. Write to us and we will answer within "
                   "two working days.",
                   "Send a few lines about what you need; we will reply with questions, ideas and an "
                   "honest estimate."),
    ),
    _Kind(
        key="food",
        hints=("cafe", "coffee", "bake", "baker", "bakery", "kitchen", "food", "tea", "bistro", "brew", "bread",
               "table", "taste", "eat", "eats", "chef", "pizza", "grill", "sweet", "honey", "cook", "deli",
               "wine", "cake", "spice", "soup", "noodle", "taco", "bean", "roast", "oven"),
        features_label="Menu",
        features_headings=("From our kitchen", "What we serve", "On the menu"),
        taglines=("Good food, made slowly", "Fresh every morning, friendly all day",
                  "Seasonal cooking, honest prices"),
        hero_headings=("A table is waiting for you", "Made fresh, served warm", "Come hungry, leave happy"),
        hero_texts=("{name} bakes, brews and cooks from scratch every day, with ingredients from growers "
                    "we know by name.",
                    "Pull up a chair. {name} is a neighbourhood place for long breakfasts, quick lunches "
                    "and the best coffee on the street."),
        hero_buttons=("See the menu", "Plan your visit", "Find out more"),
        features=(("Morning bakes", "Sourdough, buns and pastries out of the oven before the doors open."),
                  ("Seasonal plates", "A short menu that changes with the market, cooked to order."),
                  ("Coffee and tea", "Beans roasted nearby and loose-leaf teas brewed with care."),
                  ("Catering", "Platters and cakes for offices, birthdays and quiet celebrations."),
                  ("Take it home", "Bread, jars and sweets packed to carry when you are in a hurry.")),
        about_texts=("{name} began with one oven and a stubborn belief that everyday food deserves the "
                     "same care as a feast. The oven is bigger now; the belief has not changed.",
                     "We are a family-run kitchen. We cook what is in season, waste as little as we can, "
                     "and learn the names of our regulars."),
        quotes=(("The bread alone is worth the trip. The people make you want to stay.",
                 "Sam O., regular since day one"),
                ("Our office lunch order is the highlight of every Friday.", "Grace T., office manager"),
                ("Honest food, fair prices and a warm welcome every single time.", "Dev P., neighbour")),
        faqs=(("Do you take reservations?", "For groups of six or more, yes. Smaller tables are first "
               "come, first served."),
              ("Are there vegan options?", "Every day. Ask us and we will point out what suits you."),
              ("Can you cater an event?", "Yes, with a week's notice for most orders."),
              ("Do you have gluten-free bakes?", "A few each day, baked separately to keep them safe.")),
        cta_headings=("Hungry yet?", "Plan your next visit", "Let us cook for you"),
        cta_texts=("Write to us for bookings, catering or just to say hello.",
                   "Questions about the menu, a special order or a table for a crowd? Send us a note."),
    ),
    _Kind(
        key="wellness",
        hints=("yoga", "fit", "fitness", "health", "care", "calm", "zen", "spa", "mind", "lotus", "well",
               "body", "breath", "pilates", "heal", "clinic", "therapy", "move", "balance", "sleep",
               "dance", "gym", "physio", "pulse", "glow"),
        features_label="Classes",
        features_headings=("Ways to feel better", "Find your practice", "What we offer"),
        taglines=("Move well, breathe easy", "A calmer place to grow stronger",
                  "Care that meets you where you are"),
        hero_headings=("Feel at home in your body", "Slow down and breathe", "Strength, calm and a little joy"),
        hero_texts=("{name} offers small classes and personal sessions for every level, in a space "
                    "designed to help you switch off.",
                    "Whether you are starting out or starting again, {name} helps you build habits that "
                    "feel good and last."),
        hero_buttons=("Explore classes", "Book a first visit", "Find your practice"),
        features=(("Small group classes", "Never more than twelve people, so every teacher knows your "
                   "name and your goals."),
                  ("Private sessions", "One-to-one time to work on an injury, a goal or simply your own pace."),
                  ("Beginners welcome", "A gentle four-week start that explains the basics without the jargon."),
                  ("Breath and rest", "Evening sessions for sleep, stress and the kind of tired a weekend "
                   "cannot fix."),
                  ("Online library", "Short guided sessions to follow at home when you cannot make it in.")),
        about_texts=("{name} was founded by teachers who wanted a studio that felt less like a gym and "
                     "more like a living room. Everyone is welcome; nobody is judged.",
                     "We believe wellbeing is built in small, regular steps. Our teachers are trained, "
                     "insured and, above all, kind."),
        quotes=(("I came for my back and stayed for the people. Best decision I made this year.",
                 "Ruth A., member for two years"),
                ("Patient teachers and a calm room. I leave every class lighter.", "Kwame B., member"),
                ("The beginner course made me feel capable instead of clumsy.", "Ines F., new member")),
        faqs=(("I have never done this before. Is that fine?", "Absolutely. Most of our members started "
               "with the beginner course."),
              ("What should I bring?", "Comfortable clothes and water. Mats and props are provided."),
              ("Can I pause my membership?", "Yes, for holidays or illness, at no cost."),
              ("Do you offer gift cards?", "Yes, for single classes or a full month.")),
        cta_headings=("Your first class is on us", "Ready to begin?", "Come and try a class"),
        cta_texts=("Write to us with any questions and we will help you choose the right place to start.",
                   "Tell us a little about yourself and we will suggest a class that fits."),
    ),
    _Kind(
        key="nature",
        hints=("green", "leaf", "garden", "farm", "bloom", "flower", "tree", "eco", "plant", "forest", "seed",
               "grow", "moss", "fern", "oak", "root", "roots", "field", "meadow", "earth", "solar",
               "river", "bee", "wild", "sprout", "herb", "petal", "acorn", "willow", "orchard"),
        features_label="Services",
        features_headings=("What we grow", "How we help things grow", "Our work"),
        taglines=("Growing good things, season by season", "Green spaces, lovingly kept",
                  "Rooted in care for the land"),
        hero_headings=("Bring a little green home", "Gardens that grow with you", "Good things take root here"),
        hero_texts=("{name} designs, plants and tends gardens, balconies and shared green spaces with a "
                    "light touch and native plants.",
                    "From a single window box to a community orchard, {name} helps living things thrive "
                    "with less water, less waste and more joy."),
        hero_buttons=("See what we do", "Plan a garden", "Learn more"),
        features=(("Garden design", "Planting plans that suit your soil, your light and how you actually "
                   "use the space."),
                  ("Seasonal care", "Regular visits to prune, feed and tidy, so the garden looks after "
                   "itself in between."),
                  ("Native plants", "Hardy local species that feed pollinators and shrug off dry summers."),
                  ("Workshops", "Hands-on afternoons on composting, seed saving and growing food in "
                   "small spaces."),
                  ("Water wise", "Rain capture and smart watering that cut the bill without cutting "
                   "the blooms.")),
        about_texts=("{name} began in a borrowed allotment with a lot of enthusiasm. Today we care for "
                     "gardens across the area, always with peat-free soil and no harsh chemicals.",
                     "We think every patch of ground can do more for people and for wildlife. {name} "
                     "exists to prove it, one garden at a time."),
        quotes=(("Our tired yard turned into the place we spend every evening.", "Joe and Mia W., homeowners"),
                ("They knew which plants would survive our windy balcony. All of them did.",
                 "Aiko S., flat dweller"),
                ("The workshop gave our school garden club a real sense of purpose.", "Mr. Adeyemi, teacher")),
        faqs=(("Do you work on small spaces?", "Yes. Balconies and courtyards are some of our favourite "
               "projects."),
              ("Which areas do you cover?", "We work locally, so we can visit often and keep travel light."),
              ("Do you use pesticides?", "No. We rely on healthy soil, good plant choices and patience."),
              ("When is the best time to start?", "Autumn and early spring, but planning can begin any time.")),
        cta_headings=("Let us grow something", "Start your garden", "Ready to get your hands dirty?"),
        cta_texts=("Tell us about your space and we will suggest a first step.",
                   "Send us a few words about your garden and we will reply with ideas and a simple quote."),
    ),
    _Kind(
        key="advisory",
        hints=("law", "legal", "consult", "consulting", "advice", "advisory", "advisors", "finance", "tax",
               "account", "partners", "capital", "group", "counsel", "audit", "invest", "wealth", "insure",
               "estate", "firm", "trust", "ledger", "fund", "bank", "pro", "assoc"),
        features_label="Services",
        features_headings=("How we can help", "Our services", "Expertise you can rely on"),
        taglines=("Clear advice, no jargon", "Steady counsel for important decisions",
                  "Expertise that speaks plainly"),
        hero_headings=("Sound advice for the decisions that matter", "Answers you can act on",
                       "Complex questions, clear answers"),
        hero_texts=("{name} helps individuals and small businesses make confident decisions, with fixed "
                    "fees and advice written in plain language.",
                    "For more than a decade {name} has been the calm voice in the room: careful, direct "
                    "and on your side."),
        hero_buttons=("Our services", "Book a consultation", "How we work"),
        features=(("Initial review", "A focused first meeting to understand your situation and outline "
                   "your options."),
                  ("Ongoing advice", "A named adviser who knows your history and answers the phone."),
                  ("Planning", "Practical plans for growth, succession and the years ahead."),
                  ("Compliance", "Deadlines tracked, paperwork handled, nothing left to chance."),
                  ("Second opinions", "An independent look at a decision before you sign.")),
        about_texts=("{name} is an independent practice. We keep our client list small, so every client "
                     "gets senior attention and an answer the same day.",
                     "We believe good advice should be understandable. Every recommendation from {name} "
                     "comes with the reasoning behind it and the costs up front."),
        quotes=(("For the first time I understood every line of my own paperwork.", "Daniel F., business owner"),
                ("Responsive, precise and refreshingly human.", "Olga V., director"),
                ("They told us what we needed to hear, not what we wanted to hear. It saved us.",
                 "Chen W., co-founder")),
        faqs=(("How are your fees set?", "Fixed fees, agreed in writing before any work begins."),
              ("Do you work remotely?", "Yes. Most meetings happen by video, and we visit when it helps."),
              ("Is the first conversation free?", "Yes, the first half hour is always without charge."),
              ("How quickly do you reply?", "Within one working day, usually much sooner.")),
        cta_headings=("Let us talk it through", "Book a first conversation", "Questions? Ask us"),
        cta_texts=("Send a short note about your situation and we will arrange a time to talk.",
                   "Write to us in confidence. A senior adviser reads every message."),
    ),
    _Kind(
        key="learning",
        hints=("learn", "school", "academy", "tutor", "study", "edu", "class", "course", "teach", "lesson",
               "book", "books", "read", "math", "maths", "skill", "skills", "mentor", "kids", "language",
               "guide", "library", "quiz", "scholar", "campus"),
        features_label="Courses",
        features_headings=("Ways to learn", "Our courses", "Learning, made personal"),
        taglines=("Learning that sticks", "Patient teaching for curious minds", "Every learner, their own pace"),
        hero_headings=("Learn something new this season", "Curiosity, meet a good teacher",
                       "Confidence grows one lesson at a time"),
        hero_texts=("{name} offers small classes and one-to-one tutoring that turn hard subjects into "
                    "something you can enjoy.",
                    "At {name}, experienced teachers build lessons around each learner, so progress feels "
                    "steady and earned."),
        hero_buttons=("Browse courses", "Book a trial lesson", "Find your course"),
        features=(("One-to-one tutoring", "Lessons shaped around one learner's goals, gaps and pace."),
                  ("Small classes", "Groups of six or fewer, so everyone gets heard and helped."),
                  ("Exam preparation", "Calm, structured practice with feedback that shows what to fix next."),
                  ("Evening courses", "Practical skills for adults, scheduled around a working day."),
                  ("Progress reports", "Short written updates after every block, with clear next steps.")),
        about_texts=("{name} was started by two teachers who missed having time for each student. Small "
                     "groups gave that time back, and results followed.",
                     "We believe anyone can learn almost anything with a patient teacher and a good plan. "
                     "{name} provides both."),
        quotes=(("My daughter went from dreading maths to asking for extra problems.", "Fatima H., parent"),
                ("Clear, encouraging and properly prepared. I passed with room to spare.", "Leo D., student"),
                ("The evening course gave me a new skill and a new circle of friends.",
                 "Beatriz C., adult learner")),
        faqs=(("How do I pick the right level?", "Book a free trial lesson and we will recommend a "
               "starting point."),
              ("Can lessons be online?", "Yes, every course is available online or in person."),
              ("What if we miss a lesson?", "Give us a day's notice and we will reschedule it."),
              ("Do you teach adults?", "Yes, about a third of our learners are adults.")),
        cta_headings=("Start learning this week", "Book a trial lesson", "Questions about a course?"),
        cta_texts=("Tell us who is learning and what they want to achieve; we will suggest a course.",
                   "Write to us and a teacher, not a salesperson, will reply."),
    ),
    _Kind(
        key="travel",
        hints=("travel", "trip", "trips", "trail", "camp", "hike", "sea", "surf", "mountain", "peak", "tour",
               "tours", "voyage", "journey", "island", "coast", "wander", "route", "map", "nomad", "sail",
               "boat", "ride", "bike", "cycle", "north", "south", "road", "summit", "harbor", "harbour"),
        features_label="Trips",
        features_headings=("Where we go", "Ways to explore", "Our adventures"),
        taglines=("Small groups, big horizons", "Adventures planned with care", "Go further, travel lighter"),
        hero_headings=("The long way round is the best way", "Find your next horizon",
                       "Adventure, thoughtfully planned"),
        hero_texts=("{name} leads small-group trips on foot, by bike and by boat, with local guides and "
                    "time to actually look around.",
                    "From weekend escapes to month-long journeys, {name} handles the details so you can "
                    "enjoy the view."),
        hero_buttons=("See the trips", "Plan a journey", "Start exploring"),
        features=(("Guided walks", "Day hikes and multi-day treks at a pace that leaves room for lunch "
                   "with a view."),
                  ("Cycling routes", "Quiet roads, good bikes and a support van for tired legs."),
                  ("Coastal trips", "Sea kayaking, island hopping and evenings by the water."),
                  ("Tailor-made", "A journey planned around your dates, your pace and your interests."),
                  ("Low-impact travel", "Trains where possible, local stays and guides paid fairly.")),
        about_texts=("{name} grew out of years of planning trips for friends. We still travel every route "
                     "ourselves before we offer it to anyone else.",
                     "We keep groups small and footprints light. {name} works with local guides who know "
                     "the places, and the people, best."),
        quotes=(("Every detail was handled, and we still felt like explorers.", "Nadia and Ben, travellers"),
                ("The best guide I have ever had, on the best walk of my life.", "Oliver J., hiker"),
                ("Beautiful routes, good company and not a single wasted day.", "Mei L., cyclist")),
        faqs=(("How fit do I need to be?", "Each trip has a clear grade; we will help you choose one "
               "that suits you."),
              ("How big are the groups?", "Twelve travellers at most, often fewer."),
              ("What is included?", "Guides, stays, most meals and all transport during the trip."),
              ("Can you plan a private trip?", "Yes, for families, friends and teams.")),
        cta_headings=("Where to next?", "Let us plan your trip", "Ready for an adventure?"),
        cta_texts=("Tell us where you dream of going and when; we will send ideas within a week.",
                   "Write to us with your dates and we will suggest a trip that fits."),
    ),
)

_FEATURE_INTROS = (
    "Three things {name} does especially well.",
    "A few of the ways {name} can help.",
    "Where {name} puts its time and care.",
)

_FOOTER_NOTES = (
    "Independent and proudly small.",
    "Made with care, one detail at a time.",
    "Thank you for stopping by.",
    "Built to last, kept simple.",
)

# Words too common to flavour copy with, and manifest vocabulary (a batch
# manifest is mostly headings, domain lists and instructions to agents).
_STOPWORDS = frozenset(
    """about above after again against agent agents all also and any are batch because been before being
    below between both brief build built but can could design designs did does doing domain domains down
    during each every few for from further had has have having here how implement into its just like make
    more most must not now only other our out over own same should site sites some such than that the their
    them then there these they this those through under until very was were what when where which while who
    why will with would you your website websites page pages please each list""".split()
)


def _brief_keywords(brief: str, limit: int = 3) -> list[str]:
    """A few distinctive words of the batch brief, in order of appearance.

    Headings, list items and tables are skipped: in a manifest they hold the
    domain list and the metadata, not the flavour.
    """
    words: list[str] = []
    for line in brief.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#-*|>`" or stripped[:2].rstrip(".").isdigit():
            continue
        for word in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", stripped):
            lowered = word.lower().strip("'-")
            if len(lowered) >= 4 and lowered not in _STOPWORDS and lowered not in words:
                words.append(lowered)
                if len(words) == limit:
                    return words
    return words


def _pick_kind(seed: _Seed, domain: str, brief_words: list[str]) -> _Kind:
    """The kind of business the domain suggests, else one drawn from its hash."""
    tokens = re.split(r"[^a-z0-9]+", domain.lower())
    brand = _brand_label(domain)
    for kind in _KINDS:
        # Whole labels and dash-separated words first, then hints inside a
        # joined word ("greenleaf"), skipping short hints that match anywhere.
        if any(token in kind.hints for token in tokens[:-1] if token):
            return kind
    for kind in _KINDS:
        if any(len(hint) >= 4 and hint in brand for hint in kind.hints):
            return kind
    for kind in _KINDS:
        # "bakeries" -> "bake": a prefix match is enough for the brief's words.
        if any(word.startswith(hint) for word in brief_words for hint in kind.hints if len(hint) >= 4):
            return kind
    top_level = tokens[-1] if tokens else ""
    for kind in _KINDS:
        if top_level in kind.hints:
            return kind
    return seed.choice("kind", _KINDS)


# --- The design --------------------------------------------------------------


def build_design(domain: str, brief: str = "", name: str | None = None) -> dict:
    """The design as data: the same structure ``parse_design`` returns.

    ``name`` overrides the one read from the domain (a foreign design may
    have chosen another), so the copy filled into its gaps uses it.
    """
    domain = domain.strip().lower()
    seed = _Seed(domain)
    name = name or name_from_domain(domain)
    # The brief only flavours: it can pick the kind of copy and adds keywords;
    # the look (palette, type, layout) stays a function of the domain alone.
    brief_words = _brief_keywords(brief)
    kind = _pick_kind(seed, domain, brief_words)
    mood, palette = _make_palette(seed)
    pairing, heading_stack, body_stack = seed.choice("fonts", FONT_PAIRINGS)

    def pick(label: str, options) -> str:
        return seed.choice(label, options).format(name=name)

    about = pick("about", kind.about_texts)

    features = [
        {"title": title.format(name=name), "text": text.format(name=name)}
        for title, text in seed.sample("features", kind.features, 3)
    ]
    sections: dict[str, dict] = {
        "hero": {
            "heading": pick("hero-heading", kind.hero_headings),
            "text": pick("hero-text", kind.hero_texts),
            "button": pick("hero-button", kind.hero_buttons),
        },
        "features": {
            "label": kind.features_label,
            "heading": pick("features-heading", kind.features_headings),
            "text": pick("features-intro", _FEATURE_INTROS),
            "items": features,
        },
        "about": {"label": "About", "heading": f"About {name}", "text": about},
    }
    if seed.number("proof", 2) == 0:
        quote, cite = seed.choice("quote", kind.quotes)
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
                for question, answer in seed.sample("faq", kind.faqs, 3)
            ],
        }
    tagline = pick("tagline", kind.taglines)
    sections["cta"] = {
        "label": "Contact",
        "heading": pick("cta-heading", kind.cta_headings),
        "text": pick("cta-text", kind.cta_texts),
        "email": f"hello@{domain}",
        "button": "Copy email address",
    }
    sections["footer"] = {"text": f"{name}. {tagline}. {seed.choice('footer', _FOOTER_NOTES)}"}

    return {
        "name": name,
        "domain": domain,
        "tagline": tagline,
        "kind": kind.key,
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
_SCALAR_FIELDS = ("label", "heading", "text", "button", "quote", "cite", "email")


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
        lines += [f"- {field}: {section[field]}" for field in _SCALAR_FIELDS if field in section]
        lines += [f"- item: {item['title']} — {item['text']}" for item in section.get("items", ())]
    return "\n".join(lines) + "\n"


# --- Parsing a design back ---------------------------------------------------

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
DEFAULT_FONTS = {"pairing": "Classic", "heading": _OLDSTYLE_SERIF, "body": _SYSTEM_SANS}


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
            elif key in _SCALAR_FIELDS:
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
    design["palette"] = _fill_palette(design["palette"])
    if not design["fonts"]:
        defaults.append("fonts")
    for key, value in DEFAULT_FONTS.items():
        design["fonts"].setdefault(key, value)
    for key, allowed, fallback in (("layout", LAYOUTS, LAYOUTS[0]), ("corners", tuple(CORNERS), "soft")):
        if design.get(key) not in allowed:
            design[key] = fallback
            defaults.append(key)
    if design.get("mood") not in ("light", "dark"):
        design["mood"] = "dark" if _relative_luminance(design["palette"]["background"]) < 0.2 else "light"
    for key in ("kind", "keywords", "domain"):
        design.setdefault(key, "")
    design["defaults"] = defaults
    return design


def _mix(first: str, second: str, amount: float) -> str:
    """``first`` moved ``amount`` (0 to 1) of the way towards ``second``, in sRGB."""
    channels = (
        round(int(first[i : i + 2], 16) * (1 - amount) + int(second[i : i + 2], 16) * amount) for i in (1, 3, 5)
    )
    return "#{:02x}{:02x}{:02x}".format(*channels)


def _fill_palette(given: dict[str, str]) -> dict[str, str]:
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


# --- Rendering the site ------------------------------------------------------

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
        "layout": chosen("layout", LAYOUTS),
        # The mood follows the palette actually used, not the document's word.
        "mood": "dark" if _relative_luminance(palette["background"]) < 0.2 else "light",
        "corners": chosen("corners", CORNERS),
        "palette": palette,
        "fonts": fonts,
        "sections": sections,
    }


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


# 24x24 line icons, drawn with currentColor so they follow the palette.
_ICONS = (
    '<circle cx="12" cy="12" r="8"/><path d="M12 8v4l3 2"/>',
    '<path d="M4 12l5 5L20 6"/>',
    '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="M9 12h6M12 9v6"/>',
    '<path d="M12 3l8 5v8l-8 5-8-5V8z"/>',
    '<path d="M5 19c8 0 14-6 14-14C11 5 5 11 5 19z"/><path d="M5 19l7-7"/>',
    '<path d="M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6-5.4-3-5.4 3 1.2-6-4.5-4.2 6.1-.7z"/>',
)


def _icon(index: int, seed: _Seed) -> str:
    body = _ICONS[(seed.number("icons", len(_ICONS)) + index) % len(_ICONS)]
    return (
        '<svg class="icon" viewBox="0 0 24 24" width="40" height="40" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


def _hero_art(layout: str, seed: _Seed) -> str:
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


def _render_html(design: dict, seed: _Seed) -> str:
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
        f"        {_hero_art(layout, seed)}",
        "      </div>",
        "    </section>",
    ]
    if "features" in sections:
        features = sections["features"]
        items = "\n".join(
            '          <li class="feature">\n'
            f"            {_icon(index, seed)}\n"
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
    palette, fonts, layout = design["palette"], design["fonts"], design["layout"]
    radius, button_radius = CORNERS[design["corners"]]
    variables = "\n".join(f"  --{role}: {palette[role]};" for role in PALETTE_ROLES)
    # The name and pairing may come from another agent's file: keep them from
    # closing the comment early.
    summary = f"{design['name']}: {fonts['pairing']} type, {layout} layout, {design['mood']} palette."
    summary = re.sub(r"[^\w ,.:'&-]", "", summary)
    base = f"""/* {summary} */
:root {{
{variables}
  --font-heading: {fonts['heading']};
  --font-body: {fonts['body']};
  --radius: {radius};
  --radius-button: {button_radius};
  --max-width: 70rem;
  --space: clamp(3rem, 8vw, 6rem);
  color-scheme: {design['mood']};
}}

*, *::before, *::after {{ box-sizing: border-box; }}

html {{ -webkit-text-size-adjust: 100%; }}

body {{
  margin: 0;
  background: var(--background);
  color: var(--text);
  font-family: var(--font-body);
  font-size: 1.0625rem;
  line-height: 1.65;
}}

h1, h2, h3 {{
  font-family: var(--font-heading);
  line-height: 1.15;
  margin: 0 0 0.75rem;
  text-wrap: balance;
}}

h1 {{ font-size: clamp(2.25rem, 6vw, 4rem); letter-spacing: -0.02em; }}
h2 {{ font-size: clamp(1.6rem, 3.5vw, 2.4rem); }}
h3 {{ font-size: 1.2rem; }}
p {{ margin: 0 0 1rem; max-width: 65ch; }}

a {{ color: var(--primary); text-underline-offset: 0.2em; }}
a:hover {{ text-decoration-thickness: 2px; }}

:focus-visible {{
  outline: 3px solid var(--accent);
  outline-offset: 3px;
  border-radius: 2px;
}}

.container {{
  width: min(100% - 2.5rem, var(--max-width));
  margin-inline: auto;
}}

.visually-hidden {{
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}}

.skip-link {{
  position: absolute;
  left: 1rem;
  top: -4rem;
  z-index: 10;
  padding: 0.6rem 1rem;
  background: var(--primary);
  color: var(--on-primary);
  border-radius: var(--radius-button);
}}
.skip-link:focus {{ top: 1rem; }}

/* Header and navigation */
.site-header {{
  position: sticky;
  top: 0;
  z-index: 5;
  background: var(--background);
  border-bottom: 1px solid var(--border);
}}
.header-inner {{
  display: flex;
  align-items: center;
  justify-content: space-between;
  gap: 1rem;
  min-height: 4rem;
  flex-wrap: wrap;
}}
.brand {{
  display: inline-flex;
  align-items: center;
  gap: 0.6rem;
  color: var(--text);
  font-family: var(--font-heading);
  font-weight: 700;
  font-size: 1.25rem;
  text-decoration: none;
}}
.brand-mark {{
  width: 1.4rem;
  height: 1.4rem;
  border-radius: var(--radius);
  background: linear-gradient(135deg, var(--primary), var(--accent));
}}
.site-nav ul {{
  display: flex;
  flex-wrap: wrap;
  gap: 0.25rem 1.5rem;
  margin: 0;
  padding: 0;
  list-style: none;
}}
.site-nav a {{ color: var(--text); text-decoration: none; font-weight: 500; }}
.site-nav a:hover {{ color: var(--primary); text-decoration: underline; }}

/* The toggle exists only with JavaScript: without it the menu stays open. */
.nav-toggle {{
  display: none;
  align-items: center;
  justify-content: center;
  width: 2.75rem;
  height: 2.75rem;
  padding: 0;
  border: 1px solid var(--border);
  border-radius: var(--radius-button);
  background: var(--surface);
  color: var(--text);
  cursor: pointer;
}}
.nav-toggle-bars, .nav-toggle-bars::before, .nav-toggle-bars::after {{
  display: block;
  width: 1.2rem;
  height: 2px;
  background: currentColor;
  position: relative;
}}
.nav-toggle-bars::before, .nav-toggle-bars::after {{ content: ""; position: absolute; left: 0; }}
.nav-toggle-bars::before {{ top: -6px; }}
.nav-toggle-bars::after {{ top: 6px; }}

@media (max-width: 47.99em) {{
  .js .nav-toggle {{ display: inline-flex; }}
  .js .site-nav {{ display: none; width: 100%; padding-bottom: 1rem; }}
  .js .site-nav.is-open {{ display: block; }}
  .js .site-nav ul {{ flex-direction: column; gap: 0.75rem; }}
}}

/* Buttons */
.button {{
  display: inline-flex;
  align-items: center;
  gap: 0.5rem;
  padding: 0.8rem 1.4rem;
  border: 0;
  border-radius: var(--radius-button);
  background: var(--primary);
  color: var(--on-primary);
  font: inherit;
  font-weight: 600;
  text-decoration: none;
  cursor: pointer;
}}
.button:hover {{ filter: brightness(1.08); }}

/* Sections */
.section {{ padding-block: var(--space); }}
/* Alternate bands: hero, features, about, proof, call to action. */
.features, .testimonial, .faq {{ background: var(--surface); }}
/* Anchored sections clear the sticky header. */
main section[id] {{ scroll-margin-top: 4.5rem; }}
main:focus {{ outline: none; }}
.section-intro, .eyebrow, figcaption {{ color: var(--muted); }}
.eyebrow {{
  font-size: 0.9rem;
  font-weight: 600;
  letter-spacing: 0.08em;
  text-transform: uppercase;
}}

.hero {{ padding-block: var(--space) 0; overflow: hidden; }}
.lead {{ font-size: 1.2rem; }}
.hero-art {{ display: block; width: 100%; height: auto; }}
.art-primary {{ fill: var(--primary); opacity: 0.9; }}
.art-accent {{ fill: var(--accent); opacity: 0.85; }}
.art-surface {{ fill: var(--surface); stroke: var(--border); stroke-width: 2; }}
.art-ring {{ fill: none; stroke: var(--accent); stroke-width: 3; }}
.art-dot {{ fill: var(--muted); opacity: 0.5; }}

.feature-list {{
  display: grid;
  gap: 1.5rem;
  margin: 2rem 0 0;
  padding: 0;
  list-style: none;
}}
.feature p {{ color: var(--muted); margin: 0; }}
.icon {{
  fill: none;
  stroke: var(--primary);
  stroke-width: 1.6;
  stroke-linecap: round;
  stroke-linejoin: round;
  margin-bottom: 0.75rem;
}}

.testimonial figure {{ margin: 1.5rem 0 0; }}
.testimonial blockquote {{
  margin: 0 0 1rem;
  padding-left: 1.25rem;
  border-left: 4px solid var(--accent);
  font-family: var(--font-heading);
  font-size: clamp(1.25rem, 2.5vw, 1.6rem);
}}

.faq details {{
  border-bottom: 1px solid var(--border);
  padding-block: 1rem;
  max-width: 48rem;
}}
.faq summary {{ cursor: pointer; font-weight: 600; }}
.faq details p {{ margin: 0.75rem 0 0; color: var(--muted); }}

.cta-inner {{
  padding: clamp(2rem, 5vw, 3.5rem);
  border-radius: var(--radius);
  background: var(--surface);
  border: 1px solid var(--border);
}}
.contact-line {{ display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; }}
.email {{ font-weight: 600; font-size: 1.15rem; overflow-wrap: anywhere; }}
.copy-button {{ display: none; }}
.js .copy-button {{ display: inline-flex; }}
.copy-status {{ min-height: 1.65em; color: var(--muted); }}

.site-footer {{
  padding-block: 2.5rem;
  border-top: 1px solid var(--border);
  color: var(--muted);
  font-size: 0.95rem;
}}
.footer-inner {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: 1rem; }}
.footer-inner p {{ margin: 0; }}

@media (min-width: 48em) {{
  .feature-list {{ grid-template-columns: repeat(3, 1fr); }}
}}

/* Motion only for people who have not asked for less. */
@media (prefers-reduced-motion: no-preference) {{
  html {{ scroll-behavior: smooth; }}
  .hero-art {{ animation: rise 0.8s ease-out both; }}
  .button {{ transition: filter 0.2s ease, transform 0.2s ease; }}
  .button:hover {{ transform: translateY(-1px); }}
  @keyframes rise {{ from {{ opacity: 0; transform: translateY(12px); }} to {{ opacity: 1; transform: none; }} }}
}}

@media (prefers-reduced-motion: reduce) {{
  *, *::before, *::after {{
    animation-duration: 0.01ms !important;
    animation-iteration-count: 1 !important;
    transition-duration: 0.01ms !important;
    scroll-behavior: auto !important;
  }}
}}
"""
    return base + _LAYOUT_CSS[layout]


_LAYOUT_CSS = {
    # A centred headline over a full-width wave band; features as open columns.
    "centered": """
/* Layout: centered */
.layout-centered .hero-copy { text-align: center; margin-inline: auto; max-width: 46rem; }
.layout-centered .hero-copy p { margin-inline: auto; }
.layout-centered .hero-art { margin-top: 3rem; height: clamp(5rem, 12vw, 9rem); }
.layout-centered .hero-inner { width: 100%; }
.layout-centered .hero-copy { padding-inline: 1.25rem; }
.layout-centered .section h2, .layout-centered .section-intro { text-align: center; margin-inline: auto; }
.layout-centered .feature { text-align: center; }
.layout-centered .feature p { margin-inline: auto; }
.layout-centered .about-inner, .layout-centered .testimonial figure { max-width: 46rem; text-align: center; }
.layout-centered .about-inner p { margin-inline: auto; }
.layout-centered .testimonial blockquote { border-left: 0; padding-left: 0; }
.layout-centered .faq details { margin-inline: auto; }
.layout-centered .cta-inner { text-align: center; }
.layout-centered .cta-inner p { margin-inline: auto; }
.layout-centered .contact-line { justify-content: center; }
""",
    # Copy and illustration side by side; features as a ruled list.
    "split": """
/* Layout: split */
.layout-split .hero { padding-bottom: var(--space); }
.layout-split .hero-inner { display: grid; gap: 2.5rem; align-items: center; }
.layout-split .hero-art { max-width: 28rem; margin-inline: auto; }
.layout-split .feature { padding-top: 1.25rem; border-top: 2px solid var(--primary); }
.layout-split .about-inner { display: grid; gap: 1rem 3rem; }
@media (min-width: 48em) {
  .layout-split .hero-inner { grid-template-columns: 1.1fr 0.9fr; }
  .layout-split .about-inner { grid-template-columns: 1fr 2fr; }
}
""",
    # Content on raised cards; the illustration sits behind the hero card.
    "cards": """
/* Layout: cards */
.layout-cards .hero { padding-bottom: var(--space); }
.layout-cards .hero-inner { position: relative; display: grid; }
.layout-cards .hero-copy {
  position: relative;
  z-index: 1;
  padding: clamp(1.5rem, 5vw, 3rem);
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: var(--radius);
  box-shadow: 0 1.5rem 3rem -1.5rem rgb(0 0 0 / 0.35);
  max-width: 40rem;
}
.layout-cards .hero-art { max-width: 22rem; justify-self: end; margin-top: -3rem; }
.layout-cards .feature {
  padding: 1.75rem;
  background: var(--background);
  border: 1px solid var(--border);
  border-radius: var(--radius);
  box-shadow: 0 0.75rem 2rem -1.25rem rgb(0 0 0 / 0.3);
}
.layout-cards .about-inner,
.layout-cards .testimonial figure {
  padding: clamp(1.5rem, 4vw, 2.5rem);
  border: 1px solid var(--border);
  border-radius: var(--radius);
}
@media (min-width: 48em) {
  .layout-cards .hero-inner { grid-template-columns: 3fr 2fr; align-items: center; }
  .layout-cards .hero-art { margin-top: 0; margin-left: -4rem; }
}
""",
}

_SCRIPT = """/* Mobile menu and copy-to-clipboard. The page works without this file:
   the menu stays open and the email address stays visible. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    };
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("click", function (event) {
      if (event.target.closest("a")) {
        setOpen(false);
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  var copyButton = document.querySelector(".copy-button");
  var status = document.querySelector(".copy-status");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var target = document.getElementById(copyButton.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      var text = target.textContent.trim();
      var announce = function (message) {
        if (status) {
          status.textContent = message;
        }
      };
      var selectText = function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        announce("Address selected: press Ctrl+C or Cmd+C to copy it.");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          announce("Copied " + text + " to the clipboard.");
        }, selectText);
      } else {
        selectText();
      }
    });
  }
})();
"""


def render_site(design: dict, domain: str) -> dict[str, str]:
    """The site for ``design``: ``{"index.html": ..., "styles.css": ..., "script.js": ...}``.

    ``design`` is what ``parse_design`` returns; anything it lacks is taken
    from the builtin design of ``domain``.
    """
    domain = domain.strip().lower()
    complete = _complete(design, domain)
    seed = _Seed(domain)
    return {
        "index.html": _render_html(complete, seed),
        "styles.css": _render_css(complete),
        "script.js": _SCRIPT,
    }


# --- Entry point -------------------------------------------------------------


class _AgentError(Exception):
    """A problem reported as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _require_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise _AgentError(f"builtin agent: {name} is not set")
    return value


def _read_brief() -> str:
    """The batch manifest, or "" when it is absent or unreadable: it is only flavour."""
    path = os.environ.get("SMB_BRIEF", "").strip()
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return ""


def _drain_stdin() -> None:
    """Read and discard the prompt.

    The runner writes the prompt into a pipe; leaving it unread could block
    that writer or hand it EPIPE. A terminal is skipped so a person running
    the agent by hand is not left waiting.
    """
    stream = sys.stdin
    if stream is None:
        return
    try:
        if stream.isatty():
            return
        buffer = getattr(stream, "buffer", None)
        while (buffer.read(1 << 16) if buffer is not None else stream.read(1 << 16)):
            pass
    except (OSError, ValueError):
        # Closed or unreadable stdin: there is nothing to discard.
        return


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="\n")


def _run() -> str:
    phase = _require_env("SMB_PHASE")
    domain = _require_env("SMB_DOMAIN").lower()
    output = Path(_require_env("SMB_OUTPUT"))
    if phase == "design":
        _drain_stdin()
        brief = _read_brief()
        try:
            _write(output, make_design(domain, brief))
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot write {output}: {error.strerror or error}", 1) from error
        return f"wrote design for {domain} to {output}"
    if phase == "implement":
        design_path = Path(_require_env("SMB_DESIGN"))
        _drain_stdin()
        try:
            design_text = design_path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot read design {design_path}: {error.strerror or error}") from error
        files = render_site(parse_design(design_text), domain)
        try:
            for filename, content in files.items():
                _write(output / filename, content)
        except OSError as error:
            raise _AgentError(f"builtin agent: cannot write {output}: {error.strerror or error}", 1) from error
        return f"wrote {len(files)} files for {domain} to {output}"
    raise _AgentError(f"builtin agent: unknown SMB_PHASE {phase!r} (expected design or implement)")


def main() -> int:
    """Run one phase for one site as the environment describes; return the exit code."""
    try:
        summary = _run()
    except _AgentError as error:
        print(error, file=sys.stderr)
        return error.exit_code
    print(summary)
    return 0
