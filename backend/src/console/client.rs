//! The console's side of the binary API: one connection (TCP, or TLS to `api-ssl`), `/login`,
//! then one command at a time, its replies gathered until `!done`.
//!
//! Framing is [`crate::ros_api::wire`]'s, the same code the server reads with. Over TLS the
//! router's certificate is pinned: the console trusts exactly the certificate it is given (the
//! router's self-signed `tls/cert.pem` by default), whatever names it carries, so a console on the
//! router's own host connects to `127.0.0.1` without a CA.

use super::error::ConsoleError;
use super::layout::Row;
use crate::ros_api::wire::{self, Limits, WireError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one reply may keep us waiting: a router that stops answering ends the session
/// rather than hanging the terminal.
pub const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Replies can be large (an export is one word, a connection table many sentences), so the
/// console accepts more than the server does from clients.
const LIMITS: Limits = Limits {
    max_word: 64 << 20,
    max_words: 1 << 16,
};

/// What a command answered: its `!re` rows and the attributes of its `!done` (`ret`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub rows: Vec<Row>,
    pub done: Row,
}

impl Reply {
    /// `=ret=` of the `!done`.
    pub fn ret(&self) -> Option<&str> {
        self.done
            .iter()
            .find(|(k, _)| k == "ret")
            .map(|(_, v)| v.as_str())
    }
}

/// Something that runs API commands: the router, or a test's stand-in.
pub trait Api {
    /// Sends one sentence and reads its replies; a `!trap` is an error.
    fn call(&mut self, words: &[String]) -> Result<Reply, ConsoleError>;
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A logged-in connection to the router's API.
pub struct Client {
    stream: Box<dyn Stream>,
    endpoint: Endpoint,
    /// Who logged in, to log in again when the router ended an idle session.
    login: Option<(String, String)>,
}

/// Where the router is, and the certificate it must present over TLS.
struct Endpoint {
    host: String,
    port: u16,
    trusted: Option<PathBuf>,
}

fn lost(e: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Connection(format!("connection to the router lost: {e}"))
}

/// Why a command got no answer.
enum Failed {
    /// The connection was already over when the command was sent (the router closes sessions
    /// idle for long, saying `!fatal`): nothing ran, so the command may be sent again.
    Stale(ConsoleError),
    /// The command was answered with an error, or the connection failed during the answer.
    Answered(ConsoleError),
}

impl Endpoint {
    fn open(&self) -> Result<Box<dyn Stream>, ConsoleError> {
        let (host, port) = (self.host.as_str(), self.port);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| ConsoleError::Connection(format!("{host}: {e}")))?;
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            ConsoleError::Connection(format!(
                "cannot connect to {host} port {port}: {}",
                last.map_or_else(|| "no address".to_string(), |e| e.to_string())
            ))
        })?;
        tcp.set_read_timeout(Some(READ_TIMEOUT)).map_err(lost)?;
        tcp.set_nodelay(true).map_err(lost)?;
        Ok(match &self.trusted {
            None => Box::new(tcp),
            Some(cert) => {
                let config = tls_config(cert)?;
                let name = ServerName::try_from(host.to_string())
                    .map_err(|e| ConsoleError::Connection(format!("{host}: {e}")))?;
                let conn = ClientConnection::new(config, name)
                    .map_err(|e| ConsoleError::Connection(format!("TLS: {e}")))?;
                Box::new(StreamOwned::new(conn, tcp))
            }
        })
    }
}

impl Client {
    /// Connects to `host:port`, over TLS when `trusted` gives the router's certificate (PEM).
    pub fn connect(host: &str, port: u16, trusted: Option<&Path>) -> Result<Client, ConsoleError> {
        let endpoint = Endpoint {
            host: host.to_string(),
            port,
            trusted: trusted.map(Path::to_path_buf),
        };
        Ok(Client {
            stream: endpoint.open()?,
            endpoint,
            login: None,
        })
    }

    /// `/login` (RouterOS 6.43+: name and password in one sentence).
    pub fn login(&mut self, user: &str, password: &str) -> Result<(), ConsoleError> {
        match self.exchange(&super::translate::login(user, password)) {
            Ok(_) => {
                self.login = Some((user.to_string(), password.to_string()));
                Ok(())
            }
            Err(Failed::Stale(e) | Failed::Answered(e)) => Err(match e {
                ConsoleError::Trap { message, .. } => ConsoleError::Connection(message),
                other => other,
            }),
        }
    }

