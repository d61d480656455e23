//! The signals that make a complaint major (R-CL-2, corpus SCHEMA): found in
//! the text, the channel and the history, each with the phrase that fired it.
//!
//! A trigger phrase (赔偿, 报警, 12315, 第三次 …) fires unless its context
//! rules it out:
//!
//! - **negation** by the customer: `我不要赔偿`, `我不想闹到消协`,
//!   `不找媒体也不报警`, `赔偿就算了`, `没受伤`;
//! - a **past, settled** matter mentioned in passing: `之前打过12315，后来解决了`;
//! - somebody else's matter: `他同事去法院起诉了`;
//! - a different sense of the word: `胎压报警灯`, `消防通道`, `理赔`, `跳楼价`.
//!
//! Conditionals and threats fire: `再不处理就打12315`, `如果…我就报警`,
//! `不然就去消协`, `不排除起诉`. A negation followed by a consequence
//! (`不想处理我就报警`) is a threat, not a negation.
//!
//! `repeat_fault` needs either a count (`第三次`, `修了三次`, `多次投诉`,
//! `反复`) or a repeated fault plus the customer's refusal to accept another
//! repair (`又坏了，不想再修了`): a second occurrence alone (`刚修完又坏了`)
//! does not fire, as SCHEMA asks for the customer not accepting it. The caller
//! may also say that the same customer complained about the same product
//! recently ([`History`]).

use kesu_domain::{Channel, Signal};
use serde::{Deserialize, Serialize};

use crate::amount;
use crate::matcher::Matcher;
use crate::normalize::{Normalized, is_clause_break, is_sentence_break};

/// Settings of the detection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalConfig {
    /// `large_loss` fires at a stated amount of at least this many yuan.
    pub large_loss_threshold: f64,
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig {
            large_loss_threshold: 5_000.0,
        }
    }
}

/// What the caller knows from the desk's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The same customer complained about the same product (vehicle, order …)
    /// within the configured window.
    pub same_product_recently: bool,
}

/// Where a signal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Text,
    Channel,
    History,
}

/// A character range of the complaint text, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A signal that fired, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalHit {
    pub signal: Signal,
    /// The words of the complaint that fired it (for the channel or history:
    /// the channel code or `same_product_recently`).
    pub phrase: String,
    /// Where the phrase is in the text (characters); none for channel and history.
    pub span: Option<Span>,
    pub source: Source,
}

/// Finds the signals of a complaint, at most one hit per signal, in the
/// order of [`Signal::ALL`].
pub fn detect(
    text: &str,
    channel: Channel,
    history: History,
    config: &SignalConfig,
) -> Vec<SignalHit> {
    let n = Normalized::new(text);
    let chars: Vec<char> = n.as_str().chars().collect();
    detect_normalized(text, &n, &chars, channel, history, config)
}

pub(crate) fn detect_normalized(
    original: &str,
    n: &Normalized,
    chars: &[char],
    channel: Channel,
    history: History,
    config: &SignalConfig,
) -> Vec<SignalHit> {
    let mut found: Vec<Option<SignalHit>> = vec![None; Signal::ALL.len()];
    let phrase_of =
        |s: usize, e: usize| -> String { original.chars().skip(s).take(e - s).collect() };
    let put = |found: &mut Vec<Option<SignalHit>>, signal: Signal, s: usize, e: usize| {
        let slot = &mut found[index(signal)];
        if slot.is_none() {
            *slot = Some(SignalHit {
                signal,
                phrase: phrase_of(s, e),
                span: Some(Span { start: s, end: e }),
                source: Source::Text,
            });
        }
    };

    // Phrase triggers.
    for f in RULES.matcher.find_all(n.as_str()) {
        let rule = &RULES.rules[*f.payload];
        let s = n.char_at_byte(f.start);
        let e = n.char_at_byte(f.end);
        if found[index(rule.signal)].is_some() && rule.signal != Signal::RepeatFault {
            continue;
        }
        if !rule.applies(chars, s, e) {
            continue;
        }
        match rule.signal {
            Signal::RepeatFault => {
                if found[index(Signal::RepeatFault)].is_none()
                    && (rule.strong || refuses_more(chars) || raised_again(chars, f.pattern, e))
                    && !ruled_out(chars, s, e, Signal::RepeatFault)
                {
                    put(&mut found, Signal::RepeatFault, s, e);
                }
            }
            signal => {
                if !ruled_out(chars, s, e, signal) {
                    put(&mut found, signal, s, e);
                }
            }
        }
    }

    // Counted repetitions: 第三次, 修了三次, 投诉了好几次.
    if found[index(Signal::RepeatFault)].is_none()
        && let Some((s, e)) = counted_repeat(chars)
    {
        put(&mut found, Signal::RepeatFault, s, e);
    }

    // Hashtags (#避雷#) are public posts.
    if found[index(Signal::Media)].is_none()
        && let Some((s, e)) = hashtag(chars)
    {
        put(&mut found, Signal::Media, s, e);
    }

    // Amounts at stake (a price per table, person … times their number).
    for a in amount::find_in_chars(chars) {
        let total = a.yuan * per_unit_count(chars, a.start).unwrap_or(1.0);
        if total >= config.large_loss_threshold && !not_at_stake(chars, a.start) {
            put(&mut found, Signal::LargeLoss, a.start, a.end);
            break;
        }
    }

    let channel_signal = match channel {
        Channel::Regulator => Some(Signal::Regulator),
        Channel::Media => Some(Signal::Media),
        _ => None,
    };
    if let Some(signal) = channel_signal
        && found[index(signal)].is_none()
    {
        found[index(signal)] = Some(SignalHit {
            signal,
            phrase: channel.as_str().to_owned(),
            span: None,
            source: Source::Channel,
        });
    }
    if history.same_product_recently && found[index(Signal::RepeatFault)].is_none() {
        found[index(Signal::RepeatFault)] = Some(SignalHit {
            signal: Signal::RepeatFault,
            phrase: "same_product_recently".to_owned(),
            span: None,
            source: Source::History,
        });
    }
    found.into_iter().flatten().collect()
}

fn index(signal: Signal) -> usize {
    Signal::ALL.iter().position(|s| *s == signal).unwrap_or(0)
}

/// One trigger phrase.
struct Rule {
    signal: Signal,
    /// For repeat_fault: fires alone (反复) rather than only with a refusal (又坏了).
    strong: bool,
    /// Does not fire right after one of these (误|报警, 理|赔).
    not_before: &'static [&'static str],
    /// Does not fire right before one of these (报警|灯, 赔|率).
    not_after: &'static [&'static str],
    /// Fires only with one of these in the clause before it (方向盘…锁死).
    needs_before: &'static [&'static str],
    /// Fires only with one of these in the clause after it (承担…费用).
    needs_after: &'static [&'static str],
    /// Does not fire with one of these in the clause before it (补缴…违约金).
    not_in_clause: &'static [&'static str],
    /// Fires only with one of these in the clause before or after it
    /// (前两次…都没修好, not 前两次来都挺好).
    needs_near: &'static [&'static str],
    /// Fires only with one of these in its sentence (这几天租车的钱，希望贵店给个交代).
    needs_sentence: &'static [&'static str],
}

