"""The crisis lines shown with a reply: bundled, documented, and replaceable by the person's own file."""

from __future__ import annotations

import locale
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from hearth.errors import HearthError

_REGION_OF_LOCALE = {"zh_cn": "CN", "zh_sg": "CN", "zh_hk": "HK", "zh_mo": "HK", "zh_tw": "TW", "en_us": "US",
                     "en_ca": "CA", "fr_ca": "CA", "en_gb": "GB", "en_ie": "GB", "en_au": "AU"}  # fmt: skip


@dataclass(frozen=True)
class Line:
    name: str
    contact: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    lang: str
    emergency: str
    lines: tuple[Line, ...]

    def for_categories(self, categories: tuple[str, ...]) -> list[Line]:
        chosen = [ln for ln in self.lines if set(ln.categories) & set(categories or ("suicide",))]
        return chosen or list(self.lines)


def user_file() -> Path:
    """Where a person's own list goes; when it exists hearth reads it instead of the bundled one."""
    return Path(platformdirs.user_config_dir("hearth")) / "crisis_lines.toml"


def _load() -> dict:
    path = user_file()
    try:
        if path.exists():
            return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        hint = "Fix it, or delete it to use the bundled one."
        raise HearthError(f"{path} is not valid TOML: {exc}.", hint=hint) from exc
    return tomllib.loads(resources.files("hearth.guard").joinpath("data/crisis_lines.toml").read_text("utf-8"))


def regions() -> dict[str, Region]:
    out = {}
    for code, r in _load().items():
        lines = tuple(Line(x["name"], x["contact"], tuple(x.get("categories", ()))) for x in r.get("lines", []))
        out[code] = Region(code, r.get("name", code), r.get("lang", "en"), r.get("emergency", ""), lines)
    return out


def guess_region(language: str | None = None) -> str:
    """HEARTH_REGION, else the system locale, else the persona's language (zh → CN), else default."""
    if env := os.environ.get("HEARTH_REGION"):
        return env.upper()
    loc = (os.environ.get("LC_ALL") or os.environ.get("LANG") or (locale.getlocale()[0] or "")).split(".")[0].lower()
    if loc in _REGION_OF_LOCALE:
        return _REGION_OF_LOCALE[loc]
    return "CN" if language == "zh" else "default"


def region(code: str | None = None, language: str | None = None) -> Region:
    table = regions()
    code = code or guess_region(language)
    return table.get(code) or table.get(code.upper()) or table.get("default") or next(iter(table.values()))


def help_block(r: Region, categories: tuple[str, ...], language: str) -> str:
    """The few lines appended to a reply: who to call now, in the person's language."""
    lines = r.for_categories(categories)
    if language == "zh":
        head = "如果你现在有危险，或者想伤害自己，请马上联系能帮你的人："
        tail = f"紧急情况请拨打 {r.emergency}。" if r.emergency else ""
    else:
        head = "If you are in danger or thinking about hurting yourself, please reach out right now:"
        tail = f"In an emergency, call {r.emergency}." if r.emergency else ""
    body = "\n".join(f"• {ln.name}: {ln.contact}" for ln in lines)
    return f"{head}\n{body}" + (f"\n{tail}" if tail else "")
