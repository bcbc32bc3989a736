//! Output files of `snn-bench run`: every path checked before the simulation starts, and
//! every file written whole (a temporary file beside it, then a rename) so that nothing
//! already written is lost.
//!
//! # The rules
//!
//! * An output never replaces an existing file unless `--force` is given, and even then
//!   only a file of its own kind: a `.npy` array for `--spikes` / `--exchange-trace`, a
//!   Matrix Market file for `--save-weights`. A records file, a source file or anything
//!   else is never replaced: a typo must not cost a user data.
//! * The records file (`--out`) is only ever appended to ([`crate::jsonl::append`]); an
//!   existing `--out` that is not JSON Lines (say, a spike file named by mistake) is
//!   refused, since appending text to it would corrupt it.
//! * Two outputs of one command that name one file — also through a symlink, `./a/../a`
//!   or a relative and an absolute spelling — are an error: the second write would
//!   destroy the first.
//! * All of this is checked before any work starts (a failure after a ten-minute run
//!   would lose the run): the file must not be a directory, its directory must exist or be
//!   creatable, and writable (tried by creating a file there, which also works for root,
//!   for whom permission bits mean nothing, on read-only mounts and ACLs).
//! * Files are written to a temporary file in the target's directory, synced and renamed
//!   over the target (or, without `--force`, linked without replacing anything, so a file
//!   that appeared since the check is not clobbered either). Every output gets ordinary
//!   permissions (0666 less the umask, as `File::create` gives), not the 0600 of a
//!   temporary file.
//! * Writing through a symlink writes its target and keeps the link.
//! * A weight set (`--save-weights DIR`) is written into a temporary directory beside
//!   `DIR` and moved into place only when every pathway file is complete, so a failure
//!   leaves no partial set behind ([`write_set`]).

use std::fs::{self, File, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// What an output holds, which decides what `--force` may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A NumPy `.npy` array (spikes, exchange traces).
    Npy,
    /// A Matrix Market file (one pathway of `--save-weights`).
    Mtx,
    /// An SVG image (`--profile`).
    Svg,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Npy => "a .npy array",
            Kind::Mtx => "a Matrix Market file",
            Kind::Svg => "an SVG image",
        }
    }

    /// Whether `head` (the first bytes of a file) is this kind of file.
    fn matches(self, head: &[u8]) -> bool {
        match self {
            Kind::Npy => head.starts_with(b"\x93NUMPY"),
            Kind::Mtx => head.starts_with(b"%%MatrixMarket"),
            Kind::Svg => head.starts_with(b"<?xml") || head.starts_with(b"<svg"),
        }
    }
}

/// One file a command will write.
#[derive(Debug, Clone)]
pub struct Output {
    /// The flag that names it (`--spikes`), for messages.
    pub flag: String,
    /// The path as given.
    pub path: PathBuf,
    pub kind: Kind,
}

/// What `snn-bench run` will write, as its flags give it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--out`, the records file (appended to).
    pub records: Option<PathBuf>,
    /// Single files (`--spikes`, `--exchange-trace`).
    pub files: Vec<Output>,
    /// `--save-weights DIR` and the file names of the set.
    pub weights: Option<(PathBuf, Vec<String>)>,
    pub force: bool,
}

impl Request {
    /// What `snn-bench run ARGS` on `net` writes.
    pub fn of_run(args: &crate::run::RunArgs, net: &sim_core::Network) -> Request {
        let mut files = Vec::new();
        for (flag, path, kind) in [
            ("--spikes", &args.spikes, Kind::Npy),
            ("--exchange-trace", &args.exchange_trace, Kind::Npy),
            ("--profile", &args.profile, Kind::Svg),
        ] {
            if let Some(p) = path {
                files.push(Output {
                    flag: flag.into(),
                    path: p.clone(),
                    kind,
                });
            }
        }
        Request {
            records: args.out.clone(),
            files,
            weights: args
                .save_weights
                .clone()
                .or_else(|| args.save_initial_weights.clone())
                .map(|d| (d, crate::weights::file_names(net))),
            force: args.force,
        }
    }
}

