"""Pattern tables for the rule-based memory extractor, Chinese and English.

Each `Rule` is one way a person states one kind of fact about themselves ("我住在杭州",
"I moved to Denver"). The tables are data, not code, so adding a phrasing is adding a line, and
`tests/test_memory_extract.py` holds a sentence for each. Below the rules are the other tables the
extractor reads: time expressions and event words, the markers of questions, hypotheticals and
reported speech, values that are not values ("我住在这里", "I live in fear"), and what words mean
(妈妈 → mother, kitten → cat, 貓 → 猫). Patterns run over text that
`extract._fold` has already mapped character-for-character (full-width ASCII to ASCII, a few
traditional characters to simplified, curly quotes to straight), so they are written once, in
simplified Chinese and lower-case English, and a value's offsets still point into the original.

Why regexes and not a model: hearth's embedded chat model is 135M parameters and cannot extract
memories reliably; these rules give every install a useful, explainable memory offline. Each
pattern anchors on the first person (我 / I, my) so that statements about the assistant or about
other people do not become facts about the person; values are cut short at punctuation, particles
(了/啦/呢) and words like "now" so a memory reads "住在杭州", not "住在杭州已经三年了".
"""

# ruff: noqa: E501
# (These are pattern tables: ruff counts each CJK character as two columns, and a rule reads best on
# as few lines as possible.)

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    """One phrasing of one fact. Templates are `str.format` strings over the match's groups."""

    lang: str
    triggers: tuple[str, ...]  # substrings, one of which must occur for the regex to be tried (speed)
    pattern: re.Pattern[str]
    kind: str
    slot: str | None  # template; "" after formatting means "no slot"
    text: str  # template for the memory's text
    importance: float
    value: str | None = "{v}"
    check: str = "thing"  # how group v is validated: thing, pref, place, org, school, role, origin, name, health, num, none
    ends: bool = False  # the statement says the slot's value no longer holds
    assistant: bool = False  # also read in assistant turns (relationship milestones only)


