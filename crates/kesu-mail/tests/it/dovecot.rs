//! A private Dovecot for one test: its own config, passwd file, maildir,
//! run and state directories in a temp dir, listening on 127.0.0.1 on a free
//! port, in the foreground (`dovecot -F -c CONF`), stopped when dropped.
//!
//! Needs Debian's `dovecot-imapd` (scripts/test installs it). The system
//! service the package may have started is not touched: this instance has
//! its own port, base_dir and instance name.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const USER: &str = "kesu";
pub const PASSWORD: &str = "投诉-secret";

pub struct Dovecot {
    child: Child,
    dir: TempDir,
    /// Plain IMAP.
    pub port: u16,
    /// IMAPS, when started with TLS.
    pub tls_port: Option<u16>,
    /// The CA that signed the server certificate, when started with TLS.
    pub ca_file: Option<PathBuf>,
}

fn dovecot_binary() -> PathBuf {
    if let Ok(path) = std::env::var("KESU_DOVECOT") {
        return PathBuf::from(path);
    }
    let sbin = PathBuf::from("/usr/sbin/dovecot");
    if sbin.exists() {
        return sbin;
    }
    panic!(
        "Dovecot is not installed (no /usr/sbin/dovecot, KESU_DOVECOT unset): the IMAP tests \
         need a real server. Install Debian's dovecot-imapd (`apt-get install dovecot-imapd`; \
         scripts/test does it)."
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Dovecot {
    /// Starts a plain-IMAP server.
    pub fn start() -> Dovecot {
        Self::start_with(false)
    }

    /// Starts a server that also speaks IMAPS with a certificate for
    /// 127.0.0.1 signed by a throwaway CA (`ca_file`).
    pub fn start_with_tls() -> Dovecot {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Dovecot {
        let binary = dovecot_binary();
        let mut last_log = String::new();
        // A port found free may be taken before Dovecot binds it: try again.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let tls_port = tls.then(free_port);
            let ca_file = tls.then(|| make_certificates(dir.path()));
            write_config(dir.path(), port, tls_port);
            let child = Command::new(&binary)
                .arg("-F")
                .arg("-c")
                .arg(dir.path().join("dovecot.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file"))
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run Dovecot ({}): {e}. The IMAP tests need Debian's \
                         dovecot-imapd (scripts/test installs it).",
                        binary.display()
                    )
                });
            let mut server = Dovecot {
                child,
                dir,
                port,
                tls_port,
                ca_file,
            };
            if server.wait_ready(Duration::from_secs(15)) {
                return server;
            }
            last_log = server.log();
        }
        panic!("Dovecot did not start; its log:\n{last_log}");
    }

    /// Waits until this instance greets on its port. The greeting names the
    /// temp dir: a port found free may have been taken by another test's
    /// Dovecot, whose greeting would not do. The master binds every listener
    /// before it serves, so a greeting also means the IMAPS port is ours.
    fn wait_ready(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let token = greeting_token(self.dir.path());
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 512];
                let n = tcp.read(&mut buf).unwrap_or(0);
                return String::from_utf8_lossy(&buf[..n]).contains(&token);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Dovecot's log so far and whatever it wrote to stderr, for failure messages.
    pub fn log(&self) -> String {
        let read = |name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("dovecot.log"))
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; SIGKILL only if it hangs.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What this instance says on connect: unique per temp dir.
fn greeting_token(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "kesu-test{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "")
    )
}

fn write_config(dir: &Path, port: u16, tls_port: Option<u16>) {
    for sub in ["run", "state", "mail", "home"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    // Started as root, Dovecot's auth process runs as `dovecot` and must
    // reach the passwd file, and mail is accessed as `nobody` (Dovecot
    // refuses uid 0), who must be able to create the maildir.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: PathBuf, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        mode(dir.to_path_buf(), 0o755);
        mode(dir.join("mail"), 0o777);
        mode(dir.join("home"), 0o777);
    }
    std::fs::write(
        dir.join("passwd"),
        format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
    )
    .expect("passwd");
    let d = dir.display();
    let (uid, gid) = ids();
    let ssl = match tls_port {
        Some(_) => format!("ssl = yes\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n"),
        None => "ssl = no\n".to_string(),
    };
    let imaps_port = tls_port.unwrap_or(0);
    let greeting = greeting_token(dir);
    let config = format!(
        "protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = kesu-test-{port}
login_greeting = {greeting}
log_path = {d}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
# No growing delay after failed logins (the wrong-password test).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
"
    );
    std::fs::write(dir.join("dovecot.conf"), config).expect("config");
}

/// Whom the mail files belong to: whoever runs the test, or `nobody` for
/// root (Dovecot refuses to access mail as uid 0).
fn ids() -> (String, String) {
    let id = |args: &[&str]| {
        let out = Command::new("id").args(args).output().expect("run id");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    if id(&["-u"]) == "0" {
        (id(&["-u", "nobody"]), id(&["-g", "nobody"]))
    } else {
        (id(&["-u"]), id(&["-g"]))
    }
}

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it
/// (rustls refuses a CA certificate as the server's own). Returns the CA file.
fn make_certificates(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("the TLS test needs the openssl command: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("ext file");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=kesu test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    dir.join("ca.pem")
}
