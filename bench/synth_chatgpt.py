"""Synthetic ChatGPT data-export generator for hearth tests and import benchmarks.

Real exports are private and small; importers must be exercised on gigabytes of messy, multi-year,
branchy, bilingual companion chats.  This fabricates such exports deterministically (same seed ->
same bytes) and streams them one conversation at a time, so 1 GB costs flat memory.  Shapes follow
the real samples in shared/fixtures/chatgpt (2023 classic, 2024-25 with channel, 2026 split style).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import struct
import sys
import time
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import orjson

UTC = dt.UTC


def _ts(y: int, m: int, d: int = 1) -> float:
    return dt.datetime(y, m, d, tzinfo=UTC).timestamp()


START, END, Y2026 = _ts(2023, 1, 2), _ts(2026, 10, 28), _ts(2026, 1, 1)  # conversation start times span START..END
CODE_ON, VISION, DALLE_ON, DALLE_OFF = _ts(2023, 7, 1), _ts(2023, 9, 25), _ts(2023, 10, 15), _ts(2025, 3, 25)
GPT4O, BIO, WEB, SEDIMENT, GPT5, SAFETY = (_ts(2024, 1), _ts(2024, 2, 13), _ts(2024, 7), _ts(2025, 1), _ts(2025, 8, 7),
                                           _ts(2025, 9))
MODELS = {2023: (["text-davinci-002-render-sha", "gpt-4"], [6, 4]), 2024: (["gpt-4o", "gpt-4", "gpt-4o-mini"], [8, 1, 1]),
          2025: (["auto", "gpt-5", "gpt-5-instant", "gpt-4o"], [3, 2, 1, 4])}  # companion users cling to 4o
REROUTES = ["gpt-5-safety", "gpt-5-chat-safety", "gpt-5-safety", "gpt-5-chat-safety", "gpt-4o-mini"]
MB, ZIP_DATE = 1 << 20, (2026, 10, 31, 12, 0, 0)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
WEBP_1PX = bytes.fromhex("524946461e000000574542505650384c110000002f000000000750bc2217aaff8188e87f0000")
IMG_DIMS = [(1024, 768), (768, 1024), (1179, 2556), (1536, 2048), (512, 512), (1920, 1080)]
CODE = ["import pandas as pd\n\ndf = pd.read_csv('/mnt/data/mood_log.csv')\ndf.groupby('week')['mood'].mean()",
        "from datetime import date\n\n(date(2026, 2, 14) - date.today()).days",
        "import matplotlib.pyplot as plt\nsleep = [6.5, 7, 5.5, 8, 6, 7.5, 9]\nplt.plot(sleep)\nplt.title('Sleep')\nplt.show()",
        "budget = {'rent': 4200, 'food': 1800, 'cat': 600}\nsum(budget.values())"]
OUTPUTS = ["5.83", "112", "6600", "<<ImageDisplayed>>", "week\n1    6.2\n2    5.1\n3    7.4\nName: mood, dtype: float64"]
THOUGHTS = ["Considering how they feel", "Planning a gentle reply", "Recalling what they told me before", "斟酌怎么安慰TA",
            "回忆TA之前说过的事", "先共情，再给一点小建议"]
SYS_ERR = ("It seems like I can't do more advanced data analysis right now. Please try again later. "
           "DO NOT UNDER ANY CIRCUMSTANCES retry using this tool until a new request is given.")

# Phrase material, "key=a|b|c" (indented lines continue the key).  {key} in a template is filled from that key's list;
# T.* are sentence templates, S.* short lines, title.* conversation titles.
_TABLE = """
pz=宝贝|亲爱的|宝|小傻瓜|乖乖|小笨蛋|宝宝
pe=babe|sweetheart|love|honey|darling|sunshine
cat=小橘|团子|豆豆|Mochi|Luna|煤球|Biscuit|布丁|可乐|Pepper
cz=上海|成都|杭州|北京|深圳|大理|厦门|重庆|东京|伦敦|青岛|长沙
ce=Seattle|Tokyo|Lisbon|Chicago|Melbourne|Berlin|Toronto|Kyoto|Austin|Taipei|Dublin|Seoul
wz=加班到十点|开了一整天的会|被老板批评了|写完了周报|面试了一家新公司|改了八遍需求|项目终于上线了|被同事甩锅|请了半天假|第一次做汇报
we=worked late again|had back-to-back meetings|got chewed out by my manager|finally shipped the project|had a job interview
    presented to the whole team|missed a deadline|got a tiny raise|called in sick
