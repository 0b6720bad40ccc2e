//! The state directory (`--state-dir`, default `/var/lib/statewall`): the saved configuration
//! and what else the router keeps across restarts (users, identity).
//!
//! The configuration is kept as the `.rsc` script a compact `/export` writes (`config.rsc`), so
//! it can be read, diffed and restored by hand. Every file here is written atomically
//! ([`write_atomic`]): a crash or a power cut leaves the old file or the new one, never a
//! truncated one. Before `config.rsc` is replaced, the copy it replaces (the last good one) is
//! kept as `config.rsc.bak`.
//!
//! Export files (`/export file=NAME`, what scheduled backups write) go to `backups/`, the one
//! directory of files: [`backup_name_ok`] says which names it may hold (never a path), and
//! [`Store::save_backup`] keeps at most a given number, removing the oldest.
//!
//! Item ids are not in the script: ids are stable while statewall runs, and a restart numbers
//! items from 1 in list order, as importing the export on RouterOS would.

use shared::config::RouterConfig;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The saved configuration's file name in the state directory.
pub const CONFIG_FILE: &str = "config.rsc";
/// The configuration `config.rsc` had before its last change.
pub const BACKUP_FILE: &str = "config.rsc.bak";
/// The directory of export files (`/export file=NAME` in scripts, scheduled backups).
pub const BACKUPS_DIR: &str = "backups";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: the configuration has {} error(s):\n{}{}", .errors.len(), .errors.join("\n"), hint(.backup))]
    Broken {
        path: String,
        errors: Vec<String>,
        /// The last good copy beside it, if there is one.
        backup: Option<String>,
    },
    #[error("no saved configuration in {dir} and no --config FILE.rsc to start from")]
    Nothing { dir: String },
}

fn hint(backup: &Option<String>) -> String {
    match backup {
        Some(b) => format!("\nthe previous good configuration is in {b}"),
        None => String::new(),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where the configuration came from at start, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The saved configuration.
    Saved,
    /// The saved configuration; `--config` was given without `--replace-config` and ignored.
    SavedOverFile(PathBuf),
    /// No configuration was saved: `--config`'s file, now saved.
    Seeded(PathBuf),
    /// `--config` with `--replace-config`: the file replaced the saved configuration.
    Replaced(PathBuf),
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens the directory, creating it (mode 0700: it holds password hashes) if missing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_error(dir))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file of the state directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The saved configuration; `None` if there is none. A file that does not read as a whole
    /// is refused with every error's line and column.
    pub fn load(&self) -> Result<Option<RouterConfig>, StoreError> {
        let path = self.path(CONFIG_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let backup = self.path(BACKUP_FILE);
        let backup = backup.exists().then(|| backup.display().to_string());
        read_config(&path, backup).map(Some)
    }

    /// Saves the configuration, keeping the one it replaces as `config.rsc.bak`.
    pub fn save(&self, cfg: &RouterConfig) -> Result<(), StoreError> {
        let path = self.path(CONFIG_FILE);
        match fs::read(&path) {
            Ok(old) => {
                let backup = self.path(BACKUP_FILE);
                write_atomic(&backup, &old).map_err(io_error(&backup))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        write_atomic(&path, saved_text(cfg).as_bytes()).map_err(io_error(&path))
    }

    /// The configuration to start with: the saved one, or `--config`'s file when nothing is
    /// saved yet (then saved) or when `replace` (`--replace-config`) says it wins.
    pub fn start(
        &self,
        file: Option<&Path>,
        replace: bool,
    ) -> Result<(RouterConfig, Origin), StoreError> {
        let saved = if replace && file.is_some() {
            None
        } else {
            self.load()?
        };
        match (saved, file) {
            (Some(cfg), None) => Ok((cfg, Origin::Saved)),
            (Some(cfg), Some(f)) => Ok((cfg, Origin::SavedOverFile(f.to_path_buf()))),
            (None, Some(f)) => {
                let cfg = read_config(f, None)?;
                self.save(&cfg)?;
                let origin = if replace && self.path(BACKUP_FILE).exists() {
                    Origin::Replaced(f.to_path_buf())
                } else {
                    Origin::Seeded(f.to_path_buf())
                };
                Ok((cfg, origin))
            }
            (None, None) => Err(StoreError::Nothing {
                dir: self.dir.display().to_string(),
            }),
        }
    }
}

/// One file of `backups/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub name: String,
    pub size: u64,
    /// Last modified, in seconds since 1970 (UTC).
    pub modified: u64,
    /// The same in nanoseconds, for ordering.
    modified_ns: u128,
}

/// Whether `name` can be a file of `backups/`: one path component of ASCII letters, digits and
/// `. _ - : + @`, not starting with a dot (so no `..`, and never a temporary file of
/// [`write_atomic`]), at most 255 bytes. Everything that reads or writes `backups/` checks
/// names with this.
pub fn backup_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:+@".contains(c))
}

impl Store {
    /// `backups/`, created (mode 0700) if missing.
    pub fn backups_dir(&self) -> Result<PathBuf, StoreError> {
        let dir = self.path(BACKUPS_DIR);
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .map_err(io_error(&dir))?;
        }
        Ok(dir)
    }

    /// Writes `backups/NAME` atomically, then removes the oldest files beyond `keep` (never the
    /// one just written). The names removed.
    pub fn save_backup(
        &self,
        name: &str,
        bytes: &[u8],
        keep: usize,
    ) -> Result<Vec<String>, StoreError> {
        let dir = self.backups_dir()?;
        let path = dir.join(name);
        if !backup_name_ok(name) {
            return Err(io_error(&path)(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a name for a file of backups/",
            )));
        }
        write_atomic(&path, bytes).map_err(io_error(&path))?;
        let mut older: Vec<BackupFile> = self
            .backups()?
            .into_iter()
            .filter(|f| f.name != name)
            .collect();
        let excess = (older.len() + 1).saturating_sub(keep.max(1));
        let mut removed = Vec::new();
        for f in older.drain(..excess.min(older.len())) {
            let p = dir.join(&f.name);
            match fs::remove_file(&p) {
                Ok(()) => removed.push(f.name),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&p)(e)),
            }
        }
        Ok(removed)
    }

    /// The files of `backups/`, oldest first (by modification time, then name).
    pub fn backups(&self) -> Result<Vec<BackupFile>, StoreError> {
        let dir = self.path(BACKUPS_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error(&dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() || !backup_name_ok(&name) {
                continue;
            }
            let since = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            out.push(BackupFile {
                name,
                size: meta.len(),
                modified: since.as_secs(),
                modified_ns: since.as_nanos(),
            });
        }
        out.sort_by(|a, b| (a.modified_ns, &a.name).cmp(&(b.modified_ns, &b.name)));
        Ok(out)
    }

    /// The contents of `backups/NAME`; `None` when there is no such file (or NAME is not a
    /// name such a file can have: no path leaves `backups/`).
    pub fn read_backup(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !backup_name_ok(name) {
            return Ok(None);
        }
        let path = self.path(BACKUPS_DIR).join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path)(e)),
        }
        fs::read(&path).map(Some).map_err(io_error(&path))
    }
}

