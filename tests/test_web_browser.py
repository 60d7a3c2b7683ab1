"""The web UI in a real browser: Playwright driving Debian's Chromium against a real uvicorn server
on loopback, with a scripted backend that reports another served model than it was asked for.

One scenario, as a person would use it: sign in, import real exports (a SillyTavern chat, a Chinese
ChatGPT export folder, and a hostile export whose title and messages are XSS payloads), chat and
watch the reply stream in with a highlighted "answered by" line, search / edit / pin / forget a
memory and follow it to its source message, move the warmth slider and save, view the audit chart,
test a backend. Every page is screenshotted on a desktop and a phone viewport into tests/artifacts/
(look at them: Chinese must render as glyphs, not boxes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser_setup import CHROMIUM, ensure_browser

from conftest import FIXTURES, ROOT
from hearth.store import personas
from hearth.store.loaders import companion_id
from hearth.store.memories import list_memories
from web_helpers import TOKEN, XSS_IMG, XSS_SCRIPT, Server, make_app

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
ST_FIXTURE = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"
ZH_FOLDER = FIXTURES / "chatgpt" / "exposir_2023-04_zh"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _node(mid: str, parent: str | None, children: list[str], role: str | None, text: str, slug: str | None = None,
          t: float = 1_700_000_000) -> dict:  # fmt: skip
    message = None
    if role is not None:
        message = {"id": mid, "author": {"role": role, "name": None, "metadata": {}}, "create_time": t,
                   "content": {"content_type": "text", "parts": [text]}, "status": "finished_successfully",
                   "end_turn": True, "weight": 1.0, "metadata": {"model_slug": slug} if slug else {},
                   "recipient": "all"}  # fmt: skip
    return {"id": mid, "parent": parent, "children": children, "message": message}


def hostile_export(folder: Path) -> Path:
    """A ChatGPT export whose title, question and answer carry XSS payloads (and a fact to remember)."""
    mapping = {
        "root": _node("root", None, ["u1"], None, ""),
        "u1": _node("u1", "root", ["a1"], "user", f"我的猫叫小白。{XSS_SCRIPT} {XSS_IMG}"),
        "a1": _node("a1", "u1", [], "assistant", f"好的，记住了 {XSS_IMG}", slug="gpt-4o", t=1_700_000_100),
    }
    conv = {"title": f"evil {XSS_SCRIPT}{XSS_IMG}", "create_time": 1_700_000_000, "update_time": 1_700_000_100,
            "mapping": mapping, "current_node": "a1", "id": "conv-xss-1"}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conversations.json"
    path.write_text(json.dumps([conv], ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser():
    problem = ensure_browser()
    if problem:
        pytest.skip(f"no Chromium for the browser tests: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def site(tmp_path):
    app, store, backends = make_app(tmp_path)
    with Server(app) as server:
        yield server, store, tmp_path, app
    store.close()


def shot(page, name: str, full: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def no_xss(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_person_uses_the_web_ui(browser, site):
    server, store, tmp, app = site
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # sign in: a protected page sends the browser to the token form, and back after
    page.goto(server.url + "/memory")
    assert "/login" in page.url
    shot(page, "login-desktop")
    page.fill('input[name="token"]', TOKEN)
    page.click('button:has-text("Sign in")')
    page.wait_for_url(re.compile(r"/memory$"))

    # import: two files and a folder, with progress, then the summary
    page.goto(server.url + "/import")
    page.set_input_files('input[name="files"]', [str(ST_FIXTURE), str(hostile_export(tmp / "hostile"))])
    page.set_input_files('input[name="folder"]', str(ZH_FOLDER))
    page.click('button:has-text("Import")')
    page.wait_for_url(re.compile(r"/import/[0-9a-f]+$"))
    page.wait_for_selector("#summary:not([hidden])", timeout=90_000)
    summary = page.inner_text("table.summary")
    assert "sillytavern" in summary and "chatgpt" in summary and "failed" not in summary
    assert ST_FIXTURE.name in summary and "exposir_2023-04_zh" in summary
    shot(page, "import-desktop")
    no_xss(page)

    # chat with 小暖: the reply streams in (no page load) and its line says who really answered
    page.goto(server.url + "/chat")
    page.select_option('select[name="companion"]', label="小暖")
    page.wait_for_url(re.compile(r"companion=\d+"))
    page.evaluate("window.__samePage = true")
    page.fill('textarea[name="text"]', "你好，还记得我的猫小白吗？")
    page.click('#compose button[type="submit"]')
    line = page.locator(".msg.assistant .answered.flagged").last
    line.wait_for()
    assert line.inner_text().startswith("answered by gpt-4o-mini (asked for gpt-4o)")
    assert "我记得你的猫小白" in page.locator(".msg.assistant .text").last.inner_text()
    assert page.evaluate("window.__samePage") is True and re.search(r"/chat\?conversation=\d+$", page.url)
    shot(page, "chat-desktop")
    chat_path = page.url.removeprefix(server.url)
    page.reload()  # the stored reply shows the same line
    assert page.locator(".answered.flagged").last.inner_text().startswith("answered by gpt-4o-mini")

    # feedback: thumbs up on the streamed reply, answer again, then keep the first answer
    page.goto(server.url + chat_path)
    page.locator('.msg.assistant button[value="up"]').last.click()
    page.wait_for_load_state()
    assert "on" in page.locator('.msg.assistant button[value="up"]').last.get_attribute("class")
    page.locator('.msg.assistant button:has-text("Answer again")').last.click()
    page.locator(".msg.assistant a.choose").last.wait_for()
    page.locator(".msg.assistant a.choose").last.click()
    page.wait_for_url(re.compile(r"/chat/answers/\d+$"))
    assert page.locator(".answers li.msg").count() == 2
    shot(page, "answers-desktop")
    page.locator('.answers button:has-text("Keep this one")').first.click()
    page.wait_for_url(re.compile(r"/chat\?conversation=\d+#m\d+$"))
    no_xss(page)

    # memory: search in Chinese, follow a memory to its source message (the hostile one: inert)
    page.goto(server.url + "/memory?q=小白")
    item = page.locator("li.memory", has_text="猫叫小白").first
    item.wait_for()
    shot(page, "memory-desktop")
    item.locator(".sources a").first.click()
    page.wait_for_url(re.compile(r"/conversations/\d+\?at=\d+#m\d+$"))
    target = page.locator(".msg.target")
    assert XSS_SCRIPT in target.inner_text() and XSS_IMG in target.inner_text()
    assert XSS_SCRIPT in page.inner_text("h1")
    no_xss(page)
    shot(page, "conversation-xss-desktop", full=False)

    # edit, pin, then forget (with its confirmation)
    page.goto(server.url + "/memory?q=小白")
    page.locator("li.memory", has_text="猫叫小白").first.locator("a:has-text('Edit')").click()
    page.fill('textarea[name="text"]', "猫叫小白，是只橘猫")
    page.click('button:has-text("Save")')
    page.wait_for_selector(".notice")
    memory_id = int(re.search(r"/memory/(\d+)", page.url).group(1))
    page.click('button:has-text("Pin")')
    page.wait_for_selector('button:has-text("Unpin")')
    shot(page, "memory-edit-desktop")
    page.click('a:has-text("Forget")')
    shot(page, "memory-forget-desktop")
    page.click('button:has-text("Forget for good")')
    page.wait_for_selector(f"text=Forgot memory #{memory_id}.")
    assert memory_id not in {m.id for m in list_memories(store, limit=None)}

    # persona: the warmth band follows the slider as it moves, and a save is a new version
    xiaonuan = companion_id(store, "小暖")
    page.goto(server.url + f"/persona?companion={xiaonuan}")
    slider = page.locator("#warmth")
    slider.fill("90")
    assert page.inner_text("#warmth-band") == "90 · affectionate"
    slider.focus()
    for _ in range(75):
        page.keyboard.press("ArrowLeft")
    assert page.inner_text("#warmth-band") == "15 · reserved"
    page.fill('textarea[name="facts"]', "我的猫叫小白\nLives in Hangzhou")
    page.click('button:has-text("Save as a new version")')
    page.wait_for_selector("text=Saved as version 1.")
    saved = personas.latest(store, xiaonuan).persona
    assert saved["warmth"] == 15 and saved["facts"] == ["我的猫叫小白", "Lives in Hangzhou"]
    shot(page, "persona-desktop")

    # the routing audit chart draws (an SVG image) with the tables beside it
    page.goto(server.url + "/audit")
    page.wait_for_function("document.getElementById('audit-chart').naturalWidth > 0")
    assert "gpt-4o-mini" in page.inner_text("main")
    shot(page, "audit-desktop")

    # conversations: list, Chinese search, a Chinese conversation
    page.goto(server.url + "/conversations")
    shot(page, "conversations-desktop")
    page.fill('input[name="q"]', "微前端")
    page.press('input[name="q"]', "Enter")
    page.locator(".list li a").first.click()
    page.wait_for_selector(".msg.target")
    assert "微前端" in page.inner_text("main")
    shot(page, "conversation-desktop", full=False)
    no_xss(page)
    page.goto(server.url + "/conversations")
    page.locator("ul.list li", has_text="branches").first.locator("a").click()
    alts = page.locator(".alts").first
    alts.wait_for()
    assert re.search(r"alternative \d of \d", alts.inner_text())
    alts.scroll_into_view_if_needed()
    shot(page, "conversation-branches-desktop", full=False)

    # backends: a connection test shows which model answered
    page.goto(server.url + "/backends")
    page.locator("form.test-backend", has=page.locator('input[value="cloud"]')).locator("button").click()
    result = page.locator('.test-result[data-for="cloud"]')
    result.locator(".ok").wait_for()
    assert "gpt-4o-mini" in result.inner_text() and "mismatch" in result.inner_text()
    shot(page, "backends-desktop")

    # an upload over the limit is refused before it is sent, with what to do instead
    app.state.upload_limit = 1000
    page.goto(server.url + "/import")
    page.set_input_files('input[name="files"]', str(ST_FIXTURE))
    page.click('button:has-text("Import")')
    refusal = page.locator("#upload .status")
    refusal.wait_for()
    assert (
        "over the upload limit of 1000 bytes" in refusal.inner_text() and "hearth import PATH" in refusal.inner_text()
    )
    shot(page, "import-too-large-desktop")
    assert errors == [], errors

    # the same pages on a phone
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                storage_state=context.storage_state(), locale="zh-CN")  # fmt: skip
    mobile = phone.new_page()
    pages = [
        ("chat", chat_path),
        ("memory", "/memory?q=小白"),
        ("persona", f"/persona?companion={xiaonuan}"),
        ("import", "/import"),
        ("audit", "/audit"),
        ("conversations", "/conversations"),
        ("backends", "/backends"),
    ]
    for name, path in pages:
        mobile.goto(server.url + path)
        if name == "audit":
            mobile.wait_for_function("document.getElementById('audit-chart').naturalWidth > 0")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name} scrolls sideways on a phone ({width}px)"
        shot(mobile, f"{name}-phone", full=name != "chat")
    phone.close()
    context.close()
