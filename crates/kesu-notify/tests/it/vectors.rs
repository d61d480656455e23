//! The signers against the worked examples the vendors publish.

use kesu_notify::tencent::tc3::{self, Tc3Request};
use kesu_notify::{AliyunMessage, AliyunSms, AliyunSmsConfig, Secret, aliyun, percent_encode};

use crate::pyref;

/// Tencent Cloud, 签名方法 v3 (TC3-HMAC-SHA256), the CVM DescribeInstances
/// example: SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SecretKey
/// Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, X-TC-Timestamp 1551113065.
const TENCENT_DOC_PAYLOAD: &str =
    r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

fn tencent_doc_request() -> Tc3Request<'static> {
    Tc3Request {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service: "cvm",
        host: "cvm.tencentcloudapi.com",
        content_type: "application/json; charset=utf-8",
        payload: TENCENT_DOC_PAYLOAD.as_bytes(),
        timestamp: 1_551_113_065,
    }
}

#[test]
fn tc3_reproduces_tencents_worked_example_step_by_step() {
    let request = tencent_doc_request();
    assert_eq!(
        tc3::canonical_request(&request),
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
         content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        tc3::string_to_sign(&request).expect("a valid time"),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        tc3::authorization(&request).expect("a valid time"),
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, \
         Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

#[test]
fn tc3_uses_the_utc_date_not_the_local_one() {
    // 1551113065 is 2019-02-26 00:44:25 in Beijing but 2019-02-25 in UTC.
    let request = tencent_doc_request();
    let independent = pyref::tc3_authorization(
        request.secret_id,
        request.secret_key,
        request.service,
        request.host,
        request.content_type,
        request.payload,
        request.timestamp,
    );
    assert_eq!(
        tc3::authorization(&request).expect("a valid time"),
        independent
    );
}

/// Alibaba Cloud, "Signature mechanism" for RPC APIs: the ECS
/// DescribeRegions example, AccessKeySecret `testsecret`.
#[test]
fn pop_reproduces_alibabas_describe_regions_example() {
    let params = [
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Format", "XML"),
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("Version", "2014-05-26"),
        ("SignatureVersion", "1.0"),
    ];
    assert_eq!(
        aliyun::string_to_sign(params),
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
         %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
         %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    );
    assert_eq!(
        aliyun::signature(params, "testsecret"),
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    );
}

/// Alibaba Cloud SMS, "HTTP协议及签名": the SendSms example with a Chinese
/// sign name, AccessKeyId `testId`, AccessKeySecret `testSecret`.
#[test]
fn pop_reproduces_alibabas_send_sms_example() {
    let params = [
        ("AccessKeyId", "testId"),
        ("Action", "SendSms"),
        ("Format", "XML"),
        ("OutId", "123"),
        ("PhoneNumbers", "15300000001"),
        ("RegionId", "cn-hangzhou"),
        ("SignName", "阿里云短信测试专用"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
        ("SignatureVersion", "1.0"),
        ("TemplateCode", "SMS_71390007"),
        ("TemplateParam", r#"{"customer":"test"}"#),
        ("Timestamp", "2017-07-12T02:42:19Z"),
        ("Version", "2017-05-25"),
    ];
    assert_eq!(
        aliyun::string_to_sign(params),
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123\
         %26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9\
         %2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4\
         %25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1\
         %26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0\
         %26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D\
         %26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
    );
    assert_eq!(
        aliyun::signature(params, "testSecret"),
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    );
}

#[test]
fn the_adapters_signed_query_carries_the_injected_nonce_and_time() {
    let sms = AliyunSms::new(&AliyunSmsConfig {
        access_key_id: "testId".to_owned(),
        access_key_secret: Secret::new("testSecret"),
        sign_name: "阿里云短信测试专用".to_owned(),
        region_id: "cn-hangzhou".to_owned(),
        base_url: None,
        timeout_secs: 10,
    })
    .expect("valid");
    let message = AliyunMessage {
        phone_number: "15300000001".to_owned(),
        template_code: "SMS_71390007".to_owned(),
        template_param: [("customer".to_owned(), "test".to_owned())].into(),
        out_id: Some("123".to_owned()),
    };
    let timestamp: jiff::Timestamp = "2017-07-12T02:42:19Z".parse().expect("a time");
    let query = sms
        .signed_query(&message, "45e25e9b-0a6f-4070-8c85-2956eda1b466", timestamp)
        .expect("signed");
    let pairs: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{query}"))
        .expect("a URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        get("SignatureNonce"),
        Some("45e25e9b-0a6f-4070-8c85-2956eda1b466")
    );
    assert_eq!(get("Timestamp"), Some("2017-07-12T02:42:19Z"));
    assert_eq!(get("TemplateParam"), Some(r#"{"customer":"test"}"#));
    // The same as the documented example but for Format=JSON, so the
    // signature is checked independently rather than against the document.
    assert_eq!(get("Format"), Some("JSON"));
    assert_eq!(
        get("Signature").map(str::to_owned),
        Some(pyref::aliyun_signature(&pairs, "testSecret"))
    );
}

#[test]
fn percent_encoding_follows_rfc_3986_as_alibaba_requires() {
    assert_eq!(percent_encode("a b*c~d"), "a%20b%2Ac~d");
    assert_eq!(percent_encode("+/="), "%2B%2F%3D");
    assert_eq!(percent_encode("-_.~AZaz09"), "-_.~AZaz09");
    assert_eq!(percent_encode("阿"), "%E9%98%BF");
}