/// The text saved for a configuration: a comment line, then the compact export.
pub fn saved_text(cfg: &RouterConfig) -> String {
    format!(
        "# statewall {} configuration; ids are not kept\n{}",
        env!("CARGO_PKG_VERSION"),
        cfg.to_rsc()
    )
}

/// Reads and checks a configuration script; every error with its line and column.
pub fn read_config(path: &Path, backup: Option<String>) -> Result<RouterConfig, StoreError> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    RouterConfig::from_rsc(&text).map_err(|errors| StoreError::Broken {
        path: path.display().to_string(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
        backup,
    })
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves the old file or the new
/// one: a temporary file in the same directory, written and fsynced, renamed over `path`, then
/// the directory fsynced so the rename itself is on disk. Mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use crate::testing::TempDir;

    const SMALL: &str = "/ip address\nadd address=192.0.2.1/24 interface=ether1\n";

    fn cfg(text: &str) -> RouterConfig {
        RouterConfig::from_rsc(text).unwrap()
    }

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporaries() {
        let t = TempDir::new("atomic");
        let p = t.0.join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&t.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f"]);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn backup_names_never_leave_the_directory() {
        for good in ["daily.rsc", "backup_2025-02-03_21:27:18.rsc", "a+b@c"] {
            assert!(backup_name_ok(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            ".hidden",
            ".x.1.tmp",
            "a b",
            "a\\b",
            "é",
            "x\0",
        ] {
            assert!(!backup_name_ok(bad), "{bad:?}");
        }
        let t = TempDir::new("names");
        let store = Store::open(&t.0.join("state")).unwrap();
        fs::write(t.0.join("secret"), "no").unwrap();
        assert_eq!(store.read_backup("../secret").unwrap(), None);
        assert_eq!(store.read_backup("../../secret").unwrap(), None);
        assert!(store.save_backup("../secret", b"x", 3).is_err());
        assert_eq!(fs::read_to_string(t.0.join("secret")).unwrap(), "no");
    }

    #[test]
    fn backups_keep_the_newest_and_list_oldest_first() {
        let t = TempDir::new("rotate");
        let store = Store::open(&t.0).unwrap();
        assert_eq!(store.backups().unwrap(), []);
        let base = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        // Names sort the other way round from their times, so the order must be by time.
        for (i, name) in ["e.rsc", "d.rsc", "c.rsc"].iter().enumerate() {
            let removed = store.save_backup(name, name.as_bytes(), 3).unwrap();
            assert_eq!(removed, Vec::<String>::new());
            let f = File::options()
                .write(true)
                .open(store.path(BACKUPS_DIR).join(name))
                .unwrap();
            f.set_modified(base + std::time::Duration::from_secs(i as u64 * 60))
                .unwrap();
        }
        let names = |s: &Store| -> Vec<String> {
            s.backups().unwrap().into_iter().map(|f| f.name).collect()
        };
        assert_eq!(names(&store), ["e.rsc", "d.rsc", "c.rsc"]);
        // A fourth removes the oldest; the one written is kept even though its time is the
        // newest only by the clock.
        assert_eq!(store.save_backup("b.rsc", b"four", 3).unwrap(), ["e.rsc"]);
        assert_eq!(names(&store), ["d.rsc", "c.rsc", "b.rsc"]);
        let listed = store.backups().unwrap();
        assert_eq!((listed[2].size, listed[0].modified), (4, 1_700_000_060));
        // Keeping fewer removes several at once.
        assert_eq!(
            store.save_backup("a.rsc", b"5", 2).unwrap(),
            ["d.rsc", "c.rsc"]
        );
        assert_eq!(names(&store), ["b.rsc", "a.rsc"]);
        assert_eq!(store.read_backup("a.rsc").unwrap(), Some(b"5".to_vec()));
        assert_eq!(store.read_backup("zz.rsc").unwrap(), None);
        // Temporaries and directories are not backups.
        fs::write(store.path(BACKUPS_DIR).join(".a.rsc.1.2.tmp"), "x").unwrap();
        fs::create_dir(store.path(BACKUPS_DIR).join("sub")).unwrap();
        assert_eq!(names(&store), ["b.rsc", "a.rsc"]);
        assert_eq!(store.read_backup("sub").unwrap(), None);
    }

    #[test]
    fn save_keeps_the_previous_copy_and_loads_back() {
        let t = TempDir::new("save");
        let store = Store::open(&t.0.join("state")).unwrap();
        assert!(store.load().unwrap().is_none());
        let first = cfg(SMALL);
        store.save(&first).unwrap();
        assert!(!store.path(BACKUP_FILE).exists());
        let second = cfg(&format!("{SMALL}/ip route\nadd gateway=192.0.2.254\n"));
        store.save(&second).unwrap();
        assert_eq!(store.load().unwrap(), Some(second));
        let backup = fs::read_to_string(store.path(BACKUP_FILE)).unwrap();
        assert_eq!(RouterConfig::from_rsc(&backup).unwrap(), first);
    }

    #[test]
    fn a_broken_file_is_refused_with_line_and_column() {
        let t = TempDir::new("broken");
        let store = Store::open(&t.0).unwrap();
        store.save(&cfg(SMALL)).unwrap();
        store.save(&cfg(SMALL)).unwrap();
        fs::write(
            store.path(CONFIG_FILE),
            "/ip address\nadd address=192.0.2.1/24 interface=ether1\nadd adress=1\n",
        )
        .unwrap();
        let e = store.load().unwrap_err().to_string();
        assert!(e.contains("line 3, column 5"), "{e}");
        assert!(e.contains("config.rsc.bak"), "{e}");
    }

    #[test]
    fn start_seeds_then_prefers_the_saved_configuration() {
        let t = TempDir::new("start");
        let store = Store::open(&t.0.join("s")).unwrap();
        assert!(matches!(
            store.start(None, false),
            Err(StoreError::Nothing { .. })
        ));
        let file = t.0.join("seed.rsc");
        fs::write(&file, SMALL).unwrap();
        let (c, origin) = store.start(Some(&file), false).unwrap();
        assert_eq!(origin, Origin::Seeded(file.clone()));
        assert_eq!(c, cfg(SMALL));
        // The saved one wins over a changed file, unless told to replace it.
        let other = "/ip address\nadd address=198.51.100.1/24 interface=ether2\n";
        fs::write(&file, other).unwrap();
        let (c, origin) = store.start(Some(&file), false).unwrap();
        assert_eq!(origin, Origin::SavedOverFile(file.clone()));
        assert_eq!(c, cfg(SMALL));
        let (c, origin) = store.start(Some(&file), true).unwrap();
        assert_eq!(origin, Origin::Replaced(file.clone()));
        assert_eq!(c, cfg(other));
        assert_eq!(store.start(None, false).unwrap().0, cfg(other));
        // A broken seed file saves nothing.
        fs::write(&file, "/ip address\nadd address=nope interface=ether2\n").unwrap();
        let e = store.start(Some(&file), true).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert_eq!(store.start(None, false).unwrap().0, cfg(other));
    }
}
