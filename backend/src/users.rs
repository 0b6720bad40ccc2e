//! `/user`: who may manage the router, in two groups: `full` (everything) and `read` (look, never
//! change). Passwords are kept only as argon2id hashes (PHC strings), in `users.json` in the state
//! directory, written atomically like the configuration.
//!
//! There is no default password. On first start (no `users.json`) the one user, `admin` (group
//! `full`), gets the password the operator gives (`--admin-password-file` or
//! `STATEWALL_ADMIN_PASSWORD`); without one the router refuses to start.
//!
//! Changes go through [`Change`], as configuration changes do, and are refused with the same
//! [`EditError`]s, so the REST layer reports both alike.

use crate::store::{write_atomic, Store};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use shared::config::edit::{Change, EditError, Item};
use shared::connection::format_id;
use shared::rsc::{ErrorKind, Pos, RscError};
use std::path::PathBuf;
use std::sync::Mutex;

/// The users file's name in the state directory.
pub const USERS_FILE: &str = "users.json";
/// The user created on first start.
pub const ADMIN: &str = "admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// May change anything.
    Full,
    /// May only look.
    Read,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Full => "full",
            Group::Read => "read",
        }
    }

    fn parse(text: &str) -> Option<Group> {
        match text {
            "full" => Some(Group::Full),
            "read" => Some(Group::Read),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct User {
    id: u32,
    name: String,
    group: Group,
    /// The argon2id PHC string.
    password: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    comment: String,
}

/// `users.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Db {
    /// The last id given: ids are never reused.
    last_id: u32,
    users: Vec<User>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a statewall users file: {source}")]
    Broken {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "no users yet and no password for {ADMIN}: give it with --admin-password-file FILE or the \
         STATEWALL_ADMIN_PASSWORD environment variable (statewall has no default password)"
    )]
    NoAdminPassword,
    #[error("the password for {ADMIN} is empty")]
    EmptyAdminPassword,
    #[error("hashing a password: {0}")]
    Hash(String),
}

/// Who a request is from, once its credentials checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub group: Group,
}

/// The users, as saved.
pub struct Users {
    path: PathBuf,
    db: Mutex<Db>,
    hasher: Argon2<'static>,
    /// Checked against when the user does not exist, so a wrong name takes as long as a wrong
    /// password and does not tell which names exist.
    dummy: String,
}

/// The argon2 cost RFC 9106 and OWASP recommend for interactive logins (19 MiB, 2 passes).
pub fn default_params() -> Params {
    Params::default()
}

