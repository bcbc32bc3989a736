//! Nothing already written is lost: every output of `snn-bench run` is checked before the
//! run, refused when it would replace a file (unless `--force`, and then only a file of
//! its own kind) or when two outputs name one file, and written whole with ordinary
//! permissions.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use common::{arg, run_err, run_ok};

/// What a tree of files looks like: contents (or link target) and mtime of every file.
type Snapshot = BTreeMap<PathBuf, (String, Vec<u8>, SystemTime)>;

fn snapshot(root: &Path) -> Snapshot {
    let mut all = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let (kind, bytes) = if m.file_type().is_symlink() {
                (
                    "link",
                    fs::read_link(&p).unwrap().into_os_string().into_vec(),
                )
            } else if m.is_dir() {
                todo.push(p.clone());
                ("dir", Vec::new())
            } else {
                ("file", fs::read(&p).unwrap())
            };
            // A directory's mtime changes when the writability probe (a file created and
            // removed at once) runs in it; its entries are compared one by one instead.
            let mtime = if kind == "dir" {
                SystemTime::UNIX_EPOCH
            } else {
                m.modified().unwrap()
            };
            all.insert(p, (kind.to_string(), bytes, mtime));
        }
    }
    all
}

use std::os::unix::ffi::OsStringExt;

const RECORD: &str = "{\"schema\": 1, \"config\": {}}\n";
const NPY: &[u8] =
    b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (0, 2), }";

/// A directory no one (root included) can create files in.
fn unwritable_dir(tmp: &Path) -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Permission bits do not stop root; sysfs does.
        PathBuf::from("/sys/kernel")
    } else {
        let d = tmp.join("read-only");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o555)).unwrap();
        d
    }
}

/// One hostile case: `setup` lays out files in the temporary directory and returns the
/// output arguments; the run must fail naming every string of the returned `must`
/// (flag and path at least) and leave every file as it was.
struct Case {
    name: &'static str,
    setup: fn(&Path) -> (Vec<String>, Vec<String>),
}