impl Rule {
    fn applies(&self, chars: &[char], s: usize, e: usize) -> bool {
        let before = text_of(&chars[s.saturating_sub(4)..s]);
        if self.not_before.iter().any(|w| before.ends_with(w)) {
            return false;
        }
        let after = text_of(&chars[e..(e + 4).min(chars.len())]);
        if self.not_after.iter().any(|w| after.starts_with(w)) {
            return false;
        }
        if !self.needs_before.is_empty() {
            let clause = text_of(clause_before(chars, s, 10));
            if !self.needs_before.iter().any(|w| clause.contains(w)) {
                return false;
            }
        }
        if !self.not_in_clause.is_empty() {
            let clause = text_of(clause_before(chars, s, 12));
            if self.not_in_clause.iter().any(|w| clause.contains(w)) {
                return false;
            }
        }
        if !self.needs_after.is_empty() {
            let clause = text_of(clause_after(chars, e, 10));
            if !self.needs_after.iter().any(|w| clause.contains(w)) {
                return false;
            }
        }
        if !self.needs_sentence.is_empty() {
            let (ss, se) = sentence(chars, s, e, 40);
            let sent = text_of(&chars[ss..se]);
            if !self.needs_sentence.iter().any(|w| sent.contains(w)) {
                return false;
            }
        }
        if !self.needs_near.is_empty() {
            let near = text_of(clause_before(chars, s, 12)) + &text_of(clause_after(chars, e, 12));
            if !self.needs_near.iter().any(|w| near.contains(w)) {
                return false;
            }
        }
        // Numbers (110, 12315) must stand alone.
        if chars[s].is_ascii_digit()
            && (s > 0 && chars[s - 1].is_ascii_alphanumeric()
                || chars.get(e).is_some_and(char::is_ascii_alphanumeric))
        {
            return false;
        }
        true
    }
}

struct Rules {
    rules: Vec<Rule>,
    matcher: Matcher<usize>,
}

static RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(build_rules);

struct RuleSpec {
    signal: Signal,
    words: &'static [&'static str],
    strong: bool,
    not_before: &'static [&'static str],
    not_after: &'static [&'static str],
    needs_before: &'static [&'static str],
    needs_after: &'static [&'static str],
    not_in_clause: &'static [&'static str],
    needs_near: &'static [&'static str],
    needs_sentence: &'static [&'static str],
}

const fn spec(signal: Signal, words: &'static [&'static str]) -> RuleSpec {
    RuleSpec {
        signal,
        words,
        strong: true,
        not_before: &[],
        not_after: &[],
        needs_before: &[],
        needs_after: &[],
        not_in_clause: &[],
        needs_near: &[],
        needs_sentence: &[],
    }
}

/// Before a compensation word: the seller's promise quoted (主播还说假一赔十),
/// not the customer's demand.
#[rustfmt::skip]
const PROMISED: &[&str] = &["承诺", "保证", "宣传", "号称", "主播", "写着", "标着", "还说", "广告"];

/// Parts of the body, after a blow (撞到鼻子).
#[rustfmt::skip]
const BODY: &[&str] = &[
    "头", "脸", "鼻", "眼", "嘴", "牙", "耳", "脖", "肩", "胳膊", "手", "腿", "膝", "脚", "腰", "背", "胸", "肚子", "额", "下巴", "后脑",
];

