//! kesu-notify tests, one binary: the signers against the vendors' worked
//! examples (`vectors`), each HTTP adapter against a local peer that checks
//! the request as the vendor would — signatures recomputed by an
//! independent Python implementation (`pyref`) — and SMTP against a real
//! server (aiosmtpd) and a scripted one. Everything runs on 127.0.0.1 and
//! every network test is bounded in time.
//!
//! Needs python3 and, for `smtp`, the aiosmtpd package
//! (`python3 -m pip install aiosmtpd`; scripts/test installs it).

mod aliyun;
mod config;
mod dingtalk;
mod peer;
mod pyref;
mod smtp;
mod tencent;
mod vectors;
mod wechat;
mod wecom;
