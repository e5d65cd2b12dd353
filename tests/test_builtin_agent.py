"""The builtin agent: deterministic designs, valid offline sites, the entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import REPO_ROOT

from smbatcher.agents.builtin import (
    PALETTE_ROLES,
    contrast_ratio,
    make_design,
    name_from_domain,
    parse_design,
    render_site,
)

# Varied on purpose: named trades, no trade (neutral), dashes, digits,
# country-code second levels, long labels and a subdomain.
DOMAINS = [
    "lotus.dev", "green-leaf.io", "acme.com", "brightcode.app", "north-trail.travel",
    "sunrise-bakery.co.uk", "quiet-ledger.law", "pixel-studio.design", "maple.academy",
    "x1.io", "a.co", "zen-yoga.fit", "harbor-coffee.cafe", "orbital.space", "tiny-tools.dev",
    "river-garden.org", "blue-whale.net", "studio-42.art", "the-book-nook.shop",
    "mountain-peak-adventures.com", "data-forge.ai", "kindred.health", "old-oak-farm.farm",
    "nimbus.cloud", "fox-and-hound.pub", "lumen.photo", "parallel-lines.xyz",
    "www.example-site.com", "shop.lotus.co.uk", "q.dev",
    "very-long-domain-name-with-many-words-for-testing-the-layout.example",
]


def _site(domain: str, brief: str = "") -> dict[str, str]:
    return render_site(parse_design(make_design(domain, brief)), domain)


class _Collector(HTMLParser):
    """Ids, local references and visible text of a page (stdlib, for assertions)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self.headings: list[int] = []
        self.images_without_alt = 0
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for name in ("href", "src"):
            if attributes.get(name) is not None:
                self.references.append(attributes[name])
        if tag in ("script", "style"):
            self._skip_depth += 1
        if tag == "title":
            self._in_title = True
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img" and not attributes.get("alt"):
            self.images_without_alt += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip_depth -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip_depth and data.strip():
            self.text.append(data.strip())


def _check_site(files: dict[str, str]) -> None:
    """Every check a finished site must pass; raises AssertionError with the reason."""
    assert set(files) == {"index.html", "styles.css", "script.js"}
    page = files["index.html"]

    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(page)  # strict: raises on any parse error
    assert not parser.errors

    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert 'name="viewport"' in page
    assert 'name="description"' in page
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in page, landmark
    assert 'class="skip-link" href="#main"' in page

    collected = _Collector()
    collected.feed(page)
    assert collected.title.strip()
    assert len(" ".join(collected.text)) > 300
    assert collected.images_without_alt == 0
    assert collected.headings[0] == 1 and collected.headings.count(1) == 1
    for previous, current in zip(collected.headings, collected.headings[1:]):
        assert current <= previous + 1, f"heading level jumps from h{previous} to h{current}"

    for reference in collected.references:
        if reference.startswith("#"):
            assert reference[1:] in collected.ids, f"anchor {reference} has no target"
        else:
            assert reference in files, f"{reference} does not resolve to a generated file"

    everything = "\n".join(files.values())
    assert "http://" not in everything and "https://" not in everything
    assert "//" not in re.sub(r"/\*.*?\*/", "", files["styles.css"], flags=re.S)
    for placeholder in ("lorem ipsum", "todo", "{{", "}}", "tbd", "placeholder"):
        assert placeholder not in everything.lower(), placeholder
    assert "@import" not in files["styles.css"] and "url(" not in files["styles.css"]

    css = files["styles.css"]
    assert "@media (min-width" in css and "display: grid" in css
    assert "prefers-reduced-motion: reduce" in css
    assert ":focus-visible" in css
    assert "aria-expanded" in files["script.js"]

    assert 3_000 < sum(len(content.encode()) for content in files.values()) < 40_000


# --- Names and design ----------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        ("lotus.dev", "Lotus"),
        ("green-leaf.io", "Green Leaf"),
        ("sunrise-bakery.co.uk", "Sunrise Bakery"),
        ("www.acme.com", "Acme"),
        ("shop.lotus.dev", "Lotus"),
    ],
)
def test_name_comes_from_the_domain(domain, name):
    assert name_from_domain(domain) == name
    assert make_design(domain).startswith(f"# {name} — design\n")


@pytest.mark.parametrize("domain", ["lotus.dev", "brightsmiledentistry.com", "atlas-movers.io"])
def test_same_domain_gives_identical_design_and_site(domain):
    assert make_design(domain) == make_design(domain)
    assert _site(domain) == _site(domain)
    # Across processes too: a choice keyed on the salted hash() would agree within one process only
    # (neutral copy, a trade found inside a joined label, a trade from a whole word).
    code = ("import json, sys; from smbatcher.agents.builtin import make_design, parse_design, render_site; "
            "d = make_design(sys.argv[1]); print(json.dumps([d, render_site(parse_design(d), sys.argv[1])]))")
    for seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", code, domain], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [make_design(domain), _site(domain)], seed


