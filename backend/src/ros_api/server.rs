//! The listeners: `api` (plain TCP, RouterOS's 8728) and `api-ssl` (TLS, 8729, with the HTTPS
//! certificate). Each connection gets its own task (`super::session`); a TLS handshake (at most
//! [`crate::tls::HANDSHAKE_TIMEOUT`]) never holds up accepting others. Beyond
//! [`Options::max_connections`] a new connection is told `!fatal too many connections` and
//! closed. On stop, every connection is closed.

use super::session;
use super::wire::Limits;
use crate::api::AppState;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The bounds of the binary API.
#[derive(Debug, Clone)]
pub struct Options {
    /// Words and sentences once logged in.
    pub limits: Limits,
    /// Bytes of one sentence once logged in.
    pub max_sentence: usize,
    /// Words and sentences before login (a `/login` is four small words).
    pub login_limits: Limits,
    /// Connections at once, per listener (RouterOS's `max-sessions` is 20 by default).
    pub max_connections: usize,
    /// From connecting to logging in, at most.
    pub login_timeout: Duration,
    /// A logged-in connection with no command running and nothing received for this long is
    /// closed.
    pub idle_timeout: Duration,
    /// Tagged commands running at once on one connection.
    pub max_running: usize,
    /// How often `listen` looks for changes.
    pub listen_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            max_sentence: 1 << 20,
            login_limits: Limits {
                max_word: 512,
                max_words: 8,
            },
            max_connections: 20,
            login_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            max_running: 16,
            listen_interval: Duration::from_secs(1),
        }
    }
}

/// The API's TLS configuration: the HTTPS one without HTTP's ALPN (API clients offer none).
pub fn tls_config(https: &ServerConfig) -> Arc<ServerConfig> {
    let mut config = https.clone();
    config.alpn_protocols.clear();
    Arc::new(config)
}

/// Serves the binary API on `listener` (over TLS when `tls` is given) until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    state: AppState,
    options: Options,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let options = Arc::new(options);
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (tcp, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "API: accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        // Reap the finished ones, so the set holds only live connections.
        while connections.try_join_next().is_some() {}
        let _ = tcp.set_nodelay(true);
        let slot = slots.clone().try_acquire_owned().ok();
        let (state, options, acceptor) = (state.clone(), options.clone(), acceptor.clone());
        connections.spawn(async move {
            match acceptor {
                None => connection(tcp, client, slot, state, options).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(crate::tls::HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                            .await;
                    match handshake {
                        Ok(Ok(tls)) => connection(tls, client, slot, state, options).await,
                        Ok(Err(e)) => tracing::debug!(%client, error = %e, "API: TLS handshake"),
                        Err(_) => tracing::debug!(%client, "API: TLS handshake timed out"),
                    }
                }
            }
        });
    }
    connections.shutdown().await;
    Ok(())
}

async fn connection<S>(
    mut stream: S,
    client: SocketAddr,
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    state: AppState,
    options: Arc<Options>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(_slot) = slot else {
        tracing::warn!(%client, "API: too many connections; refused");
        let mut out = Vec::new();
        super::wire::encode_sentence(&super::sentence::fatal("too many connections"), &mut out);
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        })
        .await;
        return;
    };
    session::run(stream, client, state, options).await;
}