fn s(p: impl AsRef<Path>) -> String {
    p.as_ref().to_str().unwrap().to_string()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const CASES: &[Case] = &[
    Case {
        name: "--spikes over a file of another kind",
        setup: |t| {
            let f = t.join("notes.txt");
            fs::write(&f, "my notes\n").unwrap();
            (
                strs(&["--spikes", &s(&f)]),
                strs(&["--spikes", &s(&f), "refusing", "even with --force"]),
            )
        },
    },
    Case {
        name: "--spikes over a file of another kind, with --force",
        setup: |t| {
            let f = t.join("notes.npy");
            fs::write(&f, "not numpy\n").unwrap();
            (
                strs(&["--spikes", &s(&f), "--force"]),
                strs(&["--spikes", &s(&f), "even with --force"]),
            )
        },
    },
    Case {
        name: "--spikes over an earlier spike file without --force",
        setup: |t| {
            let f = t.join("old.npy");
            fs::write(&f, NPY).unwrap();
            (
                strs(&["--spikes", &s(&f)]),
                strs(&["--spikes", &s(&f), "exists", "--force"]),
            )
        },
    },
    Case {
        name: "--exchange-trace over an earlier trace without --force",
        setup: |t| {
            let f = t.join("trace.npy");
            fs::write(&f, NPY).unwrap();
            (
                strs(&["--exchange-trace", &s(&f)]),
                strs(&["--exchange-trace", &s(&f), "exists", "--force"]),
            )
        },
    },
    Case {
        name: "--spikes naming the records file (--out)",
        setup: |t| {
            let f = t.join("runs.jsonl");
            fs::write(&f, RECORD).unwrap();
            (
                strs(&["--out", &s(&f), "--spikes", &s(&f), "--force"]),
                strs(&["--spikes", &s(&f), "records file"]),
            )
        },
    },
    Case {
        name: "--spikes naming the records file (--out), new file",
        setup: |t| {
            let f = t.join("new.jsonl");
            (
                strs(&["--out", &s(&f), "--spikes", &s(&f)]),
                strs(&["--out", "--spikes", &s(&f), "same file"]),
            )
        },
    },
    Case {
        name: "--exchange-trace over another command's records file, with --force",
        setup: |t| {
            let f = t.join("sweep.jsonl");
            fs::write(&f, RECORD.repeat(3)).unwrap();
            (
                strs(&["--exchange-trace", &s(&f), "--force"]),
                strs(&["--exchange-trace", &s(&f), "records file"]),
            )
        },
    },
    Case {
        name: "--spikes and --exchange-trace, one through a symlink",
        setup: |t| {
            let f = t.join("a.npy");
            fs::write(&f, NPY).unwrap();
            let link = t.join("link.npy");
            std::os::unix::fs::symlink(&f, &link).unwrap();
            (
                strs(&["--spikes", &s(&f), "--exchange-trace", &s(&link), "--force"]),
                strs(&["--spikes", "--exchange-trace", &s(&link), "same file"]),
            )
        },
    },
    Case {
        name: "--spikes and --exchange-trace through a symlinked directory",
        setup: |t| {
            fs::create_dir(t.join("real")).unwrap();
            std::os::unix::fs::symlink(t.join("real"), t.join("alias")).unwrap();
            let a = t.join("real/x.npy");
            let b = t.join("alias/x.npy");
            (
                strs(&["--spikes", &s(&a), "--exchange-trace", &s(&b)]),
                strs(&["--spikes", &s(&a), "--exchange-trace", &s(&b), "same file"]),
            )
        },
    },
    Case {
        name: "--spikes and --exchange-trace via ./a/../a",
        setup: |t| {
            fs::create_dir(t.join("a")).unwrap();
            let a = t.join("a/x.npy");
            let b = t.join("./a/../a/x.npy");
            (
                strs(&["--spikes", &s(&a), "--exchange-trace", &s(&b)]),
                strs(&["--exchange-trace", &s(&b), "same file"]),
            )
        },
    },
    Case {
        name: "--out and --spikes, two spellings of a new file in a new directory",
        setup: |t| {
            let a = t.join("new/dir/x");
            let b = t.join("new/./dir/../dir/x");
            (
                strs(&["--out", &s(&a), "--spikes", &s(&b)]),
                strs(&["--out", "--spikes", &s(&b), "same file"]),
            )
        },
    },
    Case {
        name: "--spikes in a directory nobody may write in",
        setup: |t| {
            let f = unwritable_dir(t).join("snn-bench-spikes.npy");
            (
                strs(&["--spikes", &s(&f)]),
                strs(&["--spikes", &s(&f), "cannot write in"]),
            )
        },
    },
    Case {
        name: "--exchange-trace naming a directory",
        setup: |t| {
            let d = t.join("traces");
            fs::create_dir(&d).unwrap();
            fs::write(d.join("keep.txt"), "keep").unwrap();
            (
                strs(&["--exchange-trace", &s(&d), "--force"]),
                strs(&["--exchange-trace", &s(&d), "is a directory"]),
            )
        },
    },
    Case {
        name: "--spikes below a regular file",
        setup: |t| {
            let f = t.join("plain");
            fs::write(&f, "x").unwrap();
            let p = f.join("x.npy");
            (
                strs(&["--spikes", &s(&p)]),
                strs(&["--spikes", &s(&p), "not a directory"]),
            )
        },
    },
    Case {
        name: "--out over a spike file",
        setup: |t| {
            let f = t.join("spikes.npy");
            fs::write(&f, NPY).unwrap();
            (
                strs(&["--out", &s(&f)]),
                strs(&["--out", &s(&f), "not a JSON Lines records file"]),
            )
        },
    },
    Case {
        name: "--out naming a directory",
        setup: |t| {
            let d = t.join("results");
            fs::create_dir(&d).unwrap();
            (
                strs(&["--out", &s(&d)]),
                strs(&["--out", &s(&d), "is a directory"]),
            )
        },
    },
    Case {
        name: "--out in a directory nobody may write in",
        setup: |t| {
            let f = unwritable_dir(t).join("snn-bench-runs.jsonl");
            (
                strs(&["--out", &s(&f)]),
                strs(&["--out", &s(&f), "cannot write in"]),
            )
        },
    },
    Case {
        name: "--save-weights where a pathway's file is a directory",
        setup: |t| {
            let d = t.join("weights");
            fs::create_dir_all(d.join("ei.mtx")).unwrap();
            (
                strs(&["--save-weights", &s(&d)]),
                strs(&["--save-weights", &s(d.join("ei.mtx")), "is a directory"]),
            )
        },
    },
    Case {
        name: "--save-weights over an earlier set without --force",
        setup: |t| {
            let d = t.join("weights");
            fs::create_dir(&d).unwrap();
            fs::write(
                d.join("ii.mtx"),
                "%%MatrixMarket matrix coordinate real general\n",
            )
            .unwrap();
            (
                strs(&["--save-weights", &s(&d)]),
                strs(&["--save-weights", &s(d.join("ii.mtx")), "exists", "--force"]),
            )
        },
    },
    Case {
        name: "--save-weights over a file of another kind, with --force",
        setup: |t| {
            let d = t.join("weights");
            fs::create_dir(&d).unwrap();
            fs::write(d.join("ee.mtx"), "hand-made notes\n").unwrap();
            (
                strs(&["--save-weights", &s(&d), "--force"]),
                strs(&["--save-weights", &s(d.join("ee.mtx")), "even with --force"]),
            )
        },
    },
    Case {
        name: "--save-weights naming a regular file",
        setup: |t| {
            let f = t.join("weights");
            fs::write(&f, "x").unwrap();
            (
                strs(&["--save-weights", &s(&f)]),
                strs(&["--save-weights", &s(&f), "not a directory"]),
            )
        },
    },
    Case {
        name: "--save-weights in a directory nobody may write in",
        setup: |t| {
            let d = unwritable_dir(t).join("snn-bench-weights");
            (
                strs(&["--save-weights", &s(&d)]),
                strs(&["--save-weights", &s(&d), "cannot write in"]),
            )
        },
    },
    Case {
        name: "--spikes naming a file of the --save-weights set",
        setup: |t| {
            let d = t.join("w");
            let f = t.join("w/ee.mtx");
            (
                strs(&["--save-weights", &s(&d), "--spikes", &s(&f)]),
                strs(&["--save-weights", "--spikes", &s(&f), "same file"]),
            )
        },
    },
    Case {
        name: "--spikes naming the --save-weights directory",
        setup: |t| {
            let d = t.join("w");
            (
                strs(&["--spikes", &s(&d), "--save-weights", &s(t.join("./w"))]),
                strs(&["--save-weights", "--spikes", &s(&d), "same path"]),
            )
        },
    },
];

#[test]
fn hostile_outputs_are_refused_before_the_run_and_nothing_changes() {
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let (outputs, must) = (case.setup)(tmp.path());
        let before = snapshot(tmp.path());
        let mut args = strs(&["run", "va", "--simtime", "0.01", "--quiet"]);
        args.extend(outputs);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let err = run_err(&argv);
        // Refused before the run, not after it.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{}: took {:?}",
            case.name,
            started.elapsed()
        );
        for m in &must {
            assert!(
                err.contains(m.as_str()),
                "{}: message lacks {m:?}: {err}",
                case.name
            );
        }
        assert_eq!(
            snapshot(tmp.path()),
            before,
            "{}: files changed (or were left behind)",
            case.name
        );
        // The unwritable directory gained nothing either.
        for p in [
            "/sys/kernel/snn-bench-spikes.npy",
            "/sys/kernel/snn-bench-weights",
        ] {
            assert!(!Path::new(p).exists(), "{}: {p}", case.name);
        }
    }
}