def test_different_domains_give_different_sites():
    first, second = parse_design(make_design("lotus.dev")), parse_design(make_design("green-leaf.io"))
    assert first["palette"] != second["palette"]
    assert _site("lotus.dev")["index.html"] != _site("green-leaf.io")["index.html"]
    assert _site("lotus.dev")["styles.css"] != _site("green-leaf.io")["styles.css"]


def test_domains_spread_over_layouts_fonts_and_moods():
    designs = [parse_design(make_design(domain)) for domain in DOMAINS]
    assert len({design["layout"] for design in designs}) == 3
    assert len({design["fonts"]["pairing"] for design in designs}) >= 4
    assert {design["mood"] for design in designs} == {"light", "dark"}
    assert len({design["palette"]["primary"] for design in designs}) == len(designs)


@pytest.mark.parametrize("domain", DOMAINS)
def test_design_round_trips_and_has_every_part(domain):
    text = make_design(domain)
    design = parse_design(text)
    assert design["name"] == name_from_domain(domain)
    assert design["tagline"]
    assert set(PALETTE_ROLES) <= set(design["palette"])
    for role in ("background", "surface", "text", "primary", "accent"):
        assert re.search(rf"^- {role}: {design['palette'][role]}$", text, re.M)
    palette = design["palette"]
    assert contrast_ratio(palette["text"], palette["background"]) >= 4.5
    assert contrast_ratio(palette["primary"], palette["background"]) >= 4.5
    assert contrast_ratio(palette["on-primary"], palette["primary"]) >= 4.5
    assert contrast_ratio(palette["accent"], palette["background"]) >= 3.0
    assert design["fonts"]["heading"] and design["fonts"]["body"]
    sections = design["sections"]
    assert {"hero", "features", "about", "cta", "footer"} <= set(sections)
    assert ("testimonial" in sections) != ("faq" in sections)
    assert len(sections["features"]["items"]) == 3
    assert all(item["title"] and item["text"] for item in sections["features"]["items"])
    assert sections["hero"]["heading"] and sections["hero"]["text"]


def test_brief_flavours_the_copy_but_not_the_look():
    brief = "# Batch 001\n\nSites for independent bakeries and coffee roasters.\n\n- acme.com\n- lotus.dev\n"
    plain, flavoured = parse_design(make_design("acme.com")), parse_design(make_design("acme.com", brief))
    assert flavoured["kind"] == "bakery"  # the first trade the brief names (was the "food" kind)
    assert "bakeries" in flavoured["keywords"]
    assert "acme" not in flavoured["keywords"]
    assert flavoured["palette"] == plain["palette"]
    assert 'name="keywords"' in render_site(flavoured, "acme.com")["index.html"]


def test_parse_tolerates_a_foreign_design():
    foreign = """# Design document: Moonbeam Bakery

Some intro the other agent wrote.

## Colours
| Role | Hex |
|------|-----|
| Accent | #E0A030 |
- **Primary**: `#AA3300` (terracotta)
- Background: #fff
- Deep navy: #0f172a

## Typography
- **Heading:** Georgia, serif

## Hero
Headline: Warm bread at midnight
Fresh bread daily.

## Services
- Sourdough — slow fermented
- Pastries: flaky and fresh
"""
    design = parse_design(foreign)
    assert design["name"] == "Moonbeam Bakery"
    assert design["palette"]["primary"] == "#aa3300"
    assert design["palette"]["accent"] == "#e0a030"
    assert design["palette"]["background"] == "#ffffff"
    assert set(PALETTE_ROLES) <= set(design["palette"])
    assert design["fonts"]["heading"] == "Georgia, serif"
    assert design["sections"]["hero"] == {"heading": "Warm bread at midnight", "text": "Fresh bread daily."}
    assert design["sections"]["features"]["items"] == [
        {"title": "Sourdough", "text": "slow fermented"},
        {"title": "Pastries", "text": "flaky and fresh"},
    ]
    files = render_site(design, "moonbeam.bakery")
    _check_site(files)
    assert "Moonbeam Bakery" in files["index.html"]
    assert "Warm bread at midnight" in files["index.html"]
    assert "--primary: #aa3300;" in files["styles.css"]
    assert "--font-heading: Georgia, serif;" in files["styles.css"]


