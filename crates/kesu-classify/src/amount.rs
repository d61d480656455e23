//! Money amounts as people write them in a complaint: `3万`, `三万块`,
//! `1.2w`, `5k`, `¥4,999.00`, `4999元`, `两千五`, `一万二`, `1.5万元`,
//! `五百多`, `十几万`, all read as yuan.
//!
//! [`parse_amount`] reads one expression; [`find_amounts`] finds the amounts
//! in a text and leaves out numbers that are not money (dates, counts,
//! kilometres, order and phone numbers, `4S店`, `40G`, `第3次` …).

use crate::normalize::{Normalized, is_han};

/// A money amount found in a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    /// The amount in yuan (for `五百多` or `十几万` the lower figure).
    pub yuan: f64,
    /// Character offsets of the expression in the text, end exclusive.
    pub start: usize,
    pub end: usize,
    /// Written as an estimate (`多`, `几`, `左右`, `约` …).
    pub approximate: bool,
}

/// Reads a text that is exactly one amount (surrounding spaces allowed).
///
/// ```
/// use kesu_classify::amount::parse_amount;
/// assert_eq!(parse_amount("1.2w"), Some(12_000.0));
/// assert_eq!(parse_amount("两千五"), Some(2_500.0));
/// assert_eq!(parse_amount("¥4,999.00"), Some(4_999.0));
/// assert_eq!(parse_amount("三个"), None);
/// ```
pub fn parse_amount(text: &str) -> Option<f64> {
    let n = Normalized::new(text.trim());
    let chars: Vec<char> = n.as_str().chars().collect();
    let e = parse_at(&chars, 0)?;
    (e.end == chars.len()).then_some(e.yuan)
}

/// The money amounts in a text, in order.
pub fn find_amounts(text: &str) -> Vec<Amount> {
    let n = Normalized::new(text);
    find_in_chars(&n.as_str().chars().collect::<Vec<_>>())
}

/// [`find_amounts`] on normalised characters (offsets are indexes into `chars`).
pub(crate) fn find_in_chars(chars: &[char]) -> Vec<Amount> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let can_start = c.is_ascii_digit()
            || ROUND.iter().any(|(w, _)| at_word(chars, i, w))
            || c == '¥'
            || c == '￥'
            || starts_chinese(c)
            || at_word(chars, i, "rmb")
            || at_word(chars, i, "人民币");
        if !can_start {
            i += 1;
            continue;
        }
        // A number glued to letters or other digits is part of an identifier.
        if c.is_ascii_digit() && i > 0 && is_id_char(chars[i - 1]) {
            i = skip_run(chars, i);
            continue;
        }
        match parse_at(chars, i) {
            Some(e) if e.money || money_by_context(chars, i, &e) => {
                out.push(Amount {
                    yuan: e.yuan,
                    start: i,
                    end: e.end,
                    approximate: e.approximate || approximate_before(chars, i),
                });
                i = e.end.max(i + 1);
            }
            Some(e) => i = e.end.max(i + 1),
            None => {
                i = if c.is_ascii_digit() {
                    skip_run(chars, i)
                } else {
                    i + 1
                }
            }
        }
    }
    out
}

/// One parsed expression.
#[derive(Debug, Clone, Copy)]
struct Expr {
    yuan: f64,
    end: usize,
    /// Marked as money by a currency sign, unit or multiplier.
    money: bool,
    approximate: bool,
    /// Written in Arabic digits.
    arabic: bool,
    /// Digits only, no multiplier or currency (`标价198`).
    bare: bool,
    int_digits: usize,
}

/// Words for round amounts: 上万 (over ten thousand), 近万, 数万 …
const ROUND: &[(&str, f64)] = &[
    ("上万", 10_000.0),
    ("过万", 10_000.0),
    ("近万", 10_000.0),
    ("数万", 20_000.0),
    ("万把", 10_000.0),
    ("好几万", 20_000.0),
    ("上千", 1_000.0),
    ("近千", 1_000.0),
    ("数千", 2_000.0),
    ("好几千", 2_000.0),
    ("五位数", 10_000.0),
    ("六位数", 100_000.0),
];