#[rustfmt::skip]
const SPECS: &[RuleSpec] = &[
    // --- compensation: beyond a plain refund, exchange or repair.
    RuleSpec {
        not_before: &["理", "包", "赔不"],
        not_after: &["率", "本", "了", "笑", "付了", "不赔"],
        ..spec(Signal::Compensation, &["赔", "赔付", "赔钱"])
    },
    RuleSpec {
        not_after: &["了"],
        ..spec(
            Signal::Compensation,
            &[
                "赔偿", "补偿", "赔我", "赔给", "索赔", "精神损失", "精神损害", "误工费", "误工损失", "误工钱", "耽误的工钱", "营养费", "护理费",
                "医药费", "医疗费", "治疗费", "住院费", "损失费", "弥补损失", "送两次保养", "送一次保养", "送保养", "免费保养作为", "作为补偿", "双倍返还",
                "加倍赔", "退一赔", "要求报销", "给我报销", "帮我报销", "负责报销", "损失由你们", "你们承担", "由你们出", "你们来出", "你们出钱",
                "你们掏钱", "抚慰金", "慰问金", "负全责",
            ],
        )
    },
    RuleSpec {
        not_before: &["算", "扣", "收", "交", "付", "算作", "当", "笔", "卡"],
        not_after: &["有异议", "减免", "太高", "不合理", "怎么算"],
        not_in_clause: &["缴", "交", "收", "扣", "付", "补"],
        ..spec(Signal::Compensation, &["违约金"])
    },
    RuleSpec {
        not_before: &["交", "收", "缴", "景区", "元", "额外", "另收", "加收"],
        ..spec(Signal::Compensation, &["交通费", "打车费", "检查费", "拖车费"])
    },
    RuleSpec {
        needs_before: &["要求", "并", "再"],
        ..spec(Signal::Compensation, &["延保"])
    },
    RuleSpec {
        needs_after: &["费", "损失", "钱"],
        ..spec(Signal::Compensation, &["承担", "负担"])
    },
    // 要求餐厅承担 (after the costs were named).
    RuleSpec {
        needs_before: &["要求", "让", "请", "应该", "应当", "必须", "由"],
        not_after: &["责任", "后果"],
        ..spec(Signal::Compensation, &["承担"])
    },
    // Costs the complaint caused, claimed: 这几天租车的钱，希望贵店给个交代.
    RuleSpec {
        needs_sentence: &[
            "要求", "希望", "给个交代", "给个说法", "负责", "承担", "报销", "赔", "补", "你们出", "得出", "谁出", "由你们", "给我",
        ],
        ..spec(
            Signal::Compensation,
            &[
                "租车费", "租车的钱", "租车钱", "打车的钱", "打车钱", "路费", "来回的车费", "耽误的时间", "误工", "请假扣的", "扣的工资", "工资损失",
                "清洗费", "干洗费",
            ],
        )
    },
    // Goods or services as amends: 再送点东西表示歉意, 送两张代金券.
    RuleSpec {
        needs_before: &["送", "给", "赔", "补", "发", "要"],
        ..spec(Signal::Compensation, &["代金券", "抵用券", "补偿券", "优惠券作为"])
    },
    spec(
        Signal::Compensation,
        &["再送点", "再送些", "送点东西", "送点什么", "表示一下诚意", "作为赔礼", "当赔礼", "当补偿", "做补偿"],
    ),
    // 减免这期间的电梯费: compensation in services, not 减免违约金.
    RuleSpec {
        needs_after: &[
            "物业费", "电梯费", "管理费", "服务费", "房租", "租金", "月租", "学费", "停车费", "会员费", "课时费", "餐费", "一个月", "半年",
            "一年", "几个月",
        ],
        ..spec(Signal::Compensation, &["减免", "免除", "免掉", "免收", "免一个月", "免半年"])
    },
    RuleSpec {
        needs_before: &["免", "减"],
        ..spec(Signal::Compensation, &["物业费"])
    },
    // 这个损失你们得负责 / 损失由谁承担.
    RuleSpec {
        not_before: &["没有", "没", "无"],
        needs_after: &[
            "负责", "承担", "买单", "谁出", "你们出", "算谁的", "补上", "弥补", "补给", "补回", "赔", "退给我", "给我补", "咋算", "怎么算", "谁管",
        ],
        ..spec(Signal::Compensation, &["损失"])
    },
    // --- safety: someone hurt or ill, or a real hazard.
    RuleSpec {
        not_before: &["植发", "整形", "美容", "宠物", "气", "社区"],
        not_after: &["体检", "上班", "陪", "探望", "看望", "开证明", "工作", "实习", "期间"],
        ..spec(
            Signal::Safety,
            &[
                "受伤", "受了伤", "伤到", "伤着", "摔伤", "摔倒", "摔了一跤", "摔下", "跌倒", "滑倒", "绊倒", "烫伤", "烫到", "烧伤", "割伤",
                "划伤", "划破", "刮破", "刮伤", "流了血", "出了血", "差点塞", "塞嘴里", "吞进", "急刹车", "危险驾驶", "边开车边打电话", "一边开车一边",
                "开车打电话", "疲劳驾驶", "酒驾", "擦伤", "扭伤", "砸伤", "砸中", "砸到", "扎伤", "扎到", "崴了脚", "崴脚", "崴到", "扭到", "肿得",
                "肿了", "刺伤", "碰伤", "摔到", "磕到", "伤口", "脑震荡", "缝合", "破伤风", "拉稀", "闹肚子", "胃肠炎", "肠胃炎", "噎住",
                "呛到", "溺水", "压伤", "倒塌", "塌了", "爆裂", "炸裂", "电击", "电到", "烧到", "拍片", "打了破伤风", "夹伤", "夹到手", "夹到脚",
                "夹到腿", "夹到了手", "夹到孩子", "被夹到", "咬伤", "被狗咬", "骨折", "骨裂", "缝针", "缝了", "流血", "淤青", "磕青", "磕破", "红肿",
                "红疹", "起疹", "疹子", "皮炎", "呕吐", "上吐下泻", "腹泻", "拉肚子", "闹肚子", "肚子疼", "肚子痛", "腹痛", "胃疼", "胃痛",
                "头晕", "晕倒", "昏迷", "休克", "窒息", "卡住喉咙", "卡在喉咙", "卡喉咙", "鱼刺卡", "中毒", "住院", "急诊", "送医", "就医", "去医院",
                "到医院", "送医院", "进医院", "去了医院", "医院检查", "医院诊断", "医院说", "医院看", "医院处理", "医院拍", "医院缝", "打120",
                "叫了120", "输液", "挂水", "吊水", "硌掉", "崩掉", "硌坏", "误食", "误吞", "吞下", "触电", "电了一下", "漏电", "起火", "电线裸露",
                "电线都露", "电线露", "出了事谁负责", "出事了谁负责", "出事故", "青了", "被夹", "被门夹", "刹车发软", "刹车变软", "刹车突然变", "刹车踩不下去",
                "差点追尾", "车辆失控", "车子失控", "车失控", "突然失控", "制动系统故障", "刹车故障", "刹车很费劲", "踩不动", "起了一个大包", "起了个大包",
                "撞伤", "头撞到", "撞到头", "磕到头", "磕伤", "失火", "火灾", "冒烟", "焦糊味", "烧焦", "爆炸", "差点炸", "自燃", "燃气味", "煤气味",
                "燃气泄漏", "煤气泄漏", "天然气泄漏", "闻到燃气", "闻到煤气", "一氧化碳", "刹车失灵", "刹车失效", "刹不住", "刹车不灵", "助力没了", "助力突然",
                "安全气囊", "气囊没", "断轴", "爆胎", "突然加速", "自己加速", "暴冲", "往前窜", "往后窜", "窜了一下", "行驶中熄火", "高速上熄火", "突然熄火",
                "螺丝松", "掉了一颗", "车轮脱落", "轮子掉", "差点出事", "差点出车祸", "差点撞", "差点蹭", "差点摔", "差点被砸", "差点被撞", "差点被烫",
                "差点被夹", "万幸", "安全隐患", "隐患", "堵塞消防通道", "堵消防通道", "占用消防通道", "消防通道被", "消防通道堵", "人身安全", "生命安全",
                "困在电梯", "电梯困人", "被困在", "困在", "坠落", "高空坠物", "医药费", "医疗费",
            ],
        )
    },
    RuleSpec {
        not_before: &["能", "才", "不", "难", "打", "没"],
        ..spec(Signal::Safety, &["着火"])
    },
    // 起了水泡 (a blister), not 被水泡了 (soaked).
    RuleSpec {
        not_before: &["被", "给", "让", "用", "浸"],
        not_after: &["了", "坏", "起", "过", "着", "烂", "湿", "发", "透", "变", "得", "面"],
        ..spec(Signal::Safety, &["水泡"])
    },
    RuleSpec {
        not_after: &["池", "作业", "话", "操作"],
        ..spec(
            Signal::Safety,
            &[
                "撞倒", "磕了个包", "磕了一个包", "碰了个包", "撞了个包", "肿了个包", "出事谁负责", "出了事谁", "可能出事", "会出事", "要出事", "迟早出事", "出大事", "电线垂", "电线掉", "带电", "麻了一下",
                "被麻", "电麻", "回火", "划了一道", "划了几道", "划了个口", "划开", "划出血", "破了皮", "破皮",
                "擦破", "蹭破", "抓伤", "抓破", "咬破", "困人", "不敢再开", "不敢开了", "都不敢开", "不敢开车",
            ],
        )
    },
    RuleSpec {
        not_after: &["罚", "违章", "扣分", "记录", "拍照", "被拍"],
        ..spec(Signal::Safety, &["超速", "飙车", "闯红灯"])
    },
    RuleSpec {
        needs_before: &["方向盘", "方向", "转向", "刹车"],
        ..spec(Signal::Safety, &["打不动", "转不动", "打不了", "踩不动", "卡住"])
    },
    RuleSpec {
        needs_before: &["电梯", "里面", "被"],
        ..spec(Signal::Safety, &["困了"])
    },
    RuleSpec {
        needs_before: &["吃", "喝"],
        ..spec(Signal::Safety, &["发烧", "发热", "高烧"])
    },
    // 被玻璃碴划了, not 吃出一块玻璃碴，没受伤 (foreign matter).
    RuleSpec {
        needs_sentence: &["划", "扎", "割", "流血", "出血", "伤口", "缝"],
        ..spec(Signal::Safety, &["玻璃碴", "玻璃渣"])
    },
    // 吃完过敏了, not 她孩子对坚果过敏 (a condition, asked about).
    RuleSpec {
        not_before: &["宠物", "狗", "猫"],
        not_in_clause: &["对", "体质"],
        not_after: &["体质", "原"],
        ..spec(Signal::Safety, &["过敏"])
    },
    // 撞到鼻子, 碰到头: a blow to the body.
    RuleSpec {
        needs_after: BODY,
        ..spec(Signal::Safety, &["撞到", "撞在", "打到", "戳到", "划到", "刮到", "撞了", "砸在", "掉在", "弹到", "烧到"])
    },
    RuleSpec {
        needs_before: &["电池", "充电宝", "手机", "轮胎", "胎", "锅", "瓶", "灯", "屏", "热水器", "电瓶", "压力"],
        ..spec(Signal::Safety, &["爆了", "炸了", "爆开"])
    },
    spec(
        Signal::Safety,
        &[
            "乌青", "青紫", "发青", "肿起来", "肿起", "鼓起一个包", "鼻血", "出血了", "血流", "头破", "昏过去", "晕过去", "抽搐", "呼吸困难", "喘不上气",
            "送进医院", "送到医院", "幸亏当时没人", "幸好当时没人", "幸亏没人", "幸好没人", "还好没人", "还好当时没人", "好在没人", "还好人没事",
            "好在人没事", "幸好人没事", "幸亏人没事", "玻璃掉下", "窗户掉下", "掉下来砸", "烧了个洞", "烧了一个洞", "烧出一个洞", "烧出个洞", "车要飘", "发飘",
            "方向盘抖", "方向盘发抖", "差点没命", "烫红", "烫起泡", "被烫", "割破", "扎破", "刺到", "碰破", "牙磕掉", "磕掉了牙", "牙崩了",
            "拉了一晚上", "拉了一夜", "吐了一晚上", "吐了一夜", "跑厕所", "焦味", "爆燃", "电线老化", "裸露的电线", "没有护栏", "车门自己打开",
            "车门突然打开", "溃烂", "烤焦", "擦掉一大块皮", "擦掉一块皮", "蹭掉一块皮", "甩了下来", "甩下来", "被甩下", "井盖不见", "没有井盖",
            "井盖丢", "井盖被偷", "井盖坏了", "井盖破", "掉进井", "起了疙瘩", "起疙瘩", "红疙瘩", "起了很多疙瘩", "喘气都费劲", "喘不过气",
            "喘不上来", "瘀伤", "瘀青", "淤伤", "淤血", "瘀血", "烫了个泡", "烫了一个泡", "烫出泡", "烫起了泡", "烫出了泡",
        ],
    ),
    RuleSpec {
        needs_before: &["栏杆", "护栏", "扶手", "螺丝", "轮胎", "车轮", "吊灯", "吊顶", "广告牌", "招牌", "座椅", "脚手架"],
        ..spec(Signal::Safety, &["松动", "松了", "晃动", "摇摇欲坠", "要掉"])
    },
    RuleSpec {
        needs_near: &["路口", "红灯", "行驶", "开着", "路上", "高速", "过程中", "开车", "起步", "转弯", "倒车", "上坡", "下坡"],
        ..spec(Signal::Safety, &["熄火"])
    },
    RuleSpec {
        not_before: &["心", "头", "蛋", "肉"],
        needs_before: &[
            "肚子", "胃", "身体", "喉咙", "嗓子", "皮肤", "眼睛", "吃完", "喝完", "吃了", "喝了", "涂了", "抹了", "膝盖", "腿", "脚", "手", "胳膊",
            "腰", "背", "脖子", "肩", "鼻子", "牙", "嘴", "脸", "走路都", "伤口",
        ],
        ..spec(Signal::Safety, &["不舒服", "难受", "发痒", "发麻", "疼", "痛"])
    },
    RuleSpec {
        needs_before: &["刹车", "制动", "脚刹", "手刹"],
        ..spec(Signal::Safety, &["发软", "变软", "软了", "不灵", "踩到底", "踩空", "没反应", "不起作用"])
    },
    // 差点把眉毛烧了, 险些撞上: a near miss, not 差点迟到.
    RuleSpec {
        needs_after: &[
            "烧", "炸", "砸", "撞", "摔", "夹", "烫", "电到", "伤", "噎", "淹", "掉下", "出事", "出人命", "车祸", "翻", "滑倒", "跌", "割",
            "划", "卡住", "追尾", "失控", "冲出", "掉进", "电死", "压到", "碾",
        ],
        ..spec(Signal::Safety, &["差点", "险些", "差一点"])
    },
    RuleSpec {
        needs_before: &["燃气", "煤气", "天然气", "气罐", "调压", "液化气", "管道"],
        ..spec(Signal::Safety, &["漏气", "嘶嘶"])
    },
    RuleSpec {
        not_after: &["动", "瓶", "车", "话", "脑", "梯"],
        ..spec(Signal::Safety, &["被电"])
    },
    RuleSpec {
        not_after: &["塞"],
        ..spec(Signal::Safety, &["火花"])
    },
    RuleSpec {
        needs_before: &["划", "割", "刮", "伤", "嘴", "手", "脸", "腿", "脚", "头", "额", "胳膊"],
        ..spec(Signal::Safety, &["口子"])
    },
    RuleSpec {
        not_before: &["大", "放"],
        ..spec(Signal::Safety, &["出血", "见血"])
    },
    RuleSpec {
        not_before: &["恶心", "想", "差点", "恶心得"],
        ..spec(Signal::Safety, &["吐了"])
    },
    RuleSpec {
        needs_before: &["方向盘", "转向", "刹车", "档", "车门"],
        ..spec(Signal::Safety, &["锁死", "卡死"])
    },
    RuleSpec {
        needs_before: &[
            "刹车", "方向", "转向", "制动", "油门", "电梯", "气囊", "安全带",
        ],
        ..spec(Signal::Safety, &["失灵", "失效"])
    },
    // --- media: exposure happened or threatened.
    RuleSpec {
        not_before: &["看", "新闻里", "拍照", "自动", "过度", "相机", "照片", "长", "短", "双重"],
        not_after: &["里说", "上说", "不准", "过度", "补偿", "时间", "度", "不足", "参数", "模式"],
        ..spec(
            Signal::Media,
            &[
                "记者", "电视台", "媒体", "曝光", "报社", "晚报", "日报", "都市报", "新闻热线", "新闻客户端", "栏目", "发微博", "发个微博",
                "发到微博", "上微博", "微博上曝光", "发抖音", "发个抖音", "发到抖音", "上抖音", "发到了抖音", "发了抖音", "发了个抖音", "传到抖音", "发到了网上",
                "发到了微博", "发了微博", "发了条微博", "发了个微博", "发到了小红书", "发了小红书", "大家看看", "给大家提个醒", "提醒大家", "发出来给大家",
                "发出来让大家", "发快手", "发小红书", "发个小红书", "发到小红书", "发到网上", "发网上", "网上曝光", "挂出来", "挂到网上", "挂网上", "发帖",
                "让大家看看", "让大家评评理", "让大家评理", "大家评评理", "避雷", "避避雷", "大家小心", "大家别去", "大家别买", "帮忙扩散", "大家扩散", "请扩散",
                "求扩散", "转发扩散", "扩散一下", "扩散出去", "315晚会", "黑猫投诉",
                "发公众号", "发到朋友圈曝光", "直播曝光", "发到大众点评", "发大众点评", "大众点评上曝光", "发到点评", "发到知乎", "发到b站",
                "发到视频号", "发视频号", "发到头条", "发头条", "让大家都看看", "让大家都知道", "让所有人都知道", "让更多人知道", "让全网", "让网友",
                "发到网络上", "网上曝光", "公之于众", "找媒体", "找电视台", "找记者", "开直播", "直播给大家看", "现在就直播", "上新闻", "上电视",
                "上头条",
            ],
        )
    },
    // 让你们上热搜, not 上过热搜的网红零食.
    RuleSpec {
        not_before: &["上过"],
        not_after: &["的"],
        ..spec(Signal::Media, &["热搜"])
    },
    // --- legal.
    RuleSpec {
        not_before: &["做", "当", "是"],
        not_after: &["朋友", "的工作", "事务所工作"],
        ..spec(Signal::Legal, &["律师"])
    },
    RuleSpec {
        not_after: &["街", "路", "大街", "巷", "附近", "旁边", "对面", "门口", "站", "小区"],
        ..spec(Signal::Legal, &["法院"])
    },
    spec(
        Signal::Legal,
        &[
            "起诉", "诉讼", "打官司", "告你们", "告到底", "上法庭", "法庭", "法律途径", "法律手段", "法律程序", "走法律", "仲裁",
            "追究法律责任", "司法", "对簿公堂", "告上法庭", "告到法院", "告你", "法院见", "法律责任", "保留追究", "追究责任的权利", "法庭见", "诉诸法律",
            "依法追究", "律师函", "民事诉讼", "传票", "上诉",
        ],
    ),
    // --- police.
    RuleSpec {
        not_before: &[
            "误", "胎压", "雷达", "故障", "自动", "烟雾", "燃气", "烟感", "仪表", "一直在", "防盗", "车辆", "门", "器", "铃", "系统", "本事你",
            "你去", "让你", "叫你",
        ],
        not_after: &["灯", "器", "声", "提示", "系统", "装置", "了吧", "响"],
        ..spec(
            Signal::Police,
            &[
                "报警", "报了警", "报的警", "报过警", "报案", "警察", "民警", "警方", "打了110", "打110", "报110", "交警", "经侦", "网警", "反诈中心",
            ],
        )
    },
    RuleSpec {
        not_after: &["开", "办", "证明", "户籍", "落户", "迁"],
        ..spec(Signal::Police, &["派出所", "公安"])
    },
    RuleSpec {
        not_after: &[
            "平", "号", "元", "块", "米", "万", "公里", "斤", "克", "分", "室", "栋", "楼", "路", "国道", "kg", "cm", "次",
            "天", "个", "年", "多",
        ],
        ..spec(Signal::Police, &["110"])
    },
    // --- consumer association.
    spec(
        Signal::ConsumerAssoc,
        &[
            "消协", "消费者协会", "消保委", "消委会", "消费者权益保护委员会", "消保协会", "消费者权益保护协会", "消费者权益协会", "消权会",
        ],
    ),
    // --- regulator or other government body.
    RuleSpec {
        not_after: &["银行", "道", "通道", "栓", "补贴", "补助"],
        ..spec(
            Signal::Regulator,
            &[
                "12315", "12345", "12331", "12365", "12358", "12378", "12320", "12328", "12348", "12366",
                "12369", "12333", "市场监管", "市场监督", "监管局", "监管部门", "监管机构", "金融监管", "银保监", "保监", "银监", "证监", "工商局",
                "工商部门", "工商", "人民银行", "央行", "通信管理局", "通管局", "工信部", "电信用户申诉", "信访", "上访", "市长热线", "市民热线", "政务热线",
                "便民热线", "教育局", "教委", "住建局", "住建委", "房管局", "房管所", "物价局", "发改委", "文旅局", "旅游局", "文化和旅游", "交通局",
                "交通运输局", "运管", "卫健委", "卫生局", "疾控", "食药监", "药监局", "质监", "环保局", "生态环境局", "城管", "消防部门", "消防局",
                "消防大队", "应急管理", "邮政管理局", "缺陷产品", "商务局", "民航局", "人社局", "劳动监察", "税务局",
                "政府部门", "街道办", "监督管理", "市场局", "市监局", "12300", "12321", "纪委", "市长信箱", "政府热线", "规划局", "卫生监督", "网信办", "住建部门", "城管部门", "环保部门", "教育部门", "卫生部门", "卫健部门", "交通部门", "文旅部门",
                "旅游部门", "物价部门", "工商部门", "税务部门", "房管部门", "质监部门", "食药监部门", "价格监督", "找政府", "去政府", "向政府", "到政府", "告到政府", "区政府", "市政府", "县政府", "镇政府",
                "人民政府",
            ],
        )
    },
    // 有关部门: a body outside the business, not 贵司相关部门.
    RuleSpec {
        not_before: &[
            "贵司", "贵行", "贵店", "公司", "你们", "店里", "行里", "内部", "我行", "我司", "本行", "本店", "贵单位", "你们的", "平台", "厂家",
            "物业", "学校", "机构",
        ],
        ..spec(Signal::Regulator, &["有关部门", "相关部门", "主管部门"])
    },
    // --- extreme behaviour threatened.
    RuleSpec {
        not_before: &["气", "不是", "不会"],
        not_after: &["价", "楼盘"],
        ..spec(
            Signal::Extreme,
            &[
                "跳楼", "跳河", "自杀", "轻生", "不想活", "活不下去", "寻死", "以死", "死给你们看", "死在你们", "同归于尽", "一起死", "跟你们拼了",
                "和你们拼了", "拼了这条命", "豁出去", "喝农药", "喝药", "带汽油", "浇汽油", "泼汽油", "拿汽油", "放火", "烧了你们", "炸了你们", "砸了你们",
                "砸店", "砸东西", "砸烂", "打砸", "拉横幅", "挂横幅", "打横幅", "举横幅", "拉条幅", "堵门", "堵在门口", "堵你们", "堵店", "围堵",
                "静坐", "坐着不走", "赖着不走", "就不走了", "我不走了", "坐在这不走", "铺盖", "打地铺", "门口坐着", "天天来闹", "来闹", "去闹", "闹事",
                "大闹", "做不成生意", "别想做生意", "鱼死网破", "收拾你们", "弄死", "杀了你", "杀人", "砍人", "捅人", "捅死", "血溅", "跳下去",
                "活着也没意思", "活着没意思", "没法活", "里不走", "这不走", "堵在店门口", "堵在你们", "堵门口", "堵到门口", "不解决不走", "不给说法不走",
                "拿着刀", "拿刀", "带刀", "动刀", "办公室住", "营业厅住", "店里住", "住到你们", "躺在你们", "躺在门口", "跪在", "睡在你们", "带人来",
                "找人来砸", "找人来闹", "找人来收拾", "叫人来", "让你们好看", "后果自负", "不活了", "寻短见", "想不开", "出了人命", "出人命", "闹到底", "天天来找你们", "每天来闹",
                "堵路", "全砸了", "都砸了", "砸个稀巴烂", "带几个兄弟", "叫几个兄弟", "带几个人过去", "带几个人过来", "拉个横幅", "拉条横幅", "挂个横幅", "会干出什么事", "干出什么事来", "做出什么事来", "活着太累", "叫几个人过去", "找几个人过去", "过去砸了", "过来砸了", "上门砸", "去砸了你们", "带兄弟", "找人过来", "带人过来", "跟你们拼命", "一头撞死", "撞死在你们", "挂条幅", "下跪", "绝食", "找人收拾", "要你们好看", "给你们点颜色", "大门堵了", "大门给堵了", "把门堵了", "去堵门", "堵物业", "堵大门", "堵营业厅", "堵售楼处", "堵校门", "睡在营业厅",
                "睡在店里", "睡在大厅", "泼油漆", "泼粪", "烧了你们", "一把火", "跟他动手", "跟你们动手", "我就动手", "我要动手", "我会动手", "揍他", "揍你", "打死你", "弄死你", "叫几个人来", "找几个人来", "叫人来砸", "带着被子", "带着铺盖", "去你们营业厅住", "在你们店里住", "住你们店里",
            ],
        )
    },
    RuleSpec {
        needs_before: &["找"],
        not_before: &["收银", "结"],
        ..spec(Signal::Extreme, &["算账"])
    },
    RuleSpec {
        needs_before: &["睡", "坐", "住", "躺", "赖", "待", "在这", "在你们"],
        ..spec(Signal::Extreme, &["不走了"])
    },
    RuleSpec {
        not_before: &["被", "给砸"],
        ..spec(Signal::Extreme, &["把你们店砸了", "把店砸了", "把你们的店砸了", "把柜台砸了"])
    },
    RuleSpec {
        not_before: &["管", "道", "水", "桶", "所", "路", "车", "一直"],
        ..spec(Signal::Extreme, &["堵着"])
    },
    // 举牌 in protest, not the driver holding a name sign at arrivals.
    RuleSpec {
        not_in_clause: &["司机", "接机", "接站", "接人", "导游", "出口"],
        ..spec(Signal::Extreme, &["举牌", "举牌子"])
    },
    // 就把你们卸货口堵了 / 把经理的车堵在车库出口: a threat to block, not a
    // clogged drain or a jam.
    RuleSpec {
        needs_before: &["把"],
        not_in_clause: &[
            "下水", "管道", "管子", "马桶", "水池", "地漏", "头发", "垃圾", "鼻", "油烟", "排水", "被", "堵车", "车流", "雪", "树",
        ],
        needs_sentence: &["就", "要", "会", "别想", "看你们"],
        ..spec(Signal::Extreme, &["堵了", "堵在", "给堵了"])
    },
    // --- repeat_fault, strong cues.
    RuleSpec {
        not_after: &[
            "确认", "强调", "核对", "说明", "叮嘱", "提醒", "对比", "比较", "看了", "检查", "跟", "和", "对", "向", "说", "讲", "交代", "告诉",
            "问", "催", "看", "试", "听", "考虑", "思考", "想", "沟通",
        ],
        ..spec(
            Signal::RepeatFault,
            &[
                "反复", "屡次", "三番五次", "一而再", "再而三", "老毛病", "问题依旧", "依然没有解决", "还是没有解决", "一直没修好", "始终没修好", "总是修不好",
                "一直修不好", "始终修不好", "再次投诉", "重复投诉", "又来投诉", "二次投诉", "第二次投诉", "又投诉", "投诉了好几次", "投诉过好几次", "反映了好几次",
                "修了坏", "坏了修", "多少次了", "三番两次", "屡修屡坏", "修了又坏", "坏了修修了坏", "一而再再而三", "一次又一次", "又又又", "又补过一次", "又修过一次", "又修了一次", "又补了一次", "又返修", "再次返修", "第二次返修",
            ],
        )
    },
    // Counts that need the fault or the complaint near them (前两次都没修好,
    // not 前两次来都挺好).
    RuleSpec {
        needs_near: &[
            "修", "坏", "投诉", "反映", "报修", "故障", "问题", "漏", "没解决", "没处理", "敷衍", "一样", "还是", "又", "毛病", "没用", "无果",
            "不了了之", "没人管", "没下文",
        ],
        ..spec(Signal::RepeatFault, &["上两次", "前两次", "不止一次", "好多次", "好几次了"])
    },
    // --- repeat_fault, weak cues: only with a refusal to accept more repairs.
    RuleSpec {
        strong: false,
        ..spec(
            Signal::RepeatFault,
            &[
                "又坏了", "又坏", "又出现", "又漏", "又响", "又开始", "又犯", "又不行", "又出问题", "又出毛病", "第二次", "两次", "还是老样子",
                "还是不行", "上次投诉", "之前投诉", "投诉过", "又来了", "又渗", "每次都说", "又滴", "又不好用", "同样的问题", "同一个问题", "老问题",
                "还是那个问题", "又一次", "再一次", "再次出现", "一直没解决", "又犯病",
            ],
        )
    },
];

