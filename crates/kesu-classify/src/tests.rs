use std::time::{Duration, Instant};

use super::*;

fn shipped(text: &str) -> Proposal {
    classify(text, Channel::Phone, History::default())
}

fn assert_cannot_tell(p: &Proposal) {
    assert!(p.cannot_tell, "{p:?}");
    assert_eq!(p.category(), OTHER);
    assert_eq!(p.categories.len(), 3);
    assert!(p.signals.is_empty(), "{p:?}");
    assert_eq!(p.severity, Severity::General);
}

#[test]
fn empty_emoji_english_and_control_text_is_a_clear_cannot_tell() {
    for text in [
        "",
        "   \n\t ",
        "😡😡😡🤬👎",
        "Your staff were rude and I want a refund, or I will call the police!",
        "\u{0000}\u{0007}\u{001b}[31m\u{007f}",
        "12315 110 ¥50000",
    ] {
        assert_cannot_tell(&shipped(text));
    }
}

#[test]
fn the_channel_still_speaks_for_an_unreadable_text() {
    let p = classify("", Channel::Regulator, History::default());
    assert!(p.cannot_tell);
    assert_eq!(p.category(), OTHER);
    assert_eq!(p.severity, Severity::Major);
    assert_eq!(p.signals.len(), 1);
    assert_eq!(
        (p.signals[0].signal, p.signals[0].source),
        (Signal::Regulator, Source::Channel)
    );
}

#[test]
fn a_proposal_has_three_categories_with_confidences() {
    let p = shipped("买的电饭煲用了三天就坏了，内胆涂层一直掉，要求换货");
    assert!(!p.cannot_tell);
    assert_eq!(p.categories.len(), 3);
    assert_eq!(p.category(), "product_quality");
    let sum: f32 = p.categories.iter().map(|c| c.confidence).sum();
    assert!(
        sum <= 1.0001
            && p.categories
                .windows(2)
                .all(|w| w[0].confidence >= w[1].confidence)
    );
    assert_eq!(p.severity, Severity::General);
}

#[test]
fn typical_complaints_get_their_category_and_signals() {
    let cases = [
        (
            "服务员态度特别差，我问了两句就翻白眼，还说爱吃不吃",
            "service_attitude",
            vec![],
        ),
        ("外卖超时一个半小时才送到，饭都凉了", "delay", vec![]),
        ("价签写的9.9，结账收了19.9，多收了十块", "pricing", vec![]),
        (
            "七天无理由退货，商家说拆了包装就不给退",
            "refund_return",
            vec![],
        ),
        (
            "吃完你们店的凉菜全家上吐下泻，住院了两天，要求赔偿医药费",
            "safety",
            vec![Signal::Compensation, Signal::Safety],
        ),
        (
            "你们把我的手机号和住址卖给了装修公司，天天打电话骚扰",
            "privacy",
            vec![],
        ),
    ];
    for (text, category, signals) in cases {
        let p = shipped(text);
        assert_eq!(p.category(), category, "{text}");
        let got: Vec<Signal> = p.signals.iter().map(|h| h.signal).collect();
        assert_eq!(got, signals, "{text}");
    }
}

#[test]
fn traditional_characters_and_mixed_english_degrade_gracefully() {
    let p = shipped("服務員態度極差，問了兩遍都不耐煩，還翻白眼");
    assert_eq!(p.category(), "service_attitude");
    let p = shipped("iPhone 15 Pro到手第三天就充不进电，Apple官方检测说是主板问题");
    assert_eq!(p.category(), "product_quality");
    let p = shipped("再不處理我就去消費者協會投訴");
    assert!(p.has(Signal::ConsumerAssoc));
}

#[test]
fn a_hundred_thousand_characters_take_well_under_a_second() {
    let _ = Engine::shipped(); // trained once, outside the timing
    let mut text = String::new();
    while text.chars().count() < 100_000 {
        text.push_str("顾客来电说外卖送晚了一个小时，饭菜都凉了，打电话给店家也没人接，要求退款。我不要赔偿。");
        text.push_str("😡abc 12315?? 第三次了 ¥4,999.00 \u{0007}");
    }
    let started = Instant::now();
    let p = shipped(&text);
    let took = started.elapsed();
    eprintln!("100,000 characters: {took:?}");
    assert!(took < Duration::from_millis(900), "took {took:?}");
    assert!(!p.cannot_tell);
    assert_eq!(p.severity, Severity::Major);
    // One pathological line: a single trigger repeated.
    let text = "赔偿".repeat(50_000);
    let started = Instant::now();
    let p = shipped(&text);
    assert!(started.elapsed() < Duration::from_millis(900));
    assert!(p.has(Signal::Compensation));
}

#[test]
fn the_model_goes_through_json_unchanged() {
    let examples = [
        Example {
            text: "服务员骂人，态度恶劣".to_owned(),
            channel: Channel::Phone,
            category: "service_attitude".to_owned(),
        },
        Example {
            text: "多收了我二十块钱，价签和结账价格不一样".to_owned(),
            channel: Channel::WalkIn,
            category: "pricing".to_owned(),
        },
    ];
    let taxonomy = Taxonomy::default_taxonomy();
    let model = CategoryModel::train(&taxonomy, &examples, &TrainOptions::default());
    assert_eq!(model.examples, 2);
    let json = model.to_json();
    let back = CategoryModel::from_json(&json).expect("parses");
    assert_eq!(back, model);
    let engine = Engine::with_model(taxonomy, back, SignalConfig::default());
    assert_eq!(
        engine
            .classify("收银员骂人", Channel::Phone, History::default())
            .category(),
        "service_attitude"
    );
}