fn parse_at(chars: &[char], start: usize) -> Option<Expr> {
    if let Some((w, v)) = ROUND.iter().find(|(w, _)| at_word(chars, start, w)) {
        let mut j = start + w.chars().count();
        if let Some(len) = currency_len(chars, j) {
            j += len;
        } else if non_money_unit_at(chars, j) {
            return Some(Expr {
                yuan: *v,
                end: j,
                money: false,
                approximate: true,
                arabic: false,
                bare: false,
                int_digits: 0,
            });
        }
        return Some(Expr {
            yuan: *v,
            end: j,
            money: true,
            approximate: true,
            arabic: false,
            bare: false,
            int_digits: 0,
        });
    }
    let mut i = start;
    let mut money = false;
    // Currency before the number.
    if matches!(chars.get(i), Some('¥' | '￥')) {
        money = true;
        i += 1;
    } else if at_word(chars, i, "rmb") || at_word(chars, i, "人民币") {
        money = true;
        i += 3;
    }
    while chars.get(i) == Some(&' ') && money {
        i += 1;
    }
    let c = *chars.get(i)?;
    let (mut yuan, mut j, arabic, mut approximate, int_digits, mut multiplied) =
        if c.is_ascii_digit() {
            let (v, j, int_digits, mult) = parse_arabic(chars, i)?;
            (v, j, true, false, int_digits, mult)
        } else if starts_chinese(c) {
            let (v, j, approx, mult) = parse_chinese(chars, i)?;
            (v, j, false, approx, 0, mult)
        } else {
            return None;
        };
    // 二十多万, 20多万, 十来万: an estimate followed by a multiplier.
    if matches!(chars.get(j), Some('多' | '余' | '来'))
        && let Some(&m) = chars.get(j + 1)
    {
        let factor = match m {
            '万' => Some(10_000.0),
            '千' => Some(1_000.0),
            '亿' => Some(100_000_000.0),
            'w' if arabic => Some(10_000.0),
            'k' if arabic => Some(1_000.0),
            _ => None,
        };
        if let Some(f) = factor
            && yuan < f
        {
            yuan *= f;
            j += 2;
            approximate = true;
            multiplied = true;
        }
    }
    // 多 / 余 / 来 after the number: an estimate.
    if matches!(chars.get(j), Some('多' | '余' | '来')) && (multiplied || arabic || yuan >= 10.0)
    {
        // 来 only before a currency word (三千来块), 多 not before 次/个 … (checked below).
        if chars.get(j) != Some(&'来') || currency_len(chars, j + 1).is_some() {
            approximate = true;
            j += 1;
        }
    }
    // Currency after the number.
    if let Some(len) = currency_len(chars, j) {
        let is_kuai = chars.get(j) == Some(&'块');
        // 一块牛排: 块 as a measure word, not money.
        let measure_word = is_kuai && !arabic && yuan < 10.0 && !kuai_is_money(chars, j + 1);
        if !measure_word {
            money = true;
            j += len;
            multiplied = true;
        }
    } else if multiplied && !arabic && chars.get(j).is_some_and(|&c| is_han(c)) && !money {
        // 三万公里 etc. are handled below; a bare Chinese multiplier followed
        // by more Han text is left to the context check.
    }
    if matches!(chars.get(j), Some('左' | '上')) && matches!(chars.get(j + 1), Some('右' | '下'))
    {
        approximate = true;
        j += 2;
    }
    if non_money_unit_at(chars, j) && !money {
        return Some(Expr {
            yuan,
            end: j,
            money: false,
            approximate,
            arabic,
            bare: false,
            int_digits,
        });
    }
    if multiplied && !money {
        // 3万, 1.2w, 5k, 一万二: money unless a non-money unit follows (checked above).
        money = true;
    }
    if !yuan.is_finite() {
        return None;
    }
    if yuan < 0.0 {
        yuan = 0.0;
    }
    Some(Expr {
        yuan,
        end: j,
        money,
        approximate,
        arabic,
        bare: !multiplied && !money,
        int_digits,
    })
}

