"""The checks `smb finish` runs on one implemented site before marking it `Q`.

`check_site` reads the site folder and its design file and returns the
problems it found; an empty list means the site passes. It never raises:
whatever a misbehaving agent left on disk (binary files, unreadable files,
symlinks out of the folder, absurdly deep trees) becomes a `Problem`.

Speed matters: finish checks a whole batch (568 sites in 5 s on 2 cores is
the benchmark), so the folder is listed once, each file read once, each HTML
file parsed once, and link targets are looked up in the listing rather than
stat'ed one by one.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MIN_INDEX_BYTES = 200

# finish stores its own screenshots there; they are not part of the site.
FINISH_FOLDER = ".smb"

HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = HTML_SUFFIXES | {".css", ".js", ".md", ".txt", ".json", ".svg"}

# Elements whose text a visitor never sees as page content.
HIDDEN_ELEMENTS = frozenset({"script", "style", "template", "noscript"})

# Which attributes of which elements hold a URL of something the page needs.
URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "link": ("href",),
    "area": ("href",),
    "img": ("src", "srcset"),
    "script": ("src",),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "embed": ("src",),
    "track": ("src",),
    "object": ("data",),
}

PLACEHOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lorem ipsum", re.compile(r"lorem\s+ipsum", re.IGNORECASE)),
    ("TODO", re.compile(r"\bTODO\b")),
    ("{{", re.compile(r"\{\{")),
)

# CSS is not HTML: a regular expression is the right tool for its url() and
# @import, once comments are gone (a commented-out url() is not a reference).
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.IGNORECASE
)
CSS_IMPORT_STRING = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One reason a site cannot be finished."""

    file: str  # relative to the site folder, or the design file's name
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def check_site(
    site_dir: Path,
    design_file: Path,
    *,
    max_bytes: int = 20_000_000,
    min_text_chars: int = 20,
) -> list[Problem]:
    """Return every problem found in the site and its design; [] means it passes."""
    problems = _Problems()
    try:
        _check_site_folder(Path(site_dir), problems, max_bytes, min_text_chars)
    except Exception as error:  # the contract: a weird site is a Problem, not a crash
        problems.add(Path(site_dir).name, f"check failed: {type(error).__name__}: {error}")
    try:
        _check_design(Path(design_file), problems)
    except Exception as error:
        problems.add(Path(design_file).name, f"design check failed: {error}")
    return problems.as_list()


class _Problems:
    """Problems in the order found, each reported once however often it occurs."""

    def __init__(self) -> None:
        self._seen: dict[Problem, None] = {}

    def add(self, file: str, reason: str) -> None:
        self._seen.setdefault(Problem(file, reason), None)

    def as_list(self) -> list[Problem]:
        return list(self._seen)


def _check_design(design_file: Path, problems: _Problems) -> None:
    try:
        present = design_file.is_file() and design_file.stat().st_size > 0
    except OSError:
        present = False
    if not present:
        problems.add(design_file.name, "design file missing")


def _check_site_folder(
    site_dir: Path, problems: _Problems, max_bytes: int, min_text_chars: int
) -> None:
    if not site_dir.is_dir():
        problems.add(site_dir.name, "not a folder" if site_dir.exists() else "site folder missing")
        return
    listing = _list_site(site_dir.resolve(), problems)
    if listing.total_bytes > max_bytes:
        problems.add(
            site_dir.name,
            f"site is {listing.total_bytes:,} bytes, over the limit of {max_bytes:,}",
        )
    _check_index_present(listing, problems)
    links = _LinkResolver(listing)
    for rel_path, size in listing.files.items():
        suffix = posixpath.splitext(rel_path)[1].lower()
        # A file bigger than the whole-site limit is already a Problem; reading
        # it would only make finish slow.
        if suffix not in TEXT_SUFFIXES or size > max_bytes:
            continue
        try:
            data = (listing.root / rel_path).read_bytes()
        except OSError as error:
            problems.add(rel_path, f"unreadable: {error.strerror or error}")
            continue
        if suffix in HTML_SUFFIXES:
            text = _check_html_file(rel_path, data, links, problems, min_text_chars)
        else:
            text = data.decode("utf-8", errors="replace")
            if suffix == ".css":
                base = posixpath.dirname(rel_path)
                for reference in _css_references(text):
                    links.check(rel_path, base, reference, problems)
        if text is not None:
            _check_placeholders(rel_path, text, problems)