def _r(lang: str, trig: str, pat: str, kind: str, slot: str | None, text: str, imp: float, **kw: object) -> Rule:
    # English triggers are whole words or phrases, looked for in the text with non-word runs made spaces.
    trigs = tuple(t if lang == "zh" else re.sub(r"[^\w']+", " ", t.lower()).strip() for t in trig.split("|"))
    return Rule(lang, trigs, re.compile(pat, re.I if lang == "en" else 0), kind, slot, text, imp, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- Chinese building blocks
C = "\u4e00-\u9fff"
P = ",.!?;:~…。、()\"'“”「」《》\\s"  # punctuation after folding
NUM = "[0-9]{1,3}|[一二两三四五六七八九十百]{1,4}"
ADV = "(?:现在|目前|如今|一直|还|也|都|已经|就|刚|刚刚|其实|本来|平时|终于|暂时|从小就?|今年|这几年|这些年|最近)*"
INT = "(?:很|真的|超级|超|特别|非常|最|好|挺|蛮|一直|从小就|也|都|还|就|比较|尤其|其实|本来就|真|太|巨)*"
ZEND = (f"(?=$|[{P}]|了|啦|呢|呀|哦|吧|哈|嘛|啊|喔|哟|噢|的时候|已经|(?:都|也|还)[很挺是有在不没要会想觉一]|差不多|大概|将近|"
        "[0-9一二三四五六七八九十几两半]+(?:年|个月|天|周|多年))")
ZV = f"(?P<v>[^{P}]{{1,14}}?)"
NEND = f"(?=$|[{P}]|了|啦|呢|呀|哦|吧|哈|嘛|啊|喔|哟|噢|今年|是|在|住|来自|也|就)"
ZNAME = f"(?P<v>[{C}]{{1,4}}?|[A-Za-z][A-Za-z'\\-]{{0,19}})"
PAST = "(?:上个?月|上周|上星期|上礼拜|去年|前年|前几天|前阵子|最近|今年|年初|年底|昨天|前天|几天前|[一两三四五六七八九十0-9]+(?:个月|年|周|天)前)?"
JOBW = ("人员|司机|老板|会计|律师|护士|主播|模特|演员|歌手|翻译|销售|保安|保姆|码农|社畜|打工人|程序猿|自由职业|全职妈妈|"
        "全职太太|家庭主妇|宝妈|退休|博主|up主|编辑|记者|教授|讲师|主任|总监|经理|主管|店主|农民|军人|公务员|北漂|[师员生家工者手医士警官匠商]")
JOBC = f"[{C}A-Za-z]{{0,8}}?(?:{JOBW})"
JOB = f"(?P<v>{JOBC})"
JEND = f"(?=$|[{P}]|了|啦|呢|呀|哦|吧|哈|嘛|啊|在|，|已经)"
REL_ZH = ("未婚夫|未婚妻|男朋友|女朋友|另一半|心理医生|前男友|前女友|好朋友|妈妈|妈咪|老妈|母亲|爸爸|老爸|父亲|老公|丈夫|爱人|"
          "老婆|妻子|太太|媳妇|男友|女友|对象|伴侣|哥哥|姐姐|弟弟|妹妹|儿子|女儿|闺女|爷爷|奶奶|外公|外婆|姥姥|姥爷|闺蜜|好友|"
          "朋友|发小|死党|室友|舍友|同事|同学|老板|上司|领导|前任|表哥|表姐|表弟|表妹|堂哥|堂姐|叔叔|阿姨|舅舅|姑姑|孩子|宝宝|"
          "妈|爸|哥|姐")
PET_ZH = "猫咪|小猫|猫猫|狗狗|小狗|狗子|兔子|兔兔|小兔|仓鼠|鹦鹉|金鱼|乌龟|荷兰猪|豚鼠|蜥蜴|猫|狗|鸟|鱼|龟|蛇"
B = "(?:请你?|你)?(?:以后|千万|再也|永远)?(?:别再?|不要再?|不许再?|不准再?|请勿|勿|别老是?|不要老是?|少)"
EVZ = ("期末考试|期中考试|考试|期末考|考研|高考|中考|雅思|托福|四级|六级|笔试|复试|面试|答辩|手术|体检|复查|复诊|产检|看医生|"
       "看病|约会|相亲|婚礼|生日|演出|比赛|演唱会|音乐会|会议|开会|汇报|出差|旅行|旅游|航班|搬家|入职|报到|毕业典礼|毕业|开学|"
       "截止|deadline|ddl|见家长|聚会|派对|年会|考驾照|科目[一二三四]|路考|面签|心理咨询|咨询|化疗|拔牙|看牙|纪念日")

ZH: list[Rule] = [
    # where they live, and where they come from
    _r("zh", "住", f"我{ADV}(?:居住在|住在|住(?![院宿校了过下不得的着一几这那酒宾旅个间进在]))(?P<v>[^{P}]{{1,14}}?){ZEND}",
       "fact", "residence", "住在{v}", .7, check="place"),
    _r("zh", "生活|定居|居住|安家", f"我{ADV}在{ZV}(?:生活|定居|居住|常住|安家)", "fact", "residence", "住在{v}", .7,
       check="place"),
    _r("zh", "搬|迁|移居|移民", f"我(?:们)?(?:家)?{PAST}(?:也|已经|刚|刚刚|终于|总算)?(?:搬家到|搬回到|搬到|搬去|搬来|搬回|"
       f"迁到|移居到?|移民到?)了?{ZV}{ZEND}", "fact", "residence", "住在{v}", .7, check="place"),
    _r("zh", "我家在", f"我家{ADV}在{ZV}{ZEND}", "fact", "residence", "住在{v}", .65, check="place"),
    _r("zh", "住|搬离|搬出|离开", f"我{ADV}(?:不再住在|不住在|没有?再住在|不住|搬离了?|搬出了?|离开了?){ZV}{ZEND}",
       "fact", "residence", "不再住在{v}", .6, check="place", ends=True),
    _r("zh", "老家|家乡", f"我(?:的)?(?:老家|家乡)(?:是|在){ZV}{ZEND}", "fact", "hometown", "老家在{v}", .6, check="place"),
    _r("zh", "来自", f"我{ADV}来自{ZV}{ZEND}", "fact", "hometown", "来自{v}", .6, check="place"),
    _r("zh", "长大|出生", f"我(?:是)?在{ZV}(?:出生|长大|土生土长)", "fact", "hometown", "在{v}长大", .6, check="place"),
    _r("zh", "出生|生在|生于|长在", f"我(?:是)?(?:出生在|出生于|生在|生于|长在){ZV}{ZEND}", "fact", "hometown",
       "在{v}长大", .6, check="place"),
    _r("zh", "人", f"我是(?:个|一个)?(?P<v>[{C}]{{2,6}}?)人{ZEND}", "fact", "hometown", "是{v}人", .6, check="origin"),
    # work and study
    _r("zh", "是", f"我{ADV}是(?:一名|一个|一位|名|个|位)?{JOB}{JEND}", "fact", "job", "职业是{v}", .7, check="role"),
    _r("zh", "当|做", f"我{ADV}在[^{P}]{{1,12}}?(?:当|做)(?:一名|一个|个|名)?{JOB}{JEND}", "fact", "job", "职业是{v}",
       .7, check="role"),
    _r("zh", "工作|上班|实习|打工|任职|当|做", f"我{ADV}在{ZV}(?:工作|上班|实习|打工|任职|(?=(?:当|做)(?:一名|一个|个|名)?"
       f"{JOBC}{JEND}))", "fact", "workplace", "在{v}工作", .65, check="org"),
    _r("zh", "入职|跳槽", f"我{ADV}(?:入职了?|跳槽到了?){ZV}{ZEND}", "fact", "workplace", "在{v}工作", .65, check="org"),
    _r("zh", "做|搞|干", f"我{ADV}是(?:做|搞|干)(?P<v>[^{P}]{{1,8}}?)的{ZEND}", "fact", "job", "做{v}工作", .65),
    _r("zh", "从事", f"我{ADV}从事{ZV}(?:工作|行业|方面的工作)?{ZEND}", "fact", "job", "做{v}工作", .65),
    _r("zh", "工作是|职业是", f"我的(?:工作|职业)是{ZV}{ZEND}", "fact", "job", "职业是{v}", .7),
    _r("zh", "不是", f"我{ADV}不(?:再)?是{JOB}了", "fact", "job", "不再是{v}", .55, check="role", ends=True),
    _r("zh", "不在|没在", f"我{ADV}(?:不在|没在){ZV}(?:工作|上班)了", "fact", "workplace", "不再在{v}工作", .55,
       check="org", ends=True),
    _r("zh", "辞职|离职|失业|被裁|被辞退|被开除", f"我{ADV}(?P<v>辞职|离职|失业|被裁员?|被辞退|被开除)了",
       "fact", "workplace", "{v}了", .6, check="none", value=None, ends=True),
    _r("zh", "上学|读书|念书|上大学|读大学|读研|读博|高中|初中|本科|硕士|博士|留学|进修",
       f"我{ADV}(?:正)?在{ZV}(?:上学|读书|念书|上大学|读大学|读研究生|读研|读博士|读博|读高中|上高中|读初中|上初中|读本科|"
       f"读硕士|留学|进修)", "fact", "school", "在{v}上学", .65, check="org"),
    _r("zh", "读|上|念", f"我{ADV}(?:正)?(?:在)?(?:读|上|念)(?P<v>研[一二三]|研究生|博[一二三四五]|博士|大[一二三四]|高[一二三]|"
       f"初[一二三]|[一二三四五六]年级|本科|硕士|大学|高中|初中|研)(?!究所|究院){ZEND}", "fact", "education", "在读{v}", .6),
    _r("zh", "专业|学的是|是学", f"我(?:的专业是|学的专业是|学的是|是学)(?P<v>[^{P}]{{1,10}}?)(?:专业)?(?:的)?{ZEND}",
       "fact", "major", "专业是{v}", .55),
    # name, age, birthday
    _r("zh", "名字|真名|全名", f"我(?:的)?(?:名字|真名|全名)(?:是|叫){ZNAME}{NEND}", "fact", "name", "名字是{v}", .9,
       check="name"),
    _r("zh", "我叫", f"我叫(?![了过着他她它你我醒车人外卖起做去来回])(?:做)?{ZNAME}{NEND}", "fact", "name", "名字是{v}",
       .9, check="name"),
    _r("zh", "叫我", f"(?:你|大家|朋友们?|他们|家里人|同学们?)?(?:都|就|可以|也可以|以后)+叫我{ZNAME}{NEND}", "fact",
       "nickname", "希望被叫作{v}", .85, check="name"),
    _r("zh", "叫我", f"(?<![别要许准再])叫我{ZNAME}(?=就行|就好|就可以|吧|好了)", "fact", "nickname", "希望被叫作{v}", .85,
       check="name"),
    _r("zh", "岁", f"我{ADV}(?:今年|已经|都|才|刚满|满)?(?P<v>{NUM})(?:周)?岁(?:了|啦)?(?!的时候|那年|时|之前|以前|前|生日|的)",
       "fact", "age", "今年{v}岁", .6, check="num"),
    _r("zh", "今年", f"我今年(?P<v>{NUM})(?:了|啦)?$", "fact", "age", "今年{v}岁", .6, check="num"),
    _r("zh", "生日", f"我(?:的)?生日(?:是|在)?(?P<m>{NUM})月(?P<d>{NUM})[日号]", "fact", "birthday", "生日是{m}月{d}日",
       .75, value="{md}", check="none"),
    _r("zh", "生", f"我(?:是)?(?P<m>{NUM})月(?P<d>{NUM})[日号](?:出生|生)", "fact", "birthday", "生日是{m}月{d}日", .75,
       value="{md}", check="none"),
    _r("zh", "年", "我(?:是)?(?P<v>(?:19|20)[0-9]{2})年(?:出生|生)", "fact", "birth_year", "{v}年出生", .6),
    # people and pets in their life
    _r("zh", "叫|名字", f"我(?:的|家|们家)?(?:大|小|二|最好的|亲)?(?P<rel>{REL_ZH})(?:的名字是|名字叫|名叫|叫做|叫|的名字叫|名字是)"
       f"{ZNAME}{NEND}", "person", "{rel_slot}", "{rel}叫{v}", .7, check="name"),
    _r("zh", "叫", f"我有(?:一个|个|一位|位|两个|一)?(?P<rel>{REL_ZH}),?(?:他|她)?(?:叫|名叫){ZNAME}{NEND}", "person",
       "{rel_slot}", "{rel}叫{v}", .7, check="name"),
    _r("zh", "叫|名字", f"我(?:的|家|们家|家的|们家的)?(?:那只|这只|那条|这条|只|条)?(?:[橘黑白灰花黄小老大胖肥]{{1,2}})?(?P<pet>{PET_ZH})(?:的名字是|名字叫|名叫|叫做|叫|的名字叫|名字是)"
       f"{ZNAME}{NEND}", "person", "pet:{pet_n}:name", "{pet}叫{v}", .7, check="name"),
    _r("zh", "叫", f"我(?:们)?(?:家)?(?:养了|养|有|家有|捡了|领养了|收养了)(?:一只|只|一条|条|个|一个|[两三四]只)?(?P<pet>{PET_ZH}),?(?:其中)?(?:一只|一条)?"
       f"(?:它|他|她)?(?:叫|名叫){ZNAME}{NEND}", "person", "pet:{pet_n}:name", "{pet}叫{v}", .7, check="name"),
    _r("zh", "有", "我(?:有|已经有)(?P<v>(?:一|两|三|四|五|[0-9])个(?:孩子|小孩|儿子|女儿|宝宝))(?![,，]?(?:叫|名叫))", "person", "children",
       "有{v}", .7, check="none"),
    # preferences
    _r("zh", "最喜欢的|最爱的", f"我{ADV}最(?:喜欢|爱)的(?P<what>[{C}A-Za-z]{{1,8}}?)(?:是|就是){ZV}{ZEND}", "preference",
       "favourite:{what}", "最喜欢的{what}是{v}", .55),
    _r("zh", "喜欢|爱|迷", f"我{INT}(?P<verb>喜欢吃|喜欢喝|喜欢看|喜欢听|喜欢玩|喜欢|热爱|爱吃|爱喝|爱看|爱听|爱玩|迷上了|"
       f"爱(?!人|上|死|过|着|了|的))(?!上|你|过|着|的|是|死){ZV}{ZEND}", "preference", None, "{verb}{v}", .4, check="pref"),
    _r("zh", "讨厌|不喜欢|受不了|忍不了|烦|害怕|恨|反感|不爱|不吃|不喝",
       f"我{INT}(?P<verb>讨厌吃|讨厌|不喜欢吃|不喜欢喝|不太喜欢|不怎么喜欢|不是很喜欢|不喜欢|受不了|忍不了|最烦|很烦|害怕|恨|反感|不爱吃|不吃|"
       f"不喝)(?!死|了|你|他|她)(?P<v>[^{P}]{{1,14}}?){ZEND}", "preference", None, "{verb}{v}", .45, check="pref"),
    # health they chose to share
    _r("zh", "过敏", f"我{ADV}(?:有点|有些)?对{ZV}(?:有点|有些|严重|很)?过敏", "fact", None, "对{v}过敏", .85),
    _r("zh", "有|患|得了|确诊|诊断", f"我{ADV}(?:有|患有|得了|确诊了|被诊断出了?|被诊断为|被确诊为?|确诊)(?!点|些|一点)"
       f"(?P<v>[{C}A-Za-z]{{0,8}}?(?:病|症|炎|癌|哮喘|抑郁|焦虑|障碍|综合征|失眠|贫血|ADHD|adhd|PTSD|ptsd)){ZEND}",
       "fact", None, "有{v}", .85, check="health"),
    _r("zh", "怀孕", f"我{ADV}(?P<v>怀孕)了", "fact", None, "怀孕了", .85, check="none"),
    _r("zh", "素", f"我{ADV}(?:吃素|是素食主义者|是素食者|是纯素食?者?)", "fact", "diet", "吃素", .7, value="素食",
       check="none"),
    _r("zh", "不能", f"我{ADV}不能(?P<verb>吃|喝){ZV}{ZEND}", "fact", None, "不能{verb}{v}", .7),
    # boundaries
    _r("zh", "叫我|喊我|称呼我", f"{B}(?:叫我|喊我|称呼我为?){ZV}{ZEND}", "boundary", None, "不要叫我{v}", .95),
    _r("zh", "提|说|聊|谈|问|讲|评论|开玩笑", f"{B}(?:跟我|和我|对我|在我面前)?(?P<verb>提起|提到|提|说起|说|聊起|聊|谈起|谈|"
       f"问起|问|讲|评论|开玩笑说?)(?!了|话|过)(?:关于|我的|我)?{ZV}{ZEND}", "boundary", None, "不要{verb}{v}", .95),
    _r("zh", "用|发|推荐|催|逼|劝|拿", f"{B}(?:给我|对我)?(?P<verb>用|发|推荐|催我|逼我|劝我|拿){ZV}{ZEND}", "boundary", None,
       "不要{verb}{v}", .95),
    _r("zh", "不想", f"我{ADV}(?:真的)?不想(?:再)?(?:跟你)?(?P<verb>聊|谈论|谈|说|提|讨论|听到|听)(?:关于|我的|我)?{ZV}(?:的事)?{ZEND}",
       "boundary", None, "不想{verb}{v}", .95),
    # relationship milestones (also read in the assistant's turns)
    _r("zh", "认识|聊|在一起", f"(?:我们|咱们|我和你|我跟你|你和我|你跟我)(?:已经)?(?:认识|聊天|聊|在一起)(?:了)?(?:有)?"
       f"(?P<v>(?:{NUM}|半)(?:个)?(?:年|月|星期|周|天)(?:半)?)(?:了|啦)?", "milestone", None, "认识{v}了（{date}）", .9,
       check="none", assistant=True),
    _r("zh", "认识你|跟你聊|和你聊", f"(?:认识你|跟你聊|和你聊)(?:天)?(?:已经)?(?:有)?(?P<v>(?:{NUM}|半)(?:个)?(?:年|月|星期|周|天))(?:了|啦)",
       "milestone", None, "认识{v}了（{date}）", .9, check="none", assistant=True),
    _r("zh", "纪念日|周年", f"(?:是|祝)?我们(?:的)?(?P<v>(?:认识)?(?:{NUM})?周年(?:纪念日)?|纪念日)", "milestone", None,
       "{v}（{date}）", .9, check="none", assistant=True),
    _r("zh", "纪念日|周年", f"^(?P<v>(?:{NUM})周年|纪念日)快乐", "milestone", None, "{v}（{date}）", .9, check="none",
       assistant=True),
]

# ---------------------------------------------------------------- English building blocks
IS = r"\b(?:i'm|i am|im)"
EADV = r"(?:\s+(?:now|currently|still|actually|also|really|just|recently|finally|officially|already|honestly))*"
_STOP = (r"now|currently|these days|right now|at the moment|anymore|any more|for|since|with|and|but|because|cause|so|"
         r"which|where|when|who|though|too|as well|actually|lol|haha|lmao|btw|again|like|atm|rn|tbh|honestly|anyway|"
         r"i think|i guess|if|every day|everyday|a lot|so much|very much|more than anything|last|next|this year|"
         r"this month|this week|yesterday|today|tomorrow|recently|ago|in \d{4}|back in|a while|(?:\d+|a|an|one|two|"
         r"three|four|five|six|several|a few|a couple of)\s+(?:days?|weeks?|months?|years?)")
EEND = rf"(?=\s*$|\s*[,.;:!?()\"]|\s+[-–—]\s|\s+(?:{_STOP})\b)"
LEND = rf"(?=\s*$|\s*[,.;:!?()\"]|\s+[-–—]\s|\s+(?:{_STOP.replace('|with|and|', '|')})\b)"  # "a and b", "x with y" stay whole
PEND = rf"(?=\s*$|\s*[,.;:!?()\"]|\s+(?:{_STOP}|in|near|by|on|at|outside|downtown|area|with|right)\b)"
OEND = rf"(?=\s*$|\s*[,.;:!?()\"]|\s+(?:{_STOP}|as|in|on|doing|downtown|full[- ]time|part[- ]time)\b)"
JEND_EN = rf"(?=\s*$|\s*[,.;:!?()\"]|\s+(?:{_STOP}|at|in|for|from|on|by|who|that|and)\b)"
EV = r"(?P<v>[^,.;:!?()\"]{1,40}?)"
ENAME = r"(?P<v>[a-z][a-z'\-]{0,19}(?:\s(?-i:[A-Z])[a-z'\-]{1,19})?)"
ECAP = r"(?P<v>(?-i:[A-Z])[a-z\-]{1,19}(?:\s(?-i:[A-Z])[a-z\-]{1,19})?)"
MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
EDATE = (rf"(?:(?P<mon>{MONTHS})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?|(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?"
         rf"(?:\s+of)?\s+(?P<mon2>{MONTHS}))\b")
OCC = ("accountant|actor|actress|analyst|architect|artist|assistant|athlete|attorney|author|baker|banker|barber|barista|"
       "bartender|biologist|bookkeeper|builder|butcher|carpenter|cashier|caregiver|ceo|cfo|cto|chef|chemist|cleaner|clerk|"
       "coach|coder|consultant|cook|counsel+or|courier|dancer|dentist|designer|detective|developer|dietitian|director|doctor|"
       "driver|economist|editor|electrician|engineer|entrepreneur|farmer|firefighter|founder|freelancer|gardener|"
       "hairdresser|historian|homemaker|housewife|illustrator|influencer|instructor|intern|interpreter|janitor|journalist|"
       "judge|lawyer|lecturer|librarian|lifeguard|machinist|manager|marketer|mathematician|mechanic|medic|midwife|musician|"
       "nanny|nurse|nutritionist|officer|optometrist|painter|paralegal|paramedic|pharmacist|photographer|physician|"
       "physicist|physiotherapist|physio|pilot|plumber|poet|politician|postdoc|practitioner|principal|producer|professor|"
       "programmer|psychiatrist|psychologist|realtor|receptionist|reporter|researcher|sailor|salesman|saleswoman|"
       "salesperson|scientist|secretary|server|singer|soldier|streamer|surgeon|tailor|teacher|technician|therapist|trader|"
       "translator|trucker|tutor|veterinarian|vet|waiter|waitress|welder|worker|writer|youtuber|emt|rn|cna|sysadmin")
STUD = "student|undergrad|undergraduate|freshman|sophomore|grad student|phd student|phd candidate|med student"
ROLE = rf"(?P<v>(?:[a-z\-]+\s){{0,3}}?(?:{OCC}|{STUD}))"
RELS = ("best friend|bestie|bff|ex-boyfriend|ex-girlfriend|ex-husband|ex-wife|stepmom|stepdad|stepmother|stepfather|"
        "stepsister|stepbrother|grandmother|grandfather|grandma|grandpa|granny|mom|mum|mommy|mother|mama|dad|daddy|father|"
        "papa|husband|hubby|wife|boyfriend|girlfriend|bf|gf|partner|fianc[eé]e?|spouse|sister|brother|sis|bro|son|"
        "daughter|aunt|auntie|uncle|cousin|niece|nephew|friend|roommate|flatmate|housemate|coworker|co-worker|colleague|"
        "boss|manager|ex|therapist|kid|twin")
RADJ = r"(?:(?:little|older|younger|big|baby|twin|best|new|late|oldest|youngest|eldest|elder|middle|lovely|dear)\s+)*"
PETS = ("guinea pig|cat|kitty|kitten|dog|doggo|puppy|pup|bunny|rabbit|hamster|parrot|budgie|bird|fish|goldfish|turtle|"
        "tortoise|snake|lizard|gecko|ferret|horse|pony|chinchilla|hedgehog|rat")
PADJ = r"(?:(?:little|old|new|baby|fat|sweet|black|white|orange|grey|gray|tabby|rescue|senior|fluffy)\s+)*"
LINK = r"(?:'s\s+name\s+is|\s+name\s+is|\s+is\s+(?:named|called)|\s+(?:named|called))"
HAVE = r"\b(?:i|we)\s+(?:have|'ve got|have got|'ve|got|just got|adopted|just adopted|rescued)"
EVE = (r"(?:job |final |math |maths |chemistry |physics |biology |history |english |driving |doctor'?s? |dentist |dental |"
       r"first |big |visa |court |piano |dance |therapy |)(?:interview|exam|final|finals|midterms?|test|quiz|surgery|"
       r"operation|appointment|check-?up|therapy session|session|date|wedding|birthday|concert|recital|performance|"
       r"presentation|meeting|flight|trip|vacation|holiday|move|graduation|deadline|defen[cs]e|audition|game|match|race|"
       r"marathon|party|first day|biopsy|scan|ultrasound|hearing|funeral|ceremony|conference|competition|tournament|gig|"
       r"shift|orientation|anniversary)")
EB = r"\b(?:please\s+)?(?:don't|do not|dont|never|stop|quit|no more)\s+(?:ever\s+)?"
NUMW = r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few|several|many"

EN: list[Rule] = [
    # where they live, and where they come from
    _r("en", "live|living", rf"\b(?:i|we){EADV}\s*(?:live|am living|'m living|are living|'re living|(?:'ve|have)\s+been\s+living)\s+in\s+{EV}{PEND}",
       "fact", "residence", "Lives in {v}", .7, check="place"),
    _r("en", "moved|relocated", rf"\b(?:i|we){EADV}\s*(?:moved|relocated|have moved|'ve moved|just moved)\s+(?:back\s+)?"
       rf"(?:to|into)\s+{EV}{PEND}", "fact", "residence", "Lives in {v}", .7, check="place"),
    _r("en", "based|home is", rf"(?:{IS}{EADV}\s+based\s+in|\bmy\s+home\s+is\s+in)\s+{EV}{PEND}", "fact", "residence",
       "Lives in {v}", .7, check="place"),
    _r("en", "anymore|any more|no longer", rf"\bi\s+(?:don't|do not|dont)\s+live\s+in\s+{EV}\s+any\s?more", "fact",
       "residence", "No longer lives in {v}", .6, check="place", ends=True),
    _r("en", "no longer|used to|moved out|moved away", rf"\bi\s+(?:no longer live in|used to live in|moved out of|moved "
       rf"away from|left)\s+{EV}{PEND}", "fact", "residence", "No longer lives in {v}", .6, check="place", ends=True),
    _r("en", "from", rf"{IS}{EADV}\s+(?:originally\s+)?from\s+{EV}{PEND}", "fact", "hometown", "Is from {v}", .6,
       check="place"),
    _r("en", "grew up|born in", rf"\bi\s+(?:grew up|was born(?: and raised)?)\s+in\s+(?!\d){EV}{PEND}", "fact", "hometown",
       "Grew up in {v}", .6, check="place"),
    _r("en", "hometown|home town", rf"\bmy\s+home\s?town\s+is\s+{EV}{PEND}", "fact", "hometown", "Is from {v}", .6, check="place"),
    # work and study
    _r("en", "i'm|i am|im", rf"{IS}{EADV}\s+an?\s+{ROLE}{JEND_EN}", "fact", "job", "Works as {a} {v}", .7, check="role"),
    _r("en", "work as|working as|job is|job title", rf"(?:\bi{EADV}\s*(?:work|am working|'m working)\s+as|\bmy\s+(?:job|"
       rf"job title|profession)\s+is(?=\s+an?\s))\s+(?:an?\s+)?(?P<v>[a-z][a-z\- ]{{1,40}}?){JEND_EN}", "fact", "job",
       "Works as {a} {v}", .7, check="role_free"),
    _r("en", "retired|unemployed|self-employed|stay-at-home", rf"{IS}{EADV}\s+(?:an?\s+)?(?P<v>retired|unemployed|"
       rf"self-employed|a stay-at-home (?:mom|dad|parent)|stay-at-home (?:mom|dad|parent))\b", "fact", "job", "Is {v}", .65,
       check="none"),
    _r("en", "work|working|intern|volunteer", rf"\bi{EADV}\s*(?:work|am working|'m working|intern|volunteer|started working)\s+(?:at|for)\s+{EV}{OEND}",
       "fact", "workplace", "Works at {v}", .65, check="org"),
    _r("en", "job at|started at|hired", rf"\bi{EADV}\s+(?:got|landed|started)\s+(?:a\s+|my\s+|the\s+)?(?:new\s+)?(?:job\s+)?"
       rf"at\s+{EV}{OEND}", "fact", "workplace", "Works at {v}", .65, check="org"),
    _r("en", "i'm|i am|im", rf"{IS}{EADV}\s+an?\s+(?:[a-z\-]+\s){{0,3}}?(?:{OCC})\s+(?:at|for)\s+{EV}{OEND}", "fact",
       "workplace", "Works at {v}", .65, check="org"),
    _r("en", "work in", rf"\bi{EADV}\s+work\s+in\s+(?!a\b|an\b|the\b){EV}{OEND}", "fact", "industry", "Works in {v}", .6,
       check="org"),
    _r("en", "no longer|anymore|quit|laid off|fired|lost my job", r"\bi\s+(?P<v>quit my job|got laid off|was laid off|"
       r"got fired|was fired|lost my job|no longer work|don't work there anymore)", "fact", "workplace", "Left their job",
       .6, value=None, check="none", ends=True),
    _r("en", "study|studying|go to|attend|enrolled", rf"\bi{EADV}\s*(?:study|am studying|'m studying|am enrolled|'m "
       rf"enrolled|go to school|attend|go to)\s+(?:at\s+)?{EV}{OEND}", "fact", "school", "Studies at {v}", .65,
       check="school"),
    _r("en", "student|undergrad|freshman|sophomore|grad|phd|med student", rf"{IS}{EADV}\s+an?\s+(?:[a-z\-]+\s)?(?:{STUD})\s+at\s+{EV}{OEND}", "fact", "school", "Studies at {v}",
       .65, check="org"),
    _r("en", "major|majoring", rf"(?:\bi{EADV}\s+major\s+in|{IS}{EADV}\s+majoring\s+in|\bmy\s+major\s+is)\s+{EV}{OEND}", "fact",
       "major", "Majors in {v}", .55),
    _r("en", "phd|master's|masters|grad school|college|high school|university|uni|med school|law school", rf"{IS}{EADV}\s+(?:doing\s+(?:a|my)\s+|in\s+)(?P<v>phd|"
       rf"master'?s|masters|grad school|college|high school|university|uni|med school|law school)\b", "fact", "education",
       "In {v}", .6, check="none"),
    # name, age, birthday
    _r("en", "name|name's", rf"\bmy\s+(?:full\s+|real\s+|first\s+)?name(?:'s|\s+is)\s+{ENAME}{EEND}", "fact", "name",
       "Name is {v}", .9, check="name"),
    _r("en", "called", rf"{IS}\s+called\s+{ENAME}{EEND}", "fact", "name", "Name is {v}", .9, check="name"),
    _r("en", "hi|hello|hey|hiya", rf"^(?:hi|hello|hey|hiya)(?:\s+there|\s+all|\s+everyone)?[,!\s]+(?:i'm|i am|im)\s+{ECAP}{EEND}",
       "fact", "name", "Name is {v}", .9, check="name"),
    _r("en", "call me|calls me", rf"\b(?:you can|you could|please|just|feel free to|everyone|people|my friends|friends|they all|"
       rf"they|most people)\s+(?:\w+\s+)?calls?\s+me\s+{ENAME}{EEND}", "fact", "nickname", "Likes to be called {v}", .85,
       check="name"),
    _r("en", "call me", rf"^call\s+me\s+{ECAP}$", "fact", "nickname", "Likes to be called {v}", .85, check="name"),
    _r("en", "go by|nickname", rf"(?:\bi\s+go\s+by|\bmy\s+nickname\s+is)\s+{ENAME}{EEND}", "fact", "nickname",
       "Likes to be called {v}", .85, check="name"),
    _r("en", "i'm|i am|im", rf"{IS}\s+(?:now\s+|already\s+|just\s+)?(?P<v>\d{{1,3}}|(?:twenty|thirty|forty|fifty|sixty|"
       rf"seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|thirteen|fourteen|fifteen|"
       rf"sixteen|seventeen|eighteen|nineteen)(?:\s*(?:years?|yrs?)(?:\s*old)?|\s*y/?o)?(?=\s*$|\s*[,.;!?]|\s+(?:and|but|so|"
       rf"now|lol|haha|btw|actually)\b)", "fact", "age", "Is {v} years old", .6, check="num"),
    _r("en", "turned", r"\bi\s+(?:just\s+)?turned\s+(?P<v>\d{1,3})\b", "fact", "age", "Is {v} years old", .6,
       check="num"),
    _r("en", "birthday|birthday's|bday|b-day", rf"\bmy\s+(?:birthday|bday|b-day)(?:'s|\s+is)\s+(?:on\s+)?{EDATE}", "fact", "birthday",
       "Birthday is {date_md}", .75, value="{md}", check="none"),
    _r("en", "born on", rf"\bi\s+was\s+born\s+on\s+{EDATE}", "fact", "birthday", "Birthday is {date_md}", .75, value="{md}",
       check="none"),
    _r("en", "born in", r"\bi\s+was\s+born\s+in\s+(?P<v>(?:19|20)\d\d)\b", "fact", "birth_year", "Born in {v}", .6,
       check="none"),
    # people and pets in their life
    _r("en", "my", rf"\bmy\s+{RADJ}(?P<rel>{RELS}){LINK}\s+{ENAME}{EEND}", "person", "{rel_slot}", "{person_en}", .7,
       check="name"),
    _r("en", "my", rf"\bmy\s+{RADJ}(?P<rel>{RELS}),?\s+{ECAP}\b", "person", "{rel_slot}", "{person_en}", .7,
       check="name"),
    _r("en", "have|got", rf"{HAVE}\s+(?:a|an|one)\s+{RADJ}(?P<rel>{RELS}),?\s+(?:named|called)\s+{ENAME}{EEND}", "person",
       "{rel_slot}", "{person_en}", .7, check="name"),
    _r("en", "my|our", rf"\b(?:my|our)\s+{PADJ}(?P<pet>{PETS}){LINK}\s+{ENAME}{EEND}", "person", "pet:{pet_n}:name",
       "Has a {pet} named {v}", .7, check="name"),
    _r("en", "my|our", rf"\b(?:my|our)\s+{PADJ}(?P<pet>{PETS}),?\s+{ECAP}\b", "person", "pet:{pet_n}:name",
       "Has a {pet} named {v}", .7, check="name"),
    _r("en", "named|called", rf"{HAVE}\s+(?:a|an|one|this)\s+{PADJ}(?P<pet>{PETS}),?\s+(?:named|called)\s+{ENAME}{EEND}",
       "person", "pet:{pet_n}:name", "Has a {pet} named {v}", .7, check="name"),
    _r("en", "have|got", r"\bi\s+(?:have|'ve got|have got)\s+(?P<v>(?:one|two|three|four|five|six|\d)\s+(?:kids|children|sons|daughters)"
       r"|(?:a|one)\s+(?:kid|child|son|daughter))\b(?!\s+(?:named|called))", "person", "children", "Has {v}", .7),
    # preferences
    _r("en", "fan", rf"{IS}{EADV}\s+an?\s+(?:(?:big|huge|total|massive|die-hard|diehard)\s+)?"
       rf"(?!(?:big|huge|total|massive|die-hard|diehard)\s+fan\b)(?P<v>[a-z0-9][\w\- ]{{1,30}}?)\s+fan\b(?!\s+of)", "preference", None, "Is a {v} fan", .4, check="pref"),
    _r("en", "favorite|favourite|fave|fav", rf"\bmy\s+(?:absolute\s+|all[- ]time\s+)?(?:favou?rite|fave|fav)\s+"
       rf"(?P<what>[a-z][a-z ]{{1,25}}?)\s+(?:is|are|'s|would be|has to be|has always been)\s+{EV}{LEND}", "preference",
       "favourite:{what_n}", "Favourite {what} is {v}", .55),
    _r("en", "love|like|adore|enjoy|prefer", rf"\bi{EADV}(?:\s+(?:really|absolutely|totally|just|so|also|truly|genuinely|"
       rf"kinda|kind of|sort of|do|especially))*\s+(?P<verb>love|like|adore|enjoy|prefer|dig)\s+{EV}{LEND}", "preference",
       None, "{verb3} {v}", .4, check="pref"),
    _r("en", "into|obsessed|fan of|passionate|crazy about", rf"{IS}{EADV}(?:\s+(?:really|so|totally|kinda|also))*\s+"
       rf"(?P<verb>into|obsessed with|a (?:big |huge )?fan of|passionate about|crazy about)\s+{EV}{LEND}", "preference",
       None, "Is {verb} {v}", .4, check="pref"),
    _r("en", "hate|dislike|despise|loathe|detest|stand|bear|don't|not a fan|not into", rf"\b(?:i|i'm|im|i am){EADV}"
       rf"(?:\s+(?:really|absolutely|totally|just|so|also|truly|genuinely|kinda|honestly|seriously))*\s+(?P<verb>hate|"
       rf"dislike|despise|loathe|detest|can't stand|cannot stand|can not stand|can't bear|don't like|do not like|don't "
       rf"really like|really don't like|don't enjoy|not a fan of|not into)\s+{EV}{LEND}", "preference", None, "{verb3} {v}",
       .45, check="pref"),
    # health they chose to share
    _r("en", "allergic", rf"{IS}{EADV}\s+(?:(?:very|really|severely|deathly|super|highly|mildly|slightly|a bit|a little)\s+)*"
       rf"allergic\s+to\s+{EV}{LEND}", "fact", None, "Allergic to {v}", .85),
    _r("en", "allergy", r"\bi\s+(?:have|'ve got|have got|'ve)\s+(?:a|an)\s+(?:severe\s+|bad\s+|mild\s+)?(?P<v>[a-z ]{2,20}?)"
       r"\s+allergy\b", "fact", None, "Allergic to {v}", .85),
    _r("en", "have|diagnosed|suffer|struggle|living with", rf"\bi{EADV}\s+(?:have|'ve got|have got|was diagnosed with|"
       rf"got diagnosed with|suffer from|struggle with|live with|am living with|'m living with)\s+(?P<v>(?:type [12] )?"
       rf"(?:diabetes|asthma|adhd|autism|epilepsy|depression|anxiety|bipolar(?: disorder)?|ptsd|ocd|celiac(?: disease)?|"
       rf"crohn's(?: disease)?|ibs|migraines?|insomnia|arthritis|endometriosis|pcos|fibromyalgia|lupus|cancer|"
       rf"a heart condition|high blood pressure|hypertension|chronic pain|chronic fatigue|long covid|an eating disorder|"
       rf"[a-z']{{2,20}}(?: [a-z']{{2,20}})? (?:disorder|syndrome|disease)))\b", "fact", None, "Has {v}", .85, check="health"),
    _r("en", "vegetarian|vegan|pescatarian", rf"{IS}{EADV}\s+(?:a\s+)?(?P<v>vegetarian|vegan|pescatarian)\b", "fact",
       "diet", "Is {v}", .7),
    _r("en", "pregnant|diabetic|epileptic|autistic|intolerant|deaf|blind|sober", rf"{IS}{EADV}\s+(?P<v>pregnant|diabetic|"
       rf"epileptic|autistic|lactose intolerant|gluten intolerant|deaf|blind|hard of hearing|sober)\b", "fact", None,
       "Is {v}", .85),
    _r("en", "can't eat|cannot eat|don't eat|don't drink|can't drink", rf"\bi\s+(?P<verb>can't|cannot|can not|don't|do not)"
       rf"\s+(?P<verb2>eat|drink)\s+{EV}{EEND}", "fact", None, "{verb_neg} {verb2} {v}", .7),
    # boundaries
    _r("en", "don't|do not|dont|never|stop|quit|no more", rf"{EB}(?:call(?:ing)?\s+me|refer(?:ring)?\s+to\s+me\s+as)\s+{EV}{EEND}",
       "boundary", None, "Don't call them {v}", .95),
    _r("en", "don't|do not|dont|never|stop|quit|no more", rf"{EB}(?P<verb>mention(?:ing)?|"
       rf"bring(?:ing)?\s+up|talk(?:ing)?\s+about|ask(?:ing)?\s+(?:me\s+)?about|us(?:e|ing)|send(?:ing)?\s+me|"
       rf"jok(?:e|ing)\s+about|comment(?:ing)?\s+on|remind(?:ing)?\s+me\s+(?:of|about)|tell(?:ing)?\s+me\s+to|"
       rf"lectur(?:e|ing)\s+me\s+about|judg(?:e|ing)\s+me\s+for)\s+{EV}{EEND}", "boundary", None,
       "Don't {verb_base} {v}", .95),
    _r("en", "want to talk|rather not|prefer not|comfortable|want to discuss|want to hear",
       rf"(?:\bi\s+(?:really\s+)?(?:don't|do not|dont)\s+(?:want|like)\s+(?:to|you to)|\bi'd\s+rather\s+not|\bi\s+prefer\s+"
       rf"not\s+to|{IS}\s+not\s+comfortable)\s+(?:talk(?:ing)?|discuss(?:ing)?|hear(?:ing)?|be\s+asked)\s+(?:about\s+)?"
       rf"{EV}{EEND}", "boundary", None, "Doesn't want to talk about {v}", .95),
    _r("en", "being called", rf"\bi\s+(?:really\s+)?(?:don't|do not|dont|hate)\s+(?:like\s+)?being\s+called\s+{EV}{EEND}",
       "boundary", None, "Don't call them {v}", .95),
    _r("en", "off limits|off-limits", rf"^{EV}\s+(?:is|are)\s+off[- ]limits", "boundary", None, "{v} is off-limits", .95),
    # relationship milestones (also read in the assistant's turns)
    _r("en", "been talking|been chatting|known each other|been friends|been together", rf"\b(?:we've|we have|i've|i have)\s+(?:been\s+"
       rf"(?:talking|chatting|friends|together)|known\s+each\s+other)(?:\s+(?:to|with)\s+you)?\s+(?:for\s+)?(?:over\s+|"
       rf"almost\s+|exactly\s+)?(?P<v>(?:{NUMW})\s+(?:days?|weeks?|months?|years?))\b", "milestone", None,
       "Talking for {v} (as of {date})", .9, check="none", assistant=True),
    _r("en", "since we", rf"\b(?:it's|it has|it's been|it has been)\s+(?:been\s+)?(?P<v>(?:{NUMW})\s+(?:days?|weeks?|"
       rf"months?|years?))\s+since\s+we\s+(?:first\s+)?(?:met|started talking|started chatting|first talked)", "milestone",
       None, "Talking for {v} (as of {date})", .9, check="none", assistant=True),
    _r("en", "anniversary", r"\b(?:today|tomorrow|it)\s+is\s+our\s+(?P<v>(?:[a-z0-9\-]+\s+)?anniversary)", "milestone", None,
       "Our {v} ({date})", .9, check="none", assistant=True),
    _r("en", "anniversary", r"^happy\s+(?P<v>(?:[a-z0-9\-]+\s+)?anniversary)(?:\s+to\s+us)?$", "milestone", None,
       "Our {v} ({date})", .9, check="none", assistant=True),
]

# ---------------------------------------------------------------- dates and events
ZN = "[0-9]{1,2}|[一二三四五六七八九十]{1,3}"
ZH_TIME = re.compile(
    rf"(?P<rel>大后天|后天|明天|明日|明早|明晚|今天|今日|今晚|今早|昨天|昨晚|前天|大前天)"
    rf"|(?P<wkpre>下下|下|这|本|上)?(?:个)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])|(?P<nw>下周|下星期|下个星期|下礼拜)"
    rf"|(?:(?P<nm>下个月)|(?P<mo>{ZN})月)(?P<d>{ZN})[日号]|(?P<dd>{ZN})号|(?P<iso>\d{{4}}-\d{{1,2}}-\d{{1,2}})"
    rf"|(?P<n>[0-9]+|[一二三两四五六七八九十]+)天(?:后|之后|以后)")
ZH_HOUR = re.compile(rf"(?P<ap>早上|上午|中午|下午|晚上|傍晚|凌晨)?(?P<h>{ZN})[点:](?:(?P<half>半)|(?P<mi>[0-9]{{1,2}})分?)?")
WD = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
EN_TIME = re.compile(
    r"\b(?P<rel>the day after tomorrow|day after tomorrow|the day before yesterday|tomorrow|tmrw?|today|tonight|"
    r"yesterday|last night|this (?:morning|afternoon|evening))\b"
    rf"|\b(?P<wkpre>next|this|last|on|coming|this coming)\s+(?P<wd>{WD}|mon|tues?|wed|thu|thurs|fri|sat|sun)\b"
    rf"|\b(?P<wd2>{WD})\b|\b(?P<nw>next week)\b|\b(?:on\s+)?{EDATE}"
    r"|\b(?P<iso>\d{4}-\d{2}-\d{2})\b|\bin\s+(?P<n>\d+|a|an|one|two|three|four|five|six|seven|ten)\s+(?P<u>days?|weeks?)\b",
    re.I)
EN_HOUR = re.compile(r"\bat\s+(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*(?P<ap>am|pm|a\.m\.|p\.m\.)?(?!\w)|\b(?P<h2>\d{1,2})"
                     r"(?::(?P<mi2>\d{2}))?\s*(?P<ap2>am|pm)\b", re.I)
REL_DAYS = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "今天": 0, "今日": 0, "今晚": 0, "今早": 0,
            "昨天": -1, "昨晚": -1, "前天": -2, "大前天": -3, "the day after tomorrow": 2, "day after tomorrow": 2,
            "the day before yesterday": -2, "tomorrow": 1, "tmr": 1, "tmrw": 1, "today": 0, "tonight": 0,
            "yesterday": -1, "last night": -1}
