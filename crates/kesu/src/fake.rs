//! Realistic Chinese complaints for load tests and generated data: five
//! sectors (car dealer, supermarket, bank, restaurant, e-commerce), each with
//! its own templates, places, plates and order numbers that agree with the
//! text, demands, and extra sentences for length. Deterministic for a seed.

#![allow(dead_code, reason = "each binary uses a different part")]

use serde_json::{Value, json};

/// xorshift64*: small, fast, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 once, so that nearby seeds give unrelated streams and 0 is fine.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Sector {
    CarDealer,
    Supermarket,
    Bank,
    Restaurant,
    Ecommerce,
}

const SECTORS: [Sector; 5] = [
    Sector::CarDealer,
    Sector::Supermarket,
    Sector::Bank,
    Sector::Restaurant,
    Sector::Ecommerce,
];

const CAR_TEMPLATES: &[(&str, &str)] = &[
    (
        "售后维修",
        "我的车{plate}上个月在贵店做了{service}，开回去不到{days}天就{fault}，打电话给服务顾问一直说在排查，到现在也没有明确答复。",
    ),
    (
        "新车销售",
        "{date}在你们店提的新车，车牌{plate}，交车时说好的赠送{gift}到现在都没兑现，销售顾问{staff}电话也不接。",
    ),
    (
        "保养服务",
        "车辆{plate}进店保养，结算时多收了{amount}元工时费，单据上列了好几项根本没做的项目，要求解释并退还差价。",
    ),
    (
        "钣金喷漆",
        "在店里做的钣金喷漆，{plate}右后门颜色和原车明显不一样，阳光下一看就有色差，要求返工。",
    ),
    (
        "保养服务",
        "预约了{date}上午的保养，到店后等了{hours}个小时还没开始做，前台说工位满了，那预约还有什么意义？",
    ),
    (
        "金融贷款",
        "购车时销售承诺的贷款利率和合同上签的不一样，每个月要多还{amount}元，当时没仔细看，现在要求给个说法。",
    ),
    (
        "售后维修",
        "{plate}在贵店做的四轮定位，出来以后方向盘反而跑偏，高速上一直往右拉，非常危险。",
    ),
    (
        "售后维修",
        "维修期间车辆{plate}被店里员工开出去了，里程表多了{km}公里，行车记录仪都有记录，要求店方解释。",
    ),
];

const SUPERMARKET_TEMPLATES: &[(&str, &str)] = &[
    (
        "食品安全",
        "{date}在{store}买的{product}，回家打开发现已经过期{days}天了，小票还在，要求按规定赔偿。",
    ),
    (
        "价格标签",
        "在{store}收银台结账，{product}货架标价{price}元，结账时却按{price2}元收的，找收银员理论，态度很差。",
    ),
    (
        "食品安全",
        "在{store}买的冷冻{product}，解冻后有明显异味，家里老人吃了以后拉肚子，看病花了{amount}元。",
    ),
    (
        "会员服务",
        "{store}的会员积分莫名其妙被清零了，之前攒了{points}分，客服说是系统问题，但一直没有恢复。",
    ),
    (
        "停车场",
        "{store}门口停车场的地锁把我的车底盘刮了，车牌{plate}，保安说不归他们管，让我自己找物业。",
    ),
    (
        "促销活动",
        "{store}促销海报写着{product}买一送一，结账时说活动已经结束了，海报却一直没撤，这属于虚假宣传。",
    ),
    (
        "食品安全",
        "在{store}买的{product}里面吃出了异物，像是一小段塑料，已经拍照留存，东西也还留着。",
    ),
    (
        "商品质量",
        "{store}生鲜区称重短斤少两，买了{weight}斤{fruit}回家一称少了将近二两，不是第一次了。",
    ),
];