fn build_rules() -> Rules {
    let mut rules = Vec::new();
    let mut patterns = Vec::new();
    for s in SPECS {
        let i = rules.len();
        rules.push(Rule {
            signal: s.signal,
            strong: s.strong,
            not_before: s.not_before,
            not_after: s.not_after,
            needs_before: s.needs_before,
            needs_after: s.needs_after,
            not_in_clause: s.not_in_clause,
            needs_near: s.needs_near,
            needs_sentence: s.needs_sentence,
        });
        for w in s.words {
            patterns.push(((*w).to_owned(), i));
        }
    }
    Rules {
        rules,
        matcher: Matcher::new(patterns),
    }
}

/// Words of a customer ruling a step out (`我不想闹到消协`), anywhere in the
/// clause before the trigger.
#[rustfmt::skip]
const NEGATION_BEFORE: &[&str] = &[
    "不要", "不需要", "不用", "不想", "不会", "不打算", "不准备", "不求", "不图", "不为", "无意", "无需", "没想", "没打算", "没必要", "不必", "不至于",
    "不考虑", "用不着", "犯不着", "不愿", "不是要", "不是为了", "没要", "放弃", "没有要", "不稀罕", "不是来", "不是想", "本来想", "本想", "原本想", "原来想",
    "差点就",
];

