"""Staff use the admin in a browser, so it is tested in one: headless Chromium (Debian's
``chromium`` and ``chromium-driver``, installed by ``make chromium``) driven by Selenium
against pytest-django's live_server.

Where no Chromium is installed the test skips and says how to get one; `make test`
installs it where it can (root with apt), so CI runs it.
"""

import secrets
import shutil

import pytest

from guelaguetza.cache import cache, keys
from tests.factories import BookingFactory, UserFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(
            "no Chromium here: `make chromium` installs Debian's chromium and "
            "chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager (which would download one) never runs.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def test_staff_log_in_clear_a_family_on_the_cache_page_and_open_the_bookings(live_server, browser):
    from selenium.webdriver.common.by import By

    password = secrets.token_urlsafe(16)  # made up per run: no password in the repository
    staff = UserFactory(is_staff=True, is_superuser=True, email="staff@example.mx")
    staff.set_password(password)
    staff.save()
    booking = BookingFactory()
    for user_id in ("a", "b", "c"):
        cache.set(keys.user_stats(user_id=user_id), {"xp": 1})

    def count(family: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, f"#family-{family} td.count").text

    # Log in to the admin, then follow the index's link to the cache page.
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.ID, "id_username").send_keys(staff.email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.ID, "cache-link").click()
    assert browser.find_element(By.ID, "redis-health").text == "ok"  # (waits for the page)
    assert browser.current_url == f"{live_server.url}/admin/cache/"
    assert count("user_stats") == "3"

    # Invalidate the family: the page comes back with the count fallen and a message.
    browser.find_element(By.NAME, "invalidate-user_stats").click()
    assert (
        "user_stats: 3 keys unlinked" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    )
    assert count("user_stats") == "0"
    assert cache.get(keys.user_stats(user_id="a")) is None

    # The bookings changelist opens and lists the booking.
    browser.get(f"{live_server.url}/admin/experiences/booking/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1
    assert (
        browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr a")
        .get_attribute("href")
        .endswith(f"/admin/experiences/booking/{booking.pk}/change/")
    )