def _check_index_present(listing: _SiteListing, problems: _Problems) -> None:
    if "index.html" in listing.files:
        size = listing.files["index.html"]
        if size < MIN_INDEX_BYTES:
            problems.add(
                "index.html", f"only {size} bytes, under the {MIN_INDEX_BYTES}-byte minimum"
            )
    elif "index.html" in listing.dirs:
        problems.add("index.html", "is a folder, not a file")
    elif "index.html" in listing.symlinks:
        problems.add("index.html", "is a symlink, not a file")
    else:
        problems.add("index.html", "missing")


# -- the folder listing ---------------------------------------------------


@dataclass
class _SiteListing:
    root: Path  # resolved, so symlink escapes can be told apart
    files: dict[str, int] = field(default_factory=dict)  # regular files -> bytes
    dirs: set[str] = field(default_factory=lambda: {"."})
    symlinks: set[str] = field(default_factory=set)
    total_bytes: int = 0


def _list_site(root: Path, problems: _Problems) -> _SiteListing:
    """List the folder once, without following symlinks.

    Iterative on purpose: os.walk recurses on Python 3.11, and an agent can
    leave a tree deeper than the recursion limit.
    """
    listing = _SiteListing(root)
    pending: list[str] = ["."]
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(root / rel_dir) as entries:
                found = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            problems.add(rel_dir, f"unreadable folder: {error.strerror or error}")
            continue
        subfolders: list[str] = []
        for entry in found:
            rel_path = entry.name if rel_dir == "." else f"{rel_dir}/{entry.name}"
            try:
                _list_entry(entry, rel_path, listing, subfolders, problems)
            except OSError as error:
                problems.add(rel_path, f"unreadable: {error.strerror or error}")
            except RuntimeError:  # Path.resolve on 3.11 raises this for a symlink loop
                problems.add(rel_path, "symlink loop")
        pending.extend(reversed(subfolders))  # so folders are visited in name order
    listing.files = dict(sorted(listing.files.items()))
    return listing


def _list_entry(
    entry: os.DirEntry[str],
    rel_path: str,
    listing: _SiteListing,
    subfolders: list[str],
    problems: _Problems,
) -> None:
    if entry.is_symlink():
        listing.symlinks.add(rel_path)
        target = Path(entry.path).resolve()
        if not target.is_relative_to(listing.root):
            problems.add(rel_path, f"symlink escapes the site folder: -> {target}")
        elif not target.exists():
            problems.add(rel_path, "broken symlink")
    elif entry.is_dir(follow_symlinks=False):
        if rel_path == FINISH_FOLDER:
            return
        listing.dirs.add(rel_path)
        subfolders.append(rel_path)
    elif entry.is_file(follow_symlinks=False):
        size = entry.stat(follow_symlinks=False).st_size
        listing.files[rel_path] = size
        listing.total_bytes += size
    else:
        # A fifo or device would hang or poison the deploy; never read it.
        problems.add(rel_path, "not a regular file")


# -- links ----------------------------------------------------------------


class _LinkResolver:
    """Decides whether a local reference lands on a file inside the site."""

    def __init__(self, listing: _SiteListing) -> None:
        self._listing = listing
        # Pages of a site repeat the same references (the stylesheet, the
        # logo, the nav): judge each (folder, reference) pair once.
        self._verdicts: dict[tuple[str, str], str | None] = {}

    def check(self, rel_file: str, base_dir: str, reference: str, problems: _Problems) -> None:
        reference = reference.strip()
        key = (base_dir, reference)
        if key not in self._verdicts:
            target = _local_target(reference, base_dir)
            self._verdicts[key] = None if target is None else self._judge(target)
        verdict = self._verdicts[key]
        if verdict is not None:  # the start of a reason: "broken link", ...
            problems.add(rel_file, f"{verdict}: {reference}")

    def _judge(self, target: str) -> str | None:
        if target == ".." or target.startswith("../"):
            return "link escapes the site folder"
        listing = self._listing
        if target in listing.files:
            return None
        if target in listing.dirs:
            index = "index.html" if target == "." else f"{target}/index.html"
            return None if index in listing.files else "broken link"
        if not listing.symlinks:
            return "broken link"
        # The path may run through a symlink the listing did not follow:
        # ask the file system, and refuse anything that resolves outside.
        try:
            resolved = (listing.root / target).resolve()
            if not resolved.is_relative_to(listing.root):
                return "link escapes the site folder"
            if resolved.is_file() or (resolved / "index.html").is_file():
                return None
        except (OSError, ValueError, RuntimeError):  # NUL in the path, a symlink loop
            pass
        return "broken link"


_OUTSIDE = "../"  # a normalized target that can only mean "outside the site"


