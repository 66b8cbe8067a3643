"""The digest and the alert as a person sees them: rendered by headless Chromium at phone and
desktop widths, with screenshots kept under out/screenshots/ (CI artifacts).

The e-mails come from `stormwatch preview` over the offline demo data (one demo cycle against an
embedded moto server on loopback). Chromium is driven through chromedriver (Selenium); both are
Debian packages (`chromium`, `chromium-driver`) that `.ci/run` installs where missing. Without
them the tests skip and say why. The browser gets no network: the pages are local files, and an
e-mail that needed anything remote would show it in the checks below.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from html import unescape
from pathlib import Path

import pytest
from stormwatch import local

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1", "::1", "localhost"]),
]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "out" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/lib/chromium/chromedriver" if Path("/usr/lib/chromium/chromedriver").exists() else None
)
LAUNCH_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def _missing() -> str | None:
    if not CHROMIUM or not CHROMEDRIVER:
        return (
            "chromium/chromedriver not installed (apt-get install chromium chromium-driver; "
            ".ci/run does this where it can): browser test skipped"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install -e '.[dev]'): browser test skipped"
    return None


@pytest.fixture(scope="module")
def emails(tmp_path_factory) -> dict[str, Path]:
    """The demo digests (English, German, and the English topic in German) and the alert."""
    from stormwatch.preview import run_previews

    out = tmp_path_factory.mktemp("preview")
    preview = run_previews(
        [
            ("digest", None, None),
            ("digest", "acme-cloud", "de"),
            ("alert", "acme-cloud", None),
            ("alert", "deutsche-bahn", None),  # no surge there: a note, not an e-mail
        ],
        watchlist_path=local.repo_path("watchlist.yaml"),
        templates_dir=local.repo_path("templates"),
        out_dir=out,
        settings_url="https://stormwatch.example/settings",
    )
    html = [p for p in preview.files if p.suffix == ".html"]
    pick = {
        "digest-en": next(p for p in html if "digest-acme-cloud" in p.name and "-de" not in p.name),
        "digest-de": next(p for p in html if "digest-deutsche-bahn" in p.name),
        "digest-en-as-de": next(
            p for p in html if "digest-acme-cloud" in p.name and "-de" in p.name
        ),
        "alert-en": next(p for p in html if "alert-acme-cloud" in p.name),
    }
    assert not [p for p in html if "alert-deutsche-bahn" in p.name]
    assert preview.notes == ["no surge stored for deutsche-bahn in the last 7 days"]
    return pick


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="stormwatch-chromium-")
    for flag in [*LAUNCH_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except Exception as exc:  # a broken install is a skip with the reason, not a failure
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"chromium could not start ({type(exc).__name__}: {exc}): test skipped")
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def show(driver, path: Path, width: int, *, dark: bool = False) -> None:
    """Open a file as a phone (mobile viewport, 2x pixels) or desktop at `width` CSS px."""
    mobile = width < 600
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )
    driver.get(path.as_uri())


def screenshot(driver, name: str, width: int) -> Path:
    """The whole page, not just the first screen."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    mobile = width < 600
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": min(int(height), 8000),
            "deviceScaleFactor": 2 if mobile else 1,
            "mobile": mobile,
        },
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    driver.save_screenshot(str(target))
    return target


def text_part(html_path: Path) -> str:
    return html_path.with_suffix(".txt").read_text(encoding="utf-8")


