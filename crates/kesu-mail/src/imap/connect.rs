//! Opening a session: TCP, TLS (rustls with ring), greeting, LOGIN, and
//! opening the mailbox.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use super::stream::MailStream;
use super::{ImapConfig, ImapError, Security, Session};

pub(super) async fn connect(config: &ImapConfig) -> Result<Session, ImapError> {
    let connect_secs = config.connect_timeout_secs;
    let tcp = timeout(
        config.connect_timeout(),
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await
    .map_err(|_| ImapError::Timeout {
        step: "the connection",
        secs: connect_secs,
    })?
    .map_err(|source| ImapError::Connect {
        host: config.host.clone(),
        port: config.port,
        source,
    })?;
    let stream = match config.security {
        Security::Plain => MailStream::Plain(tcp),
        Security::Tls => {
            let connector = TlsConnector::from(Arc::new(tls_config(config)?));
            let name =
                ServerName::try_from(config.host.clone()).map_err(|_| ImapError::ServerName {
                    host: config.host.clone(),
                })?;
            let tls = timeout(config.connect_timeout(), connector.connect(name, tcp))
                .await
                .map_err(|_| ImapError::Timeout {
                    step: "the TLS handshake",
                    secs: connect_secs,
                })?
                .map_err(|source| ImapError::Tls {
                    host: config.host.clone(),
                    source,
                })?;
            MailStream::Tls(Box::new(tls))
        }
    };
    let mut client = async_imap::Client::new(stream);
    let greeting = timeout(config.command_timeout(), client.read_response())
        .await
        .map_err(|_| ImapError::Timeout {
            step: "the greeting",
            secs: config.command_timeout_secs,
        })?
        .map_err(|e| ImapError::Protocol {
            command: "greeting",
            source: e.into(),
        })?;
    if greeting.is_none() {
        return Err(ImapError::Protocol {
            command: "greeting",
            source: async_imap::error::Error::ConnectionLost,
        });
    }
    let login = timeout(
        config.command_timeout(),
        client.login(&config.username, &config.password),
    )
    .await
    .map_err(|_| ImapError::Timeout {
        step: "LOGIN",
        secs: config.command_timeout_secs,
    })?;
    match login {
        Ok(session) => Ok(session),
        Err((async_imap::error::Error::No(message), _)) => Err(ImapError::Auth {
            username: config.username.clone(),
            message,
        }),
        Err((source, _)) => Err(ImapError::Protocol {
            command: "LOGIN",
            source,
        }),
    }
}

fn tls_config(config: &ImapConfig) -> Result<ClientConfig, ImapError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.ca_file {
        let ca_error = |reason: String| ImapError::CaFile {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    // The ring provider explicitly, as kesu-notify does: never the
    // process-wide default, which would need exactly one provider compiled in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Tls {
            host: config.host.clone(),
            source: std::io::Error::other(e),
        })?;
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

pub(super) enum Access {
    ReadOnly,
    ReadWrite,
}

pub(super) async fn open(
    session: &mut Session,
    config: &ImapConfig,
    access: Access,
) -> Result<async_imap::types::Mailbox, ImapError> {
    let (command, result) = match access {
        Access::ReadOnly => (
            "EXAMINE",
            timeout(config.command_timeout(), session.examine(&config.mailbox)).await,
        ),
        Access::ReadWrite => (
            "SELECT",
            timeout(config.command_timeout(), session.select(&config.mailbox)).await,
        ),
    };
    match result {
        Err(_) => Err(ImapError::Timeout {
            step: command,
            secs: config.command_timeout_secs,
        }),
        Ok(Ok(mailbox)) => Ok(mailbox),
        Ok(Err(async_imap::error::Error::No(message))) => Err(ImapError::Mailbox {
            mailbox: config.mailbox.clone(),
            message,
        }),
        Ok(Err(source)) => Err(ImapError::Protocol { command, source }),
    }
}