/// Arabic digits with thousands separators and a decimal part, then an
/// optional multiplier (万 w 千 k 百 亿) and a second, smaller part
/// (`3万5千`, `3万5`). Returns (value, end, integer digits, multiplied).
fn parse_arabic(chars: &[char], start: usize) -> Option<(f64, usize, usize, bool)> {
    let (v, mut j, int_digits) = read_decimal(chars, start)?;
    let Some((mult, len)) = multiplier_at(chars, j) else {
        return Some((v, j, int_digits, false));
    };
    j += len;
    let mut value = v * mult;
    // A second part of smaller magnitude: 3万5千, 3万5, 3千5.
    if chars.get(j).is_some_and(char::is_ascii_digit)
        && let Some((v2, j2, d2)) = read_decimal(chars, j)
    {
        match multiplier_at(chars, j2) {
            Some((m2, len2)) if m2 < mult => {
                value += v2 * m2;
                j = j2 + len2;
            }
            None if d2 == 1 && !non_money_unit_at(chars, j2) => {
                value += v2 * mult / 10.0;
                j = j2;
            }
            None if !non_money_unit_at(chars, j2) && v2 < mult => {
                value += v2;
                j = j2;
            }
            _ => {}
        }
    }
    Some((value, j, int_digits, true))
}

/// Digits, `,ddd` groups and a decimal part. Returns (value, end, integer digits).
fn read_decimal(chars: &[char], start: usize) -> Option<(f64, usize, usize)> {
    let mut s = String::new();
    let mut j = start;
    while let Some(&c) = chars.get(j) {
        if c.is_ascii_digit() {
            s.push(c);
            j += 1;
        } else if c == ','
            && !s.is_empty()
            && (1..=3).all(|k| chars.get(j + k).is_some_and(char::is_ascii_digit))
            && !chars.get(j + 4).is_some_and(char::is_ascii_digit)
        {
            j += 1;
        } else {
            break;
        }
    }
    if s.is_empty() {
        return None;
    }
    let int_digits = s.len();
    if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
        s.push('.');
        j += 1;
        while let Some(&c) = chars.get(j) {
            if !c.is_ascii_digit() {
                break;
            }
            s.push(c);
            j += 1;
        }
    }
    if int_digits > 15 {
        return None;
    }
    Some((s.parse().ok()?, j, int_digits))
}

/// A multiplier after Arabic digits: (factor, length).
fn multiplier_at(chars: &[char], j: usize) -> Option<(f64, usize)> {
    let c = *chars.get(j)?;
    let next_is_letter = chars.get(j + 1).is_some_and(char::is_ascii_alphabetic);
    match c {
        '万' => Some((10_000.0, 1)),
        '亿' => Some((100_000_000.0, 1)),
        '千' => Some((1_000.0, 1)),
        '百' => Some((100.0, 1)),
        'w' if !next_is_letter => Some((10_000.0, 1)),
        'k' if !next_is_letter => Some((1_000.0, 1)),
        _ => None,
    }
}

fn digit_value(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' | '俩' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn small_unit(c: char) -> Option<u32> {
    match c {
        '十' | '拾' => Some(10),
        '百' | '佰' => Some(100),
        '千' | '仟' => Some(1000),
        _ => None,
    }
}

fn starts_chinese(c: char) -> bool {
    (digit_value(c).is_some() && c != '零' && c != '〇') || c == '十' || c == '拾' || c == '几'
}

