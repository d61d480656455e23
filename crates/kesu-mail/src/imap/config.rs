//! Where the mailbox is and how to reach it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// No encryption: only for a server on the same machine or a test.
    Plain,
    /// Implicit TLS from the first byte (IMAPS, usually port 993), checked
    /// against the Mozilla roots (webpki-roots) plus [`ImapConfig::ca_file`].
    /// STARTTLS is not supported.
    Tls,
}

/// Where the desk's mailbox is and how to log in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    /// The folder to read (default `INBOX`).
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Extra trusted certificates (PEM), for a server with a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// For the TCP connection and the TLS handshake, each (default 10 s).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// For each answer of the server (default 60 s).
    #[serde(default = "default_command_timeout")]
    pub command_timeout_secs: u64,
}

fn default_mailbox() -> String {
    "INBOX".into()
}

fn default_connect_timeout() -> u64 {
    10
}

fn default_command_timeout() -> u64 {
    60
}

impl ImapConfig {
    /// A configuration with the defaults: `INBOX`, the Mozilla roots, 10 s to
    /// connect, 60 s per answer.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        security: Security,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        ImapConfig {
            host: host.into(),
            port,
            security,
            username: username.into(),
            password: password.into(),
            mailbox: default_mailbox(),
            ca_file: None,
            connect_timeout_secs: default_connect_timeout(),
            command_timeout_secs: default_command_timeout(),
        }
    }

    pub(super) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub(super) fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.command_timeout_secs)
    }
}

impl std::fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("mailbox", &self.mailbox)
            .field("ca_file", &self.ca_file)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("command_timeout_secs", &self.command_timeout_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{ImapConfig, Security};

    #[test]
    fn the_password_is_not_in_debug_output() {
        let config = ImapConfig::new("imap.example.com", 993, Security::Tls, "kefu", "s3cret!");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("kefu"));
    }

    #[test]
    fn config_reads_with_defaults() {
        let config: ImapConfig = serde_json::from_str(
            r#"{"host":"imap.example.com","port":993,"security":"tls","username":"kefu","password":"p"}"#,
        )
        .expect("config");
        assert_eq!(config.mailbox, "INBOX");
        assert_eq!(config.connect_timeout_secs, 10);
        assert_eq!(config.command_timeout_secs, 60);
        assert_eq!(config.ca_file, None);
    }
}
