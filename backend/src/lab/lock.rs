//! One lab at a time: an exclusive `flock` on a file that holds the lab's pid. The kernel drops
//! the lock when the process ends, however it ends, so a killed lab never blocks the next one.

use super::LabError;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The held lock; dropping it (closing the file) releases it.
#[derive(Debug)]
pub(crate) struct LabLock {
    _file: File,
}

impl LabLock {
    /// Takes the lock at `path` and writes our pid into it, or says which pid holds it.
    pub(crate) fn acquire(path: &Path) -> Result<LabLock, LabError> {
        let io_err = |e: io::Error| LabError::Io {
            context: format!("lock file {}", path.display()),
            source: e,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(io_err)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(io_err(e));
            }
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LabError::AlreadyRunning {
                pid: text.trim().parse().ok(),
            });
        }
        file.set_len(0).map_err(io_err)?;
        file.rewind().map_err(io_err)?;
        writeln!(file, "{}", std::process::id()).map_err(io_err)?;
        Ok(LabLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lab_is_told_the_first_ones_pid_until_it_ends() {
        let dir = std::env::temp_dir().join(format!("swlab-lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lab.lock");
        std::fs::write(&path, "999999\n").unwrap();
        let first = LabLock::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        match LabLock::acquire(&path) {
            Err(LabError::AlreadyRunning { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(first);
        let again = LabLock::acquire(&path).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
