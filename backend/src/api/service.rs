//! `/rest/ip/service`: the management services, `www` (HTTP) and `www-ssl` (HTTPS), as
//! RouterOS lists them. Read-only: `statewall run`'s flags set them (`--http-listen`,
//! `--https-listen`, `--tls-cert`/`--tls-key`), so a change through the API is refused.
//!
//! RouterOS's `address` is the prefixes clients may connect from; statewall does not restrict
//! clients there (the input chain does), so it is empty, as on a RouterOS default. Where the
//! service is bound is statewall's own `listen`.

use super::menus::props_obj;
use super::query::Obj;
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `www` or `www-ssl`.
    pub name: &'static str,
    /// Where it listens; `None`: turned off.
    pub listen: Option<SocketAddr>,
    /// RouterOS's port for it, shown when it is off.
    pub default_port: u16,
    /// `www-ssl`'s certificate: the file given, or `self-signed`.
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
}

/// The services as `/ip service print` shows them over REST.
pub(super) fn items(services: &[Service]) -> Vec<Obj> {
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
            props_obj(Some(i as u32), props)
        })
        .collect()
}