/// `path` made absolute (against the working directory) with every symlink resolved,
/// also where the file or some of its directories do not exist yet: the part that exists
/// is canonicalised, the rest is normalised lexically (`a/../b` is `b`). Two spellings of
/// one file give equal paths.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            // After a canonical prefix this is the real parent, as the kernel walks it.
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                // A dangling symlink stays as it is (and is refused where it matters).
                if fs::symlink_metadata(&out).is_ok() {
                    if let Ok(real) = fs::canonicalize(&out) {
                        out = real;
                    }
                }
            }
            root => out.push(root),
        }
    }
    Ok(out)
}

/// Checks everything `req` will write; errors name the flag and the path.
pub fn check(req: &Request) -> Result<(), String> {
    // (flag, path as given, resolved) of every file, for the same-file check.
    let mut named: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    let resolved = |flag: &str, path: &Path| {
        resolve(path).map_err(|e| format!("{flag} {}: {e}", path.display()))
    };

    if let Some(out) = &req.records {
        check_records(out)?;
        named.push(("--out".into(), out.clone(), resolved("--out", out)?));
    }
    for f in &req.files {
        let r = resolved(&f.flag, &f.path)?;
        check_file(&f.flag, &f.path, &r, f.kind, req.force)?;
        named.push((f.flag.clone(), f.path.clone(), r));
    }
    if let Some((dir, names)) = &req.weights {
        let flag = "--save-weights";
        let rdir = resolved(flag, dir)?;
        match fs::metadata(&rdir) {
            Ok(m) if !m.is_dir() => {
                return Err(format!(
                    "{flag} {}: exists and is not a directory: expected a directory for the \
                     weight files",
                    dir.display()
                ))
            }
            Ok(_) => check_writable_dir(flag, dir, &rdir)?,
            Err(_) => {}
        }
        // The set is first written into a temporary directory beside DIR.
        let parent = rdir.parent().unwrap_or(Path::new("/"));
        check_parent(flag, dir, parent)?;
        for (flag2, path2, r2) in &named {
            if *r2 == rdir {
                return Err(format!(
                    "{flag} {} and {flag2} {} name the same path ({})",
                    dir.display(),
                    path2.display(),
                    rdir.display()
                ));
            }
        }
        for name in names {
            let file = dir.join(name);
            let r = rdir.join(name);
            check_file(flag, &file, &r, Kind::Mtx, req.force)?;
            named.push((flag.into(), file, r));
        }
    }
    for (i, (flag_a, path_a, ra)) in named.iter().enumerate() {
        for (flag_b, path_b, rb) in &named[i + 1..] {
            if ra == rb {
                return Err(format!(
                    "{flag_a} {} and {flag_b} {} name the same file ({}): give each output a \
                     file of its own",
                    path_a.display(),
                    path_b.display(),
                    ra.display()
                ));
            }
        }
    }
    Ok(())
}

/// The first bytes of a file (up to 16), or None if it cannot be read.
fn head(path: &Path) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(16);
    File::open(path).ok()?.take(16).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// An output file: not a directory, in a writable directory, and, if it exists, only
/// replaced with `force` and only if it is of its own kind.
fn check_file(
    flag: &str,
    path: &Path,
    resolved: &Path,
    kind: Kind,
    force: bool,
) -> Result<(), String> {
    let shown = path.display();
    match fs::symlink_metadata(path) {
        // (A path below a regular file: check_parent names the file.)
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) => {}
        Err(e) => return Err(format!("{flag} {shown}: {e}")),
        Ok(_) => {
            let meta = fs::metadata(path).map_err(|e| {
                format!("{flag} {shown}: a symlink to nothing that can be read ({e}): refusing to write through it")
            })?;
            if meta.is_dir() {
                return Err(format!(
                    "{flag} {shown}: is a directory: expected a file name"
                ));
            }
            if !meta.is_file() {
                return Err(format!(
                    "{flag} {shown}: exists and is not a regular file: refusing to replace it"
                ));
            }
            let head = head(resolved).unwrap_or_default();
            if !kind.matches(&head) {
                let what = if head.first() == Some(&b'{') {
                    "a records file (JSON Lines)".to_string()
                } else if meta.len() == 0 {
                    "an empty file".to_string()
                } else {
                    format!("not {}", kind.name())
                };
                return Err(format!(
                    "{flag} {shown}: exists and is {what}: refusing to replace it, even with \
                     --force (only {} may be replaced); choose another name",
                    kind.name()
                ));
            }
            if !force {
                return Err(format!(
                    "{flag} {shown}: exists: refusing to replace it (give --force to replace \
                     {}, or choose another name)",
                    kind.name()
                ));
            }
        }
    }
    let parent = resolved.parent().unwrap_or(Path::new("/"));
    check_parent(flag, path, parent)
}