/// The process's umask, from /proc (reading it with umask(2) would change it).
fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn force_replaces_own_kind_whole_and_outputs_have_ordinary_permissions() {
    let tmp = tempfile::tempdir().unwrap();
    let spikes = tmp.path().join("s.npy");
    let trace = tmp.path().join("t.npy");
    let weights = tmp.path().join("w");
    let out = tmp.path().join("runs.jsonl");
    let run = |seed: &str, force: bool| {
        let mut args = vec![
            "run",
            "va",
            "--simtime",
            "0.05",
            "--quiet",
            "--threads",
            "2",
            "--seed",
            seed,
            "--spikes",
            arg(&spikes),
            "--exchange-trace",
            arg(&trace),
            "--save-weights",
            arg(&weights),
            "--out",
            arg(&out),
        ];
        if force {
            args.push("--force");
        }
        run_ok(&args);
    };
    run("1", false);
    let file_mode = 0o666 & !umask();
    let dir_mode = 0o777 & !umask();
    for p in [&spikes, &trace, &out] {
        assert_eq!(mode(p), file_mode, "{}", p.display());
    }
    assert_eq!(mode(&weights), dir_mode);
    for f in ["ee.mtx", "ei.mtx", "ie.mtx", "ii.mtx"] {
        assert_eq!(mode(&weights.join(f)), file_mode, "{f}");
    }
    let first = fs::read(&spikes).unwrap();
    let first_ee = fs::read(weights.join("ee.mtx")).unwrap();
    let inode = fs::metadata(&spikes).unwrap().ino();
    // A reader that has the old file open keeps reading the old file whole: the new one
    // is renamed over it, never written into it.
    let held = fs::File::open(&spikes).unwrap();

    run("2", true);
    let second = fs::read(&spikes).unwrap();
    assert_ne!(first, second, "another seed, other spikes");
    assert_ne!(fs::read(weights.join("ee.mtx")).unwrap(), first_ee);
    assert_ne!(
        fs::metadata(&spikes).unwrap().ino(),
        inode,
        "replaced in place"
    );
    let mut old = Vec::new();
    std::io::Read::read_to_end(&mut &held, &mut old).unwrap();
    assert_eq!(old, first);
    assert_eq!(mode(&spikes), file_mode);
    // Records are appended, never replaced; no temporary file is left.
    assert_eq!(common::read_records(&out).len(), 2);
    let mut names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["runs.jsonl", "s.npy", "t.npy", "w"]);
    assert_eq!(fs::read_dir(&weights).unwrap().count(), 4);
}

#[test]
fn writing_through_a_symlink_replaces_its_target_and_keeps_the_link() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.npy");
    let link = tmp.path().join("link.npy");
    fs::write(&real, NPY).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let args = [
        "run",
        "va",
        "--simtime",
        "0.02",
        "--quiet",
        "--spikes",
        arg(&link),
    ];
    let err = run_err(&args);
    assert!(err.contains("--spikes") && err.contains("--force"), "{err}");
    assert_eq!(fs::read(&real).unwrap(), NPY);
    let mut forced = args.to_vec();
    forced.push("--force");
    run_ok(&forced);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let now = fs::read(&real).unwrap();
    assert!(
        now.starts_with(b"\x93NUMPY") && now != NPY,
        "target not replaced"
    );

    // A symlink to nothing is not written through.
    let dangling = tmp.path().join("dangling.npy");
    std::os::unix::fs::symlink(tmp.path().join("nowhere.npy"), &dangling).unwrap();
    let err = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.02",
        "--quiet",
        "--spikes",
        arg(&dangling),
    ]);
    assert!(err.contains("--spikes") && err.contains("symlink"), "{err}");
    assert!(!tmp.path().join("nowhere.npy").exists());
}
