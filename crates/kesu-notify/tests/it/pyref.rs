//! Independent implementations of the vendors' signatures, in Python's
//! standard library (`hmac`, `hashlib`, `urllib.parse`), written from the
//! vendors' documentation: the local peers check our requests with these,
//! never with the code under test.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Runs `script` with `input` as JSON on stdin; the script prints one line.
fn python(script: &str, input: &Value) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed to check signatures independently");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.to_string().as_bytes())
        .expect("python3 reads its input");
    let output = child.wait_with_output().expect("python3 runs");
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("python3 prints UTF-8")
        .trim_end()
        .to_owned()
}

/// DingTalk 加签 as its documentation's Python sample computes it: returns
/// `(base64, urllib.parse.quote_plus(base64))`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> (String, String) {
    let out = python(
        r#"
import base64, hashlib, hmac, json, sys, urllib.parse
a = json.load(sys.stdin)
s = a["secret"]
mac = hmac.new(s.encode(), "{}\n{}".format(a["ts"], s).encode(), hashlib.sha256).digest()
b = base64.b64encode(mac).decode()
print(b + " " + urllib.parse.quote_plus(b))
"#,
        &json!({"secret": secret, "ts": timestamp_ms}),
    );
    let (raw, quoted) = out.split_once(' ').expect("two words");
    (raw.to_owned(), quoted.to_owned())
}

/// Alibaba Cloud POP v1 (HMAC-SHA1) over decoded query parameters.
pub fn aliyun_signature(params: &[(String, String)], secret: &str) -> String {
    python(
        r#"
import base64, hashlib, hmac, json, sys, urllib.parse
a = json.load(sys.stdin)
enc = lambda v: urllib.parse.quote(v, safe="-_.~")
pairs = sorted((k, v) for k, v in a["params"] if k != "Signature")
canon = "&".join(enc(k) + "=" + enc(v) for k, v in pairs)
sts = "GET&" + enc("/") + "&" + enc(canon)
mac = hmac.new((a["secret"] + "&").encode(), sts.encode(), hashlib.sha1).digest()
print(base64.b64encode(mac).decode())
"#,
        &json!({"params": params, "secret": secret}),
    )
}

/// Tencent Cloud TC3-HMAC-SHA256 `Authorization` for a JSON POST signing
/// `content-type` and `host`.
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    content_type: &str,
    payload: &[u8],
    timestamp: i64,
) -> String {
    python(
        r#"
import hashlib, hmac, json, sys, datetime
a = json.load(sys.stdin)
payload = bytes(a["payload"])
date = datetime.datetime.fromtimestamp(a["ts"], datetime.timezone.utc).strftime("%Y-%m-%d")
canonical = "\n".join([
    "POST", "/", "",
    "content-type:%s\nhost:%s\n" % (a["ct"].lower(), a["host"].lower()),
    "content-type;host",
    hashlib.sha256(payload).hexdigest(),
])
scope = "%s/%s/tc3_request" % (date, a["service"])
sts = "\n".join(["TC3-HMAC-SHA256", str(a["ts"]), scope, hashlib.sha256(canonical.encode()).hexdigest()])
h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
key = h(h(h(("TC3" + a["key"]).encode(), date), a["service"]), "tc3_request")
sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
print("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s" % (a["id"], scope, sig))
"#,
        &json!({
            "id": secret_id, "key": secret_key, "service": service, "host": host,
            "ct": content_type, "payload": payload, "ts": timestamp,
        }),
    )
}