/// Negations of a fact (`没报警`, `也不找媒体`): only right before the trigger.
#[rustfmt::skip]
const NEGATION_CLOSE: &[&str] = &[
    "并不", "并没", "也不", "都不", "从没", "从来没", "还没", "没有", "没", "未", "别", "不去", "不找", "不打", "不报", "不发", "不上", "并未",
];

/// After a negation, these turn it into a threat (`不想处理我就报警`).
#[rustfmt::skip]
const CONSEQUENCE: &[&str] = &[
    "就", "便", "只能", "只好", "只有", "那我", "直接", "必须", "马上", "立刻", "逼", "的话", "否则", "不然", "再", "还", "才",
];

/// Words after the trigger ruling it out (`赔偿就算了`).
#[rustfmt::skip]
const NEGATION_AFTER: &[&str] = &[
    "就不用了", "不用了", "就算了", "算了", "不要了", "不需要", "不必了", "就不必", "没必要", "倒不至于", "不至于", "不考虑", "就免了", "免了", "不提了",
    "不追究", "我不要", "都不要", "也不要", "我不需要", "就不要", "不打算", "暂时不", "先不", "我们不要", "不强求", "无所谓",
];

#[rustfmt::skip]
const PAST: &[&str] = &[
    "之前", "以前", "上次", "上回", "去年", "前年", "曾经", "那次", "早年", "以往", "上周", "上个月", "上月", "前几年",
];

