//! Where a run happened and what it used: the machine ([`Host`]), the binary ([`Build`]) and
//! the process's resource usage ([`Usage`]).
//!
//! Everything here is best effort and never panics: a value that cannot be found becomes
//! `"unknown"` (strings) or `None`.

use std::collections::HashSet;
use std::fs;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What a value that could not be determined is recorded as.
const UNKNOWN: &str = "unknown";

/// The machine a run happened on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Host {
    /// `gethostname(2)`, else `/etc/hostname`, else `"unknown"`.
    pub hostname: String,
    /// `model name` of the first processor in `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Parallelism available to *this process* (`std::thread::available_parallelism`: CPU
    /// affinity mask and cgroup quota), so it can be smaller than the machine's CPU count.
    pub logical_cores: usize,
    /// Distinct `(physical id, core id)` pairs of the *machine* (`/proc/cpuinfo`, else
    /// sysfs topology). Not restricted by affinity or cgroups, so it can exceed
    /// `logical_cores` in a container or under `taskset`.
    pub physical_cores: Option<usize>,
    /// `MemTotal` of `/proc/meminfo` (the machine's memory, not a cgroup limit).
    pub memory_bytes: Option<u64>,
    /// `PRETTY_NAME` of `/etc/os-release` (or `/usr/lib/os-release`).
    pub os: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
}

impl Host {
    /// Detects the current machine. Never panics.
    pub fn detect() -> Host {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let logical_cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or_else(|_| count_processors(&cpuinfo).max(1));
        Host {
            hostname: hostname(),
            cpu_model: parse_cpu_model(&cpuinfo).unwrap_or_else(|| UNKNOWN.to_owned()),
            logical_cores,
            physical_cores: parse_physical_cores(&cpuinfo).or_else(sysfs_physical_cores),
            memory_bytes: fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| parse_kib_field(&m, "MemTotal")),
            os: ["/etc/os-release", "/usr/lib/os-release"]
                .iter()
                .find_map(|p| fs::read_to_string(p).ok())
                .and_then(|s| parse_os_release(&s))
                .unwrap_or_else(|| UNKNOWN.to_owned()),
            kernel: kernel_release().unwrap_or_else(|| UNKNOWN.to_owned()),
        }
    }
}

/// The binary: compiler, profile, flags and source revision, captured by `build.rs`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Build {
    /// `rustc -V` of the compiler that built this binary.
    pub rustc: String,
    /// Cargo's `PROFILE`: `release` or `debug` (custom profiles report what they inherit).
    pub profile: String,
    /// The rustflags the crate was compiled with, space separated.
    pub rustflags: String,
    /// The enabled target features, comma separated.
    pub target_features: String,
    /// `git rev-parse HEAD` of the workspace, or `unknown`.
    pub git_commit: String,
    /// `true`/`false`: tracked files differed from `HEAD` at build time; or `unknown`.
    pub git_dirty: String,
    /// This crate's version.
    pub crate_version: String,
}

impl Build {
    /// The values recorded by `build.rs` when this binary was compiled.
    pub fn current() -> Build {
        Build {
            rustc: env!("SNN_RUSTC_VERSION").to_owned(),
            profile: env!("SNN_PROFILE").to_owned(),
            rustflags: env!("SNN_RUSTFLAGS").to_owned(),
            target_features: env!("SNN_TARGET_FEATURES").to_owned(),
            git_commit: env!("SNN_GIT_COMMIT").to_owned(),
            git_dirty: env!("SNN_GIT_DIRTY").to_owned(),
            crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// CPU time and peak memory of this process so far (getrusage RUSAGE_SELF; ru_maxrss is KiB
/// on Linux). Also VmHWM from /proc/self/status when available.
///
/// `peak_rss_bytes` prefers `VmHWM` (the high-water mark of this process's own address
/// space) and falls back to `ru_maxrss`. `ru_maxrss` is not used when `VmHWM` is readable
/// because Linux carries it over `execve`: a benchmark spawned (fork + exec) by a large
/// driver process would report the driver's resident size as its own peak.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Usage {
    /// User CPU time of all threads, seconds.
    pub user_s: f64,
    /// System CPU time of all threads, seconds.
    pub system_s: f64,
    /// Peak resident set size, bytes (0 if unknown).
    pub peak_rss_bytes: u64,
}

impl Usage {
    /// Usage of this process (all its threads) from its start until now.
    pub fn now() -> Usage {
        let ru = rusage_self();
        let peak_rss_bytes = vm_hwm_bytes()
            .or_else(|| ru.map(|r| r.maxrss_bytes))
            .unwrap_or(0);
        Usage {
            user_s: ru.map_or(0.0, |r| r.user_s),
            system_s: ru.map_or(0.0, |r| r.system_s),
            peak_rss_bytes,
        }
    }

    /// User plus system CPU time, seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.system_s
    }
}

/// Current UTC date-time, RFC 3339 with seconds (humantime::format_rfc3339_seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The hostname reduced to a safe directory name ([A-Za-z0-9._-], others replaced by '_',
/// never empty) — used for results/<host>/.
///
/// Also never `.` or `..` (a name of dots only has its dots replaced) and at most 255 bytes.
pub fn host_dir_name(hostname: &str) -> String {
    const NAME_MAX: usize = 255;
    let mut name: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(NAME_MAX)
        .collect();
    if name.is_empty() {
        name = UNKNOWN.to_owned();
    } else if name.chars().all(|c| c == '.') {
        name = name.replace('.', "_");
    }
    name
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast::<libc::c_char>(), buf.len()) };
    if rc == 0 {
        // POSIX leaves termination unspecified on truncation: stop at the first NUL or the end.
        let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(&buf[..len]).trim().to_owned();
        if !name.is_empty() {
            return name;
        }
    }
    fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| UNKNOWN.to_owned())
}