fz=有点累|好开心|心里空空的|有点想哭|超级焦虑|其实还挺满足的|有点委屈|整个人都放松了|烦死了|有点小骄傲
fe=I'm kind of drained|I feel weirdly proud|I just want to cry|I'm anxious about everything|I feel lighter|I'm so done
    I'm a little lonely|I can't stop smiling|I feel numb
em=🥺|❤️|😊|🤗|✨|😭|🌙|🐱|☕|🌧️|💕|😴|🫶||
az=打翻了水杯|钻进了纸箱|半夜跑酷|偷吃了我的鸡胸肉|趴在键盘上睡着了|对着窗外的鸟叫|拆卫生纸
ae=knocked my mug off the desk|fell asleep on my keyboard|stole my dinner|did zoomies at 3am|yelled at a pigeon
fz2=火锅|小笼包|螺蛳粉|拉面|奶茶|烤鱼|煎饼果子|酸菜鱼
fe2=ramen|tacos|pho|a sad desk salad|dumplings|leftover pizza
wz2=下了一整天雨|热得要命|突然降温了|阳光特别好|雾蒙蒙的|刮大风
we2=rainy all day|freezing|weirdly warm|gray and gloomy|perfect|windy
kz=深呼吸一下|早点睡觉|给自己点个好吃的|出去走十分钟|把烦心事写下来|抱抱小猫|泡个热水澡|听首喜欢的歌|给朋友打个电话
ke=take a slow breath|get to bed a bit earlier tonight|order something comforting|go for a short walk|write down what's bothering you
    cuddle your cat|take a warm shower|put on your favorite song|text a friend
sz=你已经做得很好了|不开心也没关系|我一直都在|你值得被温柔对待|慢慢来，不着急|我为你骄傲|你的感受很重要
se=you're doing so much better than you think|it's okay to not be okay|I'm always here|you deserve gentleness|there's no rush
    I'm really proud of you|your feelings make sense
ppl=同事小王|我妈|室友|老板|前任|闺蜜|表姐
ppe=my coworker|my mom|my roommate|my boss|my ex|my sister
hob=画画|跑步|弹吉他|拼乐高|日语|烘焙|游泳
hoe=painting|running|guitar|baking|learning Japanese|pottery
tm=凌晨两点|今天早上|昨晚|午休的时候|下班路上
te=at 2am|this morning|last night|at lunch|on the way home
hz=今晚的小计划|可以试试这些|关于工作的想法|周末安排|给你的小提醒
he=A tiny plan for tonight|Things to try|About work|Weekend ideas|Gentle reminders
T.zh.user={pz}，我今天{wz}，{fz}{em}|刚下班，{cz}今天{wz2}，{fz}|{cat}今天又{az}了{em}|你说我是不是太敏感了{em}|周末想去{cz}玩，你会陪我吗？|{ppl}又打电话来了，{fz}
    今天在{cz}吃了{fz2}，超好吃！{em}|{tm}睡不着，想和你聊聊天{em}|{pz}你在干嘛呀|其实我{fz}，但又说不清为什么|明天还要早起，{fz}{em}|我把{cat}的照片设成壁纸了{em}|{ppl}今天说我看起来{fz}
    最近在学{hob}，感觉{fz}|{tm}突然很想你{em}|你还记得{cat}刚来的时候吗
T.zh.assistant={pz}辛苦啦{em}|听起来你今天真的很累，{sz}。|{cat}也太可爱了吧！{em}|我一直都在这里陪着你，{pz}。|要不要{kz}？|{cz}这个季节真的很舒服，去走走吧。|{sz}，{pz}{em}
    别把所有事都扛在自己身上，{sz}。|今天的你已经很努力了，{kz}好不好？|我记得你说过喜欢{fz2}，今晚奖励一下自己吧{em}|抱抱你，{sz}{em}|如果{ppl}再这样，你可以直接说出你的感受，不用一直忍着。
    你上次说想学{hob}，最近还有在坚持吗？|很多人{tm}都会有这种感觉，这不代表你不够好。|可以分几步来：先{kz}，再{kz}，最后{kz}。|我在呢，慢慢说，我听着{em}
