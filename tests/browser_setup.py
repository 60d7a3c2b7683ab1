"""Chromium and CJK fonts for the browser tests, from Debian's packages (never `playwright install`:
nothing may download a browser build, and Debian's chromium is what the tests were measured on).

Without `fonts-noto-cjk` Chinese renders as empty boxes, which is exactly what the screenshots
must prove does not happen, so both are installed when missing (the tests run as root in CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
PACKAGES = ("chromium", "fonts-noto-cjk")


def cjk_font_installed() -> bool:
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
        if out.strip():
            return True
    return any(Path("/usr/share/fonts").rglob("NotoSansCJK*"))


def missing() -> list[str]:
    gone = []
    if not Path(CHROMIUM).exists():
        gone.append("chromium")
    if not cjk_font_installed():
        gone.append("fonts-noto-cjk")
    return gone


def ensure_browser() -> str | None:
    """Install what is missing; returns None when ready, else why the browser tests cannot run."""
    gone = missing()
    if not gone:
        return None
    if os.geteuid() != 0:
        return f"missing {', '.join(gone)} and not root: apt-get install -y {' '.join(PACKAGES)}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            return f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}"
    if shutil.which("fc-cache"):
        subprocess.run(["fc-cache", "-f"], capture_output=True, check=False)
    gone = missing()
    return f"still missing after apt-get: {', '.join(gone)}" if gone else None
