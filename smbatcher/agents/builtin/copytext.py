"""The copy: the words on the page for each trade, and recognising the trade.

The words live in data, not code: ``trades/*.json`` (package data, one file
per group of trades) maps a trade's key to its entry, and ``neutral.json``
holds the copy for a business whose trade is unknown, the lines every trade
shares and the words that hold a trade word by accident (``accidental``). An entry lists the ``words`` that name the trade in a domain or
a brief, the ``mentions`` that name it on the page, the ``claims`` no other
trade's page may make, its menu words, icons and copy (several variants of
each, ``{name}`` filled in by ``design.py``). Adding a trade is adding an
entry; ``REQUIRED`` says what an entry must hold.

``pick_trade`` reads the domain's words first (whole dash-separated words,
then words inside a run-together label such as ``brightsmiledentistry``),
then the top-level domain (``.cafe``), then the batch brief's prose; a
domain naming no trade gets the neutral entry, never another trade's copy.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass

from .names import brand_label

# Every trade's entry holds each of these (lists; the copy lists need this
# many). The neutral entry has no words, mentions or claims: it names no trade.
REQUIRED = {
    "words": 1, "mentions": 1, "claims": 1, "icons": 3,
    "taglines": 2, "hero_headings": 2, "hero_texts": 2, "hero_buttons": 2,
    "services": 4, "about": 2, "quotes": 2, "faqs": 3, "cta_headings": 2, "cta_texts": 2,
}
_GROUPS = ("home", "health", "food", "shops", "learning", "leisure", "professional", "tech")
# Words this short match only as a whole word (``vet``, ``spa``), never inside another.
_WHOLE_ONLY = 3


@dataclass(frozen=True)
class Trade:
    """The copy for one trade (or the neutral copy); ``{name}`` is filled in later."""

    key: str
    words: tuple[str, ...]
    mentions: tuple[str, ...]
    claims: tuple[str, ...]
    menu: str
    contact: str
    icons: tuple[str, ...]
    taglines: tuple[str, ...]
    hero_headings: tuple[str, ...]
    hero_texts: tuple[str, ...]
    hero_buttons: tuple[str, ...]
    services: tuple[tuple[str, str], ...]
    about: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]
    faqs: tuple[tuple[str, str], ...]
    cta_headings: tuple[str, ...]
    cta_texts: tuple[str, ...]


def _tuples(value):
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def _read(name: str) -> dict:
    # Through the module's own loader, as pkgutil.get_data does: zip-safe (the
    # agent may run from a zipped install) without importing importlib.resources
    # (8 ms of every design process's start-up).
    path = os.path.join(os.path.dirname(__file__), "trades", f"{name}.json")
    return json.loads(__spec__.loader.get_data(path).decode("utf-8"))


def _trade(key: str, entry: dict) -> Trade:
    fields = {field: _tuples(entry.get(field, [])) for field in REQUIRED}
    return Trade(key=key, menu=entry.get("menu", "Services"), contact=entry.get("contact", "Contact"), **fields)


@functools.cache
def trades() -> dict[str, Trade]:
    """Every known trade by key, in the data's order (group files, then entries)."""
    found: dict[str, Trade] = {}
    for group in _GROUPS:
        for key, entry in _read(group).items():
            found[key] = _trade(key, entry)
    return found


@functools.cache
def _shared() -> dict:
    return _read("neutral")


def neutral() -> Trade:
    """The copy for a business whose trade is unknown: about it, by its name."""
    return _trade("general", _shared()["general"])


def shared(field: str) -> tuple[str, ...]:
    """Lines every trade uses (``feature_headings``, ``feature_intros``, ``footer_notes``)."""
    return _tuples(_shared()[field])


def trade_by_key(key: str) -> Trade | None:
    return neutral() if key == "general" else trades().get(key)


def _squash(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


@functools.cache
def _vocabulary() -> dict[str, str]:
    """Every word naming a trade, squashed (``auto-repair`` -> ``autorepair``), to its trade."""
    vocabulary: dict[str, str] = {}
    for trade in trades().values():
        for word in trade.words:
            vocabulary.setdefault(_squash(word), trade.key)
    return vocabulary


@functools.cache
def _whole_only() -> frozenset[str]:
    """Words marked ``=`` in the data: too common inside other words (``=pool``: Liverpool)."""
    return frozenset(_squash(word) for trade in trades().values() for word in trade.words if word.startswith("="))


def _exact(token: str) -> str | None:
    vocabulary = _vocabulary()
    for form in (token, token[:-1] if token.endswith("s") else "", token[:-2] if token.endswith("es") else ""):
        if form and form in vocabulary:
            return vocabulary[form]
    return None


def _inside(token: str) -> tuple[int, str] | None:
    """The longest trade word at the start or end of a run-together label.

    Only at an edge (``brightsmiledentistry``, ``cafeluna``), and only words
    longer than three letters, so ``vet`` never matches in ``velvet``.
    """
    best: tuple[int, str] | None = None
    whole_only = _whole_only()
    for word, key in _vocabulary().items():
        if len(word) <= _WHOLE_ONLY or len(word) >= len(token) or word in whole_only:
            continue
        stem = token[:-1] if token.endswith("s") else token
        # The rest of the label must be a word too (3+ letters): "blocks" is not "b" + "locks".
        if len(token) - len(word) < 3:
            continue
        if token.startswith(word) or token.endswith(word) or stem.endswith(word):
            if best is None or len(word) > best[0]:
                best = (len(word), key)
    return best


def _from_labels(labels: list[str]) -> str | None:
    """The trade the name's words give: the rightmost word naming one (English puts the
    trade last: ``orchard-vet``), whole words before words inside a joined label."""
    tokens = [token for label in labels for token in re.split(r"[-_]+", label) if token]
    compounds = [a + b for a, b in zip(tokens, tokens[1:])]
    for token in [*reversed(compounds), *reversed(tokens)]:
        if key := _exact(token):
            return key
    unrelated = _shared()["not_trades"]
    for token in reversed(tokens):
        if any(token.startswith(word) or token.endswith(word) for word in unrelated):
            continue
        if found := _inside(token):
            return found[1]
    return None


# Top-level domains any business uses (lotus.dev is not a software house).
_GENERIC_TLDS = frozenset({"dev", "app", "tech", "digital", "systems", "tools", "codes"})


def _from_brief(brief: str) -> str | None:
    """The first trade the brief's prose names by a whole word (headings and lists skipped:
    in a manifest they hold the domain list and metadata)."""
    for line in brief.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#-*|>`" or stripped[:2].rstrip(".").isdigit():
            continue
        # Split on spaces and punctuation but not hyphens: "stock-photo" names no photographer.
        for word in re.findall(r"[a-z][a-z&'-]*", stripped.lower()):
            if "-" not in word and (key := _exact(_squash(word))):
                return key
    return None


def pick_trade(domain: str, brief: str = "") -> Trade:
    """The trade the domain names, else the one its top-level domain or the brief names, else neutral."""
    labels = [label for label in domain.lower().strip(".").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    brand = brand_label(domain)
    others = [label for label in labels[:-1] if label != brand and label not in ("co", "com", "org", "net")]
    top = labels[-1] if len(labels) > 1 and labels[-1] not in _GENERIC_TLDS else ""
    key = _from_labels([*others, brand]) or (_exact(top) if top else None) or _from_brief(brief)
    return trades()[key] if key else neutral()


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


def brief_keywords(brief: str, limit: int = 3) -> list[str]:
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
