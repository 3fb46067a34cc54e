//! Writing one run's files all or nothing.
//!
//! Files are staged in a fresh folder beside `--out`, on the same
//! filesystem, and take their place only once every one is complete, so an
//! interrupted or failed run leaves the previous set as it was. The staged
//! folder then replaces `--out` in one step: on Linux `renameat2` with
//! `RENAME_EXCHANGE` swaps the two folders atomically, so a reader (or a
//! kill at any moment) sees the whole old set or the whole new set, never a
//! mix. Files of yours in `--out` are carried into the new folder as hard
//! links (symbolic links are re-created), so they stay.
//!
//! Where that swap cannot be made (not Linux; `--out` holding folders or
//! other special files; `--out` being a mount point, the current folder, or
//! owned by someone else; a filesystem without the exchange), each file is
//! renamed into `--out` in turn. Every rename is atomic, so no file is ever
//! half written, but a kill during those few renames can leave some files
//! new and some old.
//!
//! Either way a rename replaces a symbolic or hard link at the destination:
//! nothing is written through a link to a file elsewhere.
//!
//! Staging folders are named `.cutover-staging-PID-…`. One left behind by
//! a killed run (SIGKILL, or SIGINT and SIGTERM, which end the process
//! without cleaning up) is removed by the next run that writes beside it,
//! once its process is gone (or, where that cannot be told, a day later).

use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The name every staging folder starts with.
pub const STAGING_PREFIX: &str = ".cutover-staging-";

/// One run's output files, staged until [`OutputSet::commit`].
#[derive(Debug)]
pub struct OutputSet {
    /// `--out` as the user wrote it (for the paths printed).
    out: PathBuf,
    /// `--out` resolved: symlinks followed, absolute.
    target: PathBuf,
    staging: PathBuf,
    /// Staged beside `target` (the swap is possible), or inside it.
    beside: bool,
    names: Vec<String>,
    committed: bool,
}

impl OutputSet {
    /// Checks that `out` can take the files and creates the staging folder.
    /// Called before simulating, so an `--out` that is a file, a device or
    /// unwritable fails at once with exit code 2 (bad input), not after the
    /// whole simulation.
    pub fn begin(out: &Path) -> Result<OutputSet> {
        let refuse = |why: String| Error::Usage(format!("--out {}: {why}", out.display()));
        let absolute = std::path::absolute(out).map_err(|e| refuse(e.to_string()))?;
        let (target, exists) = match fs::metadata(&absolute) {
            Ok(meta) if meta.is_dir() => (
                fs::canonicalize(&absolute).map_err(|e| refuse(e.to_string()))?,
                true,
            ),
            Ok(_) => return Err(refuse("is not a folder (it is a file or a device)".into())),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                (absolute, false)
            }
            Err(e) => return Err(refuse(format!("cannot be used: {e}"))),
        };
        // Where the staging folder goes: beside --out, or beside the nearest
        // folder that exists on the way to it (where it will be created).
        let beside_dir = if exists {
            target.parent().map(Path::to_path_buf)
        } else {
            Some(nearest_existing_ancestor(&target).map_err(refuse)?)
        };
        let beside_dir = beside_dir.filter(|p| !exists || same_filesystem(p, &target));
        if let Some(dir) = &beside_dir
            && let Ok(staging) = create_staging(dir)
        {
            return Ok(OutputSet::new(out, target, staging, true));
        }
        if !exists {
            return Err(refuse(format!(
                "cannot create a folder in {}",
                beside_dir
                    .as_deref()
                    .unwrap_or(Path::new("its parent"))
                    .display()
            )));
        }
        // The parent is not ours to write (or another filesystem): stage
        // inside --out itself.
        let staging =
            create_staging(&target).map_err(|e| refuse(format!("cannot be written: {e}")))?;
        Ok(OutputSet::new(out, target, staging, false))
    }

    fn new(out: &Path, target: PathBuf, staging: PathBuf, beside: bool) -> OutputSet {
        OutputSet {
            out: out.to_path_buf(),
            target,
            staging,
            beside,
            names: Vec::new(),
            committed: false,
        }
    }

    /// The staging folder, for writers that write a folder's worth of files
    /// themselves (the plots); [`OutputSet::adopt`] then records them.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Stages one file, complete and flushed to disk.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let name = self.check_name(name)?;
        let path = self.staging.join(&name);
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create_new(&path)?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        write().map_err(|source| Error::Output {
            path: self.out.join(&name),
            source,
        })?;
        self.names.push(name);
        Ok(())
    }

    /// Records files another writer put in [`OutputSet::dir`].
    pub fn adopt(&mut self, paths: &[PathBuf]) -> Result<()> {
        for path in paths {
            let name = match (path.parent(), path.file_name()) {
                (Some(parent), Some(name)) if parent == self.staging => {
                    self.check_name(&name.to_string_lossy())?
                }
                _ => {
                    return Err(Error::Internal(format!(
                        "{} was not written in the staging folder",
                        path.display()
                    )));
                }
            };
            let sync = fs::File::open(path).and_then(|f| f.sync_all());
            sync.map_err(|source| Error::Output {
                path: self.out.join(&name),
                source,
            })?;
            self.names.push(name);
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<String> {
        let plain = !name.is_empty()
            && !name.starts_with(STAGING_PREFIX)
            && Path::new(name).file_name().is_some_and(|n| n == name);
        if !plain || self.names.iter().any(|n| n == name) {
            return Err(Error::Internal(format!("bad output file name {name:?}")));
        }
        Ok(name.to_string())
    }

    /// Puts every staged file in place; returns their paths under `--out`,
    /// in the order they were added.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let fail = |path: &Path, source: std::io::Error| Error::Output {
            path: path.to_path_buf(),
            source,
        };
        if self.beside && !self.target.exists() {
            if let Some(parent) = self.target.parent() {
                fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
            }
            // A fresh folder appears whole.
            if fs::rename(&self.staging, &self.target).is_ok() {
                self.committed = true;
                return Ok(self.paths());
            }
        }
        if self.beside && swap::replace_folder(&self.staging, &self.target, &self.names)? {
            self.committed = true;
            return Ok(self.paths());
        }
        // A folder where a file must go would stop the renames halfway.
        if let Some(name) = self.names.iter().find(|n| self.target.join(n).is_dir()) {
            return Err(fail(
                &self.out.join(name),
                std::io::Error::other("a folder of that name is in the way"),
            ));
        }
        for name in &self.names {
            let to = self.target.join(name);
            fs::rename(self.staging.join(name), &to).map_err(|e| fail(&self.out.join(name), e))?;
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.staging);
        Ok(self.paths())
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.names.iter().map(|n| self.out.join(n)).collect()
    }
}