/// The records file: appended to, so an existing one must be a regular file that is
/// empty or JSON Lines, in a writable directory.
fn check_records(out: &Path) -> Result<(), String> {
    let shown = out.display();
    let resolved = resolve(out).map_err(|e| format!("--out {shown}: {e}"))?;
    match fs::metadata(&resolved) {
        Err(_) => {}
        Ok(m) if m.is_dir() => {
            return Err(format!(
                "--out {shown}: is a directory: expected a records file"
            ))
        }
        Ok(m) if !m.is_file() => {
            return Err(format!(
                "--out {shown}: is not a regular file: expected a records file"
            ))
        }
        Ok(m) => {
            let h = head(&resolved).unwrap_or_default();
            let first = h.iter().find(|b| !b.is_ascii_whitespace());
            if m.len() > 0 && first.is_some_and(|&b| b != b'{') {
                return Err(format!(
                    "--out {shown}: exists and is not a JSON Lines records file: refusing to \
                     append records to it"
                ));
            }
            fs::OpenOptions::new()
                .append(true)
                .open(&resolved)
                .map_err(|e| format!("--out {shown}: cannot append to it: {e}"))?;
            return Ok(());
        }
    }
    check_parent("--out", out, resolved.parent().unwrap_or(Path::new("/")))
}

/// `dir` (resolved) exists and is a writable directory, or can be created: its nearest
/// existing ancestor is a writable directory.
fn check_parent(flag: &str, path: &Path, dir: &Path) -> Result<(), String> {
    let mut d = dir;
    loop {
        match fs::metadata(d) {
            Ok(m) if m.is_dir() => return check_writable_dir(flag, path, d),
            Ok(_) => {
                return Err(format!(
                    "{flag} {}: {} is not a directory",
                    path.display(),
                    d.display()
                ))
            }
            Err(_) => match d.parent() {
                Some(p) => d = p,
                None => {
                    return Err(format!(
                        "{flag} {}: no directory to write in",
                        path.display()
                    ))
                }
            },
        }
    }
}

/// Tries to create (and removes) a file in `dir`: the only test that works for root,
/// read-only mounts and ACLs alike.
fn check_writable_dir(flag: &str, path: &Path, dir: &Path) -> Result<(), String> {
    tempfile::Builder::new()
        .prefix(".snn-bench-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            format!(
                "{flag} {}: cannot write in {}: {e}",
                path.display(),
                dir.display()
            )
        })
}

/// Ordinary permissions of a new file: 0666 less the umask (the kernel applies it).
fn file_mode() -> Permissions {
    Permissions::from_mode(0o666)
}

/// Writes `path` whole: `write` fills a temporary file beside it, which is synced and
/// renamed over `path` (with `force`), or linked to `path` only if nothing is there yet.
/// Writing through a symlink writes its target. Errors name the path.
pub fn write_file(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let target = resolve(path).map_err(|e| err(&e))?;
    let dir = target.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(file_mode())
        .tempfile_in(dir)
        .map_err(|e| err(&e))?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(|e| err(&e))?;
        w.flush().map_err(|e| err(&e))?;
    }
    tmp.as_file().sync_all().map_err(|e| err(&e))?;
    if force {
        tmp.persist(&target).map_err(|e| err(&e.error))?;
    } else {
        tmp.persist_noclobber(&target).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                err(&"it appeared while the run went on: not replaced (give --force to replace it)")
            } else {
                err(&e.error)
            }
        })?;
    }
    Ok(())
}

