//! Where a checkpoint lives, and how a new one replaces the old without a crash ever
//! leaving neither (or half of one) under the checkpoint's name.
//!
//! A checkpoint `DIR` is written whole into a sibling `DIR.tmp-<pid>-<n>`, every file
//! and the directory synced; then, if `DIR` exists, it is renamed to
//! `DIR.old-<pid>-<n>`, the temporary is renamed to `DIR` (the commit point), the
//! parent directory is synced, and the old one removed. A crash leaves one of:
//! - `DIR` (old or new, complete) and perhaps stray `.tmp-`/`.old-` siblings: `DIR`
//!   is read, the next write removes the strays;
//! - no `DIR` but exactly one `.old-` (the crash fell between the two renames): that
//!   previous checkpoint is read — the new one was never committed — and the next
//!   write commits over it.
//!
//! The writer removes stale `.old-` siblings only while `DIR` exists, before renaming
//! `DIR` away, so at most one `.old-` exists when `DIR` is missing and recovery never
//! has to guess. (Linux's `renameat2(RENAME_EXCHANGE)` would make the swap a single
//! step, but not on every file system or platform; two renames and this rule are
//! portable.) One writer at a time per `DIR`: a second concurrent writer would remove
//! the first one's temporary.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{manifest, CheckpointError};

/// Numbers a process's temporaries (with the pid, unique among writers).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A checkpoint's path split into its parent directory and its name.
pub struct Place {
    pub dir: PathBuf,
    parent: PathBuf,
    name: String,
}

