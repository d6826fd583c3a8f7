"""Weak supervision: labeling functions over words, phrases and chat roles, and a label model combining them.

Analysts have a few hundred adjudicated cases beside tens of thousands of unlabeled ones. Labeling
functions (LFs) write the gold guideline down as phrase rules, so they can vote on every unlabeled case; a
small label model learned on the labeled cases (inside the training fold) turns the votes into a label and
a confidence, learning which LFs to trust and which confusions they make. At scoring time the rules run on
chats and summaries only, as the cue features of :mod:`pipelines.cues`.

Every LF looks at one view of the cleaned text: ``b`` the buyer's words (a chat's buyer lines; the whole
text of any other genre), ``a`` a chat's agent lines. They were written from the guideline and from reading
about 150 ``gold/dev.csv`` texts, then narrowed by reading their hits in the unlabeled pool; their accuracy on
``dev.csv`` is therefore optimistic, and the held-back set is the honest check. The later chat and summary
LFs (g_when, m_aftersales, p_fail_chat, p_price_dispute, n_invoice, n_seller_side and the widened agent and
own-change patterns) were written from pool chats and summaries that are not in ``dev.csv``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from pipelines.config import LABELS
from pipelines.text import clean_texts

ABSTAIN = -1
_INDEX = {label: i for i, label in enumerate(LABELS)}

# A chat line starts with a speaker marker; cleaning (NFKC) turns the full-width colon into ":".
_BUYER = re.compile(r"^买家[:：]")
_AGENT = re.compile(r"^客服[:：]")
# Summaries of a seller's (or customer's) enquiry start with 商家…/客户… instead of 用户….
_SUMMARY_START = re.compile(r"^(商家|卖家|客户)(询问|咨询|查询|表示|反映|反馈|想|希望|要求|申请|称)")
# Placeholders ([订单x], [站点x]) would otherwise match words such as 站点 or 订单.
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")


def genre_of(text: str) -> str:
    """The genre a text looks like: chat (speaker lines), summary (用户询问…, 商家询问…), complaint (title line), review."""
    if _BUYER.match(text) or _AGENT.match(text):
        return "chat"
    if "用户" in text[:12] or _SUMMARY_START.match(text):
        return "summary"
    if "\n" in text:
        return "complaint"
    return "review"


@dataclass(frozen=True)
class Views:
    """The parts of one cleaned text that labeling functions look at."""

    genre: str
    buyer: str
    agent: str


def views_of(text: str) -> Views:
    """Split a cleaned text into the buyer's and the agent's words (placeholders blanked)."""
    text = _PLACEHOLDER.sub(" ", text)
    genre = genre_of(text)
    if genre != "chat":
        return Views(genre, text, "")
    buyer: list[str] = []
    agent: list[str] = []
    current = buyer
    for line in text.split("\n"):
        if _BUYER.match(line):
            current, line = buyer, line[3:]
        elif _AGENT.match(line):
            current, line = agent, line[3:]
        current.append(line)
    return Views(genre, "\n".join(buyer), "\n".join(agent))


@dataclass(frozen=True)
class LabelingFunction:
    """Votes ``label`` when ``pattern`` occurs in its view (and ``unless`` does not), else abstains."""

    name: str
    label: str
    pattern: re.Pattern[str]
    view: str = "b"
    genres: frozenset[str] | None = None
    unless: re.Pattern[str] | None = None

    def __call__(self, views: Views) -> int:
        """The index of the voted label in :data:`LABELS`, or :data:`ABSTAIN`."""
        if self.genres is not None and views.genre not in self.genres:
            return ABSTAIN
        text = views.agent if self.view == "a" else views.buyer
        if not text or not self.pattern.search(text):
            return ABSTAIN
        if self.unless is not None and self.unless.search(text):
            return ABSTAIN
        return _INDEX[self.label]


R = re.compile
NOT_CHAT = frozenset({"review", "complaint", "summary"})
CHAT = frozenset({"chat"})

# fmt: off
_QUALITY = (
    r"质量(太|很|真|非常|特别|极其)?(差|不好|不行|一般|有问题|问题)|做工(差|粗|太差|不好)|假货|假的|山寨|翻新|二手|次品|残次|瑕疵|"
    r"坏了|坏的|烂了|烂的|发霉|变质|不新鲜|过期|异味|臭|漏(水|液|油|了)|掉色|褪色|起球|开线|脱线|不好用|难用|难吃|难喝|"
    r"死机|卡顿|卡死|黑屏|蓝屏|花屏|重启|发热|发烫|不能用|用不了|没反应|不亮|充不(进|上)电|没声音|噪音|杂音|"
    r"垃圾|太差|很差|极差|差劲|不值|上当|后悔|失望|坑人|骗人|欺骗|虚假|不符|不一致|货不对板|不是正品|非正品|"
    r"过敏|掉发|脱发|味道(不对|怪|难闻|很怪)|太小|偏小|偏大|太大|色差|尺码不"
)
_WRONG_ITEM = (
    r"发错|错发|少发|漏发|少了|缺件|少件|发成|发来的是|收到的是|不是我(买|要|选)的|缺(少|了)(一|个|件|配件|说明书)|少给|"
    r"只收到(了)?[一二两三四五六七八九十几](个|件|包|袋|瓶|盒|箱|支|双|台)|数量不(够|对)"
)
_SHIPPING = (
    r"缺货|没货|无货|断货|有货(先|吗|了)|什么时候(能|可以)?(有货|发货)|(还|一直|迟迟|怎么|为什么|为啥)(没|不|未)(有)?(发货|出库)|"
    r"未发货|不发货|没发货|发货(太|很|真|超|好|这么|那么)?慢|(催|尽快|赶紧|抓紧)(一下)?(帮我)?发货|预售|出库(太)?慢|还没出库|采购中"
)
_SELLER = (
    r"(商家|卖家|店家|店铺|厂家|掌柜|售后)(客服)?.{0,8}(不给|拒绝|不同意|不退|不换|不管|不理|推脱|不承认|不回|态度)|"
    r"(不给|拒绝)(退|换|修|保修|退货|退款|换货)|(没有|没给|未开|不开|不给)(开)?发票|赠品.{0,4}(没|未|不)|包装(太|很|过于)?(简单|简陋|差|破)|"
    r"(退货|换货|维修|保修|售后|质量问题)"
)
_PRICE = r"价保|保价|价格保护|退差价|补差价|差价|(刚|就|才).{0,6}降价|降价(了|太快|好多)|买完.{0,3}降价|涨价"
_MECHANICS = (
    r"优惠券|优惠卷|东券|京券|用券|满减|京豆|积分|白条|plus|会员|红包|返现|活动(规则|价|不)|秒杀|"
    r"账号|账户|登录|登陆|密码|验证码|封号|被封|实名|支付(不|失败|成功|方式)|付款(失败|不了)|余额|"
    r"系统(问题|错误|故障|显示|自动)|网站|网页|页面|app|软件(有问题|bug)|bug|订单(消失|不见|查不到|被取消|自动取消)|"
    r"(京东|当当|淘宝|天猫|拼多多|平台|亚马逊|苏宁)(的)?(客服|服务|小二)|客服(态度|推|敷衍|不处理|太差|很差|不负责)|推来推去|踢皮球|"
    r"小二|平台介入|介入|仲裁|运费(券|险)|(收|扣)(了)?(我)?.{0,3}运费|取件费"
)
_PLATFORM_NAMED = r"(京东|当当|亚马逊|狗东|jd)(现在|的)?(服务|太|真|越来越|也)?(差|坑|垃圾|烂|失望|不行)"
_OWN_DOING = (
    r"买错|拍错|选错|下错|订错|点错|填错|写错|输错|弄错|搞错了|(地址|电话|手机号|号码)(写|填|留)?错|买重|重复(下单|购买|拍)|多拍|多买|买多了|"
    r"不想要了|不要了|不需要了|不想买了|用不上|不合适|改主意|(我|自己)(的)?(原因|问题|失误|疏忽)|不小心|没看清|没注意|没仔细看|忘了|忘记|"
    r"(改|修改|更改|更换|换)(一下)?(收货|送货|配送)?(地址|电话|手机号|收货人)|改(送货|配送|收货)?时间|推迟|延迟(送|配送|发货)|晚点送|家里没人|"
    r"(想|要|申请|帮我|能|可以|怎么)(不能)?取消(订单|这个|一下)?|取消(这个|这|该|此)?(订单|单)|拦截|拒收|(想|要|申请)?(换|调换)(颜色|尺码|码|款式|型号|大小|一个)|"
    r"无理由退|七天无理由|7天无理由|不喜欢|误操作|误点|用错|摔(坏|了|碎)|进水"
)
_SLOW_DELIVERY = (
    r"(物流|快递|送货|配送|运输|到货|派送|邮寄|发运)(速度)?(太|很|真|超|好|特别|非常|有点|比较|这么|那么|也太)?(慢|差|龟速|烂)|"
    r"(物流|快递|配送|送货).{0,6}(慢|差评|太差|垃圾)|(还没|还未|一直没|迟迟没|怎么还没|为什么还没|还不)(到|送到|收到|派送|送货|送)|"
    r"没(有)?(送到|收到货|收到)|(几|多|好几|\d+|[一二三四五六七八九十两]+)天(了)?(才|还|都)(没)?(到|收到|送)|在路上|路上.{0,4}(久|天)|"
    r"物流信息.{0,6}(不|没|未)(更新|动)|不更新|一动不动|催(件|投|派|一下|下|促)"
)
_COURIER = (
    r"快递员|送货员|配送员|快递小哥|派送员|送货的|快递哥|师傅|承运|配送站|站点|自提点|自提柜|快递柜|驿站|菜鸟|代收|"
    r"(没|未|不)(送|送货)?(上门|到家|到楼)|不送(货)?上门|放(在)?(门口|门卫|快递柜)|显示(已)?签收|(未|没|没有)收到(货)?.{0,6}签收|"
    r"签收.{0,6}(没|未)(收到|见到)|丢件|丢失|丢了|(运输|路上|途中|快递).{0,6}(压|摔|破|坏|损)|压坏|压扁|压碎|摔坏|"
    r"申通|圆通|中通|韵达|顺丰|ems|邮政|宅急送|汇通|天天快递|百世|德邦"
)
_COURIER_FAILED = (
    r"(快递员|送货员|配送员|快递小哥|派送员|送货的|快递|配送站|自提点)[^。!?\n]{0,12}(不接|打不通|态度|没送|不送|不上门|没联系|不联系|乱|丢|拿走|放在|弄丢|摔|延误|不派)|"
    r"显示(已)?签收|(未|没|没有)收到(货)?[^。!?\n]{0,6}签收|签收[^。!?\n]{0,6}(没|未)(收到|见到)|丢件|运输途中[^。!?\n]{0,4}(破损|损坏|摔)"
)
_BOOK_TASTE = r"作者|这本书|本书|此书|这书|书中|情节|内容(空洞|一般|太|很|没|不)|文笔|故事|观点|翻译|读者|写的|看完|读完|章节|小说"
_QUESTION = r"(怎么|如何|哪里|在哪|是否|可以|能不能|能否|有没有|多久|什么时候|请问|咨询|查询|询问)"
_PROBLEM = (
    r"差|坏|破|慢|假|错|没收到|未收到|不发货|缺货|没货|投诉|降价|价保|保价|差价|质量|不满|骗|坑|垃圾|取消|拒|丢|漏|少|催|"
    r"维修|售后|退货|退款|换货|还没|怎么还|不能用|有问题|问题|改地址|修改|更改|地址|不要了|不想|签收|运费|券|白条|账号|登录|密码"
)

# Summaries are one line of "用户询问…/用户反映…" sentences written by the service agent; chats are read on the
# buyer's lines. The buyer's own paperwork and schedule (invoice details, phone, delivery date) is consumer.
_OWN_CHANGE = (
    r"(改|修改|更改|更换|换|调)(一下|个|成)?(订单)?(的)?(发票|增值税|专票|单位发票|开票)|发票(信息|抬头)?(填|写)?错|(补开|重开|重新开)发票|"
    r"(电话|手机号|号码|联系方式)(改为|改成|换成|要改|更改|修改)|(更改|修改|改|换|调)(一下)?(个)?(收货|送货)?(地址|电话|手机号)|"
    r"(改|修改|更改|推迟|延迟|延期|推)(一下)?.{0,10}(到货|送货|配送|安装|收货|发货)(日期|时间)?|(明天|今天|后天)?(不在家|家里没人)|"
    r"(送货|配送|发货|到货|收货|安装)(日期|时间)[^。!?\n]{0,6}(改|推迟|延迟)|换个(联系)?(电话|手机号)|"
    r"(电话|手机号|号码|联系方式)[^。!?\n]{0,12}(变为|变成|更换了|换了|不用了|改成我)|(抬头|税号|识别号)[^。!?\n]{0,6}(留错|填错|写错|选错)|"
    r"(推|延)(迟)?(一周|几天|两天)|(后天|周末|周六|周日|明天)(再)?(送|配送|安装)"
)
_SUMMARY_ROUTINE = r"^用户(询问|咨询|查询|想了解|想知道|请求|要求|希望|想要)"
_SUMMARY_PROBLEM = (
    r"没(有)?收到|未收到|没(有)?到|未到|没(有)?送|未派送|没(有)?派送|不更新|未更新|一动不动|签收|降价|差价|错|失败|不成功|不了|"
    r"无法|找不到|查不到|没(有)?给|没给|缺货|没货|无货|采购|坏|破|质量|少|漏|取消|改|退货|拒收|拒签|投诉|催|为什么|为何|怎么还|还没|"
    r"不想|不要|忘|不小心|纠纷|问题|换货|维修|售后|故障|没(有)?声音|不亮|不灵|黑屏|充不"
)
_SUMMARY_PLATFORM_FAIL = (
    r"(券|京豆|白条|账号|账户|登录|登陆|验证码|价保|保价|差价|充值|话费|回收|支付|余额|小金库|活动|系统)[^。]{0,14}"
    r"(失败|不成功|申请不了|没有给|没给|找不到|查不到|无法|没有到账|未到账|没到账|不支持|不能使用|用不了|不能用)|"
    r"(失败|申请不了|找不到|查不到|无法|不支持)[^。]{0,10}(券|京豆|白条|账号|登录|登陆|验证码|价保|保价|差价|回收|支付|取消订单)"
)
_SUMMARY_TRANSIT = (
    r"(订单|快递|包裹|货)?[^。]{0,8}(为什么|怎么|仍|还|一直|迟迟)?(没|未)(有)?(送到|派送|配送)|物流(信息)?[^。]{0,6}(未|没|不)(更新|动)|"
    r"一动不动|显示签收[^。]{0,6}(没|未)收到|签收[^。]{0,6}(没|未)收到|(没|未)收到[^。]{0,6}(显示)?签收|催(货|件|派送)|快递员|配送员|上门取[货件]的人"
)
_SUMMARY_STOCK = (
    r"缺货|没货|无货|采购|有货先发|(没|未|不)(有)?发货|少发|漏发|发错|没有说明书|缺(少)?(配件|说明书)|(商家|卖家)[^。]{0,8}(纠纷|不|让取消|拒绝)|"
    r"赠品|质量(问题|差)|(机器|商品|东西|货)[^。]{0,4}坏"
)

# Chats and summaries, read on pool chats: the question "when will it arrive" is mostly routine, a stock-out
# the agent reports is the seller's, a defect differs from an after-sales enquiry, a price-protection or
# coupon request that failed differs from one that asks how, and a seller asking the platform is no dispute.
_WHEN = r"(什么时候|几点|今天|明天|啥时候|多久)(能|可以|会)?(到|送到|送达|派送|配送|收到)|预计送达|到哪(了|里)"
_DEFECT = (
    r"质量问题|坏了|坏的|不能用|用不了|没反应|不亮|碎了|是碎的|有问题|假货|漏(水|电|气|液)|瑕疵|划痕|刮痕|故障|死机|黑屏|花屏|"
    r"自动重启|发烫|充不(进|上)电|没(有)?声音|异响|杂音|噪音|黑点|坏点|裂(了|开|纹)|破损|不工作|失灵|不灵|过期|变质|发霉|不是正品"
)
_AFTERSALES = r"售后|维修|保修|返修|换货|退换|检测|上门(检测|安装|维修)"
_STOCK_AGENT = (
    r"缺货|无货|没有货|没货|采购中|有货先发|厂家发货|商家发货.{0,6}(延迟|晚)|调货|预定中|预订中|补货|配货中|采销|库存不足|"
    r"(预计|天内|日后|周内|周后|天左右)[^。!?]{0,6}有货"
)
_PLATFORM_FAIL = (
    r"(券|京豆|白条|账号|账户|登录|登陆|验证码|绑定|充值|支付|余额|小金库|活动|系统|plus|会员|返现|红包)[^。!?\n]{0,14}"
    r"(失败|不成功|申请不了|没有给|没给|没收到|没有收到|只收到|找不到|查不到|无法|没(有)?到账|未到账|不支持|不能(使用|用)|用不了|"
    r"说我没|不显示|被冻结|被封|扣了)|(失败|申请不了|找不到|查不到|无法|用不了)[^。!?\n]{0,10}(券|京豆|白条|账号|登录|登陆|验证码|绑定|支付)"
)
_PRICE_DISPUTE = (
    r"(价保|保价|差价|价格保护)[^。!?\n]{0,10}(不给|不能|拒绝|失败|不成功|不符合|不支持|不了|没有给|没给|驳回|为什么|为啥|凭什么)|"
    r"(不给|不能|拒绝|没有给|没给)[^。!?\n]{0,4}(价保|保价|差价)"
)
_SELLER_SIDE = r"商家朋友|卖家朋友|尊敬的商家|尊敬的卖家|商家后台|卖家后台"
_INVOICE = r"发票|增票|专票|普票|开票|抬头|税号"

LABELING_FUNCTIONS: tuple[LabelingFunction, ...] = (
    # merchant: the goods, the packing, the seller's shipping and after-sales
    LabelingFunction("m_quality", "merchant", R(_QUALITY), genres=NOT_CHAT),
    LabelingFunction("m_quality_chat", "merchant", R(_DEFECT), genres=CHAT),
    LabelingFunction("m_aftersales", "merchant", R(_AFTERSALES), genres=frozenset({"chat", "summary"})),
    LabelingFunction("m_wrong_item", "merchant", R(_WRONG_ITEM)),
    LabelingFunction("m_ship_stock", "merchant", R(_SHIPPING), unless=R(r"物流|快递|派送|配送员|快递员")),
    LabelingFunction("m_ship_agent", "merchant", R(_STOCK_AGENT), view="a", genres=CHAT),
    LabelingFunction("m_seller", "merchant", R(_SELLER), genres=frozenset({"review", "complaint"})),
    LabelingFunction("m_seller_refuse", "merchant", R(r"(商家|卖家|店家|店铺|厂家|售后|手机店|专营店|旗舰店)(客服)?.{0,8}(不给|拒绝|不同意|不退|不换|不管|不理|推脱|不承认|不回|态度|不能退|不让|非要)|不给(我)?(换|退)")),
    # A negative product review that names no other party is about the goods (the guideline's default).
    LabelingFunction("m_review_default", "merchant", R(r"."), genres=frozenset({"review"}),
                     unless=R(r"物流|快递|送货|配送|降价|价保|保价|客服|京东|当当|买错|拍错|作者|这本书|书中|情节")),
    LabelingFunction("m_complaint_default", "merchant", R(r"."), genres=frozenset({"complaint"})),
    # platform: price protection, coupons, accounts, the site, the platform's own service
    LabelingFunction("p_price", "platform", R(_PRICE)),
    LabelingFunction("p_mechanics", "platform", R(_MECHANICS), unless=R(r"买错|拍错|忘了用|忘记用|忘了使用|忘记使用|签收")),
    LabelingFunction("p_named", "platform", R(_PLATFORM_NAMED), genres=frozenset({"review", "complaint"})),
    LabelingFunction("p_agent_price", "platform", R(r"价保|价格保护|差价"), view="a", genres=CHAT),
    LabelingFunction("p_price_dispute", "platform", R(_PRICE_DISPUTE), genres=frozenset({"chat", "summary"})),
    LabelingFunction("p_fail_chat", "platform", R(_PLATFORM_FAIL), genres=CHAT, unless=R(r"买错|拍错|忘记|忘了|不小心|填错|写错")),
    # consumer: the buyer's own choice or mistake
    LabelingFunction("c_own", "consumer", R(_OWN_DOING), unless=R(r"缺货|没货|无货|不发货|没发货|未发货|太慢|质量|坏了|假货|降价")),
    LabelingFunction("c_agent_cancel", "consumer", R(r"拦截成功|取消成功|为您取消|帮您取消|修改地址|地址修改|修改成功|无理由退货"), view="a", genres=CHAT),
    # logistics: transit, couriers, stations
    LabelingFunction("g_slow", "logistics", R(_SLOW_DELIVERY), unless=R(r"发货(太|很)?慢|没(有)?发货|未发货|不发货|缺货|没货|出库")),
    LabelingFunction("g_courier", "logistics", R(_COURIER), genres=frozenset({"review", "complaint"})),
    LabelingFunction("g_courier_fail", "logistics", R(_COURIER_FAILED), genres=frozenset({"chat", "summary"})),
    LabelingFunction("g_when", "logistics", R(_WHEN), unless=R(r"发货|出库|缺货|有货")),
    LabelingFunction("g_agent", "logistics", R(r"催促配送|加急配送|优先配送|丢失|(配送|物流|运输).{0,4}(延迟|异常|延误)|(站点|配送员).{0,6}(催|加急|核实)"), view="a", genres=CHAT),
    # summaries: the agent's one-line account of the case
    LabelingFunction("s_routine", "none", R(_SUMMARY_ROUTINE), genres=frozenset({"summary"}), unless=R(_SUMMARY_PROBLEM)),
    LabelingFunction("s_platform_fail", "platform", R(_SUMMARY_PLATFORM_FAIL), genres=frozenset({"summary"}),
                     unless=R(r"买错|拍错|忘记|忘了|不小心|填错|写错")),
    LabelingFunction("s_transit", "logistics", R(_SUMMARY_TRANSIT), genres=frozenset({"summary"}),
                     unless=R(r"缺货|没货|采购|发货|填错|写错|买错|取消")),
    LabelingFunction("s_stock", "merchant", R(_SUMMARY_STOCK), genres=frozenset({"summary"}),
                     unless=R(r"买错|拍错|填错|写错|不想要|不要了|改主意")),
    # the buyer's own paperwork and schedule, in summaries and in a chat's buyer lines
    LabelingFunction("c_own_change", "consumer", R(_OWN_CHANGE), genres=frozenset({"summary", "chat"}),
                     unless=R(r"缺货|没货|无货|不发货|没发货|未发货|质量|坏了|错发|发错|开错|给我开的")),
    # none: taste about a book's content, routine questions, bare praise
    LabelingFunction("n_book", "none", R(_BOOK_TASTE), genres=frozenset({"review"}),
                     unless=R(r"破|旧|脏|盗版|印刷|缺页|少页|错页|装订|纸张|纸质|物流|快递|送货|当当|京东|发货|买错")),
    LabelingFunction("n_routine", "none", R(_QUESTION), genres=frozenset({"chat", "summary"}), unless=R(_PROBLEM)),
    LabelingFunction("n_seller_side", "none", R(_SELLER_SIDE), view="a", genres=CHAT),
    LabelingFunction("n_invoice", "none", R(_INVOICE), genres=frozenset({"chat", "summary"})),
    LabelingFunction("n_praise", "none", R(r"^.{0,12}(好评|满意|不错|很好|挺好).{0,10}$"), genres=frozenset({"review"})),
)
# fmt: on
LF_NAMES: tuple[str, ...] = tuple(lf.name for lf in LABELING_FUNCTIONS)


def apply_lfs(texts: Sequence[str], lfs: Sequence[LabelingFunction] = LABELING_FUNCTIONS) -> np.ndarray:
    """The vote matrix (cases x LFs) over raw texts: a label index, or :data:`ABSTAIN`.

    Texts are cleaned first, exactly as the model sees them, so full-width input and masked numbers
    behave the same in every export.
    """
    return votes_of_cleaned(clean_texts(list(texts)), lfs)


def votes_of_cleaned(cleaned: Sequence[str], lfs: Sequence[LabelingFunction] = LABELING_FUNCTIONS) -> np.ndarray:
    """:func:`apply_lfs` over texts already cleaned, as a pipeline step after cleaning has them."""
    votes = np.full((len(cleaned), len(lfs)), ABSTAIN, dtype=np.int8)
    for i, text in enumerate(cleaned):
        views = views_of(text)
        for j, lf in enumerate(lfs):
            votes[i, j] = lf(views)
    return votes


def lf_table(
    votes: np.ndarray, labels: Sequence[str], lfs: Sequence[LabelingFunction] = LABELING_FUNCTIONS
) -> pd.DataFrame:
    """Per LF on labeled cases: how often it fires, how often another LF disagrees, how often it is right.

    Conflict is the share of its firings where some other LF votes a different label.
    """
    gold = np.array([_INDEX.get(label, ABSTAIN) for label in labels])
    rows = []
    for j, lf in enumerate(lfs):
        fired = votes[:, j] != ABSTAIN
        others = np.delete(votes[fired], j, axis=1)
        conflict = ((others != ABSTAIN) & (others != votes[fired, j][:, None])).any(axis=1)
        rows.append(
            {
                "lf": lf.name,
                "votes": lf.label,
                "fired": int(fired.sum()),
                "coverage": float(fired.mean()) if len(votes) else 0.0,
                "conflict_rate": float(conflict.mean()) if fired.any() else float("nan"),
                "accuracy": float((votes[fired, j] == gold[fired]).mean()) if fired.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def indicators(votes: np.ndarray) -> np.ndarray:
    """One 0/1 column per LF (fired or not): the label model's input."""
    return (votes != ABSTAIN).astype(np.float64)


@dataclass
class LabelModel:
    """A logistic regression over LF firings, learned on labeled cases.

    Beats a majority vote because it learns each LF's typical confusion (an agent mentioning 价保 is often
    a routine answer, not a platform failure) and the class priors of the labeled export.
    """

    C: float = 1.0

    def fit(self, votes: np.ndarray, labels: Sequence[str]) -> LabelModel:
        """Learn from the vote matrix of labeled cases and their labels."""
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        self.model_.fit(indicators(votes), np.asarray(labels))
        return self

    def predict(self, votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Label and confidence per case; a case where no LF fires gets an empty label and confidence 0."""
        proba = self.model_.predict_proba(indicators(votes))
        label = self.model_.classes_[proba.argmax(axis=1)].astype(object)
        confidence = proba.max(axis=1)
        silent = (votes == ABSTAIN).all(axis=1)
        label[silent], confidence[silent] = "", 0.0
        return label, confidence