fn args_error(kind: ErrorKind) -> EditError {
    EditError::Invalid(vec![RscError::new(Pos::default(), kind)])
}

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> UsersError + '_ {
    move |source| UsersError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Users {
    /// The saved users, or on first start the `admin` user with `admin_password`. Returns whether
    /// the users were created now.
    pub fn open(
        store: &Store,
        admin_password: Option<&str>,
        params: Params,
    ) -> Result<(Users, bool), UsersError> {
        let path = store.path(USERS_FILE);
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = hash_with(&hasher, "statewall: no such user")?;
        let existing =
            match std::fs::read(&path) {
                Ok(bytes) => Some(serde_json::from_slice::<Db>(&bytes).map_err(|source| {
                    UsersError::Broken {
                        path: path.display().to_string(),
                        source,
                    }
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_error(&path)(e)),
            };
        let created = existing.is_none();
        let db = match existing {
            Some(db) => db,
            None => {
                let password = admin_password.ok_or(UsersError::NoAdminPassword)?;
                if password.is_empty() {
                    return Err(UsersError::EmptyAdminPassword);
                }
                let db = Db {
                    last_id: 1,
                    users: vec![User {
                        id: 1,
                        name: ADMIN.into(),
                        group: Group::Full,
                        password: hash_with(&hasher, password)?,
                        disabled: false,
                        comment: "created on first start".into(),
                    }],
                };
                save(&path, &db).map_err(io_error(&path))?;
                db
            }
        };
        let users = Users {
            path,
            db: Mutex::new(db),
            hasher,
            dummy,
        };
        Ok((users, created))
    }

    /// The user, if the name and password are right and the user is enabled. Slow on purpose
    /// (argon2): call it off the async threads.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<Login> {
        let found = {
            let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
            db.users
                .iter()
                .find(|u| u.name == name)
                .map(|u| (u.password.clone(), u.group, u.disabled))
        };
        let hash = found.as_ref().map_or(&self.dummy, |(h, _, _)| h);
        let ok = PasswordHash::new(hash)
            .ok()
            .is_some_and(|h| self.hasher.verify_password(password.as_bytes(), &h).is_ok());
        match found {
            Some((_, group, false)) if ok => Some(Login {
                user: name.to_string(),
                group,
            }),
            _ => None,
        }
    }

    /// Every user as `/user print` shows them; never the password.
    pub fn list(&self) -> Vec<Item> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        db.users
            .iter()
            .map(|u| {
                let mut props = vec![
                    ("disabled".to_string(), u.disabled.to_string()),
                    ("group".to_string(), u.group.as_str().to_string()),
                    ("name".to_string(), u.name.clone()),
                ];
                if !u.comment.is_empty() {
                    props.push(("comment".into(), u.comment.clone()));
                }
                props.sort();
                Item { id: u.id, props }
            })
            .collect()
    }

    /// Makes one change and saves it; on any error nothing changes. The id an `add` gave.
    pub fn apply(&self, change: &Change) -> Result<Option<u32>, EditError> {
        let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = db.clone();
        let mut added = None;
        let check_ids = |db: &Db, ids: &[u32]| match ids
            .iter()
            .find(|id| !db.users.iter().any(|u| u.id == **id))
        {
            Some(id) => Err(EditError::NoSuchItem(format_id(*id))),
            None => Ok(()),
        };
        match change {
            Change::Add(args) => {
                next.last_id += 1;
                let mut user = User {
                    id: next.last_id,
                    name: String::new(),
                    group: Group::Read,
                    password: String::new(),
                    disabled: false,
                    comment: String::new(),
                };
                self.set_args(&mut user, args)?;
                for required in ["name", "group", "password"] {
                    if !args.iter().any(|(k, _)| k == required) {
                        return Err(args_error(ErrorKind::MissingArgument {
                            name: required.into(),
                            menu: "/user".into(),
                        }));
                    }
                }
                added = Some(user.id);
                next.users.push(user);
            }
            Change::Set { ids, args } => {
                check_ids(&next, ids)?;
                for user in next.users.iter_mut().filter(|u| ids.contains(&u.id)) {
                    self.set_args(user, args)?;
                }
            }
            Change::Remove(ids) => {
                check_ids(&next, ids)?;
                next.users.retain(|u| !ids.contains(&u.id));
            }
            Change::Enable(ids) | Change::Disable(ids) => {
                check_ids(&next, ids)?;
                let disabled = matches!(change, Change::Disable(_));
                for user in next.users.iter_mut().filter(|u| ids.contains(&u.id)) {
                    user.disabled = disabled;
                }
            }
            Change::Unset { .. } | Change::Move { .. } | Change::Settings(_) => {
                return Err(EditError::NoSuchCommand {
                    command: change.verb().into(),
                    menu: "/user".into(),
                })
            }
        }
        check_names(&next)?;
        if !next
            .users
            .iter()
            .any(|u| u.group == Group::Full && !u.disabled)
        {
            return Err(EditError::Failure(
                "at least one enabled user of group full must remain".into(),
            ));
        }
        save(&self.path, &next)
            .map_err(|e| EditError::Failure(format!("saving {}: {e}", self.path.display())))?;
        *db = next;
        Ok(added)
    }

    fn set_args(&self, user: &mut User, args: &[(String, String)]) -> Result<(), EditError> {
        for (name, value) in args {
            let bad = |expected: &str| {
                args_error(ErrorKind::BadValue {
                    name: name.clone(),
                    value: if name == "password" {
                        "…".into()
                    } else {
                        value.clone()
                    },
                    expected: expected.into(),
                })
            };
            match name.as_str() {
                "name" => {
                    let fits = !value.is_empty()
                        && value.len() <= 64
                        && !value.contains(':')
                        && !value.chars().any(char::is_control);
                    if !fits {
                        return Err(bad("a name of 1 to 64 characters without \":\""));
                    }
                    user.name = value.clone();
                }
                "group" => user.group = Group::parse(value).ok_or_else(|| bad("full or read"))?,
                "password" => {
                    if value.is_empty() {
                        return Err(bad("a password that is not empty"));
                    }
                    user.password = hash_with(&self.hasher, value)
                        .map_err(|e| EditError::Failure(e.to_string()))?;
                }
                "comment" => user.comment = value.clone(),
                "disabled" => {
                    user.disabled = match value.as_str() {
                        "yes" | "true" => true,
                        "no" | "false" => false,
                        _ => return Err(bad("yes or no")),
                    }
                }
                _ => {
                    let known = ["comment", "disabled", "group", "name", "password"];
                    return Err(args_error(ErrorKind::UnknownArgument {
                        name: name.clone(),
                        menu: "/user".into(),
                        suggestion: shared::suggest::closest(name, known.iter().copied())
                            .map(str::to_string),
                        note: None,
                    }));
                }
            }
        }
        Ok(())
    }
}

fn check_names(db: &Db) -> Result<(), EditError> {
    for (i, u) in db.users.iter().enumerate() {
        if db.users[..i].iter().any(|o| o.name == u.name) {
            return Err(args_error(ErrorKind::AlreadyExists {
                menu: "/user".into(),
                key: format!("name={}", u.name),
            }));
        }
    }
    Ok(())
}