const BANK_TEMPLATES: &[(&str, &str)] = &[
    (
        "银行卡",
        "我的储蓄卡尾号{card}在{date}被扣了{amount}元年费，开卡时根本没有人告诉我有这笔费用。",
    ),
    (
        "网点服务",
        "在{branch}办理业务排队{hours}个多小时，只开了一个窗口，大堂经理一直在推销理财产品。",
    ),
    (
        "信用卡",
        "信用卡尾号{card}每期都是按时还款，系统却显示逾期，影响了我的征信，房贷审批被卡住了。",
    ),
    (
        "理财产品",
        "去年在{branch}买的理财产品，客户经理{staff}说是保本的，现在亏了{amount}元，当时录音录像都有。",
    ),
    (
        "自助设备",
        "{branch}自助区的ATM机吞卡，打客服电话说要等{days}个工作日才能取回，耽误了急用。",
    ),
    (
        "手机银行",
        "手机银行转账{amount}元显示成功，但对方一直没收到，已经过去{days}天了，客服只让我等。",
    ),
    (
        "个人贷款",
        "从来没有申请过任何贷款，却频繁收到催收电话，说我在贵行有一笔{amount}元的消费贷逾期。",
    ),
    (
        "个人贷款",
        "在{branch}办理提前还款被收取了{amount}元违约金，合同里没有写明这一条，要求退还。",
    ),
];

const RESTAURANT_TEMPLATES: &[(&str, &str)] = &[
    (
        "食品卫生",
        "{date}晚上在{restaurant}聚餐，{dish}里吃出了头发，服务员只说给换一份，态度非常敷衍。",
    ),
    (
        "食品安全",
        "在{restaurant}吃完饭，一家{people}口人晚上都上吐下泻，怀疑{dish}不新鲜，医药费花了{amount}元。",
    ),
    (
        "结账收费",
        "{restaurant}结账时多收了两道根本没上的菜，合计{amount}元，发现后要求退款，店长一直拖着不处理。",
    ),
    (
        "预订服务",
        "预订了{restaurant}的包间办生日宴，到了才说包间被别人占了，只能坐大厅，订金{amount}元还不退。",
    ),
    (
        "外卖配送",
        "在外卖平台从{restaurant}点的{dish}，送到时已经凉透，汤洒了一半，骑手晚到了{mins}分钟。",
    ),
    (
        "服务安全",
        "{restaurant}的服务员上菜时把热汤洒在孩子手上，烫红了一大片，店方只愿意打九折。",
    ),
    (
        "团购券",
        "买的团购券在{restaurant}不让用，说周末不能用，但券上没有写任何限制条件。",
    ),
    (
        "食品卫生",
        "{restaurant}的餐具有明显污渍，反映后服务员说已经消过毒了，后厨卫生状况堪忧。",
    ),
];

const ECOMMERCE_TEMPLATES: &[(&str, &str)] = &[
    (
        "退换货",
        "订单号{order}，买的{item}收到时就是坏的，申请退货被商家拒绝，说是人为损坏。",
    ),
    (
        "物流配送",
        "{date}下单的{item}，物流显示已签收，但我根本没收到，快递员说放快递柜了，柜子里什么都没有。",
    ),
    (
        "假冒商品",
        "直播间说是正品的{item}，收到后拿去鉴定是假货，花了{amount}元，现在商家联系不上了。",
    ),
    (
        "退款",
        "订单{order}退款{amount}元，商家已经同意，平台显示退款中，已经{days}天了还没到账。",
    ),
    (
        "商品描述",
        "买的{item}和页面描述严重不符，颜色尺寸都不对，客服只同意补偿{small}元。",
    ),
    (
        "订单取消",
        "大促时买的{item}，付款后商家单方面取消了订单，然后涨价重新上架，订单号{order}。",
    ),
    (
        "预售发货",
        "订单{order}的{item}预售时说{days}天内发货，现在过去一个月了还没发，也不让退定金。",
    ),
    (
        "支付扣款",
        "平台自动给我开通了先用后付，扣了{amount}元，我从来没有主动开通过这个功能。",
    ),
];