/// Writes a set of files into `dir` all or nothing: `write_one(path, name)` writes each
/// into a temporary directory beside `dir`; only when all are complete is the directory
/// renamed to `dir` (if `dir` does not exist or is empty: one atomic step) or each file
/// renamed into it. On any failure the temporary directory and everything in it is
/// removed and `dir` is as it was. Returns the files' final paths.
pub fn write_set(
    dir: &Path,
    names: &[String],
    force: bool,
    mut write_one: impl FnMut(&Path, &str) -> Result<(), String>,
) -> Result<Vec<PathBuf>, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", dir.display());
    let target = resolve(dir).map_err(|e| err(&e))?;
    let parent = target.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(parent).map_err(|e| err(&e))?;
    let base = target.file_name().unwrap_or_default().to_string_lossy();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{base}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o777))
        .tempdir_in(parent)
        .map_err(|e| err(&e))?;
    for name in names {
        write_one(&tmp.path().join(name), name)?;
    }
    let empty = fs::read_dir(&target).map(|mut d| d.next().is_none());
    match empty {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let t = tmp.keep();
            fs::rename(&t, &target).map_err(|e| {
                let _ = fs::remove_dir_all(&t);
                err(&e)
            })?;
        }
        Ok(true) => {
            let t = tmp.keep();
            fs::rename(&t, &target).map_err(|e| {
                let _ = fs::remove_dir_all(&t);
                err(&e)
            })?;
        }
        Err(e) => return Err(err(&e)),
        Ok(false) => {
            // An existing set (or other files): every file is complete already; move each
            // in (a rename cannot half-write a file). Without --force none may be there.
            if !force {
                if let Some(n) = names.iter().find(|n| target.join(n).exists()) {
                    return Err(format!(
                        "cannot write {}: it appeared while the run went on: not replaced \
                         (give --force to replace it)",
                        dir.join(n).display()
                    ));
                }
            }
            for name in names {
                fs::rename(tmp.path().join(name), target.join(name))
                    .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))?;
            }
        }
    }
    Ok(names.iter().map(|n| dir.join(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_makes_spellings_of_one_file_equal() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        fs::create_dir(&a).unwrap();
        let direct = resolve(&a.join("x.npy")).unwrap();
        assert_eq!(resolve(&a.join("../a/x.npy")).unwrap(), direct);
        assert_eq!(resolve(&a.join("./x.npy")).unwrap(), direct);
        std::os::unix::fs::symlink(&a, tmp.path().join("link")).unwrap();
        assert_eq!(resolve(&tmp.path().join("link/x.npy")).unwrap(), direct);
        // Directories that do not exist yet.
        assert_eq!(
            resolve(&a.join("new/../new/y.npy")).unwrap(),
            direct.parent().unwrap().join("new/y.npy")
        );
    }

    #[test]
    fn a_failed_set_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("weights");
        let names: Vec<String> = ["ee.mtx", "ei.mtx", "ie.mtx"].map(String::from).to_vec();
        let e = write_set(&dir, &names, false, |p, n| {
            if n == "ie.mtx" {
                return Err(format!("{}: disk full", p.display()));
            }
            fs::write(p, "%%MatrixMarket\n").map_err(|e| e.to_string())
        })
        .unwrap_err();
        assert!(e.contains("disk full"), "{e}");
        assert!(!dir.exists());
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "temporary left"
        );

        // An existing set stays as it was when the new one fails.
        fs::create_dir(&dir).unwrap();
        for n in &names {
            fs::write(dir.join(n), "old").unwrap();
        }
        write_set(&dir, &names, true, |p, n| {
            if n == "ei.mtx" {
                return Err("failed".into());
            }
            fs::write(p, "new").map_err(|e| e.to_string())
        })
        .unwrap_err();
        for n in &names {
            assert_eq!(fs::read_to_string(dir.join(n)).unwrap(), "old");
        }
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "temporary left"
        );

        // A complete one replaces it.
        write_set(&dir, &names, true, |p, _| {
            fs::write(p, "new").map_err(|e| e.to_string())
        })
        .unwrap();
        for n in &names {
            assert_eq!(fs::read_to_string(dir.join(n)).unwrap(), "new");
        }
    }
}
