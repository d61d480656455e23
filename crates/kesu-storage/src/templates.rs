//! Industry templates (R-OR-2): starting organisations an admin loads in one
//! step and edits afterwards: departments, and sub-categories below the
//! shipped categories (R-CL-1) with the keyword phrases that propose them.
//! A template only adds what is missing (by code), so loading it twice
//! changes nothing, and what the admin switched off or edited stays so.

use jiff::Timestamp;
use kesu_domain::SiteId;

use crate::{Db, Result, StorageError};

/// A template: its code, its departments (code, 中文 name) and its
/// sub-categories.
pub struct Template {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub departments: &'static [(&'static str, &'static str)],
    pub subcategories: &'static [Subcategory],
}

/// A template's sub-category: below a shipped category, with the phrases
/// (matched on Simplified, lower-case text) that propose it.
pub struct Subcategory {
    pub parent: &'static str,
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub keywords: &'static [&'static str],
}

/// What loading a template added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub departments: usize,
    pub subcategories: usize,
}

const fn sub(
    parent: &'static str,
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    keywords: &'static [&'static str],
) -> Subcategory {
    Subcategory {
        parent,
        code,
        name_zh,
        name_en,
        keywords,
    }
}

#[rustfmt::skip]
const CAR_DEALER_SUBCATEGORIES: &[Subcategory] = &[
    sub("product_quality", "car_engine_gearbox", "发动机/变速箱故障", "Engine or gearbox fault",
        &["发动机", "变速箱", "变速器", "熄火", "烧机油", "漏油", "顿挫", "换挡", "动力"]),
    sub("product_quality", "car_electrical", "电子电气故障", "Electrical or electronic fault",
        &["车机", "中控", "电瓶", "蓄电池", "故障灯", "仪表", "大灯", "雷达", "倒车影像", "导航", "黑屏"]),
    sub("product_quality", "car_body_paint", "漆面车身", "Paint and body",
        &["漆面", "掉漆", "色差", "车身", "生锈", "锈迹", "缝隙", "凹陷", "划痕"]),
    sub("product_quality", "car_interior", "内饰与车内异味", "Interior and cabin odour",
        &["内饰", "座椅", "车内异味", "甲醛", "方向盘", "天窗", "异响"]),
    sub("repair_quality", "car_maintenance", "保养质量", "Maintenance quality",
        &["保养", "机油", "机滤", "空调滤", "换油", "首保", "保养项目"]),
    sub("repair_quality", "car_body_repair", "钣喷质量", "Body and paint repair",
        &["钣金", "喷漆", "钣喷", "补漆", "事故车维修", "漆面修复"]),
    sub("repair_quality", "car_rework", "返修", "Repeat repair",
        &["返修", "又坏了", "没修好", "修了几次", "修了两次", "反复", "同样的问题"]),
    sub("repair_quality", "car_parts_replaced", "配件更换", "Parts fitted",
        &["副厂件", "原厂件", "以次充好", "旧件", "拆车件", "配件"]),
    sub("pricing", "car_repair_charges", "维修收费", "Repair charges",
        &["工时费", "维修费", "材料费", "维修报价", "结算单", "配件价格"]),
    sub("pricing", "car_insurance_claim", "保险理赔", "Insurance claim",
        &["保险", "理赔", "定损", "出险", "保险公司", "续保"]),
    sub("pricing", "car_sales_fees", "购车加价与捆绑收费", "Mark-ups and bundled fees",
        &["加价", "提车费", "金融服务费", "上牌费", "出库费", "捆绑", "贷款手续费", "精品包"]),
    sub("delay", "car_delivery_delay", "交车延迟", "Late vehicle delivery",
        &["交车", "提车", "延期交车", "车还没到", "订的车", "交付日期"]),
    sub("delay", "car_parts_wait", "配件等待", "Waiting for parts",
        &["等配件", "配件没到", "缺件", "订件", "调货", "配件还没"]),
    sub("delay", "car_repair_wait", "维修周期过长", "Repair takes too long",
        &["修了几天", "维修周期", "车还在店里", "工位", "一直没修", "取车"]),
    sub("false_advertising", "car_misdescribed", "车辆信息不实", "Vehicle misdescribed",
        &["库存车", "里程", "事故车", "泡水车", "试驾车", "生产日期", "翻新车"]),
    sub("false_advertising", "car_promise_broken", "销售承诺未兑现", "Sales promise not kept",
        &["承诺", "赠送", "送的", "说好的", "口头", "没兑现", "优惠没给"]),
    sub("refund_return", "car_deposit", "定金退还", "Deposit refund",
        &["定金", "订金", "退定", "意向金"]),
    sub("refund_return", "car_return_vehicle", "退车换车", "Vehicle return or exchange",
        &["退车", "换车", "三包", "退一赔三"]),
    sub("refund_return", "car_accessory_refund", "精品装潢退款", "Accessory refund",
        &["装潢", "贴膜", "精品", "脚垫", "行车记录仪"]),
];

