//! HTTPS (`www-ssl`): the same API as plain HTTP, over TLS (rustls with the ring provider).
//!
//! # The certificate
//! Given (`--tls-cert FILE --tls-key FILE`, PEM: the chain, then a PKCS#8, PKCS#1 or SEC1 key),
//! or else self-signed: made on the first start by rcgen (ECDSA P-256), with the router's
//! identity as subject and its identity and addresses as names, kept in the state directory as
//! [`TLS_DIR`]`/cert.pem` and `key.pem` (mode 0600, the directory 0700) and used again on every
//! later start, so clients that pinned it keep trusting it. Delete `tls/` to make a new one
//! (after the addresses or the identity changed).
//!
//! # Serving
//! Each connection gets its own task: its handshake (at most [`HANDSHAKE_TIMEOUT`]) never
//! holds up accepting others. hyper then serves HTTP/1.1 on it with upgrades (the websocket
//! feed works over TLS too), each request carrying the client's address as axum's
//! `ConnectInfo` (login throttling is per address), a request's head bounded by
//! [`HEADER_TIMEOUT`]. On stop, idle connections close and requests in flight get
//! [`GRACE`] to finish.

use crate::store::{write_atomic, Store};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::fs;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The self-signed certificate's directory in the state directory.
pub const TLS_DIR: &str = "tls";
pub const CERT_FILE: &str = "cert.pem";
pub const KEY_FILE: &str = "key.pem";
/// Longest a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a client may take to send a request's head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may still run after the server is told to stop.
pub const GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: {what}")]
    Pem { path: String, what: String },
    #[error("making the self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Where the certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--tls-cert`.
    Given(PathBuf),
    /// The self-signed one in the state directory; `created` on this start.
    SelfSigned { cert: PathBuf, created: bool },
}

impl Source {
    /// As `/ip service` shows it.
    pub fn describe(&self) -> String {
        match self {
            Source::Given(p) => p.display().to_string(),
            Source::SelfSigned { .. } => "self-signed".into(),
        }
    }
}

/// The server's TLS configuration: from the given files, else from the kept self-signed
/// certificate, else from a new one made for `identity` and `addresses` (and kept).
pub fn load(
    store: &Store,
    given: Option<(&Path, &Path)>,
    identity: &str,
    addresses: &[IpAddr],
) -> Result<(Arc<ServerConfig>, Source), TlsError> {
    let (cert, key, source) = match given {
        Some((cert, key)) => (
            cert.to_path_buf(),
            key.to_path_buf(),
            Source::Given(cert.to_path_buf()),
        ),
        None => {
            let dir = store.path(TLS_DIR);
            let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            let created = !(cert.exists() && key.exists());
            if created {
                let (cert_pem, key_pem) = self_signed(identity, addresses)?;
                if !dir.is_dir() {
                    fs::DirBuilder::new()
                        .mode(0o700)
                        .create(&dir)
                        .map_err(io_error(&dir))?;
                }
                // The key first: a certificate without its key would be regenerated anyway.
                write_atomic(&key, key_pem.as_bytes()).map_err(io_error(&key))?;
                write_atomic(&cert, cert_pem.as_bytes()).map_err(io_error(&cert))?;
            }
            let source = Source::SelfSigned {
                cert: cert.clone(),
                created,
            };
            (cert, key, source)
        }
    };
    Ok((server_config(&cert, &key)?, source))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A self-signed certificate and its key, PEM: subject CN = `identity`, names = the identity
/// (when it can be a DNS name) and `addresses`.
pub fn self_signed(identity: &str, addresses: &[IpAddr]) -> Result<(String, String), TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, identity);
    dn.push(rcgen::DnType::OrganizationName, "statewall");
    params.distinguished_name = dn;
    let dns_name = !identity.is_empty()
        && identity
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if dns_name {
        let name = rcgen::Ia5String::try_from(identity.to_string()).map_err(generate)?;
        params.subject_alt_names.push(rcgen::SanType::DnsName(name));
    }
    params
        .subject_alt_names
        .extend(addresses.iter().map(|a| rcgen::SanType::IpAddress(*a)));
    let key = rcgen::KeyPair::generate().map_err(generate)?;
    let cert = params.self_signed(&key).map_err(generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// rustls's server configuration for a PEM certificate chain and key; HTTP/1.1 by ALPN.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let pem = |path: &Path, e: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.display().to_string(),
        what: e.to_string(),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem(cert, e))?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            path: cert.display().to_string(),
            what: "no certificate in the file".into(),
        });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem(key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` over TLS on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: Router,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (tcp, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "HTTPS: accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        while connections.try_join_next().is_some() {}
        let (acceptor, app, closed) = (acceptor.clone(), app.clone(), closed.clone());
        connections.spawn(connection(acceptor, tcp, client, app, closed));
    }
    let _ = closing.send(true);
    let drained = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("HTTPS: requests still running after {GRACE:?}; dropped");
    }
    Ok(())
}

/// One client: the handshake, then HTTP/1.1 until it closes or the server stops.
async fn connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    client: SocketAddr,
    app: Router,
    mut closed: tokio::sync::watch::Receiver<bool>,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%client, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%client, "TLS handshake timed out");
            return;
        }
    };
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(client));
        app.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service)
        .with_upgrades();
    tokio::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        // The server only ever says it is stopping (or is gone).
        _ = closed.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%client, error = %e, "HTTPS connection");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::TempDir;

    #[test]
    fn the_self_signed_certificate_is_made_once_and_kept() {
        let t = TempDir::new("tls");
        let store = Store::open(&t.0).unwrap();
        let addrs = ["192.0.2.1".parse().unwrap()];
        let (_, source) = load(&store, None, "gw", &addrs).unwrap();
        let cert = store.path(TLS_DIR).join(CERT_FILE);
        assert_eq!(
            source,
            Source::SelfSigned {
                cert: cert.clone(),
                created: true
            }
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.path(TLS_DIR).join(KEY_FILE)), 0o600);
        assert_eq!(mode(&store.path(TLS_DIR)), 0o700);
        let first = fs::read(&cert).unwrap();
        let (_, source) = load(&store, None, "other", &addrs).unwrap();
        assert_eq!(
            source,
            Source::SelfSigned {
                cert: cert.clone(),
                created: false
            }
        );
        assert_eq!(fs::read(&cert).unwrap(), first);
        // Given files win; broken ones are refused with their path.
        let key = store.path(TLS_DIR).join(KEY_FILE);
        let (_, source) = load(&store, Some((&cert, &key)), "gw", &addrs).unwrap();
        assert_eq!(source, Source::Given(cert.clone()));
        let junk = t.0.join("junk.pem");
        fs::write(&junk, "not pem").unwrap();
        let e = load(&store, Some((&junk, &key)), "gw", &addrs).unwrap_err();
        assert!(e.to_string().contains("junk.pem"), "{e}");
        let e = load(&store, Some((&cert, &junk)), "gw", &addrs).unwrap_err();
        assert!(e.to_string().contains("junk.pem"), "{e}");
        // An identity that is no DNS name is only the subject.
        assert!(self_signed("my router", &addrs).is_ok());
    }
}