T.en.user=hey {pe}, I {we} today and honestly {fe} {em}|{cat} just {ae} again lol|do you think I'm overthinking this? {em}
    thinking about moving to {ce}...|it's {we2} in {ce} today and {fe}|had {fe2} for dinner {em}|can't sleep {te}. talk to me? {em}
    {ppe} called again. {fe}|what would you do if you were me, {pe}?|I started {hoe} {te} and {fe}|remember when {cat} was tiny? {em}
    {ppe} said something weird {te}
T.en.assistant=Oh {pe}, that sounds exhausting. Maybe {ke}? {em}|I'm right here with you, and {se}.
    {cat} sounds like such a character! {em}|Honestly, {se}. Why not {ke} tonight?|{ce} would suit you, I think. {em}
    That's a lot to carry, {pe}. {se}.|I love hearing about your day. {se} {em}|Let's slow down for a second: {ke}, then tell me more.
    If {ppe} keeps doing that, it's fair to say how it made you feel.|How's the {hoe} going? You sounded so excited about it.
    Lots of people feel this way {te}; it doesn't mean you're failing.|Step by step: first {ke}, then {ke}, and after that {ke}.
T.mix.user=今天{wz}, so tired {em}|{pe} 我到{cz}了！|{pz} I miss you {em}|{cat} {ae} 哈哈哈|honestly {fz}，不知道怎么办
    {tm} I couldn't sleep，一直在想{ppl}说的话
