//! One run of a job in a child process: in a process group of its own, under a time
//! limit, its whole group killed when the limit passes, the ends of its output kept for
//! the failure report.
//!
//! The process group and its kill are process-wrap's (`ProcessGroup::leader`, whose kill
//! is `killpg(SIGKILL)`), the deadline is wait-timeout's (it sleeps on SIGCHLD rather than
//! polling, so a running benchmark is not disturbed by wake-ups). What no crate does is
//! `PR_SET_PDEATHSIG`: that stays a small `pre_exec` hook ([`die_with_parent`]).

use std::ffi::OsString;
use std::io::Read;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use process_wrap::std::{ProcessGroup, StdCommandWrap};
use wait_timeout::ChildExt;

/// How much of a child's stdout and stderr is kept for the failure report.
const TAIL_BYTES: usize = 64 * 1024;
/// Lines of a failed child's stderr shown.
const TAIL_LINES: usize = 20;

/// How a child ended.
#[derive(Debug, Clone, Copy)]
pub enum End {
    Exited(ExitStatus),
    TimedOut,
}

/// A finished child: how it ended and the ends of its output.
pub struct ChildReport {
    pub end: End,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ChildReport {
    /// The last lines of stderr (and stdout, if any) for a failure message.
    pub fn tails(&self) -> String {
        let mut s = String::new();
        for (name, bytes) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                if name == "stderr" {
                    s.push_str("  (nothing on stderr)\n");
                }
                continue;
            }
            let from = lines.len().saturating_sub(TAIL_LINES);
            s.push_str(&format!("  last lines of its {name}:\n"));
            for l in &lines[from..] {
                s.push_str(&format!("  | {l}\n"));
            }
        }
        s
    }
}

/// Collects the last [`TAIL_BYTES`] of a pipe on a thread of its own.
struct Tail {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl Tail {
    fn new(mut pipe: impl Read + Send + 'static) -> Tail {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut b = sink.lock().unwrap_or_else(|p| p.into_inner());
                b.extend_from_slice(&buf[..n]);
                if b.len() > 2 * TAIL_BYTES {
                    let cut = b.len() - TAIL_BYTES;
                    b.drain(..cut);
                }
            }
        });
        Tail { bytes, thread }
    }

    /// What was read, waiting up to `patience` for the end of the pipe (a process outside
    /// the child's process group could keep it open for ever).
    fn finish(self, patience: Duration) -> Vec<u8> {
        let until = Instant::now() + patience;
        while !self.thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        let b = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        b[b.len().saturating_sub(TAIL_BYTES)..].to_vec()
    }
}

/// Runs one child in a process group of its own, killing the group after `timeout_s`.
pub fn run(cmd: &[OsString], mpi_as_root: bool, timeout_s: f64) -> Result<ChildReport, String> {
    let mut command = std::process::Command::new(&cmd[0]);
    command
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if mpi_as_root {
        command
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    die_with_parent(&mut command);
    let mut child = StdCommandWrap::from(command)
        .wrap(ProcessGroup::leader())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cmd[0].to_string_lossy()))?;
    let stdout = Tail::new(child.stdout().take().expect("piped stdout"));
    let stderr = Tail::new(child.stderr().take().expect("piped stderr"));

    // (A limit too long for a Duration is no limit.)
    let limit = Duration::try_from_secs_f64(timeout_s).unwrap_or(Duration::MAX);
    let waited = child
        .inner_mut()
        .wait_timeout(limit)
        .map_err(|e| format!("cannot wait for the run: {e}"))?;
    let end = match waited {
        Some(status) => {
            // Stragglers of the child's group (an MPI rank, a helper) go with it. (Its
            // process group id cannot be reused while one of them is alive.)
            let _ = child.start_kill();
            End::Exited(status)
        }
        None => {
            // The child is not reaped yet, so its group id is still its own.
            let _ = child.start_kill();
            let status = child
                .inner_mut()
                .wait()
                .map_err(|e| format!("cannot wait for the run: {e}"))?;
            // (A child that exited by itself just as time ran out did finish.)
            if status.code().is_none() {
                End::TimedOut
            } else {
                End::Exited(status)
            }
        }
    };
    Ok(ChildReport {
        end,
        stdout: stdout.finish(Duration::from_secs(2)),
        stderr: stderr.finish(Duration::from_secs(2)),
    })
}

/// Makes the kernel SIGKILL the child when its parent (the job runner) dies, even by
/// SIGKILL, so that no run outlives a killed sweep and appends a record a resumed sweep
/// would duplicate. Hand-written: neither process-wrap nor wait-timeout sets
/// `PR_SET_PDEATHSIG`, and it must be set in the child between fork and exec.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The runner may have died before the prctl: then nobody waits for this run.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("the job runner exited"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut std::process::Command) {}