#[rustfmt::skip]
const SETTLED: &[&str] = &[
    "解决了", "已解决", "处理好了", "已经处理", "已处理", "处理完了", "和解", "撤诉", "撤了", "满意", "接受了", "不提", "过去了", "协商好", "了结", "结案",
    "赔了", "赔偿了", "补偿了", "退了", "处理了",
];

/// After an injury: it keeps the customer from a service they paid for.
#[rustfmt::skip]
const REASON_AFTER: &[&str] = &[
    "去不了", "来不了", "去不成", "不能去", "没法去", "上不了", "不能上课", "没法上课", "不能运动", "没法运动", "不能剧烈", "不能参加", "无法参加",
    "无法出行", "出不了门", "急需用钱", "急用钱", "需要用钱", "要用钱", "只能退", "退票", "改签", "取消", "退掉", "退订", "退团", "退课",
    "不能出行",
];

/// Before an injury: it happened with the business or its product.
#[rustfmt::skip]
const BUSINESS_LINK: &[&str] = &[
    "你们", "贵", "店里", "在店", "在机构", "在超市", "在商场", "在酒店", "在网点", "营业厅", "吃了", "喝了", "服用", "使用", "用了",
];

#[rustfmt::skip]
const OTHER_PEOPLE: &[&str] = &[
    "同事", "邻居", "隔壁", "朋友", "别人", "其他人", "亲戚", "网友", "别的顾客", "其他顾客", "有个顾客", "有人", "人家",
];

