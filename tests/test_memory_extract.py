"""The rule-based memory extractor, on Chinese and English, positives and hard negatives.

The tables are the spec: each positive sentence lists every (kind, slot, value) it must yield and
nothing else; each hard negative must yield nothing (a candidate that *ends* a slot, like
"我不住在北京了", is allowed and tested on its own). A summary prints precision and recall over the
tables, and over a held-out table that the patterns were not tuned on.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.memory.extract import Candidate, Turn, extract, merge_duplicates, supersedes

# Wednesday 2024-03-06 10:00 UTC
T0 = datetime(2024, 3, 6, 10, 0, tzinfo=UTC).timestamp()


def day(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> float:
    return datetime(y, m, d, h, mi, tzinfo=UTC).timestamp()


def run(text: str, role: str = "user", at: float | None = T0, mid: int = 1) -> list[Candidate]:
    return extract([Turn(mid, role, text, at, 1)])


F, P, PR, E, M, B = "fact", "person", "preference", "event", "milestone", "boundary"

ZH_POS: list[tuple[str, list[tuple[str, str | None, str | None]]]] = [
    ("我住在杭州", [(F, "residence", "杭州")]),
    ("我现在住在上海浦东", [(F, "residence", "上海浦东")]),
    ("我一直住在成都。", [(F, "residence", "成都")]),
    ("我住北京", [(F, "residence", "北京")]),
    ("我在深圳生活", [(F, "residence", "深圳")]),
    ("我目前在广州定居", [(F, "residence", "广州")]),
    ("我搬到杭州了", [(F, "residence", "杭州")]),
    ("我上个月搬去了南京", [(F, "residence", "南京")]),
    ("我们家去年搬到苏州了", [(F, "residence", "苏州")]),
    ("我刚搬来厦门，还不太习惯", [(F, "residence", "厦门")]),
    ("我家在武汉", [(F, "residence", "武汉")]),
    ("我住在杭州已经三年了", [(F, "residence", "杭州")]),
    ("我老家是湖南的", [(F, "hometown", "湖南")]),
    ("我是东北人", [(F, "hometown", "东北")]),
    ("我来自台湾", [(F, "hometown", "台湾")]),
    ("我是在青岛长大的", [(F, "hometown", "青岛")]),
    ("我是一名护士", [(F, "job", "护士")]),
    ("我是程序员", [(F, "job", "程序员")]),
    ("我是个大学生", [(F, "job", "大学生")]),
    ("我是老师，教数学", [(F, "job", "老师")]),
    ("我在医院当护士", [(F, "job", "护士"), (F, "workplace", "医院")]),
    ("我在阿里巴巴工作", [(F, "workplace", "阿里巴巴")]),
    ("我在一家外企上班", [(F, "workplace", "外企")]),
    ("我是做设计的", [(F, "job", "设计")]),
    ("我从事金融行业", [(F, "job", "金融")]),
    ("我的工作是翻译", [(F, "job", "翻译")]),
    ("我在浙江大学读研", [(F, "school", "浙江大学")]),
    ("我在读大三", [(F, "education", "大三")]),
    ("我的专业是计算机", [(F, "major", "计算机")]),
    ("我叫小明", [(F, "name", "小明")]),
    ("我的名字是王小红", [(F, "name", "王小红")]),
    ("你可以叫我阿杰", [(F, "nickname", "阿杰")]),
    ("叫我小鱼就好", [(F, "nickname", "小鱼")]),
    ("我今年25岁", [(F, "age", "25")]),
    ("我今年二十八岁了", [(F, "age", "28")]),
    ("我都30岁了", [(F, "age", "30")]),
    ("我生日是3月5号", [(F, "birthday", "03-05")]),
    ("我的生日是十月一日", [(F, "birthday", "10-01")]),
    ("我是1998年出生的", [(F, "birth_year", "1998")]),
    ("我妈妈叫李华", [(P, "mother:name", "李华")]),
    ("我男朋友叫阿伟", [(P, "partner:name", "阿伟")]),
    ("我老公的名字是张伟", [(P, "partner:name", "张伟")]),
    ("我有个妹妹，叫小美", [(P, None, "小美")]),
    ("我闺蜜叫思思", [(P, None, "思思")]),
    ("我有两个孩子", [(P, "children", "两个孩子")]),
    ("我的猫叫小白", [(P, "pet:cat:name", "小白")]),
    ("我家狗狗叫旺财", [(P, "pet:dog:name", "旺财")]),
    ("我养了一只猫，叫咪咪", [(P, "pet:cat:name", "咪咪")]),
    ("我家的兔子名字叫雪球", [(P, "pet:rabbit:name", "雪球")]),
    ("我喜欢猫", [(PR, None, "猫")]),
    ("我特别喜欢吃火锅", [(PR, None, "火锅")]),
    ("我超爱看电影", [(PR, None, "电影")]),
    ("我最喜欢的颜色是蓝色", [(PR, "favourite:颜色", "蓝色")]),
    ("我讨厌香菜", [(PR, None, "香菜")]),
    ("我受不了吵闹的地方", [(PR, None, "吵闹的地方")]),
    ("我不喜欢下雨天", [(PR, None, "下雨天")]),
    ("我对花生过敏", [(F, None, "花生")]),
    ("我有哮喘", [(F, None, "哮喘")]),
    ("我被诊断出抑郁症", [(F, None, "抑郁症")]),
    ("我吃素", [(F, "diet", "素食")]),
    ("别叫我宝贝", [(B, None, "宝贝")]),
    ("请不要再提我前任了", [(B, None, "前任")]),
    ("不要跟我提工作", [(B, None, "工作")]),
    ("我不想聊考研的事", [(B, None, "考研")]),
    ("以后别问我的体重", [(B, None, "体重")]),
    ("不要用表情包", [(B, None, "表情包")]),
    ("别催我结婚", [(B, None, "结婚")]),
    ("我最爱火锅", [(PR, None, "火锅")]),
    ("我在读研", [(F, "education", "研")]),
    ("3月5日我有考试", [(E, None, "考试")]),
    ("明天我有面试", [(E, None, "面试")]),
    ("下周五有考试", [(E, None, "考试")]),
    ("3月8日我要做手术", [(E, None, "手术")]),
    ("明天是我生日", [(E, None, "生日"), (F, "birthday", "03-07")]),
    ("我妈明天做手术", [(E, None, "妈手术")]),
    ("我们认识一年了", [(M, None, "一年")]),
    ("今天是我们的纪念日", [(M, None, "纪念日")]),
    ("我跟你聊了三个月了", [(M, None, "三个月")]),
    ("我住在臺北", [(F, "residence", "臺北")]),
    ("我的貓叫咪咪", [(P, "pet:cat:name", "咪咪")]),
    ("我對花生過敏", [(F, None, "花生")]),
    ("我今年２５岁", [(F, "age", "25")]),
    ("我叫小明，今年25岁，住在杭州", [(F, "name", "小明"), (F, "age", "25"), (F, "residence", "杭州")]),
]

EN_POS: list[tuple[str, list[tuple[str, str | None, str | None]]]] = [
    ("I live in Boston", [(F, "residence", "Boston")]),
    ("I currently live in New York City now", [(F, "residence", "New York City")]),
    ("We live in Seattle with our two kids", [(F, "residence", "Seattle")]),
    ("I moved to Denver last year", [(F, "residence", "Denver")]),
    ("I just moved to Austin!", [(F, "residence", "Austin")]),
    ("i live in portland", [(F, "residence", "portland")]),
    ("I'm based in Berlin", [(F, "residence", "Berlin")]),
    ("I'm from Ohio", [(F, "hometown", "Ohio")]),
    ("I grew up in Texas", [(F, "hometown", "Texas")]),
    ("I'm originally from Manila", [(F, "hometown", "Manila")]),
    ("I'm a nurse", [(F, "job", "nurse")]),
    ("im a teacher", [(F, "job", "teacher")]),
    ("I am a software engineer at Google", [(F, "job", "software engineer"), (F, "workplace", "Google")]),
    ("I work as a cashier", [(F, "job", "cashier")]),
    ("I'm a high school teacher", [(F, "job", "high school teacher")]),
    ("I work at Starbucks", [(F, "workplace", "Starbucks")]),
    ("I work for the city council", [(F, "workplace", "the city council")]),
    ("I work in marketing", [(F, "industry", "marketing")]),
    ("I'm retired", [(F, "job", "retired")]),
    ("I'm a student at UCLA", [(F, "job", "student"), (F, "school", "UCLA")]),
    ("I study at MIT", [(F, "school", "MIT")]),
    ("I'm majoring in biology", [(F, "major", "biology")]),
    ("I'm doing a PhD", [(F, "education", "PhD")]),
    ("My name is Anna", [(F, "name", "Anna")]),
    ("my name's Jake", [(F, "name", "Jake")]),
    ("Hi, I'm Sarah", [(F, "name", "Sarah")]),
    ("You can call me Liz", [(F, "nickname", "Liz")]),
    ("Call me Ishmael.", [(F, "nickname", "Ishmael")]),
    ("I go by Sam", [(F, "nickname", "Sam")]),
    ("I'm 25", [(F, "age", "25")]),
    ("I am 31 years old", [(F, "age", "31")]),
    ("I just turned 40", [(F, "age", "40")]),
    ("I'm twenty-two", [(F, "age", "22")]),
    ("My birthday is March 5th", [(F, "birthday", "03-05")]),
    ("my birthday is on the 12th of June", [(F, "birthday", "06-12")]),
    ("I was born on May 5", [(F, "birthday", "05-05")]),
    ("I was born in 1990", [(F, "birth_year", "1990")]),
    ("My sister Anna is visiting", [(P, None, "Anna")]),
    ("My boyfriend's name is Tom", [(P, "partner:name", "Tom")]),
    ("my mom is called Linda", [(P, "mother:name", "Linda")]),
    ("I have a brother named Mike", [(P, None, "Mike")]),
    ("My husband Dave cooks", [(P, "partner:name", "Dave")]),
    ("My cat Snowball sleeps all day", [(P, "pet:cat:name", "Snowball")]),
    ("my dog is called Rex", [(P, "pet:dog:name", "Rex")]),
    ("I have a kitten named Milo", [(P, "pet:cat:name", "Milo")]),
    ("Our puppy's name is Biscuit", [(P, "pet:dog:name", "Biscuit")]),
    ("We adopted a rabbit called Clover", [(P, "pet:rabbit:name", "Clover")]),
    ("I love hiking", [(PR, None, "hiking")]),
    ("I really like jazz", [(PR, None, "jazz")]),
    ("I enjoy cooking Thai food", [(PR, None, "cooking Thai food")]),
    ("I'm obsessed with K-pop", [(PR, None, "K-pop")]),
    ("My favourite color is green", [(PR, "favourite:color", "green")]),
    ("My favorite movie is Spirited Away", [(PR, "favourite:movie", "Spirited Away")]),
    ("I hate Mondays", [(PR, None, "Mondays")]),
    ("I can't stand cilantro", [(PR, None, "cilantro")]),
    ("I don't like horror movies", [(PR, None, "horror movies")]),
    ("I'm not a fan of crowds", [(PR, None, "crowds")]),
    ("I'm a huge Taylor Swift fan", [(PR, None, "Taylor Swift")]),
    ("I have two kids", [(P, "children", "two kids")]),
    ("I\u2019m allergic to peanuts", [(F, None, "peanuts")]),
    ("I have a shellfish allergy", [(F, None, "shellfish")]),
    ("I have asthma", [(F, None, "asthma")]),
    ("I was diagnosed with ADHD", [(F, None, "ADHD")]),
    ("I'm vegetarian", [(F, "diet", "vegetarian")]),
    ("I can't eat gluten", [(F, None, "gluten")]),
    ("Please don't call me sweetie", [(B, None, "sweetie")]),
    ("Don't mention my ex", [(B, None, "my ex")]),
    ("Please stop using emojis", [(B, None, "emojis")]),
    ("I don't want to talk about my father", [(B, None, "my father")]),
    ("Never bring up my weight again", [(B, None, "my weight")]),
    ("Don't tell me to calm down", [(B, None, "calm down")]),
    ("Next Friday is my interview", [(E, None, "interview")]),
    ("Tomorrow, I have an exam", [(E, None, "exam")]),
    ("I have a job interview next Friday", [(E, None, "job interview")]),
    ("My surgery is on March 8", [(E, None, "surgery")]),
    ("Tomorrow is my birthday", [(E, None, "birthday"), (F, "birthday", "03-07")]),
    ("I had my driving test yesterday", [(E, None, "driving test")]),
    ("My mom has surgery tomorrow", [(E, None, "mom's surgery")]),
    ("We've been talking for a year", [(M, None, "a year")]),
    ("Today is our anniversary", [(M, None, "anniversary")]),
    ("It's been six months since we met", [(M, None, "six months")]),
    ("I'm 25, live in Boston and work as a nurse", [(F, "age", "25"), (F, "residence", "Boston"), (F, "job", "nurse")]),
]

ZH_NEG = [
    "你住在哪？", "你住在哪里呀", "你叫什么名字？", "你是医生吗？", "如果我住在杭州就好了", "要是我叫小明就好了",
    "我朋友说我住在上海", "笑死我了", "我是说真的", "我是认真的", "我是不是太敏感了？", "你喜欢什么？", "我叫了外卖",
    "我叫他别走", "妈妈叫我回家吃饭", "我18岁的时候住在成都", "我想搬到杭州", "我打算明年搬去上海",
    "我明年可能会搬到深圳",
    "我梦见我住在海边", "他住在北京", "她是护士", "我爱你", "我喜欢你", "我讨厌你", "我受不了了", "别担心", "不要走",
    "别说了", "你别哭了", "我不想说了", "明天会下雨吗", "明天是周五", "你明天有考试吗？", "我是你的粉丝", "我是个好人",
    "我是一个很内向的人", "你是做什么的？", "我在想你", "我在家", "我住院了", "我叫醒了他", "我今天好累",
    "我喜欢上了一个人", "我最喜欢你了", "我是单身", "我对你很好", "我爸叫我早点睡", "我不是医生", "我以为我是对的",
    "听说我们公司要搬到杭州", "你老家是哪里的？", "我有点饿", "哈哈哈哈", "今天天气真好", "我是开玩笑的",
    "明天没有考试", "我是新手", "我三岁的女儿很可爱", "我在路上", "别问了", "我不想聊这个",
    # from real chats: opinions, self-talk, the companion as object, requests to be called anything
    "我觉得我是个失败者", "我是一个很容易焦虑的人", "你可以叫我任何名字", "我喜欢和你聊天", "我小时候住在农村",
    "我现在在上海出差", "我们公司下个月要搬家", "我在医院陪我爸", "我以前是个护士", "让我迷惑的是这个问题",
]

EN_NEG = [
    "my boss called again. I'm kind of drained.", "my sister called today", "my mom called earlier lol",
    "Where do you live?", "Do you live in Boston?", "What's your name?", "Are you a nurse?",
    "If I lived in Paris I'd be happy", "My friend said I live like a hermit", "I'm tired", "I'm a mess",
    "I'm a big fan of you", "I'm so done", "I love you", "I like you", "I hate you", "I can't stand it",
    "I hate myself", "Call me crazy, but I like it", "call me when you can", "Don't worry about it", "don't mention it",
    "I'm 5 minutes late", "I'm 100% sure", "Is my interview tomorrow?", "Do I have an exam tomorrow?",
    "I'd like a coffee", "I'd love to go", "I would live in Paris if I could", "I want to move to Denver",
    "I might move to Seattle next year", "I live in fear of spiders", "I work out every day", "I work hard",
    "I'm from the future lol", "My name is on the list", "Today is Friday", "Tomorrow is another day",
    "I have no exam tomorrow", "Happy birthday to my mom!", "My mom is a nurse", "I'm a big fan of them",
    "She lives in Boston", "Do you like pizza?", "I love talking to you", "I like it here", "I'm a bit of a night owl",
    "I used to be a teacher", "I'll test the code tomorrow", "Maybe I'm a teacher at heart",
    "What do you think I should do?", "you're a great listener", "I live in a tiny apartment",
    # from real chats (LoCoMo, ChatGPT exports): deictic likes, relative clauses, time words as values
    "I really love talking with you", "I want to visit Iceland before I'm 30", "My job is boring",
    "I'm from work, just got home", "my name is irrelevant", "I donated it to a shelter I volunteer at yesterday",
    "Being my own boss and doing something I love is awesome", "I love the color and texture", "I like holding them",
    "I've got some stuff with sentimental value, like my hand-painted bowl", "it's been a few days since we talked",
]

HELD_OUT: list[tuple[str, list[tuple[str, str | None, str | None]]]] = [
    # written before the patterns were tuned (first run: precision .897, recall .839); reported, loose thresholds
    ("其实我一直住在重庆", [(F, "residence", "重庆")]),
    ("我前年搬回了老家长沙", [(F, "residence", "老家长沙")]),
    ("我是一名幼儿园老师", [(F, "job", "幼儿园老师")]),
    ("我在腾讯做产品经理", [(F, "job", "产品经理"), (F, "workplace", "腾讯")]),
    ("我家那只橘猫叫大黄", [(P, "pet:cat:name", "大黄")]),
    ("我弟弟叫小宇", [(P, None, "小宇")]),
    ("我超级讨厌加班", [(PR, None, "加班")]),
    ("我对猫毛过敏", [(F, None, "猫毛")]),
    ("千万别叫我亲爱的", [(B, None, "亲爱的")]),
    ("后天我要去体检", [(E, None, "体检")]),
    ("我今年三十五岁", [(F, "age", "35")]),
    ("我的生日在12月24日", [(F, "birthday", "12-24")]),
    ("我们已经认识两年了", [(M, None, "两年")]),
    ("我比较喜欢安静的咖啡馆", [(PR, None, "安静的咖啡馆")]),
    ("我女朋友叫小雨，她是老师", [(P, "partner:name", "小雨")]),
    ("I'm living in Chicago these days", [(F, "residence", "Chicago")]),
    ("I relocated to Toronto in 2022", [(F, "residence", "Toronto")]),
    ("I'm a pediatric nurse", [(F, "job", "pediatric nurse")]),
    ("I work at a bakery downtown", [(F, "workplace", "a bakery")]),
    ("My daughter's name is Emma", [(P, None, "Emma")]),
    ("My dog Max is a golden retriever", [(P, "pet:dog:name", "Max")]),
    ("I absolutely love sushi", [(PR, None, "sushi")]),
    ("I'm severely allergic to bees", [(F, None, "bees")]),
    ("Please don't bring up politics", [(B, None, "politics")]),
    ("I've got a dentist appointment tomorrow", [(E, None, "dentist appointment")]),
    ("I'm 19 years old", [(F, "age", "19")]),
    ("We've known each other for two years now", [(M, None, "two years")]),
    ("I really don't like spicy food", [(PR, None, "spicy food")]),
    ("Everyone calls me Kat", [(F, "nickname", "Kat")]),
    ("My final exam is next Monday", [(E, None, "final exam")]),
    # a second batch, written after the first was used; first run: precision .974, recall .925
    ("我目前住在深圳南山区", [(F, "residence", "深圳南山区")]),
    ("去年我搬到了成都", [(F, "residence", "成都")]),
    ("我是一名外科医生", [(F, "job", "外科医生")]),
    ("我在华为上班", [(F, "workplace", "华为")]),
    ("我叫李雷，你呢？", [(F, "name", "李雷")]),
    ("我今年刚满十八岁", [(F, "age", "18")]),
    ("我老婆叫韩梅梅", [(P, "partner:name", "韩梅梅")]),
    ("我养了两只猫，一只叫橘子", [(P, "pet:cat:name", "橘子")]),
    ("我家的狗叫豆豆", [(P, "pet:dog:name", "豆豆")]),
    ("我非常讨厌下雨", [(PR, None, "下雨")]),
    ("我最喜欢的歌手是周杰伦", [(PR, "favourite:歌手", "周杰伦")]),
    ("我对青霉素过敏", [(F, None, "青霉素")]),
    ("请别再叫我小胖了", [(B, None, "小胖")]),
    ("下周三我要去面试", [(E, None, "面试")]),
    ("我们已经聊了半年了", [(M, None, "半年")]),
    ("我是上海人", [(F, "hometown", "上海")]),
    ("我在复旦大学读书", [(F, "school", "复旦大学")]),
    ("我姐姐叫王芳", [(P, None, "王芳")]),
    ("我不喜欢吃辣", [(PR, None, "辣")]),
    ("我有焦虑症", [(F, None, "焦虑症")]),
    ("I've been living in Seattle for two years", [(F, "residence", "Seattle")]),
    ("I moved back to Chicago last month", [(F, "residence", "Chicago")]),
    ("I'm a physical therapist", [(F, "job", "physical therapist")]),
    ("I work for a small startup", [(F, "workplace", "a small startup")]),
    ("Hey, I'm Priya", [(F, "name", "Priya")]),
    ("I'm 42 years old", [(F, "age", "42")]),
    ("My wife's name is Julia", [(P, "partner:name", "Julia")]),
    ("We have a dog named Bear", [(P, "pet:dog:name", "Bear")]),
    ("I absolutely hate mornings", [(PR, None, "mornings")]),
    ("My favourite food is ramen", [(PR, "favourite:food", "ramen")]),
    ("I'm allergic to penicillin", [(F, None, "penicillin")]),
    ("Please stop calling me champ", [(B, None, "champ")]),
    ("I have my final exam on Thursday", [(E, None, "final exam")]),
    ("We've been chatting for three months now", [(M, None, "three months")]),
    ("I'm originally from Lagos", [(F, "hometown", "Lagos")]),
    ("I go to Boston University", [(F, "school", "Boston University")]),
    ("My best friend Maya is getting married", [(P, None, "Maya")]),
    ("I don't really like seafood", [(PR, None, "seafood")]),
    ("I have type 1 diabetes", [(F, None, "type 1 diabetes")]),
    ("I was born on the 3rd of August", [(F, "birthday", "08-03")]),
]


def _n(v: str | None) -> str:
    return re.sub(r"\W+", "", (v or "").casefold())


def _positive(cands: list[Candidate]) -> list[Candidate]:
    return [c for c in cands if c.ends_slot is None]


def _score(table):
    tp = fp = fn = 0
    misses = []
    for text, want in table:
        got = _positive(run(text))
        keyed = [(c.kind, c.slot, _n(c.value)) for c in got]
        wanted = [(k, s, _n(v)) for k, s, v in want]
        tp += sum(1 for w in wanted if w in keyed)
        fn += sum(1 for w in wanted if w not in keyed)
        fp += sum(1 for k in keyed if k not in wanted)
        if set(keyed) != set(wanted):
            misses.append((text, want, [(c.kind, c.slot, c.value) for c in got]))
    return tp, fp, fn, misses


@pytest.mark.parametrize("text,want", ZH_POS + EN_POS, ids=[t for t, _ in ZH_POS + EN_POS])
def test_positive(text, want):
    got = [(c.kind, c.slot, _n(c.value)) for c in _positive(run(text))]
    assert sorted(got, key=str) == sorted([(k, s, _n(v)) for k, s, v in want], key=str)


@pytest.mark.parametrize("text", ZH_NEG + EN_NEG)
def test_hard_negative(text):
    assert _positive(run(text)) == []


def test_table_sizes():
    assert len(ZH_POS) >= 60 and len(EN_POS) >= 60
    assert len(ZH_NEG) >= 40 and len(EN_NEG) >= 40


def test_precision_recall_summary(capsys):
    lines = []
    for name, table in (("zh", ZH_POS), ("en", EN_POS), ("held-out", HELD_OUT)):
        tp, fp, fn, misses = _score(table)
        if name != "held-out":
            neg = ZH_NEG if name == "zh" else EN_NEG
            fp += sum(len(_positive(run(t))) for t in neg)
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        lines.append(f"memory extract [{name}]: precision {precision:.3f} recall {recall:.3f} "
                     f"(tp={tp} fp={fp} fn={fn})")
        for miss in misses:
            lines.append(f"    miss: {miss}")
        assert precision >= (0.9 if name != "held-out" else 0.75)
        assert recall >= (0.9 if name != "held-out" else 0.6)
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_assistant_turns_give_only_milestones():
    assert run("我住在杭州，我叫小明", role="assistant") == []
    assert run("I live in Boston and I'm a nurse", role="assistant") == []
    got = run("我们认识一年了", role="assistant")
    assert [(c.kind, c.value) for c in got] == [("milestone", "一年")]
    assert run("我住在杭州", role="system") == []


def test_supersession_zh_and_en():
    old = run("我住在北京")[0]
    new = run("我搬到杭州了")[0]
    assert (old.slot, old.value, new.slot, new.value) == ("residence", "北京", "residence", "杭州")
    assert supersedes(new, old.slot, old.value)
    assert not supersedes(old, old.slot, old.value)  # same value: a repeat, not a change
    assert not supersedes(new, "job", "北京")
    old_en, new_en = run("I live in Boston")[0], run("I moved to Denver")[0]
    assert supersedes(new_en, old_en.slot, old_en.value)
    assert not supersedes(run("I live in boston")[0], old_en.slot, old_en.value)  # case is not a change
    assert not supersedes(run("我喜欢猫")[0], None, None)


def test_negation_ends_a_slot_instead_of_asserting_it():
    (c,) = run("我不住在北京了")
    assert c.slot is None and c.ends_slot == "residence" and c.ends_value == "北京" and c.text == "不再住在北京"
    assert supersedes(c, "residence", "北京") and not supersedes(c, "residence", "杭州")
    (e,) = run("I don't live in Boston anymore")
    assert (e.ends_slot, e.ends_value) == ("residence", "Boston") and supersedes(e, "residence", "Boston")
    (q,) = run("I quit my job")
    assert q.ends_slot == "workplace" and supersedes(q, "workplace", "Google")


def test_merge_duplicates_unions_ids_and_keeps_max_importance():
    turns = [Turn(1, "user", "我住在杭州", T0, 1), Turn(7, "user", "我现在住在杭州呢", T0, 2),
             Turn(3, "user", "我住在杭州市", T0, 3), Turn(4, "user", "别叫我宝贝", T0, 1),
             Turn(5, "user", "别叫我宝贝！", T0, 2), Turn(6, "user", "I love hiking", T0, 1),
             Turn(8, "user", "I REALLY love hiking", T0, 1)]
    merged = merge_duplicates(extract(turns))
    res = [c for c in merged if c.slot == "residence"]
    assert len(res) == 1 and res[0].source_message_ids == [1, 3, 7]
    (bound,) = [c for c in merged if c.kind == "boundary"]
    assert bound.source_message_ids == [4, 5]
    (hike,) = [c for c in merged if c.kind == "preference"]
    assert hike.source_message_ids == [6, 8] and hike.importance == pytest.approx(0.5)
    raw = extract(turns)
    assert all(len(c.source_message_ids) == 1 for c in raw)  # merging does not mutate its input


@pytest.mark.parametrize("text,expected", [
    ("明天我有面试", day(2024, 3, 7)),
    ("后天要考试", day(2024, 3, 8)),
    ("下周五有考试", day(2024, 3, 15)),
    ("周五有面试", day(2024, 3, 8)),
    ("3月5日我面试了", day(2024, 3, 5)),
    ("12月20日有考试", day(2023, 12, 20)),
    ("下个月5号我要做手术", day(2024, 4, 5)),
    ("明天下午3点我有面试", day(2024, 3, 7, 15)),
    ("昨天我考试了", day(2024, 3, 5)),
    ("Tomorrow I have an exam", day(2024, 3, 7)),
    ("I have a job interview next Friday", day(2024, 3, 15)),
    ("My surgery is on May 5", day(2024, 5, 5)),
    ("I have an exam on the 20th of March", day(2024, 3, 20)),
    ("I have a doctor's appointment tomorrow at 3pm", day(2024, 3, 7, 15)),
    ("I had my interview yesterday", day(2024, 3, 5)),
    ("My flight is in 3 days", day(2024, 3, 9)),
    ("I have an exam on Friday", day(2024, 3, 8)),
])
def test_event_at_resolves_relative_to_created_at(text, expected):
    (ev,) = [c for c in run(text) if c.kind == "event"]
    assert ev.event_at == expected
    assert "2024" in ev.text or "2023" in ev.text  # the memory's text carries the absolute date


def test_event_text_and_no_date_without_created_at():
    (ev,) = run("明天我有面试")
    assert ev.text == "2024年3月7日：面试"
    (ev,) = run("I have a job interview next Friday")
    assert ev.text == "Job interview on 2024-03-15"
    (ev,) = [c for c in run("明天我有面试", at=None) if c.kind == "event"]
    assert ev.event_at is None and "明天" in ev.text
    (ms,) = run("我们认识一年了", at=None)
    assert ms.event_at is None and ms.text == "认识一年了"


def test_event_in_another_time_zone():
    tz = timezone(timedelta(hours=8))
    late = datetime(2024, 3, 6, 23, 30, tzinfo=tz).timestamp()  # 15:30 UTC, still the 6th in UTC
    (ev,) = extract([Turn(1, "user", "明天我有面试", late, 1)], tz=tz)
    assert ev.event_at == datetime(2024, 3, 7, tzinfo=tz).timestamp()


def test_importance_ordering():
    boundary = run("别叫我宝贝")[0].importance
    like = run("我喜欢猫")[0].importance
    dislike = run("I hate Mondays")[0].importance
    name = run("My name is Anna")[0].importance
    allergy = run("我对花生过敏")[0].importance
    milestone = run("我们认识一年了")[0].importance
    assert boundary > name >= milestone > allergy > like
    assert boundary > dislike > like
    assert all(0 <= x <= 1 for x in (boundary, like, dislike, name, allergy, milestone))


def test_language_and_provenance():
    (c,) = run("我在Google工作", mid=42)
    assert c.language == "zh" and c.value == "Google" and c.source_message_ids == [42]
    assert run("I live in Boston")[0].language == "en"
    mixed = run("我住在San Francisco Bay Area")
    assert mixed and mixed[0].language == "mixed"


def test_values_are_cut_from_the_original_text():
    (c,) = run("我住在臺北")
    assert c.value == "臺北" and c.language == "zh"
    (c,) = run("My name is Anna-Lena")
    assert c.value == "Anna-Lena"


def test_speed_100k_turns():
    texts = ["我叫小明，今年25岁，住在杭州。", "今天好累啊，不想上班", "I live in Boston and I love hiking.",
             "What do you think about that?", "明天我有面试，好紧张", "哈哈哈哈哈", "Tomorrow is my birthday!",
             "我们认识一年了，谢谢你一直陪着我。"]
    turns = [Turn(i, "user" if i % 3 else "assistant", texts[i % len(texts)], T0, 1) for i in range(20_000)]
    start = time.perf_counter()
    extract(turns)
    elapsed = time.perf_counter() - start
    assert elapsed * 5 < 20, f"{elapsed:.2f}s for 20k turns"


_PIECES = ["我", "住在", "叫", "明天", "下周五", "3月", "31号", "13月40号", "2月30日", "，", "。", "？", "I'm ", "my ",
           "cat ", "live in ", "tomorrow", "next Friday", "May 32", "!", "?", " and ", "别叫我", "don't call me ", "貓",
           "１２", "二十五岁", "生日", "面试", "exam", "\n", "…", "我们认识", "年了", "Snowball", "杭州",
           "in 99999999999 days"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=12), st.sampled_from(["user", "assistant"]),
       st.one_of(st.none(), st.floats(0, 4e9)))
def test_never_raises_and_values_come_from_the_text(pieces, role, at):
    text = "".join(pieces)
    for c in extract([Turn(1, role, text, at, 1)]):
        assert 0 <= c.importance <= 1 and c.kind in {F, P, PR, E, M, B}
        if c.kind in (P, B) and c.slot in (None, "partner:name", "mother:name", "father:name"):
            # names and boundaries are cut from what the person wrote (whitespace runs fold to one space)
            assert c.value in " ".join(text.split()) or c.value in text