fn hash_with(hasher: &Argon2<'_>, password: &str) -> Result<String, UsersError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

fn save(path: &std::path::Path, db: &Db) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(db).map_err(std::io::Error::other)?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// The admin password for a first start: the first line of `file`, else the environment's.
pub fn admin_password(
    file: Option<&std::path::Path>,
    env: Option<String>,
) -> Result<Option<String>, UsersError> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(io_error(f))?;
            Ok(Some(text.lines().next().unwrap_or_default().to_string()))
        }
        None => Ok(env),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::tests::TempDir;

    pub(crate) use crate::testing::cheap_params as test_params;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn first_start_needs_a_password_and_creates_admin() {
        let t = TempDir::new("users");
        let store = Store::open(&t.0).unwrap();
        assert!(matches!(
            Users::open(&store, None, test_params()),
            Err(UsersError::NoAdminPassword)
        ));
        assert!(Users::open(&store, Some(""), test_params()).is_err());
        let (users, created) = Users::open(&store, Some("s3cret"), test_params()).unwrap();
        assert!(created);
        let admin = users.authenticate("admin", "s3cret").unwrap();
        assert_eq!(admin.group, Group::Full);
        assert!(users.authenticate("admin", "wrong").is_none());
        assert!(users.authenticate("nobody", "s3cret").is_none());
        // The file holds a hash, never the password; a second start needs no password.
        let text = std::fs::read_to_string(store.path(USERS_FILE)).unwrap();
        assert!(
            text.contains("$argon2id$") && !text.contains("s3cret"),
            "{text}"
        );
        let (again, created) = Users::open(&store, None, test_params()).unwrap();
        assert!(!created);
        assert!(again.authenticate("admin", "s3cret").is_some());
    }

    #[test]
    fn changes_are_checked_and_saved() {
        let t = TempDir::new("users-change");
        let store = Store::open(&t.0).unwrap();
        let (users, _) = Users::open(&store, Some("pw"), test_params()).unwrap();
        let add = |pairs: &[(&str, &str)]| users.apply(&Change::Add(args(pairs)));
        assert_eq!(
            add(&[("name", "viewer"), ("group", "read"), ("password", "v")]),
            Ok(Some(2))
        );
        let dup = add(&[("name", "viewer"), ("group", "read"), ("password", "x")]);
        assert!(dup.unwrap_err().to_string().contains("name=viewer"));
        let bad = add(&[("name", "w"), ("group", "write"), ("password", "x")]);
        assert!(bad.unwrap_err().to_string().contains("argument group"));
        let missing = add(&[("name", "w"), ("group", "read")]);
        assert!(missing.unwrap_err().to_string().contains("=password="));
        let unknown = add(&[("name", "w"), ("group", "read"), ("passwd", "x")]);
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "unknown parameter passwd; did you mean password?"
        );
        assert_eq!(
            users.authenticate("viewer", "v").map(|l| l.group),
            Some(Group::Read)
        );
        // The last full user cannot go.
        assert!(matches!(
            users.apply(&Change::Remove(vec![1])),
            Err(EditError::Failure(_))
        ));
        assert!(users.apply(&Change::Disable(vec![1])).is_err());
        assert_eq!(
            users.apply(&Change::Remove(vec![7])),
            Err(EditError::NoSuchItem("*7".into()))
        );
        users
            .apply(&Change::Set {
                ids: vec![2],
                args: args(&[("password", "new"), ("comment", "ops")]),
            })
            .unwrap();
        assert!(users.authenticate("viewer", "v").is_none());
        assert!(users.authenticate("viewer", "new").is_some());
        users.apply(&Change::Disable(vec![2])).unwrap();
        assert!(users.authenticate("viewer", "new").is_none());
        users.apply(&Change::Remove(vec![2])).unwrap();
        // Ids never come back; the list never shows passwords.
        assert_eq!(
            add(&[("name", "third"), ("group", "full"), ("password", "t")]),
            Ok(Some(3))
        );
        let list = users.list();
        assert_eq!(list.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 3]);
        assert!(list.iter().all(|i| i.get("password").is_none()));
        let (reloaded, _) = Users::open(&store, None, test_params()).unwrap();
        assert_eq!(reloaded.list(), list);
    }

    #[test]
    fn the_admin_password_comes_from_the_file_first() {
        let t = TempDir::new("users-pw");
        let f = t.0.join("pw");
        std::fs::write(&f, "from-file\nignored\n").unwrap();
        assert_eq!(
            admin_password(Some(&f), Some("env".into())).unwrap(),
            Some("from-file".into())
        );
        assert_eq!(
            admin_password(None, Some("env".into())).unwrap(),
            Some("env".into())
        );
        assert_eq!(admin_password(None, None).unwrap(), None);
    }
}