const EXTRAS: &[&str] = &[
    "我已经打过{n}次电话了，每次都说会有人联系我，结果都没有下文。",
    "这件事给我的生活和工作都造成了很大影响。",
    "当时还有其他顾客在场，可以作证。",
    "相关照片、票据和聊天记录我都保存好了，需要的话可以提供。",
    "我是你们的老客户了，这样的处理方式实在让人失望。",
    "如果三天内得不到答复，我会向12315投诉，并考虑在网上曝光。",
    "希望贵公司能够重视，认真调查，给我一个满意的答复。",
    "之前已经反映过一次，对方答应处理，但至今没有任何进展。",
    "我家住得比较远，来回跑一趟很不方便，请尽量电话沟通。",
    "家里老人不太会用手机，很多事情都是我帮忙处理的，这次实在是太折腾了。",
    "说实话，工作人员的态度比问题本身更让人生气。",
    "当时现场的负责人姓{surname}，说会在{days}个工作日内给我回复，到现在也没有消息。",
    "我工作日白天不方便接电话，最好晚上七点以后联系我。",
    "朋友也遇到过类似的情况，我觉得这不是个别现象，希望你们彻查。",
    "我并不是想闹事，只是希望问题能得到公平合理的解决。",
    "我的诉求是：{demand}。",
    "前后一共损失了大约{amount}元，还耽误了好几天的时间。",
    "第一次反映是在{date}，到今天已经过去很久了。",
];

/// What customers ask for, common to every sector and per sector.
const DEMANDS: &[&str] = &[
    "给出书面处理意见",
    "赔偿损失并书面道歉",
    "处理相关责任人员",
    "调取监控查明情况",
];

fn sector_demands(s: Sector) -> &'static [&'static str] {
    match s {
        Sector::CarDealer => &[
            "尽快修好并延长保修期",
            "退还多收的费用",
            "免费返工并提供代步车",
        ],
        Sector::Supermarket => &["按食品安全法给予十倍赔偿", "退还差价", "恢复会员积分"],
        Sector::Bank => &["退还不合理收费", "消除不良征信记录", "赔偿理财损失"],
        Sector::Restaurant => &["退还餐费", "承担医药费", "退还订金"],
        Sector::Ecommerce => &["退货退款", "更换新品", "按消费者权益保护法退一赔三"],
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "雪梅",
];
const PROVINCES: &[&str] = &[
    "苏", "京", "沪", "浙", "粤", "川", "鲁", "豫", "鄂", "湘", "皖", "闽", "津", "渝",
];
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// (subject, description) templates of a sector.
fn template_set(s: Sector) -> &'static [(&'static str, &'static str)] {
    match s {
        Sector::CarDealer => CAR_TEMPLATES,
        Sector::Supermarket => SUPERMARKET_TEMPLATES,
        Sector::Bank => BANK_TEMPLATES,
        Sector::Restaurant => RESTAURANT_TEMPLATES,
        Sector::Ecommerce => ECOMMERCE_TEMPLATES,
    }
}

/// Values that must agree between the description and the other fields.
struct Ctx {
    sector: Sector,
    plate: Option<String>,
    order: Option<String>,
    place: Option<String>,
}

impl Ctx {
    fn plate(&mut self, rng: &mut Rng) -> String {
        self.plate.get_or_insert_with(|| plate(rng)).clone()
    }

    fn order(&mut self, rng: &mut Rng) -> String {
        self.order
            .get_or_insert_with(|| {
                format!("{}{:012}", rng.range(2, 9), rng.range(0, 999_999_999_999))
            })
            .clone()
    }

    fn place(&mut self, rng: &mut Rng, options: &[&str]) -> String {
        self.place
            .get_or_insert_with(|| rng.pick(options).to_owned())
            .clone()
    }

