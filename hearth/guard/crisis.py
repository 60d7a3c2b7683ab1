"""Crisis detection in Chinese and English: suicide, self-harm, abuse and acute distress.

It reads only the message in front of it (plus, optionally, the person's previous message), never
the long context, so it behaves the same at turn 1 and at turn 5,000 and nothing said earlier in a
conversation can switch it off. Offline and deterministic: phrase rules that know the everyday
hyperbole both languages are full of ("this exam is killing me", 笑死我了, 想死你了), so a joke is
not treated as an emergency, and an emergency is never missed for want of a model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SUICIDE, SELF_HARM, ABUSE, DISTRESS = "suicide", "self_harm", "abuse", "acute_distress"
CATEGORIES = (SUICIDE, SELF_HARM, ABUSE, DISTRESS)


@dataclass(frozen=True)
class Assessment:
    crisis: bool
    categories: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    """The phrases that decided it, for the event log the person can read."""
    language: str = "en"

    @property
    def level(self) -> str:
        return "crisis" if self.crisis else "none"


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("’", "'").replace("‘", "'").replace("`", "'")


# ---------------------------------------------------------------- English

_EN_IDIOMS = [
    r"\b(?:is|are|was|were|it's|its|that's|thats|this|they're|theyre|you're|youre|these|those|shoes|heels|feet|"
    r"back|legs|job|boss|exam|exams|homework|commute|heat|traffic|kids|suspense|waiting)\s+(?:\w+\s+)?killing me\b",
    r"\bkilling me softly\b", r"\b(?:dying|dyin) (?:to|for)\b", r"\bto die for\b", r"\bdead tired\b",
    r"\bdied (?:laughing|of laughter|of embarrassment|inside)\b", r"\bi'?m dead\b(?= *(?:lol|lmao|😂|🤣|💀|haha))",
    r"\b(?:kill|killed|killing) (?:it|time|the lights|the mood|the vibe|the engine|the process|the bug|a bottle)\b",
    r"\bcould (?:kill|murder) (?:for|a)\b", r"\bwould kill for\b", r"\b(?:hit|hits) (?:me|us) up\b",
    r"\bhit the (?:roof|road|gym|hay|books|sack)\b", r"\bsuicide (?:squad|doors?|run|sprints?)\b",
    r"\bkill(?:ing|ed)? (?:me|myself) (?:in|on) (?:the |this |that )?(?:game|level|boss fight|match|round)\b",
    r"\bi (?:keep|kept) (?:dying|killing myself)(?: in| on)\b", r"\bover ?dos(?:e|ed|ing) on (?:caffeine|coffee|sugar|"
    r"netflix|anime|tv|chocolate|memes|cuteness)\b",
    r"\bcut (?:my|his|her) (?:finger|thumb|hand) (?:while |when )?(?:cooking|chopping|slicing|on)\b",
    r"\bbored to death\b", r"\bscared (?:me )?to death\b", r"\bworked to death\b", r"\bsick to death\b",
    r"\bfreezing to death\b", r"\b(?:want|wanted|wanna) to die (?:of|from) (?:embarrassment|shame|cringe|laughing)\b",
    r"\bcan'?t breathe\b(?= *(?:lol|lmao|haha|😂|🤣|💀|from laughing))", r"\bcan'?t breathe (?:from|with) laugh\w*\b", r"\bstarving to death\b(?! literally)", r"\bembarrassed to death\b",
    r"\b(?:kill|shoot) me now\b(?= *(?:lol|lmao|haha|😂|🤣|💀|😅))", r"\bmy (?:phone|battery|laptop|plant)s? (?:is |are )?(?:dying|dead)\b",
]  # fmt: skip
_EN_THIRD = re.compile(
    r"\b(?:novel|story|book|movie|film|show|series|character|song|lyrics|article|essay|paper|thesis|research|"
    r"training|course|class|lecture|documentary|news|podcast|game|statistics|prevention|awareness|hotline number)\b"
)
_EN_NEGATED = re.compile(
    r"\b(?:not|never|no longer|isn't|am not|i'm not|im not|wasn't|won't|wouldn't)\s+(?:\w+\s+){0,2}"
    r"(?:suicidal|going to (?:kill|hurt) myself|kill myself|hurt myself|self[- ]harm(?:ing)?|in danger)\b"
)
_EN_SAFE = re.compile(r"\b(?:i'?m|i am) (?:safe|okay|ok|fine)\b|\bdon'?t worry\b")
_EN_NOT_NOW = re.compile(
    r"\b(?:for my (?:\w+ )?(?:exam|class|essay|paper|course)|warning signs|how (?:can i|to) help (?:a|my) friend|"
    r"(?:years?|months?) clean|used to (?:self[- ]?harm|cut)|laughing|(?:report card|grades|finale|spoil)|suicide mission|"
    r"is (?:she|he) suicidal|asked if i'?m suicidal)\b"
)
_ZH_NOT_NOW = re.compile(
    r"考试题|怎么判断|(?:以前|高中|小时候|去年|前年|上个月).{0,12}(?:过|离开).{0,20}(?:现在|今天)|(?:周年|庆幸)|挂科|播客|ddl"
)
_EN_PAST_RECOVERED = re.compile(
    r"\b(?:\d+|five|four|three|two|ten|many|several) (?:years|yrs) ago\b.*\b(?:today|now)\b.*\b(?:great|better|good|"
    r"celebrat\w*|proud|recovered|thriving|alive and)\b"
)

_EN_RULES: list[tuple[str, str]] = [
    (SUICIDE, r"\b(?:kill|killing|end|ending|ended|off|offing) (?:myself|my ?self|my life|it all|things|everything)\b"),
    (SUICIDE, r"\b(?:suicide|suicidal|sewer ?slide|unalive|unaliving|kms)\b"),
    (SUICIDE, r"\b(?:want|wanna|wanted|going|gonna|ready|planning|plan|trying|tried|try) (?:to )?(?:die|be dead|not "
              r"exist|disappear forever|stop existing|not be here|not wake up|never wake up|end it)\b"),
    (SUICIDE, r"\bi (?:just )?(?:wish|hope) (?:i (?:was|were) dead|i (?:could )?(?:die|disappear)|i (?:would|wouldn'?t|"
              r"won'?t) (?:not )?wake up|i was never born|i'?d never been born)\b"),
    (SUICIDE, r"\b(?:don'?t|do not|no longer) (?:want|wanna) to (?:live|be alive|exist|be here|wake up|go on)\b"),
    (SUICIDE, r"\b(?:better off|be better) (?:dead|without me|if i (?:was|were)n'?t (?:here|around|alive)|if i "
              r"(?:die|died|disappeared))\b"),
    (SUICIDE, r"\bnothing (?:left )?to live for\b|\b(?:no point|no reason|what'?s the point)(?: (?:in|of|to|for))? "
              r"(?:living|live|being alive|going on|waking up|anything anymore)\b"),
    (SUICIDE, r"\b(?:won'?t|will not) be (?:a burden|around|here) (?:much|for much) longer\b"),
    (SUICIDE, r"\b(?:giving|gave|give) (?:away )?(?:all )?(?:my|away my) (?:things|stuff|belongings|possessions|cat|dog|"
              r"pets?)(?: away)?\b"),
    (SUICIDE, r"\b(?:goodbye|suicide|farewell) (?:note|letter|message)s?\b|\bwr(?:ote|iting|ite) (?:my |a )?"
              r"(?:goodbye|last) (?:letters?|notes?)\b|\bthis is (?:my )?goodbye\b"),
    (SUICIDE, r"\bhow many (?:pills|tablets|sleeping pills)\b|\b(?:lethal|fatal) dose\b|\bpainless(?:ly)? (?:way|die)\b"),
    (SUICIDE, r"\b(?:jump|jumping) (?:off|from|in front of)\b|\b(?:hang|hanging) myself\b|\bslit (?:my )?wrists?\b"),
    (SUICIDE, r"\b(?:sleep|fall asleep) (?:forever|and never wake)\b|\bnot wake up (?:tomorrow|again)\b"),
    (SUICIDE, r"\b(?:last|final) (?:night|day|time) (?:on earth|alive|of my life)\b|\bcan'?t (?:do|take) (?:this|it) "
              r"(?:anymore|any more|much longer)\b.*\b(?:end|die|gone|over)\b"),
    (SUICIDE, r"\b(?:attempted|tried to kill|overdosed)\b.*\b(?:last (?:night|week)|yesterday|again|today)\b"),
    (SELF_HARM, r"\b(?:cut|cutting|cuts|burn|burning|burned|hurt|hurting|harm|harming|punish|punishing|scratch|"
                r"scratching|hit|hitting) (?:myself|my (?:arms?|wrists?|legs?|thighs?|skin|self))\b"),
    (SELF_HARM, r"\bself[- ]?(?:harm|harming|injury|injure)\b|\b(?:relapsed?|relapsing)\b.*\b(?:cut|cutting|harm|"
                r"blade|razor)\b|\b(?:razor|blade)s?\b.*\b(?:again|arm|wrist|thigh|skin)\b"),
    (SELF_HARM, r"\b(?:took|swallowed|taken|took way) (?:a (?:bunch|handful|lot) of|all (?:my|the)|too many|\d+) "
                r"(?:pills|tablets|meds|sleeping pills|painkillers|tylenol|paracetamol)\b|\boverdos(?:e|ed|ing)\b"),
    (SELF_HARM, r"\bstarv(?:e|ing) myself\b|\bmake myself (?:bleed|throw up|suffer)\b"),
    (ABUSE, r"\b(?:he|she|they|my (?:husband|wife|partner|boyfriend|girlfriend|bf|gf|dad|father|mom|mother|stepdad|"
            r"stepfather|stepmom|brother|ex|uncle|boss|coach|teacher))\s+(?:\w+\s+){0,2}(?:hit|hits|hitting|beat|beats|"
            r"beating|punched|punches|slapped|slaps|kicked|kicks|choked|chokes|strangled|raped|assaulted|threatened|"
            r"threatens|locked|hurts|hurt|touches|touched|grabbed|shoved|pushed) (?:me|us|my (?:kids|son|daughter|mom|"
            r"sister|brother))\b"),
    (ABUSE, r"\b(?:afraid|scared|terrified) (?:to go|of going) home\b|\b(?:going to|gonna|will|threatened to) kill me\b"),
    (ABUSE, r"\b(?:raped|sexually assaulted|molested|forced me to|abusing me|abuses me|domestic (?:violence|abuse))\b"),
    (ABUSE, r"\b(?:hiding|hid) (?:from him|from her|in the bathroom|in my room)\b.*\b(?:he|she|they)\b|"
            r"\bhe'?s (?:going to|gonna) hurt (?:me|the kids|my)\b"),
    (DISTRESS, r"\b(?:panic attack|can'?t breathe|cannot breathe|can'?t stop shaking|heart is racing and)\b"),
    (DISTRESS, r"\bcan'?t keep myself safe\b|\bnot safe (?:with myself|tonight|right now)\b|\b(?:losing|lost) my mind\b"
               r".*\b(?:help|scared|terrified)\b|\bvoices (?:are )?telling me\b"),
    (DISTRESS, r"\b(?:i'?m|i am) (?:so )?(?:terrified|scared)\b.*\b(?:help me|please help|right now)\b"),
    (SUICIDE, r"\btake my (?:own )?life\b|\bdone (?:living|with life|with everything)\b|\bi'?m done\.? with everything\b|"
              r"\bno point anymore\b|\bwant (?:it all|everything|the pain) to (?:stop|end)\b|\bfastest way to die\b|"
              r"\b(?:bought|got|have) (?:a|the) (?:gun|rope)\b.*\b(?:know why|tonight|ready|today)\b|\bcharcoal\b.*\b(?:tape|car|garage)\b|"
              r"\bwon'?t be (?:a problem|around|here|a burden)\b|\bnot (?:gonna|going to) be (?:around|here)\b|\b(?:be|been) gone before\b|"
              r"\btonight'?s the night\b|\bgoodbye\.? i mean it\b|\b(?:saying|say) (?:bye|goodbye) (?:to (?:everyone|you all)|forever)\b|"
              r"\btell (?:my|her|him|them) .{0,30}\bi love[d]?\b|\bwhen i'?m gone\b|\bwish(?:ing)? i didn'?t have to (?:come up|wake up)\b|"
              r"\bctrl\+?alt\+?del(?:ete)? myself\b|\bjumped from\b.*\b(?:floor|bridge|roof)\b|\bwould it be (?:instant|painless|quick)\b|"
              r"\bwhat happens to .{0,40} when (?:i|you) die\b.*\bbefore\b|\bmy body to (?:just )?give up\b"),
    (SELF_HARM, r"\b(?:went|cut) too deep\b|\burge to (?:cut|hurt|burn)\b|\bgot the blade\b|\bcarved\b.{0,30}\b(?:arm|leg|skin|thigh)\b|"
                r"\bhide (?:the )?(?:marks|scars|cuts)\b|\bhow deep\b.{0,40}\bcut\b|\bdid it on purpose\b|"
                r"\b(?:hitting|banging) my head\b|\bpulled out\b.{0,30}\bhair\b.*\bbleed"),
    (ABUSE, r"\bthreaten(?:ed|s|ing)? to (?:stab|kill|hurt|burn|shoot)\b|\b(?:he|she)'?(?:ll| will) (?:kill|hurt|burn|stab|shoot)\b.*\bme\b|"
            r"\b(?:forced|raped) me\b|\bblackmail(?:ing|ed)? me\b|\b(?:kid|child|baby) (?:is being hurt|has bruises)\b|"
            r"\bbeing hurt\b.*\bbruises\b|\bknife out\b"),
    (DISTRESS, r"\b(?:don'?t|do not) (?:trust|feel safe with) myself\b|\b(?:won'?t|isn'?t|not) (?:wake up|waking up|responding|breathing)\b|"
               r"\bunconscious\b|\bhaving a stroke\b|\bchest hurts\b.*\barm\b|\bdrink was spiked\b|\bscared of what i'?ll do\b|"
               r"\btook a whole bottle\b"),
]  # fmt: skip

# ---------------------------------------------------------------- Chinese

_ZH_IDIOM_ADJ = (
    "笑|累|饿|热|冷|烦|困|气|吓|美|帅|丑|忙|渴|痛|疼|闷|臭|香|甜|酸|辣|咸|难吃|好吃|好看|难看|尴尬|羡慕|嫉妒|开心|高兴|"
    "无聊|紧张|麻烦|坑|卷|晒|撑|急|懒|憋|馋|心疼|可爱|萌|好笑|搞笑|烦人|气人|吵|挤|贵|难|想你|爱你|懒得"
)
_ZH_IDIOMS = [
    rf"(?:{_ZH_IDIOM_ADJ})(?:得)?(?:要)?死(?:了|我了|人了|啦|哒|的|掉了)?",
    r"死机", r"作死", r"死党", r"死宅", r"死忠", r"死活", r"死心", r"死磕", r"死路一条", r"半死", r"死定了", r"去死吧",
    r"(?:游戏|副本|关卡|boss|对面|敌人)(?:\S{0,6})(?:打死|杀死|死了)", r"(?:被|又被)(?:\S{0,4})(?:打死|杀死)了?(?:\S{0,4})(?:游戏|局|把|关)",
    r"打(?:游戏|王者|吃鸡|排位)", r"手机(?:快)?没电", r"切到(?:了)?手", r"想死你(?:们)?了", r"要死要活",
]  # fmt: skip
_ZH_THIRD = re.compile(r"小说|故事|电影|剧里|角色|歌词|论文|研究|新闻|报道|培训|课程|讲座|纪录片|预防|宣传|游戏里|书里")
_ZH_NEGATED = re.compile(
    r"(?:不会|不是|没有|并不|绝不|不再)(?:想)?(?:要)?(?:自杀|轻生|伤害自己|自残|想死)|我很安全|放心(?:吧|啦)?我没事"
)

_ZH_RULES: list[tuple[str, str]] = [
    (SUICIDE, r"自杀|轻生|寻死|自尽|了结(?:自己|生命|这一切)|结束(?:自己的|我的)?生命|一了百了|不想活|活不下去|活着(?:真|好|太)?(?:没|没有)(?:意思|意义)|"
              r"(?:真|好|很)?想死(?!你)|想去死|去死算了|死了算了|不如死了|还不如死|死了(?:就|也)?(?:好|解脱|轻松)|想消失|从这个世界消失|"
              r"遗书|遗言|交代后事|告别信|跳楼|跳河|跳桥|跳江|跳下去|从.{0,8}跳下|(?:一睡|睡着)(?:就)?不(?:要)?醒|不想(?:再)?醒来|"
              r"不想存在|没有我(?:大家|你们|他们|世界)?会更好|拖累(?:大家|你们|家人)|(?:安眠药|药)(?:攒|囤)|攒(?:了)?(?:很多|一堆)?(?:安眠)?药|"
              r"多少(?:片|颗)(?:安眠药|药)|(?:安眠)?药.{0,3}(?:攒|囤|存)(?:起来|着|了|够)|再见了(?:各位|大家|世界)|活着(?:好|真|太)累"),
    (SELF_HARM, r"自残|自伤|割腕|割(?:了|伤)?(?:自己|手腕|胳膊|手臂|大腿)|划(?:了)?(?:自己|手腕|胳膊|手臂)|(?:伤害|惩罚)自己|烫(?:伤)?自己|"
                r"(?:吞|吃)(?:了)?(?:一把|一堆|好多|整瓶|很多|\d+(?:片|颗))(?:的)?(?:安眠)?药|(?:吞|吃)(?:了)?安眠药|吃药自杀|刀片"),
    (ABUSE, r"(?:他|她|老公|丈夫|老婆|男朋友|男友|女朋友|前任|爸爸|爸|父亲|妈妈|妈|继父|后爸|哥哥|舅舅|叔叔|老板)(?:又|今天|昨晚|一直|经常|总是)?"
            r"(?:打(?:了)?我|揍(?:了)?我|掐(?:了)?我|踢(?:了)?我|扇(?:了)?我|威胁(?:要)?(?:杀|打)?我|强迫我|强奸|侵犯(?:了)?我|摸我|"
            r"把我锁|不让我出门)|家暴|家庭暴力|被(?:他|她|人)?(?:打了|强奸|性侵|侵犯|猥亵|虐待)|不敢回家|要杀了我|会杀了我|被强迫"),
    (DISTRESS, r"惊恐发作|喘不(?:上|过)气|呼吸不(?:了|过来)|控制不住自己|我(?:现在)?不安全|(?:好|很|非常)害怕.*(?:怎么办|救我)"),
    (SUICIDE, r"(?:安眠药|药|对乙酰氨基酚|布洛芬).{0,6}(?:吃多少|多少片|多少颗|加酒)|烧炭|紫砂|自鲨|(?:要|就要|准备)走了|(?:快|就要|马上)不在了|"
              r"最后一次(?:跟|和)(?:人|你)说话|(?:这次|这回)是真的再见|撑不(?:过|下去)(?:了|这周|今晚)|(?:写|留)了?(?:一封)?(?:信|遗言).{0,12}(?:抽屉|等他们|以后看到)|"
              r"(?:帮我|替我)(?:跟|和|对).{0,6}说(?:声)?(?:对不起|我爱)|(?:我)?死了的话|我走了以后|(?:在|站在)(?:桥|楼顶|天台|阳台)上.{0,10}(?:跳|不知道)|"
              r"勒(?:脖子|死)|(?:东西|猫|狗).{0,6}(?:都)?(?:送人|托付)|为什么又醒了|(?:什么时候|啥时候)才能不醒|再也不回来的那种|再也不(?:醒|回来)"),
    (SELF_HARM, r"又想(?:拿|用)(?:小)?刀|今天(?:又)?划了|划完|(?:遮|藏|挡).{0,8}(?:印子|疤|伤痕|伤口)|自己弄的|擦到破皮|拔头发.{0,12}流血|"
                r"吃了一堆.{0,8}(?:药|氨基酚)"),
    (ABUSE, r"(?:天天|每天|经常|又)(?:打|揍)我|把我(?:牙|头|脸)打|打死我|(?:皮带|棍子|衣架)(?:抽|打)|淤青|不跟他睡|扣了?我的身份证|"
            r"对我做过那种事|让我去酒店|别告诉(?:爸妈|你爸妈|家里)"),
    (DISTRESS, r"叫不醒|没有反应|胸口(?:好|很)?痛.{0,8}(?:发麻|麻)|被人?下(?:了)?药|下毒|(?:躲在|藏在)(?:衣柜|柜子|厕所)|怕我会做傻事|不敢一个人待|"
               r"不知道自己是不是醒着"),
]  # fmt: skip


def _compile(rules: list[tuple[str, str]]) -> list[tuple[str, re.Pattern[str]]]:
    return [(cat, re.compile(p)) for cat, p in rules]


EN_RULES, ZH_RULES = _compile(_EN_RULES), _compile(_ZH_RULES)
EN_IDIOMS = re.compile("|".join(_EN_IDIOMS))
ZH_IDIOMS = re.compile("|".join(_ZH_IDIOMS))
_CJK = re.compile("[\u4e00-\u9fff]")


def _scan(text: str, rules, idioms: re.Pattern[str]) -> list[tuple[str, str]]:
    cleaned = idioms.sub(" ", text)
    return [(cat, m.group(0)) for cat, rx in rules for m in rx.finditer(cleaned)]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?。！？\n])\s*", text) if s.strip()]


AT_RISK = "at_risk"
"""The category when only the embedding classifier noticed: no phrase says which kind of crisis."""


def assess(text: str, previous: str | None = None, semantic: bool = True) -> Assessment:
    """Is this message a crisis? Phrase rules first; when they find nothing, the embedding
    classifier reads the message and each of its sentences (a crisis is often one sentence in
    a chatty message). `previous` (the person's message before) only adds context."""
    found = _rules(text)
    if found.crisis or not semantic:
        return found
    from hearth.guard import semantic as clf

    t = _norm(text)
    pieces = [text] + (_sentences(t) if 1 < len(_sentences(t)) <= 8 else [])
    best = 0.0
    for piece in pieces:
        hit, p = clf.is_crisis(piece)
        best = max(best, p or 0.0)
        if hit:
            return Assessment(True, (AT_RISK,), (f"classifier {best:.2f}: {piece[:80]}",), found.language)
    return found


def _rules(text: str, previous: str | None = None) -> Assessment:
    t = _norm(text)
    language = "zh" if len(_CJK.findall(t)) >= max(2, len(t) // 10) else "en"
    hits: list[tuple[str, str]] = []
    for sentence in _sentences(t):
        found = _scan(sentence, EN_RULES, EN_IDIOMS) + _scan(sentence, ZH_RULES, ZH_IDIOMS)
        if not found:
            continue
        if _EN_NEGATED.search(sentence) or _ZH_NEGATED.search(sentence):
            strong = [h for h in found if h[0] in (ABUSE, DISTRESS)]
            if not strong and (_EN_SAFE.search(t) or _ZH_NEGATED.search(t) or not _wish(sentence)):
                continue
            found = strong or found
        if (_EN_THIRD.search(sentence) or _ZH_THIRD.search(sentence)) and not _first_person(sentence):
            continue
        if _EN_PAST_RECOVERED.search(t) or _EN_NOT_NOW.search(sentence) or _ZH_NOT_NOW.search(t):
            continue
        hits += found
    categories = tuple(c for c in CATEGORIES if any(h[0] == c for h in hits))
    return Assessment(bool(hits), categories, tuple(dict.fromkeys(h[1].strip() for h in hits)), language)


_WISH = re.compile(
    r"\b(?:don'?t want to (?:exist|be here|live|wake up)|wish i|just want to disappear)\b|不想(?:存在|醒|活)"
)
_FIRST = re.compile(r"\b(?:i|i'm|im|i've|i'll|me|my|myself)\b|我")


def _wish(sentence: str) -> bool:
    """'I'm not going to do anything stupid, I just don't want to exist' is still a risk."""
    return bool(_WISH.search(sentence))


def _first_person(sentence: str) -> bool:
    """'My novel's character …' is about fiction; 'I keep thinking about the suicide scene and I want to die' is not."""
    return bool(re.search(r"\bi (?:want|wanna|will|am going|'m going|plan|need) to\b|我(?:想|要|打算|准备)", sentence))
