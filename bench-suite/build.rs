//! Captures the build's provenance for the results records (`host::Build`).
//!
//! Exported with `cargo:rustc-env=` (read with `env!` in `src/host.rs`):
//!
//! * `SNN_RUSTC_VERSION`   – `$RUSTC -V`
//! * `SNN_GIT_COMMIT`      – `git rev-parse HEAD` in the workspace root, or `unknown`
//! * `SNN_GIT_DIRTY`       – `true`/`false` from `git status --porcelain --untracked-files=no`,
//!   or `unknown`
//! * `SNN_PROFILE`         – `$PROFILE` (cargo reports `release` or `debug`)
//! * `SNN_RUSTFLAGS`       – `$CARGO_ENCODED_RUSTFLAGS`, flags separated by spaces
//! * `SNN_TARGET_FEATURES` – `$CARGO_CFG_TARGET_FEATURE` (comma separated)
//!
//! The build never fails because git (or a repository) is missing: such values become
//! `unknown`.
//!
//! Rerun policy: besides the git metadata (`HEAD`, `index`, `refs`, `packed-refs`), every
//! tracked file outside `results/` is watched. Without that, editing a source file without
//! staging it would recompile the crate but not rerun this script, and the binary would
//! still claim `SNN_GIT_DIRTY=false`. `results/` is left out so that appending benchmark
//! records does not force a (fat-LTO) rebuild of the benchmark binary.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variables the exported values depend on.
const ENV_INPUTS: [&str; 4] = [
    "RUSTC",
    "PROFILE",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_CFG_TARGET_FEATURE",
];

/// Tracked files under this directory (relative to the workspace root) are not watched.
const UNWATCHED_DIR: &str = "results/";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ENV_INPUTS {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let root = manifest_dir.join("..");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let rustc_version = stdout_of(Command::new(&rustc).arg("-V"))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());

    let git_commit = stdout_of(git(&root).args(["rev-parse", "HEAD"]))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());

    // `--no-optional-locks`: do not refresh (write) the index, so this script never races
    // with the user's own git commands and never touches the `index` it watches.
    let git_dirty = match stdout_of(git(&root).args([
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
    ])) {
        Some(status) if status.is_empty() => "false",
        Some(_) => "true",
        None => "unknown",
    };

    let profile = env::var("PROFILE").unwrap_or_else(|_| "unknown".to_owned());
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS")
        .unwrap_or_default()
        .replace('\x1f', " ");
    let target_features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();

    export("SNN_RUSTC_VERSION", &rustc_version);
    export("SNN_GIT_COMMIT", &git_commit);
    export("SNN_GIT_DIRTY", git_dirty);
    export("SNN_PROFILE", &profile);
    export("SNN_RUSTFLAGS", &rustflags);
    export("SNN_TARGET_FEATURES", &target_features);

    watch_git(&root);
}

/// `git` run in the workspace root.
fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(root);
    cmd
}

/// Trimmed stdout of a command that ran and exited successfully; `None` otherwise.
fn stdout_of(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `cargo:rustc-env` takes one line: newlines and other control characters become spaces.
fn export(name: &str, value: &str) {
    let value: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    println!("cargo:rustc-env={name}={value}");
}

fn watch(path: &Path) {
    // A path that cannot be written on one directive line is skipped rather than mangled.
    if let Some(p) = path.to_str().filter(|p| !p.contains(['\n', '\r'])) {
        if path.exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

/// Rerun when HEAD moves, a commit is made, the index changes, or a tracked file changes.
fn watch_git(root: &Path) {
    let dot_git = root.join(".git");
    // `.git/HEAD`, `.git/index`, `.git/refs` as asked for; a worktree or submodule has a
    // `.git` file instead, so also ask git where its directories are.
    let mut git_dirs = vec![dot_git.clone()];
    if let Some(out) = stdout_of(git(root).args(["rev-parse", "--git-dir", "--git-common-dir"])) {
        for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let dir = root.join(line);
            if !git_dirs.contains(&dir) {
                git_dirs.push(dir);
            }
        }
    }
    for dir in &git_dirs {
        for name in ["HEAD", "index", "refs", "packed-refs"] {
            watch(&dir.join(name));
        }
    }

    // Tracked files (so that SNN_GIT_DIRTY is never stale, see the module docs). Files that
    // no longer exist are skipped: their deletion already triggered this rerun.
    if let Some(list) = stdout_of(git(root).args(["ls-files", "-z"])) {
        for rel in list.split('\0').filter(|r| !r.is_empty()) {
            if !rel.starts_with(UNWATCHED_DIR) {
                watch(&root.join(rel));
            }
        }
    }
}