    /// One command and its replies.
    fn exchange(&mut self, words: &[String]) -> Result<Reply, Failed> {
        wire::write_sentence(&mut self.stream, words)
            .and_then(|()| self.stream.flush())
            .map_err(|e| Failed::Stale(lost(e)))?;
        let mut reply = Reply::default();
        let mut trap: Option<ConsoleError> = None;
        let mut first = true;
        loop {
            let sentence = wire::read_sentence(&mut self.stream, &LIMITS).map_err(|e| {
                let e = match e {
                    WireError::Closed => {
                        ConsoleError::Connection("the router closed the connection".into())
                    }
                    e => lost(e),
                };
                if first {
                    Failed::Stale(e)
                } else {
                    Failed::Answered(e)
                }
            })?;
            let (kind, attrs) = sentence
                .split_first()
                .map_or((&b""[..], &[][..]), |(k, a)| (&k[..], a));
            let attrs = attributes(attrs);
            match kind {
                b"!re" => reply.rows.push(attrs),
                b"!done" => {
                    reply.done = attrs;
                    return match trap {
                        Some(e) => Err(Failed::Answered(e)),
                        None => Ok(reply),
                    };
                }
                b"!trap" => {
                    // The first trap is the one that says what went wrong.
                    trap.get_or_insert_with(|| trap_error(&attrs));
                }
                b"!fatal" => {
                    let reason = sentence
                        .get(1)
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .unwrap_or_default();
                    let e =
                        ConsoleError::Connection(format!("the router ended the session: {reason}"));
                    return Err(if first {
                        Failed::Stale(e)
                    } else {
                        Failed::Answered(e)
                    });
                }
                // `!empty` (RouterOS 7.18+: nothing matched) and anything newer: no rows.
                _ => {}
            }
            first = false;
        }
    }
}

impl Api for Client {
    /// A session the router ended while the console sat idle is opened again (and logged in
    /// again) once, and the command sent on it.
    fn call(&mut self, words: &[String]) -> Result<Reply, ConsoleError> {
        match self.exchange(words) {
            Ok(reply) => Ok(reply),
            Err(Failed::Answered(e)) => Err(e),
            Err(Failed::Stale(e)) => {
                let Some((user, password)) = self.login.clone() else {
                    return Err(e);
                };
                self.stream = self.endpoint.open()?;
                self.login(&user, &password)?;
                self.exchange(words)
                    .map_err(|(Failed::Stale(e) | Failed::Answered(e))| e)
            }
        }
    }
}

/// `=name=value` words as pairs; other words (`.tag=…`) are not properties.
fn attributes(words: &[Vec<u8>]) -> Row {
    words
        .iter()
        .filter_map(|w| {
            let w = String::from_utf8_lossy(w);
            let rest = w.strip_prefix('=')?;
            let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn trap_error(attrs: &Row) -> ConsoleError {
    let get = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    ConsoleError::Trap {
        category: get("category").and_then(|c| c.parse().ok()),
        message: get("message").unwrap_or_else(|| "failure".into()),
    }
}

/// TLS that trusts the certificates in `path` and nothing else.
fn tls_config(path: &Path) -> Result<Arc<ClientConfig>, ConsoleError> {
    let bad = |what: String| ConsoleError::Connection(format!("{}: {what}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { certs, provider }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Trusts a server whose certificate is one of `certs`, byte for byte; signatures are still
/// checked by the provider, so the server must hold the certificate's key.
#[derive(Debug)]
struct Pinned {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the router's certificate is not the one trusted (--tls-cert)".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A stream that replies with `input` and keeps what is written.
    struct Canned {
        input: Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Canned {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Canned {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn client(replies: &[&[&str]]) -> Client {
        let mut input = Vec::new();
        for s in replies {
            wire::encode_sentence(s, &mut input);
        }
        Client {
            stream: Box::new(Canned {
                input: Cursor::new(input),
                written: Vec::new(),
            }),
            endpoint: Endpoint {
                host: "127.0.0.1".into(),
                port: 1,
                trusted: None,
            },
            login: None,
        }
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_and_ret() {
        let mut c = client(&[
            &["!re", "=.id=*1", "=protocol=tcp", "=comment="],
            &["!empty"],
            &["!re", "=.id=*2", "=protocol"],
            &["!done", "=ret=2"],
        ]);
        let reply = c
            .call(&words(&["/ip/firewall/connection/print"]))
            .expect("reply");
        assert_eq!(reply.rows.len(), 2);
        assert_eq!(
            reply.rows[0],
            [
                (".id".to_string(), "*1".to_string()),
                ("protocol".into(), "tcp".into()),
                ("comment".into(), "".into())
            ]
        );
        assert_eq!(reply.rows[1][1], ("protocol".into(), "".into()));
        assert_eq!(reply.ret(), Some("2"));
    }

    #[test]
    fn traps_fatal_and_closing() {
        let mut c = client(&[
            &[
                "!trap",
                "=category=1",
                "=message=invalid value for argument udp-timeout",
            ],
            &["!done"],
        ]);
        assert_eq!(
            c.call(&words(&["/x"])).unwrap_err(),
            ConsoleError::Trap {
                category: Some(1),
                message: "invalid value for argument udp-timeout".into()
            }
        );
        let mut c = client(&[&["!fatal", "too many commands"]]);
        assert_eq!(
            c.call(&words(&["/x"])).unwrap_err().to_string(),
            "the router ended the session: too many commands"
        );
        let mut c = client(&[]);
        assert!(c.call(&words(&["/x"])).unwrap_err().is_fatal());
    }

    #[test]
    fn login_failure_is_final() {
        let mut c = client(&[
            &["!trap", "=message=invalid user name or password (6)"],
            &["!done"],
        ]);
        assert_eq!(
            c.login("admin", "nope").unwrap_err(),
            ConsoleError::Connection("invalid user name or password (6)".into())
        );
    }
}
