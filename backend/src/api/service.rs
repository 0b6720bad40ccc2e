//! `/ip/service`: the management services, `www` (HTTP), `www-ssl` (HTTPS), `api` (the binary
//! API) and `api-ssl` (the binary API over TLS), as RouterOS lists them. Read-only: `statewall
//! run`'s flags set them (`--http-listen`, `--https-listen`, `--api-listen`,
//! `--api-ssl-listen`, `--tls-cert`/`--tls-key`), so a change through the API is refused.
//!
//! RouterOS's `address` is the prefixes clients may connect from; statewall does not restrict
//! clients there (the input chain does), so it is empty, as on a RouterOS default. Where the
//! service is bound is statewall's own `listen`.

use crate::command::Row;
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `www`, `www-ssl`, `api` or `api-ssl`.
    pub name: &'static str,
    /// Where it listens; `None`: turned off.
    pub listen: Option<SocketAddr>,
    /// RouterOS's port for it, shown when it is off.
    pub default_port: u16,
    /// The TLS services' certificate: the file given, or `self-signed`.
    pub certificate: Option<String>,
}

impl Service {
    pub fn www(listen: Option<SocketAddr>) -> Service {
        Service {
            name: "www",
            listen,
            default_port: 80,
            certificate: None,
        }
    }

    pub fn www_ssl(listen: Option<SocketAddr>, certificate: String) -> Service {
        Service {
            name: "www-ssl",
            listen,
            default_port: 443,
            certificate: Some(certificate),
        }
    }

    pub fn api(listen: Option<SocketAddr>) -> Service {
        Service {
            name: "api",
            listen,
            default_port: 8728,
            certificate: None,
        }
    }

    pub fn api_ssl(listen: Option<SocketAddr>, certificate: String) -> Service {
        Service {
            name: "api-ssl",
            listen,
            default_port: 8729,
            certificate: Some(certificate),
        }
    }
}

/// The services as `/ip service print` shows them.
pub(crate) fn rows(services: &[Service]) -> Vec<Row> {
    services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let port = s.listen.map_or(s.default_port, |a| a.port());
            let mut props = vec![
                ("address".to_string(), String::new()),
                ("disabled".into(), s.listen.is_none().to_string()),
                ("invalid".into(), "false".into()),
                (
                    "listen".into(),
                    s.listen.map(|a| a.to_string()).unwrap_or_default(),
                ),
                ("name".into(), s.name.into()),
                ("port".into(), port.to_string()),
            ];
            if let Some(c) = &s.certificate {
                props.insert(1, ("certificate".into(), c.clone()));
                props.push(("tls-version".into(), "any".into()));
            }
            Row::new(Some(i as u32), props)
        })
        .collect()
}
