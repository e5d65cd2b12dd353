"""The builtin agent writes each business's own trade (issue 23).

A site's copy comes from the trade its domain (or the batch brief) names;
a domain naming no known trade gets neutral copy about the business by its
name. The proof: every demo site and a list of other domains across trades
are built, and each page's visible text, with the business's own name
removed, names its trade at least twice and makes no claim that belongs to
another trade.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from support import REPO_ROOT

from smbatcher.agents.builtin import make_design, name_from_domain, parse_design, render_site
from smbatcher.agents.builtin.art import ICONS
from smbatcher.agents.builtin.copytext import REQUIRED, neutral, pick_trade, trades

BATCHES = sorted((REPO_ROOT / ".smbatcher" / "batches").glob("*.md"))

# Domains outside the demo, across trades: whole words, compounds, run-together labels, country codes.
OTHER_DOMAINS = {
    "sunrise-bakery.co.uk": "bakery",
    "brightsmiledentistry.com": "dentist",
    "citymovers.com": "movers",
    "city-locksmiths.com": "locksmith",
    "voltline-electricians.com": "electrician",
    "topcoat-painters.com": "painter",
    "summit-roofing.com": "roofer",
    "sparkle-cleaning.com": "cleaner",
    "acme-auto-repair.com": "mechanic",
    "villagevets.com": "vet",
    "happy-paws-grooming.com": "pet-grooming",
    "cornerstone-pharmacy.com": "pharmacy",
    "old-mill-brewery.com": "brewery",
    "luigis-pizzeria.com": "restaurant",
    "chapter-one-bookshop.com": "bookshop",
    "fadeaway-barbers.com": "barber",
    "glow-hair-salon.com": "salon",
    "powerhouse-gym.com": "gym",
    "little-fish-swim-school.com": "swim-school",
    "keynote-piano.com": "music-teacher",
    "lightbox-photography.com": "photographer",
    "harbourview-hotel.com": "hotel",
    "rose-cottage-bnb.co.uk": "hotel",
    "wanderlust-travel.com": "travel",
    "ledgerline-accountants.com": "accountant",
    "shieldwell-insurance.com": "insurance",
    "hearthstone-realty.com": "real-estate",
    "stitch-tailoring.com": "tailor",
    "goldleaf-jewellers.com": "jeweller",
    "clearview-opticians.com": "optician",
    "sunnydays-nursery.org": "daycare",
    "quickfix-plumbers.com": "plumber",
    "greenthumb-gardening.com": "landscaping",
    "bytesize-software.io": "software",
    "stormwatch-weather.app": "weather-app",
    "redoak-legal.com": "lawyer",
    "maplefarm.co.uk": "farm",
    "smithslawfirm.com": "lawyer",
    "lumen.photo": "photographer",
    "clay-and-kiln.com": "pottery",
    "ridgeline-architects.co.uk": "architect",
    "bright-futures-tutoring.com": "tutor",
}
# Naming no trade: an invented word, a plain name, and words that hold a trade word by accident.
NEUTRAL_DOMAINS = ["zqx-holdings.com", "lotus.dev", "acme.com", "velvet.io", "building-blocks.com",
                   "accidental.com", "northstar.app", "automation-hub.io"]


class _VisibleText(HTMLParser):
    """The text a reader sees in the page's body (no head, scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self._in_body = True
        if tag in ("script", "style", "svg"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg"):
            self._hidden -= 1

    def handle_data(self, data):
        if self._in_body and not self._hidden:
            self.parts.append(data)


def _visible_text(domain: str, brief: str = "") -> str:
    design = parse_design(make_design(domain, brief))
    parser = _VisibleText()
    parser.feed(render_site(design, domain)["index.html"])
    text = " ".join(" ".join(parser.parts).split())
    # The business's own name (and its address) may hold the trade word: it does not count.
    for own in (domain, design["name"], name_from_domain(domain)):
        text = re.sub(re.escape(own), " ", text, flags=re.I)
    return text


def _pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?:s|es)?(?![\w-])", re.I)


def _count(text: str, phrases) -> int:
    return sum(len(_pattern(phrase).findall(text)) for phrase in phrases)


def _claims_of_others(key: str) -> list[tuple[str, str]]:
    return [(other.key, claim) for other in trades().values() if other.key != key for claim in other.claims]


def _demo_sites() -> list[tuple[str, str]]:
    sites = {}
    for batch in BATCHES:
        text = batch.read_text(encoding="utf-8")
        for domain in re.findall(r"^- (\S+\.\S+)\s*$", text, re.M):
            sites.setdefault(domain, text)
    return sorted(sites.items())


def _assert_own_trade(domain: str, brief: str) -> None:
    trade = pick_trade(domain, brief)
    text = _visible_text(domain, brief)
    strays = [f"{other}: {claim!r}" for other, claim in _claims_of_others(trade.key) if _pattern(claim).search(text)]
    assert not strays, f"{domain} ({trade.key}) makes other trades' claims: {strays}"
    if trade.key == "general":
        named = [word for other in trades().values() for word in other.words if _pattern(word).search(text)]
        assert not named, f"{domain} has neutral copy but names a trade: {named}"
    else:
        assert _count(text, trade.mentions) >= 2, f"{domain} ({trade.key}) names its trade fewer than twice"


def test_the_demo_batches_name_36_sites():
    assert len(_demo_sites()) == 36