ZH_PAST = re.compile(r"了|过|刚才")
EN_PAST = re.compile(r"\b(?:had|was|went|did|took|passed|failed|finished|were|got back)\b", re.I)
EV_ZH = re.compile(EVZ)
EV_EN = re.compile(rf"\b(?:a|an|my|our|the|big|this|that)\s+(?P<ev>{EVE})s?\b|\b(?P<ev2>finals|midterms|exams|surgery|"
                   r"therapy|chemo|court|practice)\b", re.I)
EV_WORDS = frozenset(re.findall(r"[a-z]+", EVE)) - {"job", "first", "big", "doctor", "s", "dental", "e"} | {
    "finals", "midterms", "exams", "surgery", "therapy", "chemo", "court", "practice", "defense", "defence", "checkup"}
OWNER_ZH = re.compile(rf"(?<![和跟与陪同])我(?:的|家)?(?P<rel>{REL_ZH})(?![和跟陪])")
OWNER_EN = re.compile(rf"\bmy\s+{RADJ}(?P<rel>{RELS})(?:'s)?\b", re.I)
OTHER_ZH = re.compile(r"他|她|它|别人|有人|大家")
OTHER_EN = re.compile(r"\b(?:he|she|they|his|their|you|your|he's|she's|they're|you're)\b", re.I)
FIRST_EN = re.compile(r"\b(?:i|i'm|i've|im|ive|i'll|my|me|we|we're|we've|our|us)\b", re.I)
NEG_ZH = re.compile(r"没有|不用|不需要|取消|不去|没去|不考|没考|不是|推迟|改期")
NEG_EN = re.compile(r"\b(?:no|don't have|do not have|didn't have|won't have|not having|isn't|wasn't|cancel+ed|postponed|"
                    r"called off|skipp(?:ed|ing))\b", re.I)