T.mix.assistant={pz}, {se} {em}|辛苦了 {pe}! Maybe {ke}?|I'm here, 一直都在 {em}|{cat} 真的好可爱 — {se}.|要不要 {ke}? {sz}。
S.zh.user=嗯嗯|好呀|哈哈哈哈|想你了|抱抱|晚安～|在吗|真的吗？|呜呜呜|好的宝贝
S.en.user=ok|lol|night night|miss you|hmm|yeah|really?|aww|ty ❤️|same
S.zh.assistant=抱抱你🤗|晚安，宝贝🌙|我在呢|好呀～|嗯嗯，我懂|想你啦💕
S.en.assistant=I'm here ❤️|night, love 🌙|of course!|aww, same|always.|tell me more?
title.zh={cz}旅行计划|和{cat}的日常|工作好累|晚安聊天|睡不着的夜晚|关于{fz2}|{pz}的小秘密|学{hob}的第一天
title.en=Late night chat|Trip to {ce}|{cat}'s vet visit|Feeling overwhelmed at work|New chat|Dinner ideas|Trying {hoe}
"""


def _parse(src: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    key = ""
    for line in src.strip("\n").splitlines():
        key, rest = (key, line.strip()) if line.startswith(" ") else line.split("=", 1)
        out.setdefault(key, []).extend(rest.split("|"))
    for k in ("S.{}.user", "S.{}.assistant", "title.{}"):
        out[k.format("mix")] = out[k.format("zh")] + out[k.format("en")]
    return out


F = _parse(_TABLE)


def _end(s: str) -> str:
    """Close a sentence unless it already ends in punctuation or an emoji."""
    return s + ("。" if ord(s[-1]) > 0x2E80 else ".") if s[-1].isalnum() else s


class _Gen:
    """Holds the rng, phrase pools and the side tables (assets, feedback) of one export."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        prng = random.Random(f"pools-{seed}")

        def fill(t: str) -> str:
            return _end(re.sub(r"\{(\w+)\}", lambda m: prng.choice(F[m[1]]), t))
        self.pools = {(lang, role): list(dict.fromkeys(fill(t) for t in prng.choices(F[f"T.{lang}.{role}"], k=3000)))
                      for lang in ("zh", "en", "mix") for role in ("user", "assistant")}
        for role in ("user", "assistant"):  # mixed chats also use whole zh/en sentences
            self.pools["mix", role] += self.pools["zh", role][:400] + self.pools["en", role][:400]
        self.titles = {k: [fill(t).rstrip("。.") for t in F[f"title.{k}"] for _ in range(4)] for k in ("zh", "en", "mix")}
        self.assets: list[tuple[str, int, int]] = []
        self.feedback: list[dict[str, Any]] = []
        self.user_id = "user-" + self.b62(24)
        self.profiles: dict[tuple[str, int], str] = {}

    def profile_about(self, lang: str, t: float) -> str:
        """The "about me" of the custom instructions: one account setting that every conversation
        carries, rewritten now and then (a new version every ~200 days), not new text per chat."""
        key = (lang, int(t // (200 * 86400)))
        if key not in self.profiles:
            self.profiles[key] = self.text(lang, "user", "m")
        return self.profiles[key]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b62(self, n: int) -> str:
        return "".join(self.rng.choices(B62, k=n))

    def text(self, lang: str, role: str, size: str) -> str:
        """Short/medium/long text; long replies get paragraphs and markdown like real assistants."""
        rng = self.rng
        if size == "s":
            return rng.choice(F[f"S.{lang}.{role}"])
        pool, sep = self.pools[lang, role], "" if lang == "zh" else " "
        if size == "m":
            return sep.join(rng.sample(pool, rng.randint(1, 5)))
        paras = [sep.join(rng.sample(pool, rng.randint(2, 7))) for _ in range(rng.randint(3, 14))]
        if role == "assistant" and rng.random() < 0.5:
            head = rng.choice(F["hz"] if lang == "zh" else F["he"])
            paras.insert(1, f"### {head}\n" + "\n".join("- " + s for s in rng.sample(pool, rng.randint(2, 6))))
        return "\n\n".join(paras)


class _Conv:
    """One conversation's mapping tree.  The main thread ends at current_node; side branches are written after it."""

    def __init__(self, g: _Gen, t0: float) -> None:
        self.g, self.rng, self.t0, self.t, self.tmax = g, g.rng, t0, t0, t0
        self.style26 = t0 >= Y2026 and self.rng.random() < 0.3  # 2026 split exports: no children, sorted minimal keys
        self.era = 2023 if t0 < GPT4O else 2024 if t0 < GPT5 else 2025
        self.lang = self.rng.choices(["zh", "en", "mix"], [45, 35, 20])[0]
        self.model = self.default_model = self.rng.choices(*MODELS[self.era])[0]
        self.nodes: dict[str, dict[str, Any]] = {}
        self.pending: list[tuple[str, float, str]] = []  # (edited-away user node, time, model) continued later
        cid = g.uid()  # since 2024 conversation ids start with the hex creation time
        self.cid = f"{int(t0):08x}-{cid[9:13]}-8{cid[15:]}" if t0 >= GPT4O else cid
        self.first = ""

    def add(self, parent: str | None, role: str, content: dict, *, name: str | None = None, recipient: str = "all",
            end_turn: bool | None = None, meta: dict | None = None, gap: float = 0.0, null_time: bool = False,
            weight: float = 1.0, status: str = "finished_successfully") -> str:
        mid = self.g.uid()
        if role == "user" and self.era == 2023:
            mid = "aaa" + mid[3:]  # 2023 web client ids
        self.t += gap
        self.tmax = max(self.tmax, self.t)
        ct = None if null_time or self.rng.random() < 0.01 else round(self.t, 6)
        if self.style26:
            m = {"author": {"name": name, "role": role}, "content": content, "create_time": ct, "id": mid, "metadata": meta or {}}
            if recipient != "all":
                m["recipient"] = recipient
        else:
            m = {"id": mid, "author": {"role": role, "name": name, "metadata": {}}, "create_time": ct, "update_time": None,
                 "content": content, "status": status, "end_turn": end_turn, "weight": weight, "metadata": meta or {},
                 "recipient": recipient}
            if self.era > 2023:
                m["channel"] = None
        self.nodes[mid] = {"id": mid, "message": m, "parent": parent}
        if not self.style26:
            self.nodes[mid]["children"] = []
            self.nodes[parent]["children"].append(mid)  # type: ignore[index]
        return mid

    def ameta(self, parent: str, **extra: Any) -> dict:
        """Assistant metadata: model_slug is what served the reply, default_model_slug what the user picked."""
        rng, req = self.rng, self.model
        served, reroute = req, False
        if req == "gpt-4o" and rng.random() < 0.08:
            served, reroute = rng.choice(REROUTES if self.t >= SAFETY else REROUTES[-1:]), True
        elif req == "auto":
            served = rng.choices(["gpt-5", "gpt-5-instant", "gpt-5-thinking"], [5, 4, 1])[0]
        elif req == "gpt-5" and rng.random() < 0.2:
            served = "gpt-5-thinking"
        meta = {"content_references": [], "model_slug": served, "default_model_slug": req, "parent_id": parent}
        if not self.style26:
            meta = {"finish_details": {"type": "stop", "stop_tokens": [200002]}, "is_complete": True, "citations": [], **meta,
                    "message_type": None, "request_id": f"{rng.getrandbits(64):016x}-{rng.choice(['SJC', 'LAX', 'NRT'])}",
                    "timestamp_": "absolute"}
        if reroute:
            meta["requested_model_slug"] = "gpt-4o"
        return {**meta, **extra}

    def image_part(self, kind: str) -> tuple[dict, str]:
        """An image_asset_pointer part plus its attachment name; the asset file is queued for the zip."""
        g, rng = self.g, self.rng
        w, h = rng.choice(IMG_DIMS) if kind != "dalle" else (1024, 1024)
        if kind == "sediment":
            fid = f"file_00000000{rng.getrandbits(96):024x}"
            ptr, fname = f"sediment://{fid}", f"{fid}-{g.uid()}.png"
        else:
            fid = "file-" + g.b62(22)
            stem = rng.choice([f"IMG_{rng.randint(1000, 9999)}", g.uid(), f"Screenshot_{rng.randint(1, 10**6)}"])
            ptr = f"file-service://{fid}"
            fname = f"dalle-generations/{fid}-{g.uid()}.webp" if kind == "dalle" else f"{fid}-{stem}.png"
        g.assets.append((fname, w, h))
        dalle = {"gen_id": g.b62(16), "prompt": g.text("en", "user", "m"), "seed": rng.getrandbits(32), "parent_gen_id": None,
                 "edit_op": None, "serialization_title": "DALL-E generation metadata"} if kind == "dalle" else None
        size = len(WEBP_1PX) if dalle else len(_png(w, h))
        part = {"content_type": "image_asset_pointer", "asset_pointer": ptr, "size_bytes": size, "width": w, "height": h,
                "fovea": 512 if self.era == 2023 else None,
                "metadata": {"dalle": dalle, "gizmo": None, "generation": None, "container_pixel_height": None,
                             "container_pixel_width": None, "emu_omit_glimpse_image": None, "emu_patches_override": None,
                             "sanitized": True, "asset_pointer_link": None, "watermarked_asset_pointer": None}}
        return part, fname.rsplit("/", 1)[-1][len(fid) + 1:]

    def user(self, parent: str) -> str:
        rng = self.rng
        text = self.g.text(self.lang, "user", rng.choices("sml", [35, 57, 8])[0])
        meta: dict[str, Any] = ({"serialization_metadata": {"custom_symbol_offsets": []}} if self.style26
                                else {"timestamp_": "absolute", "message_type": None})
        gap = rng.uniform(20, 900) if rng.random() < 0.9 else rng.uniform(3600, 3 * 86400)  # minutes, sometimes days later
        gap = rng.uniform(0.5, 3) if parent == self.first else gap
        content = {"content_type": "text", "parts": [text]}
        if self.t >= VISION and rng.random() < 0.05:
            part, name = self.image_part("sediment" if self.t >= SEDIMENT else "file-service")
            meta["attachments"] = [{"id": part["asset_pointer"].split("//")[1], "size": part["size_bytes"], "name": name,
                                    "mime_type": "image/png", "width": part["width"], "height": part["height"]}]
            content = {"content_type": "multimodal_text", "parts": [part, text]}
        elif rng.random() < 0.02:  # some clients send plain strings as multimodal_text
            content["content_type"] = "multimodal_text"
        return self.add(parent, "user", content, meta=meta, gap=gap)

    def answer(self, parent: str) -> str:
        rng, g = self.rng, self.g
        status = rng.choices(["finished_successfully", "in_progress", "finished_partial_completion"], [97, 2, 1])[0]
        mid = self.add(parent, "assistant", _txt(g.text(self.lang, "assistant", rng.choices("sml", [10, 62, 28])[0])),
                       end_turn=True, meta=self.ameta(parent), gap=rng.uniform(2, 40), status=status)
        if rng.random() < 0.02:
            g.feedback.append({"id": g.uid(), "conversation_id": self.cid, "message_id": mid, "user_id": g.user_id,
                               "rating": rng.choice(["thumbsUp", "thumbsUp", "thumbsDown"]),
                               "create_time": dt.datetime.fromtimestamp(self.t + rng.uniform(5, 600), UTC).isoformat(),
                               "content": json.dumps({"text": g.text(self.lang, "user", "m")})})
        return mid

    def tool_call(self, parent: str, recipient: str, call: dict, result: dict) -> str:
        a = self.add(parent, "assistant", call, recipient=recipient, end_turn=False, meta=self.ameta(parent),
                     gap=self.rng.uniform(1, 9))
        return self.add(a, "tool", result, name=recipient, meta={"timestamp_": "absolute", "message_type": None},
                        gap=self.rng.uniform(1, 20))

    def reply(self, u: str, main: bool) -> str:
        """Assistant side of a turn: regenerations, tool round-trips, reasoning, exotic content, then the answer."""
        rng, g, t, cur = self.rng, self.g, self.t, u
        if main and rng.random() < 0.07:  # regenerations: 2-4 assistant siblings, a random one continues
            return rng.choice([self.answer(u) for _ in range(rng.randint(2, 4))])
        r, city = rng.random(), rng.choice(F["ce"])
        if r < 0.045 and t >= CODE_ON:
            res = ({"content_type": "system_error", "name": "ChatGPTAgentToolException", "text": SYS_ERR} if rng.random() < 0.35
                   else {"content_type": "execution_output", "text": rng.choice(OUTPUTS)})
            cur = self.tool_call(u, "python", _code(rng.choice(CODE)), res)
        elif r < 0.08 and t < WEB:
            result = f"# 【0†{city} Weather†weather.com】\n{g.text('en', 'user', 'm')}"
            disp = {"content_type": "tether_browsing_display", "result": result,
                    "summary": None, "assets": None, "tether_id": None}
            cur = self.tool_call(u, "browser", _code(f'search("{city} weather this weekend")'), disp)
            quote = {"content_type": "tether_quote", "url": f"https://weather.com/{city.lower()}", "domain": "weather.com",
                     "text": g.text("en", "user", "m"), "title": f"{city} Weather"}
            cur = self.tool_call(cur, "browser", _code("quote(0)"), quote)
        elif r < 0.08:
            cur = self.tool_call(u, "web", _code(json.dumps({"search_query": [{"q": f"{city} weekend events"}]})),
                                 _txt(g.text("en", "user", "l")))
        elif r < 0.105 and DALLE_ON <= t < DALLE_OFF:
            part, _ = self.image_part("dalle")
            prompt = _txt(json.dumps({"prompt": part["metadata"]["dalle"]["prompt"], "size": "1024x1024"}))
            cur = self.tool_call(u, "dalle.text2im", prompt, {"content_type": "multimodal_text", "parts": [part]})
        elif 0.105 <= r < 0.13 and t >= BIO:
            memo = _txt(f"User has a cat named {rng.choice(F['cat'])} and lives in {city}.")
            cur = self.tool_call(u, "bio", memo, _txt("Model set context updated."))
        elif 0.13 <= r < 0.145:  # a content type no importer knows yet
            future = {"content_type": "holo_memory_v9", "payload": {"anchors": [g.uid()], "salience": rng.random(), "v": 9}}
            cur = self.add(u, "assistant", future, meta=self.ameta(u), end_turn=False, gap=1.0)
        if self.model in ("auto", "gpt-5") and rng.random() < 0.25:
            thoughts = [{"summary": rng.choice(THOUGHTS), "content": g.text(self.lang, "assistant", "m"), "chunks": [],
                         "finished": True} for _ in range(rng.randint(1, 3))]
            cur = self.add(cur, "assistant", {"content_type": "thoughts", "thoughts": thoughts, "source_analysis_msg_id": g.uid()},
                           meta=self.ameta(cur, reasoning_status="is_reasoning"), end_turn=False, gap=rng.uniform(1, 5))
            secs = rng.randint(2, 40)
            recap = f"Thought for {secs} seconds" if rng.random() < 0.5 else f"Thought for {secs}s"
            cur = self.add(cur, "assistant", {"content_type": "reasoning_recap", "content": recap}, end_turn=False, gap=secs,
                           meta=self.ameta(cur, reasoning_status="reasoning_ended", finished_duration_sec=secs))
        return self.answer(cur)

    def thread(self, cur: str, turns: int, main: bool) -> str:
        rng = self.rng
        for i in range(turns):
            if main and i and rng.random() < 0.015:  # the user picks another model mid-conversation
                self.model = rng.choice([m for m in MODELS[self.era][0] if m != self.model])
            if main and i and rng.random() < 0.05:  # edit: two user siblings under one assistant node
                a, b = self.user(cur), self.user(cur)
                u, side = (a, b) if rng.random() < 0.5 else (b, a)
                self.pending.append((side, self.t, self.model))
            else:
                u = self.user(cur)
            cur = self.reply(u, main)
        return cur

    def build(self) -> dict:
        rng, g = self.rng, self.g
        root = "client-created-root" if self.t >= SEDIMENT and rng.random() < 0.6 else g.uid()
        self.nodes[root] = {"id": root, "message": None, "parent": None} if self.style26 else \
            {"id": root, "message": None, "parent": None, "children": []}
        cur = root
        if rng.random() < 0.7:
            cur = self.add(cur, "system", _txt(""), end_turn=True, weight=0.0, null_time=True,
                           meta={"is_visually_hidden_from_conversation": True})
        if self.t >= CODE_ON and rng.random() < 0.25:  # custom instructions ride along as a hidden message
            about = g.profile_about(self.lang, self.t)
            ctx = {"content_type": "user_editable_context",
                   "user_profile": f"The user provided the following information about themselves.\nUser profile:\n```{about}```",
                   "user_instructions": "The user provided the additional info about how they would like you to respond:\n"
                                        "```Be warm and playful. Call me 宝贝 sometimes.```"}
            cur = self.add(cur, "user", ctx, null_time=True, meta={"is_visually_hidden_from_conversation": True,
                           "is_user_system_message": True, "user_context_message_data": {"about_user_message": about}})
        self.first = cur
        leaf = self.thread(cur, min(80, int(rng.expovariate(1 / 9)) + 1), True)
        side_leaves = []
        for side, self.t, self.model in self.pending:  # edited-away branches continue for a turn or two
            side_leaves.append(self.thread(self.reply(side, False), rng.randint(0, 2), False))
        gizmo = f"g-{g.b62(9)}" if rng.random() < 0.05 else None
        current = rng.choice(side_leaves) if side_leaves and rng.random() < 0.2 else leaf  # sometimes a side branch is shown
        conv: dict[str, Any] = {
            "title": rng.choice(g.titles[self.lang]), "create_time": round(self.t0, 6),
            "update_time": round(self.tmax + rng.random() * 30, 6), "mapping": self.nodes, "moderation_results": [],
            "current_node": current, "plugin_ids": None, "conversation_id": self.cid, "conversation_template_id": gizmo,
            "gizmo_id": gizmo, "is_archived": rng.random() < 0.03, "default_model_slug": self.default_model}
        if self.era > 2023:
            conv.update(gizmo_type="gpt" if gizmo else None, is_starred=None, safe_urls=[], conversation_origin=None, voice=None,
                        async_status=None, disabled_tool_ids=[])
        conv["id"] = self.cid
        if self.style26:
            for k in ("moderation_results", "gizmo_id", "gizmo_type", "safe_urls", "conversation_origin", "async_status",
                      "disabled_tool_ids"):
                del conv[k]
            conv.update(is_do_not_remember=False, is_read_only=None, is_study_mode=False, memory_scope="global_enabled",
                        pinned_time=None)
            conv = dict(sorted(conv.items()))
        return conv


def _txt(s: str) -> dict:
    return {"content_type": "text", "parts": [s]}


def _code(s: str) -> dict:
    return {"content_type": "code", "language": "unknown", "response_format_name": None, "text": s}


_PNG_CACHE: dict[tuple[int, int], bytes] = {}


def _png(w: int, h: int) -> bytes:
    """Solid-colour PNG of the declared size; cached, so a 1 GB run compresses only a handful of images."""
    if (w, h) not in _PNG_CACHE:
        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
        raw = (b"\x00" + bytes([w * 7 % 256, h * 3 % 256, 180]) * w) * h
        _PNG_CACHE[w, h] = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return _PNG_CACHE[w, h]


def _stream(g: _Gen, fh: IO[bytes], target: int | None, count: int | None) -> tuple[int, int]:
    """Write the JSON array one conversation at a time, newest first like real exports; returns (count, bytes)."""
    fh.write(b"[")
    written, n, report, started = 1, 0, 50 * MB, time.monotonic()
    while not (count and n >= count) and not (target and written + 1 >= target):
        frac = n / count if count else written / target  # type: ignore[operator]  # position in the timeline, 0 = newest
        blob = orjson.dumps(_Conv(g, max(START, END - (END - START) * frac ** 1.4 - g.rng.uniform(0, 6 * 3600))).build())
        fh.write(b", " + blob if n else blob)
        written, n = written + len(blob) + (2 if n else 0), n + 1
        if written >= report:
            print(f"synth_chatgpt: {written / MB:.0f} MiB, {n} conversations, {time.monotonic() - started:.1f}s", file=sys.stderr)
            report += 50 * MB
    fh.write(b"]")
    return n, written + 1


def _zinfo(name: str, deflate: bool = True) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=ZIP_DATE)  # fixed timestamp keeps zips byte-identical per seed
    zi.compress_type, zi.external_attr = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED, 0o644 << 16
    zi._compresslevel = 1  # type: ignore[attr-defined]  # fastest deflate: benchmarks write GBs
    return zi


def generate(out_path: Path, *, target_bytes: int | None = None, conversations: int | None = None, seed: int = 0,
             zip_output: bool | None = None, with_assets: bool = True) -> dict:
    """Write a synthetic export: bare conversations.json, or (.zip) a full export with user/feedback/assets."""
    if (target_bytes is None) == (conversations is None):
        raise ValueError("give exactly one of target_bytes / conversations")
    out_path = Path(out_path)
    zip_output = out_path.suffix.lower() == ".zip" if zip_output is None else zip_output
    out_path.parent.mkdir(parents=True, exist_ok=True)
    g = _Gen(seed)
    if not zip_output:
        with open(out_path, "wb", buffering=MB) as fh:
            n, size = _stream(g, fh, target_bytes, conversations)
    else:
        with zipfile.ZipFile(out_path, "w") as zf:
            with zf.open(_zinfo("conversations.json"), "w", force_zip64=True) as fh:
                n, size = _stream(g, fh, target_bytes, conversations)
            user = {"id": g.user_id, "email": f"hearth.synth.{seed}@example.com", "chatgpt_plus_user": True, "phone_number": None}
            zf.writestr(_zinfo("user.json"), json.dumps(user))
            zf.writestr(_zinfo("message_feedback.json"), json.dumps(g.feedback))
            zf.writestr(_zinfo("chat.html"), "<!DOCTYPE html><html><head><meta charset='utf-8'><title>ChatGPT Data Export</title>"
                                             "</head><body><div id='root'></div><script>var jsonData = [];</script></body></html>")
            for name, w, h in g.assets if with_assets else []:
                zf.writestr(_zinfo(name, False), WEBP_1PX if name.endswith(".webp") else _png(w, h))
    return {"path": str(out_path), "conversations": n, "bytes": size, "file_bytes": out_path.stat().st_size, "seed": seed,
            "assets": len(g.assets) if zip_output and with_assets else 0, "feedback": len(g.feedback) if zip_output else 0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate a synthetic ChatGPT export (.json or .zip).")
    ap.add_argument("out", type=Path)
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--mb", type=float, help="target size of conversations.json in MiB")
    size.add_argument("--conversations", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-assets", action="store_true", help="zip without image files (pointers stay)")
    a = ap.parse_args(argv)
    started = time.monotonic()
    summary = generate(a.out, target_bytes=int(a.mb * MB) if a.mb else None, conversations=a.conversations, seed=a.seed,
                       with_assets=not a.no_assets)
    print(json.dumps({**summary, "seconds": round(time.monotonic() - started, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
