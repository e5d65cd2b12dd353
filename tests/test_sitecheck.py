from __future__ import annotations

import os
from pathlib import Path

import pytest

from smbatcher.sitecheck import Problem, check_site

BODY_TEXT = "Lotus builds calm, fast websites for small teams who care about craft."


def page(
    body: str = "", *, title: str = "Lotus", head: str = "", stylesheet: str = "styles.css"
) -> str:
    return (
        "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{title}</title>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<link rel='stylesheet' href='{stylesheet}'>\n{head}</head>\n"
        f"<body>\n<main>\n<h1>Lotus</h1>\n<p>{BODY_TEXT}</p>\n{body}\n</main>\n</body>\n</html>\n"
    )


@pytest.fixture
def design(tmp_path: Path) -> Path:
    design_file = tmp_path / "designs" / "lotus.dev-DESIGN.md"
    design_file.parent.mkdir()
    design_file.write_text("# Lotus\n\nPalette: sand, ink.\n")
    return design_file


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A good site: every check passes on it as built here."""
    site_dir = tmp_path / "sites" / "lotus.dev-v1"
    (site_dir / "img").mkdir(parents=True)
    (site_dir / "index.html").write_text(page("<a href='#top'>Top</a>"))
    (site_dir / "styles.css").write_text("body { background: url(img/a.png) no-repeat; }\n")
    (site_dir / "img" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return site_dir


def write_index(site_dir: Path, body: str = "", **kwargs: str) -> None:
    (site_dir / "index.html").write_text(page(body, **kwargs))


def reasons(problems: list[Problem], file: str = "index.html") -> list[str]:
    return [problem.reason for problem in problems if problem.file == file]


def test_good_site_passes(site: Path, design: Path) -> None:
    assert check_site(site, design) == []


def test_problem_reads_as_file_then_reason() -> None:
    problem = Problem("index.html", "broken link: styles/main.css")
    assert str(problem) == "index.html: broken link: styles/main.css"


def test_the_finish_folder_is_skipped(site: Path, design: Path) -> None:
    (site / ".smb").mkdir()
    (site / ".smb" / "notes.txt").write_text("TODO lorem ipsum {{")
    assert check_site(site, design, max_bytes=5_000) == []


# -- the site folder and index.html -----------------------------------------


def test_missing_site_folder(tmp_path: Path, design: Path) -> None:
    problems = check_site(tmp_path / "sites" / "ghost.dev-v1", design)
    assert problems == [Problem("ghost.dev-v1", "site folder missing")]


def test_missing_index(site: Path, design: Path) -> None:
    (site / "index.html").unlink()
    assert check_site(site, design) == [Problem("index.html", "missing")]


def test_index_is_a_folder(site: Path, design: Path) -> None:
    (site / "index.html").unlink()
    (site / "index.html").mkdir()
    assert Problem("index.html", "is a folder, not a file") in check_site(site, design)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(256)) * 4, "binary content, not HTML"),
        (b"<html>" + b"\xff\xfe\xfa" * 100 + b"</html>", "not valid UTF-8 (byte 6)"),
    ],
    ids=["binary", "not-utf8"],
)
def test_garbage_index(site: Path, design: Path, content: bytes, expected: str) -> None:
    (site / "index.html").write_bytes(content)
    assert reasons(check_site(site, design)) == [expected]


def test_index_without_title(site: Path, design: Path) -> None:
    write_index(site, title="  ")
    assert check_site(site, design) == [Problem("index.html", "no <title>")]


def test_index_with_empty_body(site: Path, design: Path) -> None:
    hidden = "<script>var words = 'plenty of words in here';</script><!-- a long comment -->"
    (site / "index.html").write_text(
        "<!doctype html><html><head><title>Lotus</title>"
        "<style>body { margin: 0; padding: 0; }</style></head>"
        f"<body>\n  <p>Hi</p> {hidden}<noscript>Please enable JavaScript</noscript>"
        "<template>Template text is never shown</template></body></html>"
    )
    assert check_site(site, design) == [
        Problem("index.html", "only 2 characters of visible text, expected at least 20")
    ]


def test_text_after_a_script_counts(site: Path, design: Path) -> None:
    (site / "index.html").write_text(
        "<!doctype html><html><head><title>Lotus</title></head><body>"
        f"<script>var x = 1;</script>{BODY_TEXT}<!-- note -->{' ' * 150}</body></html>"
    )
    assert check_site(site, design) == []


def test_tiny_index(site: Path, design: Path) -> None:
    tiny = f"<title>Lotus</title><p>{BODY_TEXT}</p>"
    (site / "index.html").write_text(tiny)
    assert check_site(site, design) == [
        Problem("index.html", f"only {len(tiny)} bytes, under the 200-byte minimum")
    ]


# -- links ----------------------------------------------------------------------


def test_broken_link_in_html(site: Path, design: Path) -> None:
    write_index(site, "<a href='about.html'>About</a><img src='img/missing.png' alt=''>")
    assert check_site(site, design) == [
        Problem("index.html", "broken link: about.html"),
        Problem("index.html", "broken link: img/missing.png"),
    ]


def test_broken_url_in_css(site: Path, design: Path) -> None:
    (site / "styles.css").write_text(
        "/* url(commented-out.png) is not a reference */\n"
        "body { background: url('img/a.png'); }\n"
        "h1 { background: url( \"img/gone.svg\" ); }\n"
    )
    assert check_site(site, design) == [Problem("styles.css", "broken link: img/gone.svg")]


def test_css_import_and_nested_folder(site: Path, design: Path) -> None:
    (site / "css").mkdir()
    (site / "css" / "base.css").write_text("@import 'theme.css';\n@import url(../styles.css);\n")
    write_index(site, head="<link rel='stylesheet' href='css/base.css'>")
    assert check_site(site, design) == [Problem("css/base.css", "broken link: theme.css")]


def test_inline_style_and_style_attribute(site: Path, design: Path) -> None:
    write_index(
        site,
        "<div style=\"background-image: url('img/hero.jpg')\">Hero</div>",
        head="<style>.x { background: url(img/a.png) } .y { background: url(img/b.png) }</style>",
    )
    assert check_site(site, design) == [
        Problem("index.html", "broken link: img/b.png"),
        Problem("index.html", "broken link: img/hero.jpg"),
    ]


def test_link_escaping_the_site(site: Path, design: Path) -> None:
    (site.parent / "outside.html").write_text(page())
    write_index(site, "<a href='../outside.html'>Out</a><a href='/../../etc/passwd'>x</a>")
    assert check_site(site, design) == [
        Problem("index.html", "link escapes the site folder: ../outside.html"),
        Problem("index.html", "link escapes the site folder: /../../etc/passwd"),
    ]


def test_absolute_links(site: Path, design: Path) -> None:
    # A leading "/" is the site root, as a web server would serve it, so a
    # file-system path is broken there; a file: URL is outside by definition.
    write_index(site, "<a href='/etc/passwd'>a</a><a href='file:///etc/passwd'>b</a>")
    assert check_site(site, design) == [
        Problem("index.html", "broken link: /etc/passwd"),
        Problem("index.html", "link escapes the site folder: file:///etc/passwd"),
    ]


def test_root_relative_links_resolve_from_the_site_root(site: Path, design: Path) -> None:
    (site / "blog").mkdir()
    (site / "blog" / "index.html").write_text(page("<a href='/'>Home</a>", title="Blog", stylesheet="../styles.css"))
    (site / "blog" / "post.html").write_text(
        "<link rel='stylesheet' href='/styles.css'><img src='/img/a.png'><a href='../index.html'>"
    )
    write_index(site, "<a href='blog/'>Blog</a><a href='blog'>Blog</a><a href='/blog/post.html'>")
    assert check_site(site, design) == []


def test_link_to_a_folder_without_index(site: Path, design: Path) -> None:
    write_index(site, "<a href='img/'>Images</a>")
    assert check_site(site, design) == [Problem("index.html", "broken link: img/")]


def test_symlink_escaping_the_site(site: Path, design: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (site / "leak.txt").symlink_to(secret)
    (site / "assets").symlink_to(tmp_path)
    write_index(site, "<a href='assets/secret.txt'>secret</a>")
    assert check_site(site, design) == [
        Problem("assets", f"symlink escapes the site folder: -> {tmp_path.resolve()}"),
        Problem("leak.txt", f"symlink escapes the site folder: -> {secret.resolve()}"),
        Problem("index.html", "link escapes the site folder: assets/secret.txt"),
    ]


def test_symlink_inside_the_site_is_fine(site: Path, design: Path) -> None:
    (site / "images").symlink_to(site / "img")
    write_index(site, "<img src='images/a.png' alt='a'>")
    assert check_site(site, design) == []


def test_srcset_with_one_missing_candidate(site: Path, design: Path) -> None:
    (site / "img" / "a@2x.png").write_bytes(b"png")
    write_index(
        site,
        "<img src='img/a.png' srcset='img/a.png 1x, img/a@2x.png 2x, img/a@3x.png 3x' alt=''>"
        "<picture><source srcset='img/a.png 480w,img/a@2x.png 960w'><img src='img/a.png'></picture>",
    )
    assert check_site(site, design) == [Problem("index.html", "broken link: img/a@3x.png")]


def test_poster_and_object_data(site: Path, design: Path) -> None:
    write_index(site, "<video poster='img/poster.jpg'></video><object data='img/a.png'></object>")
    assert check_site(site, design) == [Problem("index.html", "broken link: img/poster.jpg")]


def test_external_links_are_ignored(site: Path, design: Path) -> None:
    write_index(
        site,
        "<a href='https://example.com/x.html'>x</a><a href='http://example.com'>y</a>"
        "<a href='mailto:hi@lotus.dev'>mail</a><a href='tel:+123'>call</a>"
        "<a href='javascript:void(0)'>js</a><img src='data:image/png;base64,AAAA' alt=''>"
        "<script src='//cdn.example.com/lib.js'></script><a href='#contact'>c</a><a href=''>self</a>",
        head="<link rel='preconnect' href='https://fonts.gstatic.com'>",
    )
    assert check_site(site, design) == []


def test_query_and_fragment_are_stripped(site: Path, design: Path) -> None:
    write_index(site, "<a href='index.html#about'>About</a><img src='img/a.png?v=2#x' alt=''>")
    (site / "styles.css").write_text("body { background: url(img/a.png?v=2); }\n")
    assert check_site(site, design) == []


def test_percent_encoded_names_resolve(site: Path, design: Path) -> None:
    (site / "img" / "team photo é.png").write_bytes(b"png")
    write_index(site, "<img src='img/team%20photo%20%C3%A9.png' alt='team'>")
    assert check_site(site, design) == []


def test_every_html_file_is_checked(site: Path, design: Path) -> None:
    (site / "pages").mkdir()
    (site / "pages" / "about.html").write_text(page("<a href='../nowhere.html'>x</a>"))
    problems = check_site(site, design)
    assert problems == [
        Problem("pages/about.html", "broken link: styles.css"),
        Problem("pages/about.html", "broken link: ../nowhere.html"),
    ]


def test_a_problem_is_reported_once(site: Path, design: Path) -> None:
    write_index(site, "<a href='gone.html'>1</a><a href='gone.html'>2</a>")
    assert check_site(site, design) == [Problem("index.html", "broken link: gone.html")]


# -- placeholders -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("<p>Lorem Ipsum dolor sit amet.</p>", "lorem ipsum"),
        ("<p>TODO: write the pricing copy.</p>", "TODO"),
        ("<p>Welcome, {{ name }}!</p>", "{{"),
    ],
)
def test_placeholder_in_html(site: Path, design: Path, text: str, label: str) -> None:
    write_index(site, text)
    line = page(text).splitlines().index(text) + 1
    assert check_site(site, design) == [
        Problem("index.html", f"placeholder text {label!r} at line {line}")
    ]


def test_placeholder_in_other_text_files(site: Path, design: Path) -> None:
    (site / "app.js").write_text("const x = 1;\n// TODO remove\n")
    (site / "styles.css").write_text("/* lorem\nipsum */\nbody { color: red; }\n")
    (site / "img" / "logo.png").write_bytes(b"TODO {{ binary assets are not scanned")
    assert check_site(site, design) == [
        Problem("app.js", "placeholder text 'TODO' at line 2"),
        Problem("styles.css", "placeholder text 'lorem ipsum' at line 1"),
    ]


def test_todo_is_a_case_sensitive_word(site: Path, design: Path) -> None:
    write_index(site, "<p>Our todo list app and TODOS for teams; MY_TODO_FLAG.</p>")
    assert check_site(site, design) == []


# -- design and size ------------------------------------------------------------


def test_missing_design(site: Path, tmp_path: Path) -> None:
    missing = tmp_path / "designs" / "lotus.dev-DESIGN.md"
    assert check_site(site, missing) == [Problem("lotus.dev-DESIGN.md", "design file missing")]


def test_empty_design(site: Path, design: Path) -> None:
    design.write_text("")
    assert check_site(site, design) == [Problem("lotus.dev-DESIGN.md", "design file missing")]


def test_oversize_site(site: Path, design: Path) -> None:
    total = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
    assert check_site(site, design, max_bytes=total) == []
    assert check_site(site, design, max_bytes=100) == [
        Problem("lotus.dev-v1", f"site is {total:,} bytes, over the limit of 100")
    ]


# -- robustness ---------------------------------------------------------------------


def test_unreadable_file(site: Path, design: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated, because chmod 0 does not stop root (CI containers run as root).
    read_bytes = Path.read_bytes

    def refuse_styles(path: Path) -> bytes:
        if path.name == "styles.css":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse_styles)
    assert check_site(site, design) == [Problem("styles.css", "unreadable: Permission denied")]


def test_deep_folders_and_odd_entries(site: Path, design: Path) -> None:
    deep = site
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "x.html").write_text("<a href='" + "../" * 200 + "index.html'>home</a>")
    (site / "loop").symlink_to(site / "loop")
    os.mkfifo(site / "pipe.html")
    (site / "weird%zz[.html").write_text("<a href='http://[broken'>x</a><a href='%zz'>y</a>")
    problems = check_site(site, design)
    assert Problem("pipe.html", "not a regular file") in problems
    assert any(problem.file == "loop" for problem in problems)
    assert Problem("weird%zz[.html", "broken link: %zz") in problems
    assert not any(problem.file.startswith("d/") for problem in problems)


def test_deeply_nested_html(site: Path, design: Path) -> None:
    write_index(site, "<div>" * 3000 + "deep" + "</div>" * 3000)
    assert check_site(site, design) == []


def test_many_generated_sites(tmp_path: Path, design: Path) -> None:
    results = {}
    for number in range(50):
        site_dir = tmp_path / "sites" / f"site{number}.dev-v1"
        (site_dir / "css").mkdir(parents=True)
        (site_dir / "css" / "main.css").write_text(f".s{number} {{ background: url(../logo.svg) }}")
        (site_dir / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        sections = "".join(
            f"<section id='s{i}'><h2>Part {i}</h2><p>{BODY_TEXT}</p></section>"
            for i in range(number)
        )
        body = sections + "<a href='#s0'>x</a><img src='logo.svg' alt='logo'>"
        (site_dir / "index.html").write_text(page(body, stylesheet="css/main.css"))
        results[site_dir.name] = check_site(site_dir, design)
    assert results == {name: [] for name in results}