/// Whether the context rules the trigger at chars[s..e] out.
fn ruled_out(chars: &[char], s: usize, e: usize, signal: Signal) -> bool {
    let before = clause_before(chars, s, 12);
    let before_text = text_of(before);
    // A negation cue in the clause before the trigger, not turned into a
    // threat by a consequence after it. For compensation only the customer's
    // own wish counts: `店里一分钱都不赔` is the business refusing.
    let close_cues: &[&str] = if signal == Signal::Compensation {
        &[]
    } else {
        NEGATION_CLOSE
    };
    for (cues, max_gap) in [(NEGATION_BEFORE, usize::MAX), (close_cues, 3)] {
        for cue in cues {
            let mut from = 0;
            while let Some(pos) = before_text[from..].find(cue) {
                let at = from + pos;
                let after_cue = &before_text[at + cue.len()..];
                let prefix = &before_text[..at];
                let fake = prefix.ends_with('要') && cue.starts_with("不要") // 要不要
                    || prefix.ends_with('会') && cue.starts_with("不会") // 会不会
                    || prefix.ends_with('再') // 再不…
                    || prefix.ends_with("如果")
                    || prefix.ends_with("要是")
                    || after_cue.starts_with("让我")
                    || after_cue.starts_with('逼')
                    || ["几天", "多久", "多长", "过多久", "两天", "几个"].iter().any(|w| after_cue.starts_with(w));
                // 本来想…: an intention given up; a consequence does not revive it.
                let given_up = cue.starts_with('本') || cue.starts_with('原');
                if !fake
                    && (given_up || !CONSEQUENCE.iter().any(|c| after_cue.contains(c)))
                    && after_cue.chars().count() <= max_gap
                {
                    return true;
                }
                from = at + cue.len();
            }
        }
    }
    if signal == Signal::Compensation
        && (before_text.contains("保险") || before_text.contains("理赔"))
    {
        return true; // an insurance claim, not compensation from the business
    }
    if signal == Signal::Compensation
        && PROMISED.iter().any(|w| before_text.contains(w))
        && !["要求", "按", "兑现", "请"]
            .iter()
            .any(|w| before_text.contains(w))
    {
        return true; // the seller's promise quoted, not the customer's demand
    }
    let after_text = text_of(clause_after(chars, e, 10));
    if NEGATION_AFTER.iter().any(|w| after_text.contains(w)) {
        return true;
    }
    // A past matter that was settled.
    let (ss, se) = sentence(chars, s, e, 50);
    let sent_before = text_of(&chars[ss..s]);
    let sent = text_of(&chars[ss..se]);
    if let Some(p) = PAST.iter().filter_map(|w| sent_before.find(w)).min() {
        let rest = &sent[p..];
        if SETTLED.iter().any(|w| rest.contains(w)) {
            return true;
        }
    }
    // An injury or illness that is only the reason the customer cannot use
    // what they paid for (`我爸住院去不了`, `扭伤了腰，医生说不能运动`), with
    // nothing before it tying it to the business.
    if signal == Signal::Safety {
        // An animal's health is not personal safety (狗洗澡后皮肤过敏), unless it bit someone.
        let clause = text_of(clause_before(chars, s, 12));
        if ["狗", "猫", "宠物"].iter().any(|w| clause.contains(w))
            && !clause.contains('咬')
            && !chars[s..e].contains(&'咬')
        {
            return true;
        }
        let (ss, se) = sentence(chars, s, e, 40);
        // An insurance claim for an illness (住院了申请理赔被拒).
        let sent = text_of(&chars[ss..se]);
        if ["理赔", "保单", "投保", "保险公司", "险种"]
            .iter()
            .any(|w| sent.contains(w))
        {
            return true;
        }
        let after = text_of(&chars[e..se.min(e + 25)]);
        let before = text_of(&chars[ss..s]);
        if REASON_AFTER.iter().any(|w| after.contains(w))
            && !BUSINESS_LINK.iter().any(|w| before.contains(w))
        {
            return true;
        }
    }
    // Somebody else's matter, in the same clause.
    if signal != Signal::Safety && signal != Signal::RepeatFault {
        let clause = matter_clause(chars, s);
        let clause = &clause;
        for w in OTHER_PEOPLE {
            if let Some(p) = clause.rfind(w) {
                let between = &clause[p + w.len()..];
                let by = &clause[..p];
                // 叫上邻居把…堵了: the customer enlists them; still theirs.
                let enlisted = ["叫上", "带上", "喊上", "约上", "联合", "拉上"]
                    .iter()
                    .any(|v| by.ends_with(v));
                if !between.contains('我')
                    && !by.ends_with('我')
                    && !by.ends_with('被')
                    && !enlisted
                {
                    return true;
                }
            }
        }
    }
    false
}

/// The clause of a trigger, with the one before when this one goes on
/// without a subject (`…买车被拖了三个月，最后去法院起诉了`).
fn matter_clause(chars: &[char], s: usize) -> String {
    let mut from = s - clause_before(chars, s, 30).len();
    let first = text_of(&chars[from..s]);
    let continues = [
        "最后", "然后", "后来", "还", "又", "结果", "就", "也", "才", "于是",
    ]
    .iter()
    .any(|w| first.trim_start().starts_with(w));
    if continues && from > 0 {
        from -= 1 + clause_before(chars, from - 1, 30).len();
    }
    text_of(&chars[from..s])
}

/// Words of a customer refusing another repair or round of the same.
#[rustfmt::skip]
const REFUSES_MORE: &[&str] = &[
    "不接受", "不想再修", "不要再修", "不再修", "不修了", "不想修了", "受够了", "拒绝再", "不同意再", "不想再", "不要再", "不能再", "不再相信", "不再接受",
    "不愿再", "别再",
];

/// A complaint made before (`上周投诉过`) followed by its unsatisfactory
/// outcome (`结果…又`, `还是`, `依然`).
fn raised_again(chars: &[char], pattern: &str, e: usize) -> bool {
    if !pattern.contains("投诉") {
        return false;
    }
    let after = text_of(&chars[e..(e + 40).min(chars.len())]);
    [
        "结果",
        "还是",
        "依然",
        "仍然",
        "照样",
        "没有改",
        "没变",
        "又",
        "再次",
    ]
    .iter()
    .any(|w| after.contains(w))
}

/// For `每桌3888元` the number of tables in the sentence (`30桌`).
fn per_unit_count(chars: &[char], start: usize) -> Option<f64> {
    let before = clause_before(chars, start, 4);
    let at = before.iter().rposition(|c| *c == '每')?;
    let unit = *before.get(at + 1)?;
    if !"桌人份间晚位个套件台辆张".contains(unit) {
        return None;
    }
    let (ss, se) = sentence(chars, start, start, 60);
    let mut best: Option<f64> = None;
    for i in ss..se {
        if chars[i] != unit || i == 0 || (i > 0 && chars[i - 1] == '每') {
            continue;
        }
        let mut j = i;
        while j > ss
            && (chars[j - 1].is_ascii_digit() || "一二两三四五六七八九十百".contains(chars[j - 1]))
            && i - j < 5
        {
            j -= 1;
        }
        if j < i {
            let numeral: String = chars[j..i].iter().collect();
            if let Some(n) = crate::amount::parse_amount(&numeral) {
                best = Some(best.map_or(n, |b: f64| b.max(n)));
            }
        }
    }
    best.filter(|n| *n > 1.0 && *n < 10_000.0)
}

fn refuses_more(chars: &[char]) -> bool {
    // Bounded: a refusal is near the start or anywhere in a normal complaint.
    let t = text_of(&chars[..chars.len().min(4_000)]);
    REFUSES_MORE.iter().any(|w| t.contains(w))
}

