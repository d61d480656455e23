//! Configurations: JSON as storage keeps it, validation, no secret in Debug.

use kesu_notify::{
    AliyunSmsConfig, DEFAULT_TIMEOUT_SECS, DingTalkConfig, SmtpConfig, SmtpSecurity,
    TencentSmsConfig, WeComConfig,
};
use serde_json::json;

#[test]
fn smtp_config_reads_minimal_json_with_defaults() {
    let config: SmtpConfig = serde_json::from_value(json!({
        "host": "smtp.example.com",
        "security": "start_tls",
        "username": "kesu@example.com",
        "password": "hunter2-secret",
        "from_address": "kesu@example.com",
        "from_name": "某某汽车客服中心",
    }))
    .expect("reads");
    assert_eq!(config.security, SmtpSecurity::StartTls);
    assert_eq!(config.timeout_secs, DEFAULT_TIMEOUT_SECS);
    assert!(config.validate().is_ok());
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2-secret"), "{debug}");
    assert!(debug.contains("***"), "{debug}");
    // Storage keeps the JSON: the secret must survive a round trip.
    let back: SmtpConfig =
        serde_json::from_value(serde_json::to_value(&config).expect("writes")).expect("reads");
    assert_eq!(back, config);
}

#[test]
fn smtp_validation_names_every_problem() {
    let config = SmtpConfig {
        host: " ".to_owned(),
        port: Some(0),
        security: SmtpSecurity::None,
        username: Some("kesu".to_owned()),
        password: Some("pw-pw-pw".into()),
        from_address: "not an address".to_owned(),
        from_name: Some("客服\r\nBcc: x@example.com".to_owned()),
        timeout_secs: 0,
    };
    let e = config.validate().expect_err("invalid");
    let fields: Vec<&str> = e.problems.iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "host",
            "port",
            "security",
            "from_address",
            "from_name",
            "timeout_secs"
        ]
    );
    assert!(
        e.to_string()
            .starts_with("invalid SMTP configuration: host: must not be empty"),
        "{e}"
    );
    assert!(!e.to_string().contains("pw-pw-pw"));
}

#[test]
fn http_configs_refuse_empty_secrets_and_odd_base_urls() {
    let wecom = WeComConfig {
        key: "".into(),
        base_url: Some("ftp://example.com".to_owned()),
        timeout_secs: 10,
    };
    let fields: Vec<&str> = wecom
        .validate()
        .expect_err("invalid")
        .problems
        .iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(fields, ["key", "base_url"]);

    let dingtalk = DingTalkConfig {
        access_token: "token".into(),
        secret: " SECx".into(),
        base_url: Some("http://127.0.0.1:1/?x=1".to_owned()),
        timeout_secs: 301,
    };
    let fields: Vec<&str> = dingtalk
        .validate()
        .expect_err("invalid")
        .problems
        .iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(fields, ["secret", "base_url", "timeout_secs"]);

    let aliyun: AliyunSmsConfig = serde_json::from_value(json!({
        "access_key_id": "LTAI", "access_key_secret": "s3cr3t-value", "sign_name": "某某汽车",
    }))
    .expect("reads");
    assert_eq!(aliyun.region_id, "cn-hangzhou");
    assert!(aliyun.validate().is_ok());
    assert!(!format!("{aliyun:?}").contains("s3cr3t-value"));

    let tencent: TencentSmsConfig = serde_json::from_value(json!({
        "secret_id": "AKID", "secret_key": "k3y-value", "sdk_app_id": "14000x", "sign_name": "某某汽车",
    }))
    .expect("reads");
    assert_eq!(tencent.region, "ap-guangzhou");
    let e = tencent.validate().expect_err("invalid");
    assert_eq!(e.problems[0].field, "sdk_app_id");
    assert!(!format!("{tencent:?}").contains("k3y-value"));
}

#[test]
fn built_adapters_print_no_secret_either() {
    let smtp: SmtpConfig = serde_json::from_value(json!({
        "host": "smtp.example.com", "security": "tls", "username": "kesu",
        "password": "pw-secret-1", "from_address": "kesu@example.com",
    }))
    .expect("reads");
    let dingtalk = DingTalkConfig {
        access_token: "token-secret-2".into(),
        secret: "SEC-secret-3".into(),
        base_url: None,
        timeout_secs: 10,
    };
    let wecom = WeComConfig::from_webhook(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key-secret-4",
    );
    let printed = [
        format!("{:?}", kesu_notify::SmtpMailer::new(&smtp).expect("valid")),
        format!(
            "{:?}",
            kesu_notify::DingTalkRobot::new(&dingtalk).expect("valid")
        ),
        format!("{:?}", kesu_notify::WeComRobot::new(&wecom).expect("valid")),
    ]
    .join("\n");
    for secret in [
        "pw-secret-1",
        "token-secret-2",
        "SEC-secret-3",
        "key-secret-4",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}
