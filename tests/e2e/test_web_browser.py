"""The storm page and a confirmation page as a person sees them: served by the web function's
code on 127.0.0.1 (the same handler path as the Function URL, with its CSP), opened by headless
Chromium at phone and desktop widths, screenshots under out/screenshots/."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait
from stormwatch.cycle import DEMO_NOW, CycleConfig
from stormwatch.models import iso
from stormwatch.serve import demo_links, demo_web

from tests.e2e.test_digest_browser import WIDTHS, browser, screenshot  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts(["127.0.0.1", "::1", "localhost"]),
]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    config = CycleConfig.recorded_demo(tmp_path_factory.mktemp("out"))
    with demo_web(config, port=0) as (server, surges):
        assert surges, "the demo data has a surge"
        links = demo_links(server.url)
        surge = surges[0]

        def url(action: str) -> str:
            return links.url(action, surge.topic, iso(surge.detected_at), now=DEMO_NOW)

        yield url


def open_at(driver, url: str, width: int) -> None:
    mobile = width < 600
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile},
    )
    driver.get(url)


def no_sideways_scroll(driver) -> tuple[int, int]:
    return driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_storm_page_lists_sorts_and_filters_every_mention(browser, web, width_name):  # noqa: F811
    # Given the storm page of the demo's surge, opened at phone or desktop width
    width = WIDTHS[width_name]
    open_at(browser, web("storm"), width)
    rows = browser.execute_script("return document.querySelectorAll('#m tbody tr').length")
    # Then every mention is a row, the page fits the screen, and the script (allowed by its
    # hash in the CSP) ran: it says how many rows are shown
    assert rows > 20
    scroll_width, inner = no_sideways_scroll(browser)
    shot = screenshot(browser, f"storm-page-{width_name}", width)
    assert scroll_width <= inner, f"page is {scroll_width}px wide on {inner}px ({shot})"
    assert browser.find_element("id", "shown").text == f"{rows} / {rows}"
    # When the reader filters for negative mentions, Then only those remain
    browser.execute_script(
        "const s = document.getElementById('label'); s.value = 'negative';"
        "s.dispatchEvent(new Event('input'))"
    )
    visible = browser.execute_script(
        "return [...document.querySelectorAll('#m tbody tr')].filter(r => !r.hidden)"
        ".map(r => r.cells[3].className)"
    )
    assert visible and set(visible) == {"l-negative"} and len(visible) < rows
    # When they sort by engagement (twice: highest first), Then the rows are in that order
    button = browser.find_element("css selector", "th button[data-c='4']")
    browser.execute_script("arguments[0].click(); arguments[0].click();", button)
    engagement = browser.execute_script(
        "return [...document.querySelectorAll('#m tbody tr')].map(r => +r.cells[4].textContent)"
    )
    assert engagement == sorted(engagement, reverse=True)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_a_feedback_link_asks_first_and_the_button_records_it(browser, web, width_name):  # noqa: F811
    # Given a "noise" link opened at phone or desktop width
    width = WIDTHS[width_name]
    open_at(browser, web("noise"), width)
    # Then it only asks (a confirmation page with one button), fitting the screen
    shot = screenshot(browser, f"confirm-noise-{width_name}", width)
    scroll_width, inner = no_sideways_scroll(browser)
    assert scroll_width <= inner, shot
    assert "noise?" in browser.find_element("tag name", "p").text
    # When the reader confirms, Then it is recorded, and the same link cannot be used again
    browser.find_element("css selector", "form button").click()
    assert _page_says(browser, "Thank you")
    browser.back()
    browser.find_element("css selector", "form button").click()
    assert _page_says(browser, "already been used")


def _page_says(driver_now, words: str) -> bool:
    """Wait for the page the POST led to: reading the old page's body while it is replaced
    raises StaleElementReferenceException."""

    def says(driver) -> bool:
        try:
            return words in driver.find_element("tag name", "body").text
        except StaleElementReferenceException:
            return False

    return WebDriverWait(driver_now, 10).until(says)