/// Chinese numerals: returns (value, end, approximate, has 万 or 亿).
fn parse_chinese(chars: &[char], start: usize) -> Option<(f64, usize, bool, bool)> {
    let mut total = 0.0_f64;
    let mut section = 0.0_f64;
    let mut digit: Option<f64> = None;
    let mut last_unit: Option<f64> = None;
    let mut zero_seen = false;
    let mut approximate = false;
    let mut any_unit = false;
    let mut big_unit = false;
    let mut j = start;
    while let Some(&c) = chars.get(j) {
        if let Some(d) = digit_value(c) {
            if let Some(prev) = digit {
                // 五六千, 两三万, 一两万: a range, read as its lower end.
                let next = f64::from(d);
                if next == prev + 1.0 || (prev == 1.0 && d == 2) {
                    approximate = true;
                    j += 1;
                    continue;
                }
                break; // 一二 is not a number we read
            }
            if d == 0 {
                zero_seen = true;
            } else {
                digit = Some(f64::from(d));
            }
        } else if c == '几' {
            // 十几万 = 110,000 at least; 几万 = 20,000 at least.
            digit = Some(if j > start { 1.0 } else { 2.0 });
            approximate = true;
        } else if let Some(u) = small_unit(c) {
            let u = f64::from(u);
            if last_unit.is_some_and(|l| l <= u) && digit.is_none() {
                break;
            }
            section += digit.take().unwrap_or(1.0) * u;
            last_unit = Some(u);
            zero_seen = false;
            any_unit = true;
        } else if c == '万' || c == '亿' {
            let u = if c == '万' { 10_000.0 } else { 100_000_000.0 };
            section += digit.take().unwrap_or(0.0);
            if section == 0.0 && total == 0.0 {
                break;
            }
            if c == '亿' {
                total = (total + section) * u;
            } else {
                total += section * u;
            }
            section = 0.0;
            last_unit = Some(u);
            zero_seen = false;
            any_unit = true;
            big_unit = true;
        } else {
            break;
        }
        j += 1;
    }
    if j == start {
        return None;
    }
    // Two-character words that start like numbers but are not: 一下, 一直 …
    if !any_unit && digit.is_some() && j - start == 1 && currency_len(chars, j).is_none() {
        return Some((digit.unwrap_or(0.0), j, approximate, false));
    }
    if let Some(d) = digit {
        // 两千五 = 2500, 一万二 = 12000: a final digit takes the next lower unit.
        match last_unit {
            Some(u) if !zero_seen && u >= 10.0 => section += d * u / 10.0,
            _ => section += d,
        }
    }
    // 七千五, 两千八: the short form with a final digit is how people say money.
    let short_form = digit.is_some() && last_unit == Some(1_000.0) && !zero_seen;
    total += section;
    Some((total, j, approximate, big_unit || short_form))
}

/// A currency word at `j`: its length.
fn currency_len(chars: &[char], j: usize) -> Option<usize> {
    match chars.get(j)? {
        '元' | '圆' => Some(1),
        '块' => Some(if chars.get(j + 1) == Some(&'钱') {
            2
        } else {
            1
        }),
        _ if at_word(chars, j, "人民币") => Some(3),
        _ if at_word(chars, j, "rmb") => Some(3),
        _ if at_word(chars, j, "yuan") => Some(4),
        _ => None,
    }
}

/// After `一块` / `两块`: is it money (一块钱, 两块。, 三块多) rather than a piece of something?
fn kuai_is_money(chars: &[char], j: usize) -> bool {
    match chars.get(j) {
        None => true,
        Some(&c) => {
            !is_han(c)
                || matches!(
                    c,
                    '钱' | '多'
                        | '的'
                        | '了'
                        | '啊'
                        | '呢'
                        | '吧'
                        | '都'
                        | '就'
                        | '还'
                        | '也'
                        | '给'
                        | '买'
                        | '没'
                        | '不'
                        | '退'
                        | '我'
                        | '一'
                        | '呀'
                        | '嘛'
                )
        }
    }
}

const NON_MONEY_UNITS: &[&str] = &[
    "年", "月", "日", "号", "天", "次", "个", "件", "台", "辆", "位", "人", "名", "公里", "里",
    "米", "度", "分", "点", "楼", "栋", "层", "期", "岁", "斤", "克", "页", "集", "平", "亩",
    "小时", "周", "星期", "倍", "张", "条", "套", "份", "瓶", "盒", "袋", "箱", "遍", "趟", "家",
    "所", "间", "排", "站", "秒", "粒", "颗", "根", "只", "双", "把", "部", "单", "笔", "项", "户",
    "座", "室", "毫", "升", "寸", "码", "成", "折", "%", "g", "m", "s", "l", "c", "p", "/", "-",
    ":", "x", "*", "兆", "帧", "秒", "字", "粉", "届", "级", "班", "路", "代", "期", "节", "课",
    "轮", "回", "下", "口", "碗", "杯", "斤", "公斤", "吨", "卡", "组", "种", "样", "类", "批",
    "片", "块地", "伏", "瓦", "安", "毫米", "厘米", "千米", "kg", "km", "ml", "gb", "mb", "tb",
    "mm", "cm", "kw",
];