#[rustfmt::skip]
const SUPERMARKET_SUBCATEGORIES: &[Subcategory] = &[
    sub("product_quality", "sm_spoiled_expired", "食品变质/过期", "Spoiled or expired food",
        &["过期", "变质", "发霉", "保质期", "生产日期", "馊", "胀袋", "酸了"]),
    sub("product_quality", "sm_fresh_produce", "生鲜质量", "Fresh produce quality",
        &["生鲜", "蔬菜", "水果", "猪肉", "牛肉", "海鲜", "鸡蛋", "不新鲜", "烂了"]),
    sub("product_quality", "sm_foreign_matter", "异物", "Foreign matter",
        &["异物", "头发", "虫子", "玻璃渣", "塑料", "吃出"]),
    sub("product_quality", "sm_household_goods", "日用品质量", "Household goods",
        &["日用品", "小家电", "电器", "衣服", "鞋", "纸巾", "洗衣液"]),
    sub("pricing", "sm_price_tag", "价签不符", "Shelf price mismatch",
        &["价签", "标价", "价格不一样", "货架上", "标的价", "收银价"]),
    sub("pricing", "sm_member_promo", "会员价/促销", "Member prices and promotions",
        &["会员价", "促销", "打折", "满减", "优惠券", "积分", "特价", "买一送一"]),
    sub("pricing", "sm_checkout_overcharge", "收银多收", "Overcharged at the till",
        &["多收", "扫了两次", "收银员", "小票", "重复扣款", "算错"]),
    sub("pricing", "sm_weighing", "称重与缺斤短两", "Weighing and short weight",
        &["称重", "缺斤短两", "分量", "秤", "克数", "斤"]),
    sub("refund_return", "sm_return_exchange", "退换货", "Return or exchange",
        &["退货", "换货", "退换", "不给退", "七天无理由"]),
    sub("refund_return", "sm_refund", "退款", "Refund",
        &["退款", "退钱", "原路退回", "没退"]),
    sub("refund_return", "sm_prepaid_card", "购物卡/储值卡", "Gift and stored-value cards",
        &["购物卡", "储值卡", "卡里的钱", "余额", "退卡"]),
    sub("safety", "sm_food_safety", "食品安全", "Food safety",
        &["食物中毒", "拉肚子", "上吐下泻", "腹泻", "呕吐", "就医", "食品安全"]),
    sub("safety", "sm_slippery_floor", "地面湿滑", "Slippery floor",
        &["地滑", "湿滑", "滑倒", "摔倒", "地面有水", "拖地"]),
    sub("safety", "sm_fittings_injury", "设施伤人", "Injured by fittings",
        &["购物车", "货架", "扶梯", "电梯", "砸到", "划伤"]),
    sub("environment", "sm_hygiene", "卫生", "Hygiene",
        &["卫生", "脏", "老鼠", "蟑螂", "苍蝇", "臭味"]),
    sub("environment", "sm_crowding_parking", "拥挤与停车", "Crowds and parking",
        &["拥挤", "太挤", "停车场", "车位", "堵"]),
    sub("environment", "sm_temperature_noise", "温度与噪音", "Temperature and noise",
        &["空调", "太热", "太冷", "冷气", "噪音", "广播太吵"]),
    sub("delay", "sm_home_delivery", "送货到家延误", "Late home delivery",
        &["送货", "配送", "送到家", "骑手", "没送到"]),
    sub("delay", "sm_checkout_queue", "收银排队", "Queues at the tills",
        &["收银台", "结账排队", "排队结账", "只开了", "自助收银"]),
    sub("delay", "sm_preorder_pickup", "预订与自提", "Pre-orders and pick-up",
        &["自提", "预订", "到货", "预售", "提货"]),
];

/// The shipped templates.
pub const TEMPLATES: &[Template] = &[
    Template {
        code: "car_dealer",
        name_zh: "汽车经销商（4S 店）",
        name_en: "Car dealer",
        departments: &[
            ("cs", "客户部"),
            ("sales", "销售部"),
            ("service", "售后服务部"),
            ("parts", "备品部"),
            ("finance", "财务部"),
            ("general", "综合部"),
        ],
        subcategories: CAR_DEALER_SUBCATEGORIES,
    },
    Template {
        code: "supermarket",
        name_zh: "超市",
        name_en: "Supermarket",
        departments: &[
            ("cs", "客服中心"),
            ("front_desk", "前台"),
            ("procurement", "采购部"),
            ("warehouse", "仓储部"),
            ("sales_floor", "销售部"),
            ("general", "综合部"),
        ],
        subcategories: SUPERMARKET_SUBCATEGORIES,
    },
];

impl Db {
    /// Loads a template into the first site; returns how many departments
    /// and sub-categories it added.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for an unknown template or a database without a site.
    pub async fn load_template(&self, code: &str, now: Timestamp) -> Result<Loaded> {
        let template = TEMPLATES
            .iter()
            .find(|t| t.code == code)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown template {code:?}")))?;
        self.bootstrap(now).await?;
        let site = self
            .sites()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::Corrupt("no site".into()))?;
        let mut added = 0;
        for (dept, name) in template.departments {
            if self.department_by_code(dept).await?.is_none() {
                self.create_department(SiteId(site.id), dept, name, now)
                    .await?;
                added += 1;
            }
        }
        let mut subcategories = 0;
        for s in template.subcategories {
            if self.category(s.code).await?.is_none() {
                let keywords: Vec<String> = s.keywords.iter().map(|k| (*k).to_owned()).collect();
                self.create_subcategory(s.code, s.parent, s.name_zh, s.name_en, &keywords)
                    .await?;
                subcategories += 1;
            }
        }
        Ok(Loaded {
            departments: added,
            subcategories,
        })
    }
}