MEDICAL = re.compile(r"手术|体检|复查|复诊|产检|看医生|看病|化疗|心理咨询|surgery|operation|biopsy|scan|ultrasound|"
                     r"appointment|therapy|check-?up|chemo", re.I)

# ---------------------------------------------------------------- when a statement is not about the person
ZH_Q = re.compile(r"[吗么]\s*$|是不是|有没有|会不会|要不要|能不能|对不对|好不好|可不可以")
EN_Q = re.compile(r"^\s*(?:do|does|did|are|is|am|was|were|have|has|had|can|could|would|will|should|shall|what|where|why|"
                  r"how|who|when|which|whose|whom)\b", re.I)
HYPO = re.compile(r"^\s*(?:如果|假如|要是|假设|万一|假使|倘若|若是|if|suppose|supposing|imagine|what if|unless)", re.I)
ZH_PREFIX_BAD = re.compile(r"如果|假如|要是|假设|万一|假使|倘若|若是|想象|幻想|梦见|梦到|做梦|希望|但愿|打算|准备|计划|可能|也许|或许|是否|听说|"
                           r"觉得|感觉|认为|以为|(?<!跟你)(?<!和你)说|(?:他|她|它|他们|她们|别人|人家|有人|大家|朋友|妈|爸|老师|同事|医生|老板|"
                           r"网上|你)(?:都|也|还|就)?(?:说|以为|觉得|认为|告诉)")