impl Place {
    pub fn new(dir: &Path) -> Result<Place, CheckpointError> {
        let name =
            dir.file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| CheckpointError::Path {
                    path: dir.into(),
                    problem: "a checkpoint's path must end in a (UTF-8) directory name".into(),
                })?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Place {
            dir: dir.into(),
            name: name.into(),
            parent,
        })
    }

    /// A new temporary's path and the suffix its `.old-` partner will share.
    pub fn fresh_temp(&self) -> (PathBuf, String) {
        let suffix = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        (self.sibling("tmp", &suffix), suffix)
    }

    pub fn sibling(&self, kind: &str, suffix: &str) -> PathBuf {
        self.parent.join(format!("{}.{kind}-{suffix}", self.name))
    }

    /// The siblings `DIR.<kind>-<digits>-<digits>` (nothing else: a user's
    /// `DIR.tmp-notes` is not ours to remove).
    pub fn siblings(&self, kind: &str) -> Result<Vec<PathBuf>, CheckpointError> {
        let prefix = format!("{}.{kind}-", self.name);
        let read =
            fs::read_dir(&self.parent).map_err(CheckpointError::io("listing", &self.parent))?;
        let mut found = Vec::new();
        for entry in read {
            let entry = entry.map_err(CheckpointError::io("listing", &self.parent))?;
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
                continue;
            };
            let ours = rest.split_once('-').is_some_and(|(pid, n)| {
                [pid, n]
                    .iter()
                    .all(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            });
            if ours {
                found.push(entry.path());
            }
        }
        found.sort();
        Ok(found)
    }

    /// The directory to read: `DIR`, or the previous checkpoint a crash between the
    /// two renames left as the only `DIR.old-…`.
    pub fn resolve(&self) -> Result<PathBuf, CheckpointError> {
        match fs::symlink_metadata(&self.dir) {
            Ok(_) => return Ok(self.dir.clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(CheckpointError::io("examining", &self.dir)(e)),
        }
        let mut old = self.siblings("old")?;
        match old.len() {
            1 => Ok(old.remove(0)),
            0 => Err(CheckpointError::NotFound {
                path: self.dir.clone(),
            }),
            _ => Err(CheckpointError::Path {
                path: self.dir.clone(),
                problem: format!(
                    "the directory is missing and several interrupted writes left {old:?}: \
                     rename the one to keep to {}",
                    self.dir.display()
                ),
            }),
        }
    }

    /// Checks that what is at `DIR` may be replaced: nothing, an empty directory, or
    /// a checkpoint holding no file but its manifest and arrays (a user's file put
    /// there would otherwise be deleted with it).
    pub fn check_replaceable(&self) -> Result<(), CheckpointError> {
        let refuse = |reason: String| CheckpointError::Refused {
            path: self.dir.clone(),
            reason,
        };
        let meta = match fs::symlink_metadata(&self.dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CheckpointError::io("examining", &self.dir)(e)),
        };
        if meta.file_type().is_symlink() {
            return Err(refuse("it is a symbolic link; give the real path".into()));
        }
        if !meta.is_dir() {
            return Err(refuse("it is a file, not a checkpoint directory".into()));
        }
        let mut entries = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(CheckpointError::io("listing", &self.dir))? {
            let entry = entry.map_err(CheckpointError::io("listing", &self.dir))?;
            entries.push(entry.file_name());
        }
        if entries.is_empty() {
            return Ok(());
        }
        let manifest_path = self.dir.join(manifest::FILE);
        let text = match fs::read_to_string(&manifest_path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(refuse(format!(
                    "the directory is not empty and has no {}: not a checkpoint \
                     (remove it or choose another path)",
                    manifest::FILE
                )))
            }
            Err(e) => return Err(CheckpointError::io("reading", &manifest_path)(e)),
        };
        let listed = manifest::parse(&manifest_path, &text).map_err(|e| {
            refuse(format!(
                "it does not hold a readable checkpoint ({e}); remove it by hand to replace it"
            ))
        })?;
        let ours: std::collections::HashSet<&str> = listed
            .arrays
            .iter()
            .map(|a| a.file.as_str())
            .chain([manifest::FILE])
            .collect();
        if let Some(foreign) = entries
            .iter()
            .find(|e| !e.to_str().is_some_and(|e| ours.contains(e)))
        {
            return Err(refuse(format!(
                "it holds {foreign:?}, which is not part of the checkpoint"
            )));
        }
        Ok(())
    }

    /// Removes what earlier interrupted writes left: every temporary, and the old
    /// checkpoints only while `DIR` exists (otherwise the old one is the checkpoint).
    pub fn remove_strays(&self) -> Result<(), CheckpointError> {
        let mut strays = self.siblings("tmp")?;
        if self.dir.exists() {
            strays.extend(self.siblings("old")?);
        }
        for stray in strays {
            fs::remove_dir_all(&stray).map_err(CheckpointError::io("removing", &stray))?;
        }
        Ok(())
    }

    /// Puts the complete, synced temporary `tmp` in place of `DIR` (see the module
    /// comment).
    pub fn commit(&self, tmp: &Path, suffix: &str) -> Result<(), CheckpointError> {
        let old = self.sibling("old", suffix);
        let had_old = self.dir.exists();
        if had_old {
            fs::rename(&self.dir, &old).map_err(CheckpointError::io("renaming", &self.dir))?;
        }
        if let Err(e) = fs::rename(tmp, &self.dir) {
            // Put the previous one back; were that to fail, `resolve` still finds it.
            if had_old {
                let _ = fs::rename(&old, &self.dir);
            }
            let _ = fs::remove_dir_all(tmp);
            return Err(CheckpointError::io("renaming", tmp)(e));
        }
        sync_dir(&self.parent)?;
        // Committed. The old one (or one an earlier crash left when `DIR` was missing)
        // goes; if removing fails, the next write removes it.
        for old in self.siblings("old")? {
            let _ = fs::remove_dir_all(old);
        }
        Ok(())
    }
}

/// Makes a directory's entries (created, renamed files) durable.
pub fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(CheckpointError::io("syncing", dir))?;
    // Elsewhere a directory cannot be opened for syncing; renames are as durable as
    // the file system makes them.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