fn non_money_unit_at(chars: &[char], j: usize) -> bool {
    let Some(&c) = chars.get(j) else {
        return false;
    };
    if c.is_ascii_alphabetic() {
        return true;
    }
    if c == '多' || c == '余' {
        // 3万多公里, 两百多次
        return non_money_unit_at(chars, j + 1);
    }
    NON_MONEY_UNITS.iter().any(|u| at_word(chars, j, u))
}

/// Words just before a bare number that say it is money (`标价198`, `花了一万二`).
const MONEY_CUES: &[&str] = &[
    "价", "花了", "花", "付了", "付", "共计", "合计", "总计", "一共", "金额", "费", "损失", "收了",
    "收我", "扣了", "扣", "充了", "充值", "充", "交了", "余额", "退", "赔", "多收", "贵了", "差价",
    "亏", "贷款", "欠", "要价", "首付", "月供", "到手", "报价", "罚", "押金", "定金", "订金",
    "预存", "工资", "值", "买", "售价", "价值", "入手",
];

/// Words just after a bare number that say it is money (`三千定金`).
const MONEY_NOUNS_AFTER: &[&str] = &[
    "定金",
    "订金",
    "押金",
    "学费",
    "现金",
    "货款",
    "保费",
    "团费",
    "房租",
    "的费用",
    "的货",
    "的东西",
    "的红包",
    // A price before what was bought (`8999的笔记本`).
    "的笔记本",
    "的电脑",
    "的手机",
    "的平板",
    "的相机",
    "的冰箱",
    "的空调",
    "的洗衣机",
    "的电视",
    "的热水器",
    "的床垫",
    "的沙发",
    "的衣服",
    "的外套",
    "的羽绒服",
    "的鞋",
    "的包",
    "的手表",
    "的项链",
    "的戒指",
    "的套餐",
    "的课",
    "的年卡",
    "的会员",
    "的机票",
    "的电动车",
    "的自行车",
    "的婴儿车",
];