    fn value(&mut self, key: &str, rng: &mut Rng) -> String {
        match key {
            "plate" => self.plate(rng),
            "order" => self.order(rng),
            "amount" => amount(rng),
            "small" => rng.range(5, 80).to_string(),
            "price" => format!("{}.{}", rng.range(3, 60), rng.range(0, 9)),
            "price2" => format!("{}.{}", rng.range(61, 120), rng.range(0, 9)),
            "date" => date(rng),
            "days" => rng.range(2, 15).to_string(),
            "hours" => rng.range(2, 4).to_string(),
            "mins" => rng.range(30, 90).to_string(),
            "km" => rng.range(30, 260).to_string(),
            "n" => rng.range(3, 9).to_string(),
            "people" => rng.range(3, 6).to_string(),
            "points" => (rng.range(20, 400) * 100).to_string(),
            "weight" => rng.range(2, 6).to_string(),
            "card" => format!("{:04}", rng.range(0, 9999)),
            "surname" => rng.pick(SURNAMES).to_owned(),
            "staff" => format!(
                "{}{}",
                rng.pick(SURNAMES),
                rng.pick(&["经理", "顾问", "主管", "师傅"])
            ),
            "demand" => {
                if rng.chance(60) {
                    rng.pick(sector_demands(self.sector)).to_owned()
                } else {
                    rng.pick(DEMANDS).to_owned()
                }
            }
            "service" => rng
                .pick(&[
                    "更换刹车片",
                    "首保",
                    "更换变速箱油",
                    "空调检修",
                    "更换轮胎",
                    "发动机大修",
                ])
                .to_owned(),
            "fault" => rng
                .pick(&[
                    "刹车异响",
                    "仪表盘报故障灯",
                    "空调不制冷",
                    "怠速抖动",
                    "漏机油",
                    "变速箱顿挫",
                ])
                .to_owned(),
            "gift" => rng
                .pick(&[
                    "两次免费保养",
                    "全车贴膜",
                    "行车记录仪",
                    "脚垫和座套",
                    "一年车险",
                ])
                .to_owned(),
            "store" => self.place(
                rng,
                &[
                    "城东店",
                    "万达广场店",
                    "新街口店",
                    "火车站店",
                    "河西店",
                    "仙林店",
                ],
            ),
            "product" => rng
                .pick(&[
                    "酸奶",
                    "牛排",
                    "饺子",
                    "进口奶粉",
                    "食用油",
                    "面包",
                    "坚果礼盒",
                    "洗衣液",
                ])
                .to_owned(),
            "fruit" => rng
                .pick(&["苹果", "车厘子", "葡萄", "橙子", "草莓"])
                .to_owned(),
            "branch" => self.place(
                rng,
                &[
                    "中山路支行",
                    "建邺支行",
                    "高新区支行",
                    "鼓楼支行",
                    "江宁支行",
                ],
            ),
            "restaurant" => self.place(
                rng,
                &[
                    "老街小馆",
                    "湘味轩",
                    "海底世界火锅",
                    "金陵食府",
                    "川香园",
                    "一品烤鸭店",
                ],
            ),
            "dish" => rng
                .pick(&[
                    "水煮鱼",
                    "酸菜鱼",
                    "宫保鸡丁",
                    "小龙虾",
                    "毛血旺",
                    "烤鸭",
                    "麻辣香锅",
                    "清蒸鲈鱼",
                ])
                .to_owned(),
            "item" => rng
                .pick(&[
                    "蓝牙耳机",
                    "扫地机器人",
                    "羽绒服",
                    "空气炸锅",
                    "笔记本电脑",
                    "运动鞋",
                    "手机",
                    "电饭煲",
                    "婴儿推车",
                ])
                .to_owned(),
            _ => String::new(),
        }
    }