fn kernel_release() -> Option<String> {
    // SAFETY: `utsname` is plain old data (arrays of c_char), for which all-zero is valid.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable `utsname`.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let release = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!release.is_empty()).then_some(release)
}

/// `key : value` lines of `/proc/cpuinfo` (the key is trimmed; it may contain spaces).
fn cpuinfo_fields(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    Some((key.trim(), value.trim()))
}

fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    // x86 has `model name`; other architectures use other keys (fallbacks, in order).
    ["model name", "Processor", "cpu model", "cpu", "Hardware"]
        .iter()
        .find_map(|wanted| {
            cpuinfo
                .lines()
                .filter_map(cpuinfo_fields)
                .find(|(k, v)| k == wanted && !v.is_empty())
                .map(|(_, v)| v.to_owned())
        })
}

fn count_processors(cpuinfo: &str) -> usize {
    cpuinfo
        .lines()
        .filter_map(cpuinfo_fields)
        .filter(|(k, _)| *k == "processor")
        .count()
}

/// Distinct `(physical id, core id)` pairs; `None` unless every processor block has both.
fn parse_physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut cores = HashSet::new();
    let mut blocks = 0usize;
    for block in cpuinfo.split("\n\n") {
        let (mut physical, mut core, mut is_processor) = (None, None, false);
        for (key, value) in block.lines().filter_map(cpuinfo_fields) {
            match key {
                "processor" => is_processor = true,
                "physical id" => physical = Some(value),
                "core id" => core = Some(value),
                _ => {}
            }
        }
        if !is_processor {
            continue;
        }
        blocks += 1;
        cores.insert((physical?, core?));
    }
    (blocks > 0).then_some(cores.len())
}

/// Physical cores from `/sys/devices/system/cpu/cpu*/topology` (architectures whose
/// `/proc/cpuinfo` has no topology, e.g. aarch64).
fn sysfs_physical_cores() -> Option<usize> {
    let mut cores = HashSet::new();
    for entry in fs::read_dir("/sys/devices/system/cpu").ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_cpu = name
            .strip_prefix("cpu")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_cpu {
            continue;
        }
        let topology = entry.path().join("topology");
        let read = |f: &str| {
            fs::read_to_string(topology.join(f))
                .ok()
                .map(|s| s.trim().to_owned())
        };
        // A CPU that is offline has no topology directory: skip it.
        if let (Some(package), Some(core)) = (read("physical_package_id"), read("core_id")) {
            cores.insert((package, core));
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

/// A `Key:   1234 kB` field of `/proc/meminfo` or `/proc/self/status`, in bytes.
fn parse_kib_field(text: &str, wanted: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if key.trim() != wanted {
            return None;
        }
        let mut parts = value.split_whitespace();
        let number: u64 = parts.next()?.parse().ok()?;
        match parts.next() {
            Some("kB") | Some("KB") | Some("KiB") => number.checked_mul(1024),
            None => Some(number),
            Some(_) => None,
        }
    })
}

/// `PRETTY_NAME` (else `NAME`) of an os-release file, unquoted.
fn parse_os_release(text: &str) -> Option<String> {
    let field = |wanted: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.trim().split_once('=')?;
            if key != wanted {
                return None;
            }
            let value = value.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|&q| value.strip_prefix(q)?.strip_suffix(q))
                .unwrap_or(value);
            let unescaped = unquoted
                .replace("\\\"", "\"")
                .replace("\\$", "$")
                .replace("\\`", "`")
                .replace("\\\\", "\\");
            (!unescaped.is_empty()).then_some(unescaped)
        })
    };
    field("PRETTY_NAME").or_else(|| field("NAME"))
}

