//! Local stand-ins for Alibaba Cloud SMS (dysmsapi) and Tencent Cloud SMS on
//! 127.0.0.1 that check each request's signature as the vendors document
//! it — recomputed here in Python's standard library from the request as
//! received, never with kesu's own signing code — and answer as the vendor
//! does: accepted, the signature refused, or throttled.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Request;
use serde_json::{Value, json};

pub const ALIYUN_KEY_ID: &str = "LTAI5tKesuTestKey";
pub const ALIYUN_SECRET: &str = "aliyun-test-secret-value";
pub const TENCENT_ID: &str = "AKIDkesuTestSecretId";
pub const TENCENT_KEY: &str = "tencent-test-secret-key";

/// A request the peer accepted (its signature was right).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// Alibaba: the query parameters; Tencent: the JSON body's fields.
    pub params: Value,
}

/// What the peer answers to a request whose signature is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Accept,
    /// The vendor's rate limit (worth another try).
    Throttle,
}

pub struct SmsPeer {
    pub base_url: String,
    accepted: Arc<Mutex<Vec<Accepted>>>,
    refused: Arc<Mutex<usize>>,
    mood: Arc<Mutex<Mood>>,
}

fn python(script: &str, input: &Value) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 checks the signatures");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("python3 reads");
    let out = child.wait_with_output().expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// POP v1: sorted parameters but `Signature`, RFC 3986 encoded, `GET&%2F&…`,
/// HMAC-SHA1 with `secret&`, base64.
fn aliyun_signature(params: &[(String, String)]) -> String {
    python(
        r#"
import base64, hashlib, hmac, json, sys, urllib.parse
a = json.load(sys.stdin)
q = lambda s: urllib.parse.quote(s, safe="-_.~")
canon = "&".join(q(k) + "=" + q(v) for k, v in sorted(p for p in a["params"] if p[0] != "Signature"))
sts = "GET&%2F&" + q(canon)
print(base64.b64encode(hmac.new((a["secret"] + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode())
"#,
        &json!({"params": params, "secret": ALIYUN_SECRET}),
    )
}

/// TC3-HMAC-SHA256 over a POST to `/` signing `content-type;host`.
fn tc3_authorization(host: &str, content_type: &str, body: &[u8], ts: i64) -> String {
    python(
        r#"
import datetime, hashlib, hmac, json, sys
a = json.load(sys.stdin)
date = datetime.datetime.fromtimestamp(a["ts"], datetime.timezone.utc).strftime("%Y-%m-%d")
creq = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
    a["ct"].lower(), a["host"].lower(), hashlib.sha256(bytes(a["body"])).hexdigest())
scope = date + "/sms/tc3_request"
sts = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (a["ts"], scope, hashlib.sha256(creq.encode()).hexdigest())
k = hmac.new(("TC3" + a["key"]).encode(), date.encode(), hashlib.sha256).digest()
k = hmac.new(k, b"sms", hashlib.sha256).digest()
k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
print("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s" % (a["id"], scope, sig))
"#,
        &json!({"host": host, "ct": content_type, "body": body, "ts": ts, "id": TENCENT_ID, "key": TENCENT_KEY}),
    )
}

fn aliyun_answer(query: &str, mood: Mood) -> (Option<Value>, Value) {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let signed = get("AccessKeyId").as_deref() == Some(ALIYUN_KEY_ID)
        && get("Signature") == Some(aliyun_signature(&params));
    if !signed {
        return (
            None,
            json!({"RequestId": "T-1", "Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation."}),
        );
    }
    let map: serde_json::Map<String, Value> =
        params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if mood == Mood::Throttle {
        return (
            None,
            json!({"RequestId": "T-2", "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控"}),
        );
    }
    (
        Some(Value::Object(map)),
        json!({"RequestId": "T-3", "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}),
    )
}

fn tencent_answer(
    headers: &axum::http::HeaderMap,
    body: &[u8],
    mood: Mood,
) -> (Option<Value>, Value) {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let ts: i64 = h("x-tc-timestamp").parse().unwrap_or_default();
    let expected = tc3_authorization(&h("host"), &h("content-type"), body, ts);
    let error = |code: &str, message: &str| json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r-1"}});
    if h("authorization") != expected || h("x-tc-action") != "SendSms" {
        return (
            None,
            error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ),
        );
    }
    if mood == Mood::Throttle {
        return (
            None,
            error(
                "LimitExceeded.PhoneNumberDailyLimit",
                "单个手机号日下发短信条数超过设定的上限",
            ),
        );
    }
    let parsed: Value = serde_json::from_slice(body).unwrap_or_default();
    let phone = parsed["PhoneNumberSet"][0].clone();
    (
        Some(parsed),
        json!({"Response": {"SendStatusSet": [{"SerialNo": "5000:1", "PhoneNumber": phone, "Fee": 1, "Code": "Ok", "Message": "send success"}], "RequestId": "r-2"}}),
    )
}

impl SmsPeer {
    /// A peer for `vendor` (`aliyun` or `tencent`).
    pub async fn start(vendor: &'static str) -> SmsPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted: Arc<Mutex<Vec<Accepted>>> = Arc::default();
        let refused: Arc<Mutex<usize>> = Arc::default();
        let mood = Arc::new(Mutex::new(Mood::Accept));
        let (a, r, m) = (accepted.clone(), refused.clone(), mood.clone());
        let app = axum::Router::new().fallback(move |request: Request| {
            let (a, r, m) = (a.clone(), r.clone(), m.clone());
            async move {
                let (parts, body) = request.into_parts();
                let body: Bytes = axum::body::to_bytes(body, 1 << 20)
                    .await
                    .unwrap_or_default();
                let query = parts.uri.query().unwrap_or_default().to_owned();
                let current = *m.lock().expect("mood");
                let (ok, answer) = tokio::task::spawn_blocking(move || match vendor {
                    "aliyun" => aliyun_answer(&query, current),
                    _ => tencent_answer(&parts.headers, &body, current),
                })
                .await
                .expect("the check runs");
                match ok {
                    Some(params) => a.lock().expect("accepted").push(Accepted { params }),
                    None => *r.lock().expect("refused") += 1,
                }
                axum::Json(answer)
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsPeer {
            base_url,
            accepted,
            refused,
            mood,
        }
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.accepted.lock().expect("accepted").clone()
    }

    pub fn refused(&self) -> usize {
        *self.refused.lock().expect("refused")
    }

    pub fn set_mood(&self, mood: Mood) {
        *self.mood.lock().expect("mood") = mood;
    }
}