def element_text(driver, element_id: str) -> str:
    return driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : null;",
        element_id,
    )


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("email", ["digest-en", "digest-de", "digest-en-as-de", "alert-en"])
def test_nothing_overflows_and_every_link_is_http(browser, emails, email, width_name):
    # Given a demo e-mail opened at phone or desktop width
    width = WIDTHS[width_name]
    show(browser, emails[email], width)

    # Then nothing is wider than the screen (no sideways scrolling)
    scroll_width, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    shot = screenshot(browser, f"{email}-{width_name}", width)
    assert scroll_width <= inner, f"page is {scroll_width}px wide on a {inner}px screen ({shot})"

    # And every link is an http(s) link that opens outside the mail client
    links = browser.execute_script(
        "return [...document.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.rel])"
    )
    assert links, "the e-mail has links to the mentions"
    for href, rel in links:
        assert re.match(r"^https?://", href or ""), href
        assert rel == "noopener noreferrer"

    # And nothing is loaded from anywhere: no images, scripts, frames or stylesheets
    remote = browser.execute_script(
        "return document.querySelectorAll('img, script, iframe, link, object, embed').length"
    )
    assert remote == 0


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("email", ["digest-en", "digest-de"])
def test_the_chart_is_visible_with_bars_inside_the_screen(browser, emails, email, width_name):
    # Given a demo digest with a week of hourly history
    width = WIDTHS[width_name]
    show(browser, emails[email], width)

    # Then the chart has a real size, lies within the screen, and shows bars of real height
    box = browser.execute_script(
        "const r = document.getElementById('chart').getBoundingClientRect();"
        "return [r.left, r.right, r.width, r.height]"
    )
    left, right, chart_width, chart_height = box
    assert chart_width > 200 and chart_height >= 60, box
    assert left >= 0 and right <= width, box
    bars = browser.execute_script(
        "return [...document.querySelectorAll('#chart div')]"
        ".map(d => d.getBoundingClientRect()).filter(r => r.height > 0 && r.width > 0).length"
    )
    assert bars > 24, "at least a day's worth of hours has visible bars"
    red = browser.execute_script(
        "return [...document.querySelectorAll('#chart div')]"
        ".filter(d => getComputedStyle(d).backgroundColor === 'rgb(200, 69, 58)').length"
    )
    assert red > 0, "negative mentions show in red"


@pytest.mark.parametrize("email", ["digest-en", "digest-de", "digest-en-as-de"])
def test_the_text_part_carries_the_headline_numbers(browser, emails, email):
    # Given the HTML digest as the browser shows it
    show(browser, emails[email], WIDTHS["desktop"])
    count = element_text(browser, "kpi-count").strip()
    net = element_text(browser, "kpi-net").strip()
    verdict = element_text(browser, "verdict").strip()
    coverage = element_text(browser, "coverage-summary").strip()

    # Then the plain-text part says the same: count, net sentiment, verdict, coverage
    text = text_part(emails[email])
    assert f": {count} (" in text, count
    assert net in text, net
    assert verdict.split(":", 1)[1].strip().upper() in text, verdict
    assert coverage in text, coverage


def test_dark_mode_keeps_the_text_readable(browser, emails):
    # Given a reader whose mail client is in dark mode
    show(browser, emails["digest-en"], WIDTHS["phone"], dark=True)
    screenshot(browser, "digest-en-phone-dark", WIDTHS["phone"])

    # Then the card is dark and the headline light (the dark-mode rules apply over inline CSS)
    card, heading = browser.execute_script(
        "return [getComputedStyle(document.querySelector('.card')).backgroundColor,"
        " getComputedStyle(document.querySelector('h1')).color]"
    )
    assert _luminance(card) < 0.2 < 0.6 < _luminance(heading), (card, heading)


def _luminance(css_color: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css_color)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_visible_text_of_the_html_has_the_facts_of_the_text_part(emails):
    # Given the demo digest's two parts (no browser needed)
    html = emails["digest-en"].read_text(encoding="utf-8")
    visible = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    text = text_part(emails["digest-en"])

    # Then the numbers a reader compares are in both
    for pattern in (r"Mentions: (\d+)", r"Net sentiment: (\S+ %)", r"(\d+ sources: [^\n]+)"):
        found = re.search(pattern, text)
        assert found, pattern
        assert found.group(1) in visible, found.group(1)