def _local_target(reference: str, base_dir: str) -> str | None:
    """The site-relative, normalized path a reference names; None when not local."""
    if not reference or reference.startswith("#"):
        return None
    if reference.startswith("//"):  # protocol-relative: another host
        return None
    try:
        parts = urlsplit(reference)
    except ValueError:  # e.g. an unbalanced "[" taken for an IPv6 host
        return None
    if parts.scheme == "file":  # a path on the build machine, never on the site
        return _OUTSIDE
    if parts.scheme:  # http:, mailto:, data:, javascript:, ...: not for finish to judge
        return None
    path = unquote(parts.path)
    if not path:  # "?page=2" alone: the same page
        return None
    if path.startswith("/"):  # site root, as a web server would serve it
        return posixpath.normpath(path.lstrip("/") or ".")
    return posixpath.normpath(posixpath.join(base_dir or ".", path))


def _srcset_urls(srcset: str) -> Iterator[str]:
    """The URLs of a srcset, per the HTML candidate syntax (a URL may hold commas)."""
    position, length = 0, len(srcset)
    while position < length:
        while position < length and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < length and not srcset[position].isspace():
            position += 1
        url = srcset[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            # Skip the descriptors ("2x", "480w") up to the next candidate.
            while position < length and srcset[position] != ",":
                position += 1
        if url:
            yield url


def _css_references(css: str) -> Iterator[str]:
    css = CSS_COMMENT.sub(" ", css)
    for pattern in (CSS_URL, CSS_IMPORT_STRING):
        for match in pattern.finditer(css):
            yield next(group for group in match.groups() if group is not None)


# -- HTML -----------------------------------------------------------------

_html_parser: Any = None


def _parse_html(text: str) -> Any:
    # html5lib is imported here, not at the top: this module is imported by
    # finish only, and even there the parser is built once and reused.
    global _html_parser
    if _html_parser is None:
        import html5lib

        _html_parser = html5lib.HTMLParser(
            tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False
        )
    return _html_parser.parse(text)


def _check_html_file(
    rel_path: str,
    data: bytes,
    links: _LinkResolver,
    problems: _Problems,
    min_text_chars: int,
) -> str | None:
    """Check one HTML file; return its text for the placeholder scan."""
    is_index = rel_path == "index.html"
    if b"\x00" in data:
        problems.add(rel_path, "binary content, not HTML")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(rel_path, f"not valid UTF-8 (byte {error.start})")
        if is_index:
            return None
        text = data.decode("utf-8", errors="replace")
    try:
        document = _parse_html(text)
    except Exception as error:  # html5lib is lenient; this is a last resort
        problems.add(rel_path, f"does not parse as HTML: {error}")
        return text
    base_dir = posixpath.dirname(rel_path)
    for reference in _html_references(document):
        links.check(rel_path, base_dir, reference, problems)
    if is_index:
        _check_index_content(document, problems, min_text_chars)
    return text


def _html_references(document: Any) -> Iterator[str]:
    for element in document.iter():
        tag = element.tag
        if not isinstance(tag, str):  # a comment
            continue
        attributes = element.attrib
        for name in URL_ATTRIBUTES.get(tag, ()):
            value = attributes.get(name)
            if value is None:
                continue
            if name == "srcset":
                yield from _srcset_urls(value)
            else:
                yield value
        if "style" in attributes:
            yield from _css_references(attributes["style"])
        if tag == "style" and element.text:
            yield from _css_references(element.text)


def _check_index_content(document: Any, problems: _Problems, min_text_chars: int) -> None:
    title = document.find(".//title")
    if title is None or not (title.text or "").strip():
        problems.add("index.html", "no <title>")
    body = document.find("body")
    visible = _visible_text(body) if body is not None else ""
    if len(visible) < min_text_chars:
        problems.add(
            "index.html",
            f"only {len(visible)} characters of visible text, expected at least {min_text_chars}",
        )


def _visible_text(body: Any) -> str:
    """Body text outside script/style/template/noscript, whitespace collapsed."""
    chunks: list[str] = []
    pending = [body]
    # Iterative: a page nested deeper than the recursion limit must not crash.
    while pending:
        element = pending.pop()
        chunks.append(element.text or "")
        for child in element:
            # A child's tail is its parent's text, so it counts even when the
            # child itself (a comment, a <script>) does not.
            if isinstance(child.tag, str) and _local_name(child.tag) not in HIDDEN_ELEMENTS:
                pending.append(child)
            chunks.append(child.tail or "")
    return " ".join(" ".join(chunks).split())


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]  # "{http://www.w3.org/2000/svg}style" -> "style"


# -- placeholders ---------------------------------------------------------


def _check_placeholders(rel_path: str, text: str, problems: _Problems) -> None:
    for label, pattern in PLACEHOLDERS:
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            problems.add(rel_path, f"placeholder text {label!r} at line {line}")