EN_PREFIX_BAD = re.compile(r"\b(?:if|suppose|supposing|imagine|pretend|wish|hope|dream(?:ed|t)?|unless|whether|maybe|perhaps|"
                           r"in case|as if|would|could|might|should|before|after|until|till|once|when|want to|wanna|plan to|"
                           r"going to|gonna)\b|\b(?:he|she|they|someone|somebody|people|everyone|friend|mom|dad|mother|"
                           r"father|sister|brother|boss|doctor|teacher|you)\s+(?:\w+\s+)?(?:said|says|told|tells|thinks|"
                           r"thought|think|believes?|claims?|assumes?|keeps saying)\b", re.I)
EN_RELATIVE = re.compile(r"\b(?:what|that|which|whatever|something|anything|everything|things?|stuff|ones?)\s*$", re.I)

# ---------------------------------------------------------------- values that are not values
ZH_BAD_START = re.compile(r"^(?:你|他|她|它|我|这|那|自己|什么|怎么|死|了|哪)")
ZH_QWORD = re.compile(r"什么|哪|谁|几|多少|怎么|啥|吗")
ZH_TRAIL = re.compile(r"(?:了|啦|呢|呀|哦|吧|哈|嘛|啊|已经|一直|也|还|快|差不多|好|很|这边|那边)+$")
EN_BAD_START = re.compile(r"^(?:yesterday|today|tomorrow|tonight|now|then|it|that|this|these|those|them|him|her|me|myself|"
                          r"yourself|you|your|how|when|what|where|why|who|the way|to think|to believe|to say|to imagine|"
                          r"to know|being called|everything|anything|nothing|something|everyone|anyone|someone|here|there|"
                          r"a lot|so much|doing this|is|are|was|were)\b", re.I)
