//! Request bodies into typed inputs, with clear errors instead of the
//! framework's plain-text rejections.
//!
//! JSON bodies and HTML form posts become the same `serde_json::Value`, so
//! one input struct serves the API and the pages. Form values are strings;
//! the `flex` deserializers accept `"12.5"`, `"true"` and `""` where numbers,
//! booleans and optional values are expected.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Failure;

/// Maps a body rejection (too large, unreadable) to a failure.
pub fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, Failure> {
    bytes.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::Malformed(e.body_text())
        }
    })
}

/// Parses a JSON body into `T`: 400 when it is not JSON, 422 when it does not fit.
///
/// # Errors
/// [`Failure::Malformed`] or [`Failure::InvalidText`].
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Failure::Malformed(format!("JSON: {e}")))?;
    from_value(value)
}

/// `T` from a JSON value, 422 with serde's explanation when it does not fit.
///
/// # Errors
/// [`Failure::InvalidText`].
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|e| Failure::InvalidText(e.to_string()))
}

/// An urlencoded form as a JSON object. Keys named in `lists` collect every
/// value into an array (checkboxes); other keys keep their last value.
pub fn form_value(bytes: &[u8], lists: &[&str]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if lists.contains(&k.as_str()) {
            match map.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(a) => a.push(Value::String(v)),
                other => *other = Value::Array(vec![Value::String(v)]),
            }
        } else {
            map.insert(k, Value::String(v));
        }
    }
    for l in lists {
        map.entry((*l).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    map
}

/// Deserializers that accept form strings as well as JSON values.
pub mod flex {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn bad<E: serde::de::Error>(what: &str, v: &Value) -> E {
        E::custom(format!("expected {what}, got {v}"))
    }

    /// `Option<f64>` from a number, a numeric string, or an empty string / null.
    ///
    /// # Errors
    /// When the value is not a number.
    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_f64().map(Some).ok_or_else(|| bad("a number", &v)),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad("a number", &v)),
            _ => Err(bad("a number", &v)),
        }
    }

    /// `Option<i64>` likewise.
    ///
    /// # Errors
    /// When the value is not an integer.
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| bad("an integer", &v)),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad("an integer", &v)),
            _ => Err(bad("an integer", &v)),
        }
    }

    /// `bool` from a boolean, `"true"`/`"false"`/`"on"`/`"1"`/`"0"`; missing is false.
    ///
    /// # Errors
    /// When the value is none of those.
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(*b),
            Value::String(s) => match s.trim() {
                "true" | "on" | "1" | "yes" => Ok(true),
                "false" | "off" | "0" | "no" | "" => Ok(false),
                _ => Err(bad("true or false", &v)),
            },
            _ => Err(bad("true or false", &v)),
        }
    }

    /// `Option<bool>`: like [`bool`] but keeps "not given" apart.
    ///
    /// # Errors
    /// When the value is not a boolean.
    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::String(s) => match s.trim() {
                "true" | "on" | "1" | "yes" => Ok(Some(true)),
                "false" | "off" | "0" | "no" => Ok(Some(false)),
                _ => Err(bad("true or false", &v)),
            },
            _ => Err(bad("true or false", &v)),
        }
    }
}
