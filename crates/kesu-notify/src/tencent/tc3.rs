//! Tencent Cloud's TC3-HMAC-SHA256 signature (签名方法 v3), for a JSON POST
//! to `/` with the two headers the documentation requires to be signed,
//! `content-type` and `host`:
//!
//! 1. `CanonicalRequest = "POST\n/\n\n" + "content-type:{ct}\nhost:{host}\n"
//!    + "\n" + "content-type;host" + "\n" + hex(SHA256(payload))`
//! 2. `StringToSign = "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
//!    + hex(SHA256(CanonicalRequest))`, `date` the UTC day of `timestamp`
//! 3. `SecretDate = HMAC("TC3" + SecretKey, date)`, `SecretService =
//!    HMAC(SecretDate, service)`, `SecretSigning = HMAC(SecretService,
//!    "tc3_request")`, `Signature = hex(HMAC(SecretSigning, StringToSign))`
//! 4. `Authorization = "TC3-HMAC-SHA256 Credential={SecretId}/{scope},
//!    SignedHeaders=content-type;host, Signature={signature}"`

use sha2::{Digest as _, Sha256};

use crate::mac::hmac_sha256;

const ALGORITHM: &str = "TC3-HMAC-SHA256";
const SIGNED_HEADERS: &str = "content-type;host";

/// What one signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Tc3Request<'a> {
    /// `SecretId`.
    pub secret_id: &'a str,
    /// `SecretKey`.
    pub secret_key: &'a str,
    /// The product: `sms`, `cvm`, … (the first label of its host name).
    pub service: &'a str,
    /// The `Host` header exactly as sent (with `:port` when not the default).
    pub host: &'a str,
    /// The `Content-Type` header exactly as sent.
    pub content_type: &'a str,
    /// The body exactly as sent.
    pub payload: &'a [u8],
    /// `X-TC-Timestamp`: Unix seconds.
    pub timestamp: i64,
}

/// Step 1: the canonical request.
pub fn canonical_request(request: &Tc3Request<'_>) -> String {
    format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\n{SIGNED_HEADERS}\n{}",
        request.content_type.trim().to_ascii_lowercase(),
        request.host.trim().to_ascii_lowercase(),
        hex::encode(Sha256::digest(request.payload)),
    )
}

/// Step 2: the string to sign.
///
/// # Errors
/// When `timestamp` is outside the range of dates.
pub fn string_to_sign(request: &Tc3Request<'_>) -> Result<String, jiff::Error> {
    Ok(format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        request.timestamp,
        credential_scope(request)?,
        hex::encode(Sha256::digest(canonical_request(request).as_bytes())),
    ))
}

/// Steps 3 and 4: the `Authorization` header.
///
/// # Errors
/// When `timestamp` is outside the range of dates.
pub fn authorization(request: &Tc3Request<'_>) -> Result<String, jiff::Error> {
    let date = utc_date(request.timestamp)?;
    let secret_date = hmac_sha256(
        format!("TC3{}", request.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, request.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(
        &secret_signing,
        string_to_sign(request)?.as_bytes(),
    ));
    Ok(format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        request.secret_id,
        credential_scope(request)?,
    ))
}

fn credential_scope(request: &Tc3Request<'_>) -> Result<String, jiff::Error> {
    Ok(format!(
        "{}/{}/tc3_request",
        utc_date(request.timestamp)?,
        request.service
    ))
}

/// The UTC day of a Unix time, `YYYY-MM-DD` (never the local day: at 00:44
/// in Beijing it is still yesterday in UTC).
fn utc_date(timestamp: i64) -> Result<String, jiff::Error> {
    Ok(jiff::Timestamp::from_second(timestamp)?
        .strftime("%Y-%m-%d")
        .to_string())
}