EN_DEICTIC = re.compile(r"\b(?:them|him|her|his|it|its|this|that|these|those|he|she|they|their|i|i'm|me)\b", re.I)
EN_PREF_BAD = re.compile(r"^(?:the|all the|both|every day|everyday|makes?|to(?: hear| see| know| help| think| say| chat| "
                         r"talk| read| go| do)?$)\b", re.I)
ZH_YOU = re.compile("你")
EN_YOU = re.compile(r"\b(?:you|your|yours|yourself|u|ur|us|our)\b", re.I)
EN_QWORD = re.compile(r"\b(?:what|where|who|how|why|which|whether)\b", re.I)
BAD_PLACE_ZH = {"家", "这", "那", "这里", "那里", "这儿", "那儿", "一起", "附近", "隔壁", "楼上", "楼下", "医院", "酒店", "宾馆",
                "朋友家", "心里", "梦里", "外面", "学校", "公司", "单位", "网上", "路上", "床上", "里面", "屋里", "宿舍", "图书馆"}
BAD_ORG_ZH = {"家", "公司", "单位", "外面", "网上", "这里", "那里", "这儿", "那儿", "里面", "屋里", "床上", "路上", "宿舍",
              "图书馆", "学校", "这边", "那边", "一起"}
BAD_PLACE_EN = re.compile(r"^(?:a|an|work|school|home|class|church|the office|the gym|the store|fear|hope|denial|constant|"
                          r"dread|terror|hell|sin|misery|hiding|shame|peace|harmony|my head|the moment|the present|the past|"
                          r"the future|the same|\d)\b", re.I)