fn money_by_context(chars: &[char], start: usize, e: &Expr) -> bool {
    if e.money {
        return true;
    }
    if !e.bare || (e.arabic && e.int_digits > 9) || (!e.arabic && e.yuan < 10.0) {
        return false;
    }
    if non_money_unit_at(chars, e.end) {
        return false;
    }
    if MONEY_NOUNS_AFTER.iter().any(|w| at_word(chars, e.end, w)) {
        return true;
    }
    let from = start.saturating_sub(5);
    let before: String = chars[from..start]
        .iter()
        .rev()
        .take_while(|c| !crate::normalize::is_clause_break(**c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    MONEY_CUES.iter().any(|w| before.contains(w))
}

fn approximate_before(chars: &[char], start: usize) -> bool {
    let from = start.saturating_sub(3);
    let before: String = chars[from..start].iter().collect();
    ["约", "大概", "差不多", "将近", "近", "至少", "少说"]
        .iter()
        .any(|w| before.ends_with(w))
        || before.ends_with("大约")
}

fn at_word(chars: &[char], j: usize, w: &str) -> bool {
    (j..).zip(w.chars()).all(|(k, c)| chars.get(k) == Some(&c))
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '-' | '/' | '_' | '.' | '·' | ':')
}

fn skip_run(chars: &[char], mut i: usize) -> usize {
    while chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == ',' || *c == '.')
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Option<f64> {
        parse_amount(text)
    }

    fn found(text: &str) -> Vec<f64> {
        find_amounts(text).iter().map(|a| a.yuan).collect()
    }

    #[test]
    fn arabic_with_a_multiplier() {
        assert_eq!(one("3万"), Some(30_000.0));
        assert_eq!(one("1.2w"), Some(12_000.0));
        assert_eq!(one("1.2W"), Some(12_000.0));
        assert_eq!(one("5k"), Some(5_000.0));
        assert_eq!(one("4.8k"), Some(4_800.0));
        assert_eq!(one("1.5万元"), Some(15_000.0));
        assert_eq!(one("3万5"), Some(35_000.0));
        assert_eq!(one("3万5千"), Some(35_000.0));
        assert_eq!(one("2千"), Some(2_000.0));
    }

    #[test]
    fn currency_signs_separators_and_units() {
        assert_eq!(one("¥4,999.00"), Some(4_999.0));
        assert_eq!(one("￥4,999.00"), Some(4_999.0));
        assert_eq!(one("4999元"), Some(4_999.0));
        assert_eq!(one("4999块"), Some(4_999.0));
        assert_eq!(one("200块钱"), Some(200.0));
        assert_eq!(one("RMB 1,200"), Some(1_200.0));
        assert_eq!(one("人民币5000元"), Some(5_000.0));
        assert_eq!(one("１２００元"), Some(1_200.0));
    }

    #[test]
    fn chinese_numerals() {
        assert_eq!(one("三万块"), Some(30_000.0));
        assert_eq!(one("两千五"), Some(2_500.0));
        assert_eq!(one("一万二"), Some(12_000.0));
        assert_eq!(one("五百多"), Some(500.0));
        assert_eq!(one("十八万六千元"), Some(186_000.0));
        assert_eq!(one("一百九十八块"), Some(198.0));
        assert_eq!(one("一千零五元"), Some(1_005.0));
        assert_eq!(one("十五元"), Some(15.0));
        assert_eq!(one("二十万"), Some(200_000.0));
        assert_eq!(one("十几万"), Some(110_000.0));
        assert_eq!(one("壹万贰仟元"), Some(12_000.0));
        assert_eq!(one("两万多块"), Some(20_000.0));
        assert_eq!(one("三千来块"), Some(3_000.0));
        assert_eq!(one("二十多万"), Some(200_000.0));
        assert_eq!(one("20多万"), Some(200_000.0));
        assert_eq!(one("十来万"), Some(100_000.0));
        assert_eq!(one("五六千"), Some(5_000.0));
        assert_eq!(one("两三万块"), Some(20_000.0));
        assert_eq!(one("几万块"), Some(20_000.0));
        assert_eq!(one("上万元"), Some(10_000.0));
    }

    #[test]
    fn amounts_are_found_in_running_text() {
        assert_eq!(found("花了一万二换的涡轮"), vec![12_000.0]);
        assert_eq!(found("8999的笔记本三天就闪屏"), vec![8_999.0]);
        assert_eq!(found("拨打10086的客服电话"), Vec::<f64>::new());
        assert_eq!(found("标价198，结账收了我238"), vec![198.0, 238.0]);
        assert_eq!(
            found("报了个5k的寒假班，又加了1.2w"),
            vec![5_000.0, 12_000.0]
        );
        assert_eq!(found("车价15.2万元，开了3万公里"), vec![152_000.0]);
        let a = find_amounts("损失五百多块");
        assert_eq!(a.len(), 1);
        assert!(a[0].approximate);
        assert_eq!((a[0].start, a[0].end), (2, 6));
    }

    #[test]
    fn numbers_that_are_not_money_are_left_out() {
        for text in [
            "2024年3月5日在4S店",
            "第3次来修",
            "开了3000多公里",
            "用到40G就限速到1M",
            "订单号 78812340091",
            "订单号：E202410281156",
            "电话138****6621",
            "住在5栋1802",
            "一块牛排化冻",
            "一下子就坏了",
            "千万别买",
            "三番五次",
            "室温只有14度",
            "百分之十五",
            "早上8点10分",
            "万幸没出事",
        ] {
            assert_eq!(found(text), Vec::<f64>::new(), "{text}");
        }
    }
}
