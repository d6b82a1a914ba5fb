"""The rule layer: weighted phrase lexicons per sub-cause, with negation and the customer's
primary grievance taken into account. Pure: no I/O, no framework.

The lexicons are written in Simplified Chinese and English; Traditional Chinese input (and
Traditional entries here) go through the same normalisation as the text (OpenCC t2s, NFKC,
lower case), so one entry covers both scripts.

How a text is scored:
1. find the phrases (leftmost, longest first; English phrases only on word boundaries);
2. drop a phrase that is negated ("不是态度问题", "nobody was rude") or conceded
   ("态度倒是挺好", "the amount is fair");
3. weigh each phrase by where it stands: before a contrast ("…，但是…", "…, but …") it is
   context (×0.6); after a contrast it is the grievance (×1.4); after a primary-grievance cue
   ("关键是", "最气的是", "the real issue is") it is the grievance (×2);
4. a sub-cause's score is the sum of its phrases' weights.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from app.classification.normalize import normalize

STRONG, NORMAL, WEAK = 2.0, 1.0, 0.5


def _entries(strong: str = "", normal: str = "", weak: str = "") -> dict[float, str]:
    return {STRONG: strong, NORMAL: normal, WEAK: weak}


# sub-cause → weight → "|"-separated phrases (zh-Hans or zh-Hant, and English, lower case).
LEXICON: dict[str, dict[float, str]] = {
    "service_quality.insufficient_knowledge": _entries(
        strong="一问三不知|答非所问|说法不一|说法都不一样|说的都不一样|说的不一样|口径不一|"
        "解释不清|解释不了|解释错|说不清楚|说不明白|讲不清|讲不明白|搞不清楚|自己都搞不清|"
        "不专业|不够专业|业务不熟|业务不精|专业知识|没有培训|没培训过|乱说|说错了|答不上来|"
        "答不出|支支吾吾|各说各的|前后矛盾|自己都不清楚|也不太清楚|都说不知道|外行|"
        "不懂业务|连这个都不懂|连这个都不知道|问三个人|"
        "could not explain|couldn't explain|unable to explain|can't explain|cannot explain|"
        "didn't know what|did not know what|didn't know how|did not know how|"
        "doesn't know|does not know|had no idea|no idea what|contradicted|contradictory|"
        "contradicting|conflicting answers|conflicting information|conflicting advice|"
        "wrong information|wrong advice|misinformed|incorrect information|guessed|not trained|"
        "untrained|lack of knowledge|lacks knowledge|clueless|different answers|"
        "should know your own|didn't understand the policy|did not understand the policy|"
        "don't know their own|doesn't understand",
        normal="不知道|不清楚|不懂|说不上来|上网查|自己去看合同|自己看条款|矛盾|"
        "didn't know|did not know|not sure|unsure|google it|read the policy myself|confused",
    ),
    "service_quality.progress_not_communicated": _entries(
        strong="没人通知|没有人通知|没有通知|没通知|也不通知|不通知|没人告诉|没有告诉|也不告诉|"
        "没告知|未告知|不告知|没有告知|没人联系|没有人联系|没人回复|没有回复|不回复|没回电|"
        "没有回电|不回电话|没给我回电|杳无音信|石沉大海|音讯全无|没有任何消息|没消息|没有消息|"
        "一点消息都没有|查不到进度|不知道进度|进度不透明|不知道到哪一步|到哪一步了|"
        "自己打电话去问|每次都是我打|都是我主动|主动联系|主动告知|也不说一声|都不说一声|"
        "说好回电|答应回电|说会回电|等消息|"
        "no update|no updates|not updated|never updated|nobody told|no one told|"
        "nobody informed|not informed|never informed|wasn't told|was not told|weren't told|"
        "never told|no one called|nobody called|no one has called|never called back|"
        "didn't call back|did not call back|no callback|no call back|promised to call|"
        "kept in the dark|heard nothing|not heard|haven't heard|radio silence|no response|"
        "no reply|find out myself|found out myself|had to ring|had to call you|keep me informed|"
        "keep me updated|let me know|status of my claim",
        normal="进度|回访|通知|消息|chasing|chase|chased|update|progress",
    ),
    "service_quality.inflexible_handling": _entries(
        strong="死板|不灵活|一刀切|不通融|不近人情|没有人情味|没人情味|不讲人情|不人性化|"
        "没有人性化|缺乏人性化|只认规定|规定就是规定|制度就是这样|没有商量|没得商量|不能通融|"
        "不能变通|不肯变通|不愿变通|机械|教条|照章办事|死守|一点都不体谅|不体谅|不考虑实际|"
        "不考虑我的情况|必须本人|本人到场|本人亲自|"
        "rigid|inflexible|no flexibility|no discretion|no exception|no exceptions|"
        "by the book|computer says no|rules are rules|tick box|tick-box|box-ticking|"
        "wouldn't budge|would not budge|make an exception|no compassion|no empathy|heartless|"
        "inhumane|no common sense|jobsworth|policy is policy|in person|no leeway",
        normal="按规定|规定|非要|住院|行动不便|老人|孕妇|"
        "bereavement|in hospital|disabled|elderly|funeral|pregnant",
    ),
    "service_quality.poor_attitude": _entries(
        strong="态度差|态度不好|态度恶劣|态度很差|态度极差|态度冷淡|态度傲慢|态度蛮横|"
        "服务态度|不耐烦|爱答不理|爱理不理|冷冰冰|冷淡|傲慢|嚣张|蛮横|挂电话|挂了电话|"
        "挂我电话|直接挂了|甩脸色|摆脸色|白眼|阴阳怪气|嘲笑|讽刺|不屑|打官腔|高高在上|"
        "没礼貌|不礼貌|不尊重|训斥|呵斥|说话难听|语气|口气|吼我|骂我|凶我|很凶|"
        "rude|rudely|rudeness|arrogant|impatient|condescending|patronising|patronizing|"
        "dismissive|sarcastic|shouted|shouting|yelled|hung up|hang up|put the phone down|"
        "laughed at|mocked|belittled|snapped|sneered|talked down|couldn't care less|"
        "could not care less|swore at|insulted|attitude|tone",
        normal="敷衍|大声|态度|凶|cold|sighed|unhelpful|bored",
    ),
    "payout_dispute.assessment_below_expectation": _entries(
        strong="定损太低|定损金额太低|定损价太低|金额太低|价格太低|估价太低|估得太低|太低了|"
        "压价|压低|远低于|低于|不够修|不够维修|4s店报价|修理厂报价|维修报价|报价|差价|补差价|"
        "二手件|副厂件|拆车件|按副厂|按二手|折价|市场价|差距|自己掏|只给|才给|只赔|才赔|"
        "too low|far too low|lowball|low-ball|low ball|undervalued|under-valued|undervalue|"
        "less than the quote|below the quote|below market|market value|garage quoted|"
        "garage quote|quoted|quote|doesn't cover the repair|won't cover the repair|"
        "not enough to|pittance|insulting offer|offer of|valuation|valued at|second-hand parts|"
        "used parts|non-genuine parts|aftermarket parts|shortfall|out of pocket",
        normal="定损金额|定损价|定损单|金额|残值|不够|offer|amount",
    ),
    "payout_dispute.terms_not_explained": _entries(
        strong="免赔额|免赔率|绝对免赔|免赔|自负额|自付额|赔付比例|赔偿比例|比例赔付|按比例|"
        "折旧|折旧率|没解释|没有解释|没人解释|从来没说|没说过|没告诉我有|不知道有|事先没|"
        "买的时候|投保时|投保的时候|业务员没说|没提示|没有提示|没有明确说明|小字|免责条款|"
        "excess|deductible|depreciation|betterment|proportion|percentage|ratio|"
        "never explained|not explained|wasn't explained|was not explained|nobody explained|"
        "no one explained|never mentioned|wasn't mentioned|never told me about|small print|"
        "fine print|when i bought|when i took out|point of sale|exclusion|exclusions",
        normal="扣了|扣除|扣掉|被扣|条款|责任比例|deducted|deduction|surprise|terms",
    ),
    "payout_dispute.partial_loss_disagreement": _entries(
        strong="不认|不承认|只认|只赔了|只赔一部分|部分损失|这部分|那部分|其他的损失|"
        "不在赔偿范围|不属于本次|不算本次|不是本次事故|旧伤|老化|自然磨损|磨损|原有损伤|"
        "以前就有|不予认定|不认定|剔除|漏定|少定|代步车|租车费|拖车费|施救费|误工费|"
        "wear and tear|pre-existing|pre existing|old damage|existing damage|not caused by|"
        "unrelated to the accident|refused to recognise|refused to recognize|won't recognise|"
        "not part of|part of the damage|left out|only paid for|only covered|only accepted|"
        "rest of the damage|the other damage|hire car|hire costs|car hire|rental costs|"
        "towing|recovery costs|loss of use|not covered by this claim|ignored the damage",
        normal="不属于|不算|不赔|漏掉|excluded|exclude|missed|only",
    ),
    "payout_dispute.evidence_not_accepted": _entries(
        strong="不采纳|不采信|不认可|不接受|不予认可|不算数|不作数|说是假的|说我造假|"
        "行车记录仪|聊天记录|诊断证明|事故认定书|"
        "not accepted|wasn't accepted|were not accepted|weren't accepted|refused to accept|"
        "won't accept|would not accept|wouldn't accept|rejected my|disregarded|dismissed my|"
        "ignored my evidence|dashcam|dash cam|footage|cctv|police report|medical report|"
        "medical records|engineer's report|independent report|not valid|invalid",
        normal="发票|收据|票据|照片|视频|录像|监控|证明|证据|病历|鉴定|凭证|截图|无效|"
        "receipt|receipts|invoice|invoices|photos|photographs|pictures|video|evidence|proof|"
        "witness",
    ),
    "timeliness.cumbersome_process": _entries(
        strong="繁琐|太麻烦|手续多|手续太多|材料太多|材料多|资料太多|反复提交|来回跑|跑了好几趟|"
        "跑了几趟|跑了三趟|跑了四趟|跑断腿|又要|又让我|又说要|再补|补材料|补交|补充材料|"
        "一次性告诉|一次性说清|流程太|流程复杂|流程繁|程序复杂|环节太多|层层|"
        "cumbersome|bureaucracy|bureaucratic|red tape|paperwork|form after form|"
        "so many forms|too many documents|documents again|another document|more documents|"
        "resubmit|re-submit|send it again|again and again|over and over|one at a time|"
        "piecemeal|drip-fed|complicated process|convoluted|hoops|jump through|"
        "certified copies|original documents",
        normal="麻烦|手续|反复|填表|表格|盖章|复印件|原件|签字|forms|form|stamp|documents",
    ),
    "timeliness.internal_miscommunication": _entries(
        strong="踢皮球|推来推去|互相推|互相推诿|推诿|部门之间|各部门|这个部门|那个部门|转来转去|"
        "不同部门|两个部门|没有交接|交接|换了理赔员|换了人|沟通不畅|内部沟通|材料丢了|资料丢了|"
        "弄丢|系统里没有|系统里查不到|没有记录|上一个理赔员|上个理赔员|前任|"
        "passed around|passed from|passed between|back and forth between|blame each other|"
        "blamed each other|blaming each other|different departments|another department|"
        "other department|one department|departments|left hand|lost my file|"
        "lost my documents|lost the documents|misplaced|no record|notes on the file|"
        "handed over|handover|new handler|changed handler|team to team|between teams|"
        "didn't pass|did not pass|not passed on|head office",
        normal="推给|转接|分公司|总公司|总部|对接|内部|丢失|重新提交|transferred|internal|branch",
    ),
    "timeliness.slow_assessment": _entries(
        strong="定损慢|定损太慢|迟迟不定损|一直没定损|还没定损|没来定损|没来查勘|查勘员没来|"
        "迟迟|拖了|拖延|拖着|一拖再拖|太慢|很慢|效率低|审核太慢|一直审核|还在审|一直在审|"
        "等了一个月|等了两个月|等了半个月|等了好久|等了很久|一个多月|两个多月|几个月|遥遥无期|"
        "还没出结果|没结论|"
        "still waiting|been waiting|waiting for|still not assessed|not been assessed|"
        "no assessor|assessor hasn't|engineer hasn't|so slow|too slow|taking forever|"
        "takes forever|dragging|still under review|under review|backlog|no decision|ages",
        normal="等了|审核|核赔|查勘|定损|weeks|months|slow|inspection|assessor|engineer|how long",
        weak="delay|delayed",
    ),
    "timeliness.payment_delay": _entries(
        strong="没到账|未到账|还没到账|没有到账|没收到钱|没收到赔款|钱还没|钱没到|打款|打钱|"
        "说好的钱|答应的钱|审批通过|已经审批|赔款未|"
        "not received the money|haven't received|have not received|not been paid|"
        "haven't been paid|have not been paid|still no payment|payment has not|"
        "payment hasn't|payment still|payment is late|late payment|money hasn't|"
        "money has not|money still|into my account|in my account|payout hasn't|cheque|"
        "agreed settlement|approved but|was approved|been approved|been authorised|"
        "been authorized",
        normal="到账|赔款|转账|汇款|付款|支付|银行|结案|payment|paid|funds|transfer|bank",
    ),
    "other.unclear_special_case_policy": _entries(
        strong="特殊情况|特殊案例|没有先例|没先例|政策不明确|不明确|没有规定|没规定|规定不清|"
        "网约车|代驾|二次点火|涉水|改装|借给朋友|借车|朋友开|辅助驾驶|自动驾驶|试驾|挂靠|"
        "special case|unusual|no clear policy|unclear policy|grey area|gray area|"
        "no precedent|which policy applies|not sure which rule|ride-hailing|uber|rideshare|"
        "valet|modified|modification|lent my car|friend was driving|learner|driver assist|"
        "autopilot|self-driving|cross-border|trade plates",
        normal="水淹|泡水|暴雨|台风|冰雹|地震|新能源|电池|跨省|异地|境外|出境|港澳|过户|营运|"
        "flood|flooded|storm|hail|earthquake|borrowed|electric|abroad|overseas|europe",
    ),
    "other.distrust_of_outcome": _entries(
        strong="不相信|不信任|黑幕|暗箱|猫腻|串通|勾结|合伙|骗人|骗子|欺骗|坑人|忽悠|套路|"
        "霸王条款|就是想少赔|不想赔|找借口|耍赖|黑心|流氓|"
        "don't trust|do not trust|can't trust|cannot trust|distrust|mistrust|rigged|"
        "cover up|cover-up|colluding|collusion|in cahoots|in league|scam|cheating|cheated|"
        "stitched up|fishy|suspicious|biased|dishonest|lying|lied to|liars|excuse not to pay|"
        "any excuse|never intended to pay",
        normal="不信|不公平|不公正|不透明|故意|坑|unfair|cheat|con",
    ),
    "other.malicious_or_fraudulent": _entries(
        strong="不给就|不赔就|不然我就|否则我就|精神损失费|精神损失|额外补偿|伪造|造假|摆拍|"
        "故意撞|故意制造|碰瓷|说法前后不一|多次出险|频繁出险|多次报案|同一处损伤|重复索赔|虚报|"
        "夸大|虚开|假发票|要挟|敲诈|勒索|恶意投诉|职业索赔|"
        "or else|otherwise i will|unless you pay|compensation for stress|fake|forged receipt|"
        "staged|inflated|exaggerated|story changed|changed his story|changed her story|"
        "several claims|multiple claims|same damage|blackmail|extort|malicious|vexatious|"
        "fraudulent",
        normal="赔我|威胁|不给我|媒体|曝光|fraud|threaten|threatened|threatening|demanded|"
        "demands|inconsistent",
        weak="记者|journalist|the press|social media",
    ),
    "other.staff_misconduct": _entries(
        strong="回扣|好处费|红包|返点|私下|私自|代签|冒签|冒名|签名不是我|伪造我的签名|篡改|泄露|"
        "泄漏|个人信息|骚扰电话|指定修理厂|指定的修理厂|合作修理厂|收了钱|索要|飞单|截留|私吞|"
        "挪用|违规|"
        "kickback|kick-back|backhander|bribe|bribery|forged my signature|signed on my behalf|"
        "signature was forged|not my signature|tampered|falsified|changed the report|leaked|"
        "data breach|shared my details|sold my details|personal data|commission|"
        "pushed me to use|insisted i use|their garage|cash in hand|pocketed|"
        "asked me for money|asked for money|misconduct|corrupt",
        normal="推销|提成|收钱|要钱|违法|改了|altered|leak",
    ),
}

# Cues, in normalised form (Simplified, lower case).
NEGATORS_ZH = (
    "不是",
    "并不是",
    "倒不是",
    "并非",
    "不算",
    "谈不上",
    "说不上",
    "不存在",
    "没什么",
    "不在于",
    "无关",
    "不涉及",
    "并没有",
    "倒没有",
    "没说",
    "没觉得",
)
NEGATORS_EN = frozenset(
    "not no never nobody nothing without isn't wasn't aren't weren't don't didn't doesn't "
    "haven't hasn't neither nor".split()
)
CONCESSIONS_ZH = (
    "还好",
    "挺好",
    "很好",
    "不错",
    "还行",
    "还可以",
    "可以",
    "没问题",
    "没得说",
    "没的说",
    "没意见",
    "倒是",
    "也还",
    "算好",
    "认可",
    "合理",
    "客气",
    "热情",
    "耐心",
    "我认",
    "我接受",
)
CONCESSIONS_EN = frozenset(
    "fine ok okay polite friendly nice helpful courteous good great reasonable fair accept "
    "accepted pleasant lovely patient kind".split()
)
CONTRASTS_ZH = ("但是", "可是", "不过", "然而", "只是", "但", ",就是", ", 就是", "。就是")
PRIMARY_ZH = (
    "关键是",
    "问题是",
    "主要是",
    "最气的是",
    "最不满的是",
    "最让我生气的是",
    "最生气的是",
    "我要投诉的是",
    "我投诉的是",
    "真正",
    "重点是",
    "核心是",
    "唯一的问题",
)
CONTRASTS_EN = ("but", "however", "though", "although", "yet")
PRIMARY_EN = (
    "the problem is",
    "the issue is",
    "the real issue",
    "the real problem",
    "my complaint is",
    "complaining about",
    "the main issue",
    "main problem",
    "my main",
    "what really",
    "the point is",
    "what i want",
)
BEFORE_CONTRAST, AFTER_CONTRAST, AFTER_PRIMARY = 0.6, 1.4, 2.0
_CLAUSE_END = re.compile(r"[,.;!?:、。，；！？：\n]")


@dataclass(frozen=True)
class Hit:
    """A lexicon phrase found in the normalised text."""

    subcause: str
    phrase: str
    start: int
    end: int
    weight: float  # lexicon weight × position factor; 0 when negated or conceded
    negated: bool


@dataclass(frozen=True)
class RuleResult:
    """Scores per sub-cause (only those with a phrase) and every phrase found."""

    scores: dict[str, float]
    hits: tuple[Hit, ...]

    def evidence(self, subcause: str) -> list[Hit]:
        """The phrases that count for `subcause`, strongest first."""
        found = [h for h in self.hits if h.subcause == subcause and not h.negated]
        return sorted(found, key=lambda h: (-h.weight, h.start))


@lru_cache(maxsize=1)
def _phrases() -> dict[str, tuple[str, float]]:
    """Normalised phrase → (sub-cause, weight)."""
    seen: dict[str, tuple[str, float]] = {}
    for subcause, weighted in LEXICON.items():
        for weight, phrases in weighted.items():
            for raw in filter(None, phrases.split("|")):
                phrase = normalize(raw)
                if phrase in seen and seen[phrase][0] != subcause:
                    raise ValueError(f"lexicon phrase {phrase!r} listed under two sub-causes")
                if phrase not in seen or seen[phrase][1] < weight:
                    seen[phrase] = (subcause, weight)
    return seen


def _trie(words: list[str]) -> str:
    """A regular expression matching any of `words`, longest first, as a character trie (a
    plain alternation of hundreds of phrases is four times slower)."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(node[char]) for char in sorted(node) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return body + "?" if len(branches) == 1 and len(body) == 1 else f"(?:{body})?"
        return body

    return build(root)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(Chinese phrases, English phrases on word boundaries)."""
    phrases = _phrases()
    chinese = [p for p in phrases if not p.isascii()]
    english = [p for p in phrases if p.isascii()]
    return re.compile(_trie(chinese)), re.compile(rf"\b{_trie(english)}\b")


def lexicon_digest() -> str:
    """A short digest of the lexicon and cues: part of a trained model's identity."""
    text = repr((sorted((k, sorted(v.items())) for k, v in LEXICON.items()), NEGATORS_ZH,
                 sorted(NEGATORS_EN), CONCESSIONS_ZH, sorted(CONCESSIONS_EN), CONTRASTS_ZH,
                 PRIMARY_ZH, CONTRASTS_EN, PRIMARY_EN,
                 (BEFORE_CONTRAST, AFTER_CONTRAST, AFTER_PRIMARY)))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def find_phrases(text: str) -> list[tuple[int, int, str, str, float]]:
    """(start, end, phrase, sub-cause, weight) of every phrase in normalised `text`: leftmost,
    then longest; English phrases only as whole words."""
    phrases = _phrases()
    chinese, english = _patterns()
    spans = sorted(
        [m.span() for m in chinese.finditer(text)] + [m.span() for m in english.finditer(text)]
    )
    found = []
    last = 0
    for start, end in spans:
        if start < last or start == end:
            continue
        phrase = text[start:end]
        subcause, weight = phrases[phrase]
        found.append((start, end, phrase, subcause, weight))
        last = end
    return found


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for match in _CLAUSE_END.finditer(text, 0, start):
        left = match.end()
    right = _CLAUSE_END.search(text, end)
    return left, (right.start() if right else len(text))