/// Verbs around a count that make it a repetition of the fault or complaint.
#[rustfmt::skip]
const REPEAT_VERBS: &[&str] = &[
    "修", "洗", "检", "调", "换", "补", "来", "返厂", "坏", "故障", "出现", "来店", "到店", "回店", "进店", "回来", "来电", "打电话", "电话",
    "打了", "投诉", "反映", "反馈", "报修", "催", "上门", "漏", "响", "犯", "死机", "熄火", "异响", "黑屏", "抖", "断了", "断网", "断线", "断电", "掉线", "申请", "提交", "联系", "找", "说了", "去了", "来了",
    "发生", "返工", "掉", "卡", "停", "跳闸", "退回", "驳回",
];

/// 第三次 / 修了三次 / 打了好几次 / 多次 … Returns the span of the count.
fn counted_repeat(chars: &[char]) -> Option<(usize, usize)> {
    for (i, &c) in chars.iter().enumerate() {
        if c != '次' && c != '回' && c != '遍' {
            continue;
        }
        if c != '次' && !(i > 0 && is_count_char(chars[i - 1])) {
            continue; // 回 and 遍 only after a numeral: 四回, 好几遍
        }
        if c == '遍' {
            // 修了好几遍, not 说了三遍 (one conversation).
            let before = text_of(clause_before(chars, i, 8));
            if !["修", "返工", "检", "换", "装", "弄"]
                .iter()
                .any(|w| before.contains(w))
            {
                continue;
            }
        }
        // Read the numeral before 次.
        let mut j = i;
        while j > 0 && (is_count_char(chars[j - 1])) && i - j < 4 {
            j -= 1;
        }
        let ordinal = j > 0 && chars[j - 1] == '第';
        let numeral = text_of(&chars[j..i]);
        let many = numeral.contains('多')
            || numeral.contains('几')
            || numeral.contains("数")
            || numeral == "n"
            || numeral.contains("无数")
            || numeral.contains("屡");
        let n = if many {
            if ordinal {
                continue; // 第几次了: rhetorical
            }
            3
        } else {
            match crate::amount::parse_amount(&numeral) {
                Some(v) if v >= 1.0 => v as u32,
                _ => continue,
            }
        };
        let start = if ordinal { j - 1 } else { j };
        if start == i {
            continue;
        }
        // The verb must be close by.
        let before = text_of(clause_before(chars, start, 8));
        let after = text_of(clause_after(chars, i + 1, 10));
        if ["每天", "天天", "一天", "每周", "每月", "每个月", "一周"]
            .iter()
            .any(|w| before.contains(w))
        {
            continue; // 一天打好几次电话: a frequency, not a repetition
        }
        let (ss, se) = sentence(chars, start, i + 1, 40);
        let sent = text_of(&chars[ss..se]);
        if ["骚扰", "推销", "营销", "广告"]
            .iter()
            .any(|w| sent.contains(w))
        {
            continue; // calls from the business are not the customer coming back
        }
        // 第三次来你们店吃饭: a regular customer, not a repetition.
        if [
            "吃饭",
            "用餐",
            "就餐",
            "购物",
            "买东西",
            "逛",
            "消费",
            "入住",
            "光顾",
            "玩",
        ]
        .iter()
        .any(|w| after.contains(w))
            || ["吃过", "来吃", "买过", "住过", "光顾", "消费过", "逛过"]
                .iter()
                .any(|w| before.contains(w))
                && !["修", "坏", "投诉", "问题", "故障", "反映"]
                    .iter()
                    .any(|w| sent.contains(w))
        {
            continue;
        }
        let chasing = ['问', '催', '叫', '喊']
            .iter()
            .any(|c| before.replace("问题", "").contains(*c));
        if chasing && (sent.contains("分钟") || sent.contains("小时")) {
            continue; // 催了几次，四十分钟了: chasing within one wait
        }
        if (before.replace("问题", "").contains('问')
            || after.starts_with("打电话询问")
            || after.starts_with("询问"))
            && !before.contains("投诉")
        {
            continue; // 问了三次都说马上好: chasing within one wait
        }
        if before.contains('催')
            && !["投诉", "天", "周", "星期", "月"]
                .iter()
                .any(|w| sent.contains(w))
        {
            continue; // 打电话催了三次，每次都说在路上: chasing within one wait
        }
        // 第五次 reads the whole sentence for what was repeated.
        let near = REPEAT_VERBS
            .iter()
            .any(|v| before.contains(v) || after.contains(v))
            || (ordinal && n >= 3 && REPEAT_VERBS.iter().any(|v| sent.contains(v)));
        if !near {
            continue;
        }
        let strong = n >= 3 || (n >= 2 && (before.contains("投诉") || after.contains("投诉")));
        if (strong || (n == 2 && refuses_more(chars)))
            && !ruled_out(chars, start, i + 1, Signal::RepeatFault)
        {
            return Some((start, i + 1));
        }
    }
    None
}

fn is_count_char(c: char) -> bool {
    c.is_ascii_digit() || "一二两三四五六七八九十几多好数无屡n".contains(c)
}

/// `#话题#`: a public post.
fn hashtag(chars: &[char]) -> Option<(usize, usize)> {
    let mut open: Option<usize> = None;
    for (i, &c) in chars.iter().enumerate() {
        if c == '#' {
            match open {
                Some(o) if i - o >= 2 && i - o <= 20 => return Some((o, i + 1)),
                _ => open = Some(i),
            }
        } else if open.is_some() && (c == '\n' || is_sentence_break(c)) {
            open = None;
        }
    }
    None
}

/// Amounts that are not at stake: money spent over the years, income.
fn not_at_stake(chars: &[char], start: usize) -> bool {
    if start > 0 && chars[start - 1] == '满' {
        return true; // 消费满五千: a condition, not money at stake
    }
    let before = text_of(clause_before(chars, start, 10));
    NOT_AT_STAKE.iter().any(|w| before.contains(w))
}

/// Words before an amount that is not at stake: money spent over the years,
/// income, a down payment, a speed (128k).
#[rustfmt::skip]
const NOT_AT_STAKE: &[&str] = &[
    "限速", "降到", "网速", "速度", "带宽", "这些年", "这几年", "少说也", "前前后后", "首付", "累计消费", "总共消费", "年薪", "月薪", "工资", "收入",
    "年收入", "身家", "次数", "快门", "里程", "公里数", "人数", "粉丝", "播放", "阅读量", "点赞", "浏览", "销量", "步数", "积分", "字数", "分数",
];

/// The clause before position `s` (back to a clause break), at most `max` characters.
fn clause_before(chars: &[char], s: usize, max: usize) -> &[char] {
    let mut from = s;
    while from > 0 && s - from < max && !is_clause_break(chars[from - 1]) {
        from -= 1;
    }
    &chars[from..s]
}

/// The clause after position `e`, at most `max` characters.
fn clause_after(chars: &[char], e: usize, max: usize) -> &[char] {
    let mut to = e;
    while to < chars.len() && to - e < max && !is_clause_break(chars[to]) {
        to += 1;
    }
    &chars[e..to]
}

/// The sentence around s..e, at most `max` characters each side.
fn sentence(chars: &[char], s: usize, e: usize, max: usize) -> (usize, usize) {
    let mut from = s;
    while from > 0 && s - from < max && !is_sentence_break(chars[from - 1]) {
        from -= 1;
    }
    let mut to = e;
    while to < chars.len() && to - e < max && !is_sentence_break(chars[to]) {
        to += 1;
    }
    (from, to)
}

fn text_of(chars: &[char]) -> String {
    chars.iter().collect()
}

#[cfg(test)]
mod tests;