    fn fill(&mut self, template: &str, rng: &mut Rng) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    out.push_str(&self.value(&after[..close], rng));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn plate(rng: &mut Rng) -> String {
    let mut s = String::from(rng.pick(PROVINCES));
    s.push(char::from(
        PLATE_LETTERS[(rng.next() % PLATE_LETTERS.len() as u64) as usize],
    ));
    // New-energy plates have six characters after the city letter, the first a D or F.
    let (len, first) = if rng.chance(20) {
        (6, Some(if rng.chance(50) { 'D' } else { 'F' }))
    } else {
        (5, None)
    };
    if let Some(c) = first {
        s.push(c);
    }
    for i in usize::from(first.is_some())..len {
        if i < 2 && rng.chance(25) {
            s.push(char::from(
                PLATE_LETTERS[(rng.next() % PLATE_LETTERS.len() as u64) as usize],
            ));
        } else {
            s.push(char::from(b'0' + (rng.next() % 10) as u8));
        }
    }
    s
}

fn amount(rng: &mut Rng) -> String {
    match rng.range(0, 3) {
        0 => rng.range(30, 500).to_string(),
        1 => (rng.range(5, 200) * 10).to_string(),
        2 => format!("{}.{:02}", rng.range(100, 9_999), rng.range(0, 99)),
        _ => (rng.range(10, 600) * 100).to_string(),
    }
}

fn date(rng: &mut Rng) -> String {
    match rng.range(0, 4) {
        0 => format!("{}月{}日", rng.range(9, 11), rng.range(1, 28)),
        1 => format!(
            "上周{}",
            rng.pick(&["一", "二", "三", "四", "五", "六", "日"])
        ),
        2 => rng
            .pick(&["昨天", "前天", "上个月月底", "国庆期间", "双十一那天"])
            .to_owned(),
        3 => format!("{}号", rng.range(1, 22)),
        _ => format!("{}月{}号", rng.range(10, 11), rng.range(1, 20)),
    }
}

pub fn customer_name(rng: &mut Rng) -> String {
    let surname = rng.pick(SURNAMES);
    if rng.chance(70) {
        format!("{surname}{}", if rng.chance(55) { "先生" } else { "女士" })
    } else {
        format!("{surname}{}", rng.pick(GIVEN))
    }
}

pub fn mobile(rng: &mut Rng) -> String {
    let second = rng.pick(&["3", "5", "8"]);
    let digits = format!(
        "1{second}{}{:08}",
        rng.range(0, 9),
        rng.range(0, 99_999_999)
    );
    // Some agents type it grouped; the server normalises.
    if rng.chance(10) {
        format!("{} {} {}", &digits[..3], &digits[3..7], &digits[7..])
    } else {
        digits
    }
}

/// One realistic complaint as the JSON body of `POST /api/v1/complaints`.
pub fn complaint(rng: &mut Rng) -> Value {
    let sector = SECTORS[(rng.next() % SECTORS.len() as u64) as usize];
    let mut ctx = Ctx {
        sector,
        plate: None,
        order: None,
        place: None,
    };
    let templates = template_set(sector);
    let (subject, main) = templates[(rng.next() % templates.len() as u64) as usize];
    let mut text = ctx.fill(main, rng);

    // Target length 50–400 characters, built from the main template and extras.
    let target = usize::try_from(rng.range(50, 400)).unwrap_or(50);
    let mut used = Vec::new();
    while text.chars().count() < target && used.len() < EXTRAS.len() {
        let i = (rng.next() % EXTRAS.len() as u64) as usize;
        if used.contains(&i) {
            continue;
        }
        used.push(i);
        let extra = ctx.fill(EXTRAS[i], rng);
        text.push_str(&extra);
    }
    if text.chars().count() > 400 {
        text = text.chars().take(399).collect();
        text.push('。');
    }

    let channel = match rng.range(0, 99) {
        0..=49 => "phone",
        50..=59 => "walk_in",
        60..=71 => "wechat",
        72..=81 => "web",
        82..=91 => "app",
        92..=96 => "email",
        _ => "letter",
    };

    let mut body = json!({
        "channel": channel,
        "customer": { "name": customer_name(rng), "phone": mobile(rng) },
        "description": text,
        "subject": subject,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(p) = ctx.plate.take() {
            obj.insert("plate".into(), Value::String(p));
        }
        if let Some(o) = ctx.order.take() {
            obj.insert("order_ref".into(), Value::String(o));
        }
        if let Some(place) = ctx.place.take() {
            obj.insert("event_place".into(), Value::String(place));
        }
        if rng.chance(5) {
            obj.insert("urgent".into(), Value::Bool(true));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_are_valid_and_varied() {
        let mut rng = Rng::new(7);
        let mut descriptions = std::collections::HashSet::new();
        for _ in 0..2000 {
            let c = complaint(&mut rng);
            let d = c["description"].as_str().unwrap_or_default();
            let n = d.chars().count();
            assert!((50..=400).contains(&n), "{n}: {d}");
            assert!(!d.contains('{') && !d.contains('}'), "{d}");
            let phone: String = c["customer"]["phone"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert_eq!(phone.len(), 11, "{phone}");
            assert!(["13", "15", "18"].contains(&&phone[..2]), "{phone}");
            if let Some(p) = c["plate"].as_str() {
                assert!(d.contains(p), "{p} not in {d}");
                assert!((7..=8).contains(&p.chars().count()), "{p}");
            }
            descriptions.insert(d.to_owned());
        }
        assert!(descriptions.len() > 1900);
    }
}