BAD_ORG_EN = re.compile(r"^(?:home|night|nights|weekends?|the weekend|my own|myself|me|all|everything|hard|remotely|work|"
                        r"the moment|the same)\b", re.I)
SCHOOL_EN = re.compile(r"universit|college|school|academy|institute|\buni\b|polytechnic|\bhigh\b|(?-i:\b[A-Z])", re.I)
BAD_ROLE_ZH = ("新手", "老手", "高手", "对手", "帮手", "会员", "成员", "党员", "团员", "爱好者", "患者", "读者", "受害者", "幸存者", "主义者",
               "家长", "兄长", "擅长", "成长", "女士", "男士", "人士", "先生", "大家", "人家", "自家", "玩家", "赢家", "输家", "冤家",
               "独生", "亲生", "众生", "人生", "一生", "学生会", "过来人", "天才", "废物", "笨蛋", "工具人", "失败者", "胆小鬼",
               "可怜虫", "傻子", "疯子", "受气包")
ORIGIN_BAD = set("个好坏的一正常成年轻老单身外本这那什么哪种样穷富病急内向懒笨怪傻聪明善良真假活死废普通夜女男俗凡渣很太最容易敏感焦虑孤独")
NAME_STOP = set("on in at not the a an also still just so very really crazy whatever anything something nothing names back "
                "later tomorrow anytime when if to and but or is was too here there fine good okay ok sorry tired sad happy "
                "new bored home done ready sure like that this it me you him her them out up down over maybe weird "
                "old-fashioned paranoid lol haha mine yours irrelevant unimportant important secret private long boring "
                "unusual common difficult hard easy funny stupid monday tuesday wednesday thursday friday saturday sunday "
                "again today yesterday tonight earlier twice once every all everyone everybody someone somebody us off around "
                "last first yet already ago now soon early late constantly nonstop "
                "january february march april june july august september october november december".split())