def _negated(text: str, start: int, end: int, clause: tuple[int, int]) -> bool:
    before = text[max(clause[0], start - 6) : start]
    after = text[end : min(clause[1], end + 8)]
    if text[start].isascii():
        words_before = re.findall(r"[a-z']+", text[clause[0] : start])[-3:]
        if any(w in NEGATORS_EN or w.endswith("n't") for w in words_before):
            return True
        words_after = re.findall(r"[a-z']+", after)[:4]
        return any(w in CONCESSIONS_EN for w in words_after) and not any(
            w in NEGATORS_EN or w.endswith("n't") for w in words_after
        )
    negators, concessions = _zh_cue_patterns()
    if negators.search(before):
        return True
    for match in concessions.finditer(after):
        at = match.start()
        if not any(ch in after[max(0, at - 2) : at] for ch in "不没"):
            return True  # "态度还好" concedes; "态度不是很好" does not
    return False


@lru_cache(maxsize=1)
def _zh_cue_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(negators, concessions) in Chinese, as tries."""
    return re.compile(_trie(list(NEGATORS_ZH))), re.compile(_trie(list(CONCESSIONS_ZH)))


@lru_cache(maxsize=1)
def _cue_patterns() -> tuple[tuple[re.Pattern[str], float], ...]:
    """(pattern, factor) per kind of cue and script, as tries (see `_trie`)."""

    def chinese(cues: tuple[str, ...]) -> re.Pattern[str]:
        return re.compile(_trie(list(cues)))

    def english(cues: tuple[str, ...]) -> re.Pattern[str]:
        return re.compile(rf"\b(?:{_trie(list(cues))})\b")

    return (
        (chinese(PRIMARY_ZH), AFTER_PRIMARY),
        (english(PRIMARY_EN), AFTER_PRIMARY),
        (chinese(CONTRASTS_ZH), AFTER_CONTRAST),
        (english(CONTRASTS_EN), AFTER_CONTRAST),
    )


def _factors(text: str) -> list[tuple[int, float]]:
    """(position, factor) breakpoints: the factor applies from the position on."""
    marks = []
    for pattern, factor in _cue_patterns():
        for m in pattern.finditer(text):
            if m.group() == "但" and text[max(0, m.start() - 1) : m.start()] == "不":
                continue  # 不但: "not only", not a contrast
            marks.append((m.start(), factor))
    if not marks:
        return [(0, 1.0)]
    marks.sort()
    return [(0, BEFORE_CONTRAST), *marks]


def _factor_at(factors: list[tuple[int, float]], position: int) -> float:
    factor = factors[0][1]
    for at, value in factors:
        if at > position:
            break
        factor = value
    return factor


def score(text: str) -> RuleResult:
    """Score normalised `text` (see `normalize`) against the lexicons."""
    factors = _factors(text)
    scores: dict[str, float] = {}
    hits = []
    for start, end, phrase, subcause, weight in find_phrases(text):
        negated = _negated(text, start, end, _clause_bounds(text, start, end))
        counted = 0.0 if negated else weight * _factor_at(factors, start)
        hits.append(Hit(subcause, phrase, start, end, counted, negated))
        if counted:
            scores[subcause] = scores.get(subcause, 0.0) + counted
    return RuleResult(scores, tuple(hits))


def classify_rules(text: str) -> tuple[str | None, RuleResult]:
    """The rule layer on its own: the best-scoring sub-cause (None without any phrase)."""
    result = score(normalize(text))
    if not result.scores:
        return None, result
    return max(sorted(result.scores), key=lambda code: result.scores[code]), result