@pytest.mark.parametrize(("domain", "brief"), _demo_sites(), ids=[domain for domain, _ in _demo_sites()])
def test_every_demo_site_writes_its_own_trade(domain, brief):
    _assert_own_trade(domain, brief)


def test_demo_sites_read_as_the_trades_they_name():
    picked = {domain: pick_trade(domain, brief).key for domain, brief in _demo_sites()}
    assert picked["atlas-movers.io"] == "movers"
    assert picked["bluefin-dental.com"] == "dentist"
    assert picked["riverbend-plumbing.com"] == "plumber"
    assert picked["northwind-cycles.com"] == "bike-shop"
    assert picked["juniper-florist.shop"] == "florist"
    assert picked["orchard-vet.clinic"] == "vet"  # the trade word last wins over "orchard"
    assert picked["copper-kettle.cafe"] == "cafe"  # from the top-level domain
    assert picked["lotus.dev"] == "general"
    # Every demo site but a handful of plain names gets a trade.
    assert sum(key == "general" for key in picked.values()) <= 4


@pytest.mark.parametrize(("domain", "key"), sorted(OTHER_DOMAINS.items()))
def test_other_domains_write_their_own_trade(domain, key):
    assert pick_trade(domain).key == key
    _assert_own_trade(domain, "")


@pytest.mark.parametrize("domain", NEUTRAL_DOMAINS)
def test_a_domain_naming_no_trade_gets_neutral_copy_about_the_business(domain):
    assert pick_trade(domain).key == "general"
    _assert_own_trade(domain, "")
    design = parse_design(make_design(domain))
    page = render_site(design, domain)["index.html"]
    # Neutral means: about the business by its name, no trade named, no trade's menu.
    assert page.count(design["name"]) >= 3
    assert 'href="#features">What we do<' in page


def test_the_brief_names_the_trade_when_the_domain_does_not():
    brief = "# Batch\n\nSites for independent bakeries in the valley.\n\n## Domains\n\n- acme.com\n"
    assert pick_trade("acme.com", brief).key == "bakery"
    assert pick_trade("atlas-movers.io", brief).key == "movers"  # the domain's own word first
    _assert_own_trade("acme.com", brief)
    # A trade word inside a hyphenated brief word, a heading or the domain list names nothing.
    assert pick_trade("acme.com", "# Bakery\n\nNo stock-photo clichés.\n\n- bakery.com\n").key == "general"


@pytest.mark.parametrize(
    ("domain", "key"),
    [("bakerystreet.com", "bakery"), ("cafeluna.com", "cafe"), ("zenyoga.org", "yoga"),
     ("velvet-cafe.com", "cafe"), ("puget-sound-kayaks.com", "watersports"), ("music-lessons.net", "music-teacher"),
     ("bigsmilephotography.com", "photographer"), ("bluefindental.co.uk", "dentist"),
     # Common words holding a trade word are no trade: marked whole-only (=pool) or listed as not_trades.
     ("liverpool-books.com", "bookshop"), ("liverpool.com", "general"), ("monkeys.io", "general"),
     ("brainstorm.com", "general"), ("contour.com", "general"), ("hotsprings.com", "general")],
)
def test_trade_words_are_matched_inside_joined_labels_only_at_an_edge(domain, key):
    assert pick_trade(domain).key == key


def test_every_trade_entry_is_complete():
    assert len(trades()) >= 40
    for entry in [*trades().values(), neutral()]:
        for field, least in REQUIRED.items():
            if entry.key == "general" and field in ("words", "mentions", "claims"):
                assert not getattr(entry, field)  # neutral copy names no trade
                continue
            values = getattr(entry, field)
            assert len(values) >= least, f"{entry.key}.{field} needs at least {least}"
            flat = [part for value in values for part in (value if isinstance(value, tuple) else (value,))]
            assert all(isinstance(part, str) and part.strip() for part in flat), f"{entry.key}.{field}"
        assert entry.menu and entry.contact
        assert all(len(pair) == 2 for field in ("services", "quotes", "faqs") for pair in getattr(entry, field))
        assert set(entry.icons) <= set(ICONS), f"{entry.key}: unknown icons {set(entry.icons) - set(ICONS)}"


def _all_copy(entry) -> str:
    fields = ("taglines", "hero_headings", "hero_texts", "hero_buttons", "services", "about", "quotes", "faqs",
              "cta_headings", "cta_texts")
    parts = [entry.menu, entry.contact]
    for field in fields:
        for value in getattr(entry, field):
            parts.extend(value if isinstance(value, tuple) else (value,))
    return " ".join(parts).replace("{name}", " ")


def test_no_variant_of_a_trades_copy_makes_another_trades_claims():
    # Stronger than any one site: every variant a seed could draw.
    for trade in trades().values():
        text = _all_copy(trade)
        strays = [f"{other}: {claim!r}" for other, claim in _claims_of_others(trade.key) if _pattern(claim).search(text)]
        assert not strays, f"{trade.key}: {strays}"
        assert _count(text, trade.mentions) >= 6, trade.key
    text = _all_copy(neutral())
    assert not [claim for _, claim in _claims_of_others("general") if _pattern(claim).search(text)]


def test_trade_words_belong_to_one_trade():
    owners: dict[str, str] = {}
    for trade in trades().values():
        for word in trade.words:
            squashed = re.sub(r"[^a-z0-9]", "", word.lower())
            assert owners.setdefault(squashed, trade.key) == trade.key, f"{word!r}: {owners[squashed]} and {trade.key}"