def test_a_design_without_palette_gets_the_domains_palette():
    files = render_site(parse_design("# Moonbeam\n\n## Hero\nHello there.\n"), "moonbeam.bakery")
    own = parse_design(make_design("moonbeam.bakery"))["palette"]
    assert f"--primary: {own['primary']};" in files["styles.css"]


@pytest.mark.parametrize("text", ["", "\x00\x01 garbage", "# \n## \n### \n- : \n- item:\n", "#" * 5000])
def test_parse_never_crashes_and_render_fills_the_gaps(text):
    files = render_site(parse_design(text), "lotus.dev")
    _check_site(files)


def test_copy_is_html_escaped():
    design = parse_design(make_design("lotus.dev"))
    design["name"] = 'Tom & "Jerry" <script>'
    design["sections"]["hero"]["heading"] = "<b>bold</b> & more"
    design["fonts"]["heading"] = "x; } body { background: red"
    files = render_site(design, "lotus.dev")
    assert "<script>" not in files["index.html"].split("<body", 1)[1]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in files["index.html"]
    assert "background: red" not in files["styles.css"]
    _check_site(files)


# --- Sites -------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_site_passes_the_html_checks(domain):
    _check_site(_site(domain))


# --- The entry point ---------------------------------------------------------


def _agent(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SMB_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "smbatcher.agents.builtin"],
        env={**clean, **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_entry_point_runs_design_then_implement(tmp_path):
    brief = tmp_path / "Batch_001.md"
    brief.write_text("# Batch 001\n\nCalm sites for yoga teachers.\n\n- lotus.dev\n", encoding="utf-8")
    design_file = tmp_path / "designs" / "lotus.dev-DESIGN.md"
    site_dir = tmp_path / "sites" / "lotus.dev-v1"

    designed = _agent(
        {"SMB_PHASE": "design", "SMB_DOMAIN": "lotus.dev", "SMB_OUTPUT": str(design_file),
         "SMB_BRIEF": str(brief), "SMB_BATCH": "001", "SMB_ATTEMPT": "1"},
        tmp_path,
    )
    assert designed.returncode == 0, designed.stderr
    assert design_file.read_text(encoding="utf-8") == make_design("lotus.dev", brief.read_text())
    assert len(designed.stdout.strip().splitlines()) == 1

    built = _agent(
        {"SMB_PHASE": "implement", "SMB_DOMAIN": "lotus.dev", "SMB_OUTPUT": str(site_dir),
         "SMB_DESIGN": str(design_file), "SMB_BRIEF": str(tmp_path / "missing.md")},
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    files = {path.name: path.read_text(encoding="utf-8") for path in site_dir.iterdir()}
    _check_site(files)
    assert len(built.stdout.strip().splitlines()) == 1


def test_entry_point_reads_the_prompt_from_a_pipe(tmp_path):
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SMB_")}
    result = subprocess.run(
        [sys.executable, "-m", "smbatcher.agents.builtin"],
        env={**clean, "PYTHONPATH": str(REPO_ROOT), "SMB_PHASE": "design", "SMB_DOMAIN": "lotus.dev",
             "SMB_OUTPUT": str(tmp_path / "d.md")},
        cwd=tmp_path,
        input="prompt text\n" * 50_000,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.md").is_file()


def test_missing_domain_exits_2_with_one_line(tmp_path):
    result = _agent({"SMB_PHASE": "design", "SMB_OUTPUT": str(tmp_path / "d.md")}, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SMB_DOMAIN" in result.stderr
    assert not (tmp_path / "d.md").exists()


def test_unreadable_design_exits_2(tmp_path):
    result = _agent(
        {"SMB_PHASE": "implement", "SMB_DOMAIN": "lotus.dev", "SMB_OUTPUT": str(tmp_path / "site"),
         "SMB_DESIGN": str(tmp_path / "nope.md")},
        tmp_path,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()


def test_unknown_phase_exits_2(tmp_path):
    result = _agent({"SMB_PHASE": "deploy", "SMB_DOMAIN": "lotus.dev", "SMB_OUTPUT": str(tmp_path)}, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_agent_imports_only_the_standard_library():
    code = (
        "import sys, smbatcher.agents.builtin; "
        "print(','.join(m for m in ('rich', 'typer', 'psutil', 'html5lib', 'filelock', 'git') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


# --- Properties --------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "dev", "io", "co.uk", "org", "shop", "xyz"]),
)


@settings(max_examples=40, deadline=None)
@given(_DOMAIN)
def test_any_valid_domain_gives_a_valid_site(domain):
    _check_site(_site(domain))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_parse_design_never_raises(text):
    design = parse_design(text)
    assert set(PALETTE_ROLES) <= set(design["palette"])
    render_site(design, "lotus.dev")