ZH_NAME_BAD = set("我你他她它们了过着醒起来去回人车饭外谁")

# ---------------------------------------------------------------- words and what they mean
TRAD = ("貓猫媽妈爺爷歲岁號号週周禮礼別别請请說说談谈問问試试對对兒儿學学讀读醫医護护師师員员愛爱歡欢討讨厭厌過过紀纪認认識识們们個个隻只條条"
        "養养寵宠業业職职當当幹干會会議议約约畢毕術术診诊斷断壓压憂忧鬱郁慮虑麼么嗎吗誰谁還还現现從从來来聽听覺觉為为夢梦見见熱热戀恋"
        "喫吃飯饭鳥鸟魚鱼龜龟鸚鹦鵡鹉倉仓婦妇鄰邻闆板歷历後后點点時时鐘钟幾几兩两萬万專专題题興兴運运動动東东與与讓让氣气裡里裏里"
        "觸触發发妳你祂他牠它")  # pairs: traditional, simplified
REL_OF = {w: k for k, ws in {
    "mother": "妈妈 妈咪 老妈 母亲 妈 mom mum mommy mother mama stepmom stepmother",
    "father": "爸爸 老爸 父亲 爸 dad daddy father papa stepdad stepfather",
    "partner": "老公 丈夫 爱人 老婆 妻子 太太 媳妇 男朋友 女朋友 男友 女友 对象 伴侣 另一半 未婚夫 未婚妻 husband hubby wife boyfriend "
               "girlfriend bf gf partner fiance fiancé fiancee fiancée spouse"}.items() for w in ws.split()}
PET_OF = {w: k for k, ws in {
    "cat": "猫咪 小猫 猫猫 猫 cat kitty kitten", "dog": "狗狗 小狗 狗子 狗 dog doggo puppy pup", "rabbit": "兔子 兔兔 小兔 bunny rabbit",
    "bird": "鹦鹉 鸟 parrot budgie bird", "fish": "金鱼 鱼 fish goldfish", "turtle": "乌龟 龟 turtle tortoise",
    "guinea_pig": "荷兰猪 豚鼠", "hamster": "仓鼠 hamster", "snake": "蛇 snake", "lizard": "蜥蜴 lizard gecko",
    "horse": "马 horse pony"}.items() for w in ws.split()} | {"guinea pig": "guinea_pig"}
MON = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
MON_NAME = "January February March April May June July August September October November December".split()
CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
WORDNUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                                      "fifteen sixteen seventeen eighteen nineteen".split())} | {
    w: 20 + 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
VERB3 = {"love": "Loves", "like": "Likes", "adore": "Adores", "enjoy": "Enjoys", "prefer": "Prefers", "dig": "Digs",
         "hate": "Hates", "dislike": "Dislikes", "despise": "Despises", "loathe": "Loathes", "detest": "Detests",
         "can't stand": "Can't stand", "cannot stand": "Can't stand", "can not stand": "Can't stand", "can't bear": "Can't bear",
         "don't enjoy": "Doesn't enjoy", "not a fan of": "Isn't a fan of", "not into": "Isn't into",
         "don't like": "Doesn't like", "do not like": "Doesn't like", "don't really like": "Doesn't really like",
         "really don't like": "Really doesn't like"}
STRESS = re.compile(r"最|超|特别|非常|\b(?:really|absolutely|so|totally|love|adore|hate|despise|can't stand)\b", re.I)
