//! `/system/identity`, the router's name: kept in the state directory (its menu is
//! `crate::command`'s).

use crate::store::{Store, StoreError};

/// The identity file's name in the state directory.
pub const IDENTITY_FILE: &str = "identity";
/// The name until one is set (RouterOS's is `MikroTik`).
pub const DEFAULT_IDENTITY: &str = "statewall";

/// The saved identity, or the default.
pub fn load_identity(store: &Store) -> Result<String, StoreError> {
    let path = store.path(IDENTITY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .next()
            .filter(|l| !l.is_empty())
            .unwrap_or(DEFAULT_IDENTITY)
            .to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_IDENTITY.to_string()),
        Err(source) => Err(StoreError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Whether `name` can be the identity: 1 to 255 characters, none a control character.
pub fn identity_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control)
}