/// Complaints of every category, to compare two models' proposals on.
const SAMPLES: &[&str] = &[
    "买的电饭煲用了三天就坏了，内胆涂层一直掉",
    "服务员态度特别差，我问了两句就翻白眼",
    "外卖超时一个半小时才送到，饭都凉了",
    "价签写的9.9，结账收了19.9",
    "车子保养完回来发动机异响，修了三次都没好，我不接受再修",
    "七天无理由退货，商家说拆了包装就不给退",
    "直播间说是纯羊毛的，收到一看羊毛含量只有30%",
    "厕所太脏了，地上全是垃圾，一股臭味",
    "吃完你们店的凉菜全家上吐下泻，住院了两天",
    "你们把我的手机号和住址卖给了装修公司",
    "买车三个月了发票还没开给我",
    "服務員態度極差，問了兩遍都不耐煩",
];

#[test]
fn the_shipped_model_is_small_and_goes_through_json_unchanged() {
    let engine = Engine::shipped();
    let json = engine.model().to_json();
    assert!(json.len() < 1_000_000, "{} bytes", json.len());
    let back = CategoryModel::from_json(&json).expect("parses");
    assert_eq!(&back, engine.model());
    assert_eq!(back.to_json(), json);
    let reloaded = Engine::with_model(Taxonomy::default_taxonomy(), back, SignalConfig::default());
    for text in SAMPLES {
        let a = engine.classify(text, Channel::Web, History::default());
        let b = reloaded.classify(text, Channel::Web, History::default());
        assert_eq!(a, b, "{text}");
    }
}

#[test]
fn a_model_of_the_first_format_is_still_read() {
    let json = r#"{"format":1,"labels":["service_attitude","pricing"],"rule_weight":0.5,
        "bias":[0.1,-0.1],"weights":{"w:骂人":[1.5,-1.5],"c:phone":[0.0,0.2]},"examples":2,
        "nb":{"w:骂人":[0.7,-0.7]},"nb_weight":0.75}"#;
    let m = CategoryModel::from_json(json).expect("reads format 1");
    assert_eq!(m.labels, ["service_attitude", "pricing"]);
    assert_eq!(m.features(), ["c:phone", "w:骂人"]);
    let w = m.weights_of("w:骂人").expect("known");
    assert!(
        (w[0] - 1.5).abs() < 0.02 && (w[1] + 1.5).abs() < 0.02,
        "{w:?}"
    );
    // Written back in the compact format, and read again unchanged.
    let again = CategoryModel::from_json(&m.to_json()).expect("reads format 2");
    assert_eq!(again, m);
}

#[test]
fn a_damaged_model_is_an_error_not_a_panic() {
    let good = Engine::shipped().model().to_json();
    let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
    v["weights"] = serde_json::Value::String("not base64!".to_owned());
    assert!(CategoryModel::from_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
    v["weights"] = serde_json::Value::String("AAAA".to_owned());
    assert!(CategoryModel::from_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
    v["format"] = serde_json::Value::from(9);
    assert!(CategoryModel::from_json(&v.to_string()).is_err());
    assert!(CategoryModel::from_json("{}").is_err());
}

#[test]
fn the_number_of_features_is_bounded() {
    let examples: Vec<Example> = shipped_examples();
    let options = TrainOptions {
        max_features: 500,
        ..TrainOptions::default()
    };
    let m = CategoryModel::train(&Taxonomy::default_taxonomy(), &examples, &options);
    let text = m
        .features()
        .iter()
        .filter(|f| f.starts_with("w:") || f.starts_with("b:"))
        .count();
    assert_eq!(text, 500);
    assert!(m.to_json().len() < 40_000, "{}", m.to_json().len());
}

#[test]
fn an_untrained_model_proposes_by_the_keyword_rules() {
    let taxonomy = Taxonomy::default_taxonomy();
    let engine = Engine::with_model(
        taxonomy.clone(),
        CategoryModel::untrained(&taxonomy),
        SignalConfig::default(),
    );
    let p = engine.classify(
        "厕所太脏了，地上全是垃圾，一股臭味",
        Channel::Web,
        History::default(),
    );
    assert_eq!(p.category(), "environment");
}

#[test]
fn the_threshold_of_large_loss_is_configurable() {
    let taxonomy = Taxonomy::default_taxonomy();
    let model = Engine::shipped().model().clone();
    let strict = Engine::with_model(
        taxonomy,
        model,
        SignalConfig {
            large_loss_threshold: 1_000.0,
        },
    );
    let text = "手机屏幕坏了，花了两千五修的";
    assert!(!shipped(text).has(Signal::LargeLoss));
    assert!(
        strict
            .classify(text, Channel::Phone, History::default())
            .has(Signal::LargeLoss)
    );
}

#[test]
fn the_shipped_training_data_follows_the_schema() {
    let rows = eval::parse_corpus(SHIPPED_TRAINING_DATA).expect("shipped data parses");
    assert!(rows.len() >= 300, "{}", rows.len());
    let taxonomy = Taxonomy::default_taxonomy();
    for r in &rows {
        assert!(taxonomy.get(&r.category).is_some(), "{:?}", r.id);
        assert_eq!(
            r.severity == Severity::Major,
            !r.signals.is_empty(),
            "{:?}",
            r.id
        );
    }
    assert_eq!(shipped_examples().len(), rows.len());
}

#[test]
fn the_same_examples_train_the_same_model() {
    let examples = shipped_examples();
    let taxonomy = Taxonomy::default_taxonomy();
    let a = CategoryModel::train(&taxonomy, &examples, &TrainOptions::default());
    let b = CategoryModel::train(&taxonomy, &examples, &TrainOptions::default());
    assert_eq!(a.to_json(), b.to_json());
}