impl Drop for OutputSet {
    /// An unfinished set leaves nothing behind; `--out` was never touched.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn nearest_existing_ancestor(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut dir = path.parent();
    while let Some(d) = dir {
        match fs::metadata(d) {
            Ok(meta) if meta.is_dir() => return Ok(d.to_path_buf()),
            Ok(_) => {
                return Err(format!(
                    "{} is a file, so no folder can be made inside it",
                    d.display()
                ));
            }
            Err(_) => dir = d.parent(),
        }
    }
    Err("no folder on the way to it exists".into())
}

#[cfg(unix)]
fn same_filesystem(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_filesystem(_: &Path, _: &Path) -> bool {
    true
}

/// A new, empty staging folder in `dir`, after removing stale ones there.
fn create_staging(dir: &Path) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    remove_stale(dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let staging = dir.join(format!(
        "{STAGING_PREFIX}{}-{nanos}-{n}",
        std::process::id()
    ));
    fs::create_dir(&staging)?;
    Ok(staging)
}

/// Removes the staging folders in `dir` whose run is over: killed runs
/// leave them (no signal handler cleans up), and they must not pile up.
fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(STAGING_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && pid != std::process::id() && run_is_over(pid, &entry.path()) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// On Linux a process that is gone has no /proc entry; elsewhere, or if
/// the pid was reused, a staging folder a day old is from a run long over
/// (the longest run the limits allow takes hours, not a day).
fn run_is_over(pid: u32, staging: &Path) -> bool {
    let day_old = fs::metadata(staging)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 86_400);
    let gone = cfg!(target_os = "linux")
        && Path::new("/proc/self").exists()
        && !Path::new(&format!("/proc/{pid}")).exists();
    gone || day_old
}

/// Replacing the whole `--out` folder in one atomic step.
mod swap {
    use super::*;

    /// Swaps the staged folder in for `target` when it can be done
    /// atomically; Ok(false) when it cannot (then files are renamed one by
    /// one), with `staging` as it was.
    pub fn replace_folder(staging: &Path, target: &Path, ours: &[String]) -> Result<bool> {
        if !swappable(staging, target) {
            return Ok(false);
        }
        let Some(carried) = carry_over(staging, target, ours) else {
            return Ok(false);
        };
        if let Ok(meta) = fs::metadata(target) {
            let _ = fs::set_permissions(staging, meta.permissions());
        }
        if !exchange(staging, target) {
            for name in &carried {
                let _ = fs::remove_file(staging.join(name));
            }
            return Ok(false);
        }
        // `staging` now holds the previous folder: its files of ours are the
        // old set; the carried ones are links to files also in `target`.
        let old = staging;
        for name in ours.iter().chain(&carried) {
            let _ = fs::remove_file(old.join(name));
        }
        // A file that appeared in --out during the swap moves over too.
        if let Ok(entries) = fs::read_dir(old) {
            for entry in entries.flatten() {
                let to = target.join(entry.file_name());
                if !to.exists() {
                    let _ = fs::rename(entry.path(), to);
                }
            }
        }
        if fs::remove_dir(old).is_err() {
            // Something could not move: keep it, under a name no clean-up removes.
            let mut kept = target.as_os_str().to_owned();
            kept.push(format!(".cutover-kept-{}", std::process::id()));
            let _ = fs::rename(old, kept);
        }
        Ok(true)
    }

    /// Whether swapping the folder itself is safe: it is ours, not the
    /// current folder (or above it), and not a mount point.
    fn swappable(staging: &Path, target: &Path) -> bool {
        if !cfg!(target_os = "linux") {
            return false;
        }
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|d| fs::canonicalize(d).ok());
        if cwd.is_some_and(|cwd| cwd.starts_with(target)) {
            return false;
        }
        owned_alike(staging, target) && super::same_filesystem(staging, target)
    }

    #[cfg(unix)]
    fn owned_alike(a: &Path, b: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.uid() == b.uid() && a.gid() == b.gid(),
            _ => false,
        }
    }

    #[cfg(not(unix))]
    fn owned_alike(_: &Path, _: &Path) -> bool {
        false
    }

    /// Links every entry of `target` that is not one of ours into
    /// `staging`, so the new folder keeps them; None (with `staging` as it
    /// was) if one cannot be carried: a folder, a FIFO, a file we may not link.
    fn carry_over(staging: &Path, target: &Path, ours: &[String]) -> Option<Vec<String>> {
        let mut carried = Vec::new();
        let undo = |carried: &[String]| {
            for name in carried {
                let _ = fs::remove_file(staging.join(name));
            }
        };
        for entry in fs::read_dir(target).ok()? {
            let Ok(entry) = entry else {
                undo(&carried);
                return None;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().ok();
            if ours.contains(&name) && kind.is_some_and(|t| !t.is_dir()) {
                continue;
            }
            let from = entry.path();
            let to = staging.join(entry.file_name());
            let linked = match kind {
                Some(t) if t.is_file() => fs::hard_link(&from, &to).is_ok(),
                Some(t) if t.is_symlink() => fs::read_link(&from)
                    .and_then(|dest| symlink(&dest, &to))
                    .is_ok(),
                _ => false,
            };
            if !linked {
                undo(&carried);
                return None;
            }
            carried.push(name);
        }
        Some(carried)
    }

    #[cfg(unix)]
    fn symlink(dest: &Path, at: &Path) -> std::io::Result<()> {
        std::os::unix::fs::symlink(dest, at)
    }

    #[cfg(not(unix))]
    fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
        Err(std::io::Error::other("no symlinks"))
    }

    /// Atomically exchanges two folders (Linux 3.15+, on ext4, xfs, btrfs,
    /// tmpfs and most others); false where the filesystem refuses.
    #[cfg(target_os = "linux")]
    fn exchange(a: &Path, b: &Path) -> bool {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let (Ok(a), Ok(b)) = (
            CString::new(a.as_os_str().as_bytes()),
            CString::new(b.as_os_str().as_bytes()),
        ) else {
            return false;
        };
        // SAFETY: both are valid NUL-terminated paths that outlive the call;
        // renameat2 reads them and touches no memory of ours.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        rc == 0
    }

    #[cfg(not(target_os = "linux"))]
    fn exchange(_: &Path, _: &Path) -> bool {
        false
    }
}

#[cfg(test)]
mod tests;