#[derive(Debug, Clone, Copy)]
struct RUsage {
    user_s: f64,
    system_s: f64,
    maxrss_bytes: u64,
}

fn rusage_self() -> Option<RUsage> {
    // SAFETY: `rusage` is plain old data, for which all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return None;
    }
    let seconds = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    let maxrss = u64::try_from(ru.ru_maxrss).unwrap_or(0);
    // ru_maxrss is in KiB on Linux and the BSDs, in bytes on Apple platforms.
    let maxrss_bytes = if cfg!(target_vendor = "apple") {
        maxrss
    } else {
        maxrss.saturating_mul(1024)
    };
    Some(RUsage {
        user_s: seconds(ru.ru_utime),
        system_s: seconds(ru.ru_stime),
        maxrss_bytes,
    })
}

fn vm_hwm_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_kib_field(&status, "VmHWM").filter(|&b| b > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn host_dir_name_keeps_safe_characters() {
        assert_eq!(host_dir_name("node-01.cluster_a"), "node-01.cluster_a");
        assert_eq!(host_dir_name("ABCxyz019"), "ABCxyz019");
    }

    #[test]
    fn host_dir_name_replaces_unsafe_characters() {
        assert_eq!(host_dir_name("a/b\\c d:e"), "a_b_c_d_e");
        assert_eq!(host_dir_name("../../etc"), ".._.._etc");
        // One '_' per character, not per UTF-8 byte.
        assert_eq!(host_dir_name("héte"), "h_te");
        assert_eq!(host_dir_name("a\0b\nc"), "a_b_c");
    }

    #[test]
    fn host_dir_name_is_never_empty_or_a_special_directory() {
        assert_eq!(host_dir_name(""), "unknown");
        assert_eq!(host_dir_name("."), "_");
        assert_eq!(host_dir_name(".."), "__");
        assert_eq!(host_dir_name("/"), "_");
        let long = host_dir_name(&"x".repeat(1000));
        assert_eq!(long.len(), 255);
        for name in ["", ".", "..", "/", "ä", "a b"] {
            let dir = host_dir_name(name);
            assert!(!dir.is_empty());
            assert!(dir != "." && dir != "..");
            assert!(dir
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
        }
    }

    /// Keeps ~64 MiB resident, then frees it: the recorded *peak* must still cover it.
    #[test]
    fn usage_peak_rss_covers_a_touched_64_mib_allocation() {
        const SIZE: usize = 64 << 20;
        let before = Usage::now();
        {
            // Non-zero fill: every page is written (a zeroed Vec may be lazily mapped).
            let mut buf = vec![1u8; SIZE];
            for page in buf.chunks_mut(4096) {
                page[0] = page[0].wrapping_add(1);
            }
            black_box(&mut buf);
        }
        let after = Usage::now();
        assert!(
            after.peak_rss_bytes >= before.peak_rss_bytes,
            "peak went down: {before:?} -> {after:?}"
        );
        assert!(
            after.peak_rss_bytes >= 64 * MIB,
            "peak {} B after touching 64 MiB",
            after.peak_rss_bytes
        );
        // Catches a unit error the other way round (e.g. KiB scaled twice).
        if let Some(total) = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| parse_kib_field(&m, "MemTotal"))
        {
            assert!(
                after.peak_rss_bytes <= total,
                "peak {} B > MemTotal {total} B",
                after.peak_rss_bytes
            );
        }
        // Both sources agree on the units.
        if cfg!(target_os = "linux") {
            let hwm = vm_hwm_bytes().expect("VmHWM on Linux");
            let maxrss = rusage_self().expect("getrusage").maxrss_bytes;
            assert!(hwm >= 64 * MIB, "VmHWM {hwm} B");
            assert!(maxrss >= 64 * MIB, "ru_maxrss {maxrss} B");
        }
    }

    fn thread_cpu_s() -> Option<f64> {
        // SAFETY: `timespec` is plain old data; the pointer is valid for the call.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
    }

    #[test]
    fn usage_cpu_time_grows_after_busy_loop() {
        const BUSY_S: f64 = 0.25;
        let before = Usage::now();
        let start_cpu = thread_cpu_s().expect("CLOCK_THREAD_CPUTIME_ID");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut x = 0u64;
        // Spin until *this thread* has used BUSY_S of CPU (robust on a loaded machine).
        while thread_cpu_s().unwrap_or(f64::INFINITY) - start_cpu < BUSY_S
            && Instant::now() < deadline
        {
            for i in 0..10_000u64 {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
        }
        black_box(x);
        let used = thread_cpu_s().unwrap() - start_cpu;
        let after = Usage::now();
        assert!(after.user_s >= before.user_s && after.system_s >= before.system_s);
        assert!((after.cpu_s() - (after.user_s + after.system_s)).abs() < 1e-12);
        // The process total includes this thread's time (10 ms slack for accounting).
        let grown = after.cpu_s() - before.cpu_s();
        assert!(
            grown >= used.min(BUSY_S) - 0.01,
            "process CPU grew {grown} s while this thread used {used} s"
        );
        assert!(grown >= 0.2, "process CPU grew only {grown} s");
        // Seconds, not microseconds or ticks.
        assert!(
            after.cpu_s() < 1e6,
            "implausible CPU time {}",
            after.cpu_s()
        );
    }

    #[test]
    fn host_detect_finds_basic_facts() {
        let host = Host::detect();
        assert!(!host.hostname.is_empty());
        assert!(!host.cpu_model.is_empty());
        assert!(!host.os.is_empty());
        assert!(!host.kernel.is_empty());
        assert!(host.logical_cores >= 1);
        if let Some(p) = host.physical_cores {
            assert!(p >= 1);
        }
        if cfg!(target_os = "linux") {
            assert_ne!(host.kernel, UNKNOWN);
            assert_ne!(host.hostname, UNKNOWN);
            let mem = host.memory_bytes.expect("MemTotal on Linux");
            assert!(mem >= 64 * MIB, "MemTotal {mem} B");
            assert!(host.physical_cores.is_some(), "no topology found");
        }
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_ne!(host.cpu_model, UNKNOWN);
        }
        // The record round-trips.
        let json = serde_json::to_string(&host).unwrap();
        assert_eq!(serde_json::from_str::<Host>(&json).unwrap(), host);
    }

    #[test]
    fn build_current_comes_from_build_script() {
        let build = Build::current();
        assert!(build.rustc.starts_with("rustc"), "{:?}", build.rustc);
        assert!(!build.profile.is_empty());
        assert_eq!(build.crate_version, env!("CARGO_PKG_VERSION"));
        assert!(["true", "false", "unknown"].contains(&build.git_dirty.as_str()));
        let commit = &build.git_commit;
        assert!(
            commit == UNKNOWN
                || (commit.len() >= 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
            "{commit:?}"
        );
        assert!(!build.rustflags.contains('\x1f'));
        if cfg!(target_arch = "x86_64") {
            assert!(
                build.target_features.split(',').any(|f| f == "sse2"),
                "{:?}",
                build.target_features
            );
        }
    }

    #[test]
    fn now_rfc3339_is_utc_with_seconds() {
        let now = now_rfc3339();
        assert_eq!(now.len(), "2024-01-02T03:04:05Z".len(), "{now}");
        assert!(now.ends_with('Z'), "{now}");
        let parsed = humantime::parse_rfc3339(&now).expect("parses back");
        let age = SystemTime::now().duration_since(parsed).unwrap_or_default();
        assert!(age < Duration::from_secs(60));
    }

    const CPUINFO_SMT: &str = "\
processor\t: 0
model name\t: Example CPU @ 3.00GHz
physical id\t: 0
core id\t\t: 0

processor\t: 1
model name\t: Example CPU @ 3.00GHz
physical id\t: 0
core id\t\t: 1

processor\t: 2
model name\t: Example CPU @ 3.00GHz
physical id\t: 0
core id\t\t: 0

processor\t: 3
model name\t: Example CPU @ 3.00GHz
physical id\t: 1
core id\t\t: 0
";

    #[test]
    fn cpuinfo_parsing() {
        assert_eq!(
            parse_cpu_model(CPUINFO_SMT).as_deref(),
            Some("Example CPU @ 3.00GHz")
        );
        // (0,0) twice (SMT siblings), (0,1), (1,0): three physical cores.
        assert_eq!(parse_physical_cores(CPUINFO_SMT), Some(3));
        assert_eq!(count_processors(CPUINFO_SMT), 4);
        // No topology (e.g. aarch64): unknown, not zero.
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n";
        assert_eq!(parse_physical_cores(arm), None);
        assert_eq!(parse_cpu_model(arm), None);
        assert_eq!(parse_physical_cores(""), None);
    }

    #[test]
    fn meminfo_and_os_release_parsing() {
        let meminfo = "MemTotal:       16303424 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_kib_field(meminfo, "MemTotal"), Some(16303424 * 1024));
        assert_eq!(parse_kib_field(meminfo, "MemAvailable"), None);
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmHWM:\t    2048 kB\n";
        assert_eq!(parse_kib_field(status, "VmHWM"), Some(2048 * 1024));

        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release(os).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(parse_os_release("NAME='Arch'\n").as_deref(), Some("Arch"));
        assert_eq!(
            parse_os_release("PRETTY_NAME=Plain\n").as_deref(),
            Some("Plain")
        );
        assert_eq!(parse_os_release("ID=x\n"), None);
    }
}
