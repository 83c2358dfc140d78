//! The sandbox trampoline: what runs between `dso` and a job's `bash`.
//!
//! The runner starts `dso __sandbox` in a new process group with a scrubbed
//! environment and the [`SandboxSpec`] as JSON in `DSO_SANDBOX_SPEC`. The
//! trampoline, single-threaded from its first instruction:
//! 1. asks for SIGKILL when the runner dies, and removes `DSO_SANDBOX_SPEC`
//!    from its environment;
//! 2. sets `RLIMIT_CPU` and `RLIMIT_AS` when given;
//! 3. unshares a new PID namespace, and a network namespace when the job has
//!    no network (with a user namespace first when not root), so that the
//!    job sees no network interface but a downed loopback and every process
//!    it starts dies with it;
//! 4. forks; the child (PID 1 of the namespace) asks for SIGKILL when the
//!    trampoline dies, restricts itself with Landlock (read and execute
//!    everywhere, write only beneath the writable directories, no TCP bind
//!    or connect without network, no signals to processes outside), changes
//!    to the work directory and executes the program;
//! 5. waits for the child and exits with its status (128 + signal number
//!    when it was killed).
//!
//! With `isolate: false` the runner does not use the trampoline at all: it
//! starts the program itself in its own process group with the same limits
//! (see `limit_self`). A failure to set up the sandbox exits with status
//! [`SETUP_FAILED`] and a message on stderr.

use std::ffi::CString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The first argument that makes `dso` act as the trampoline.
pub const SANDBOX_ARG: &str = "__sandbox";

/// The environment variable carrying the spec.
pub const SPEC_VAR: &str = "DSO_SANDBOX_SPEC";

/// The exit status when the sandbox could not be set up.
pub const SETUP_FAILED: i32 = 125;

/// What the trampoline should set up and run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// The program and its arguments, e.g. `["bash", "-c", script]`.
    pub argv: Vec<String>,
    /// The job's work directory (writable).
    pub workdir: PathBuf,
    /// Other writable directories (caches, the job's temporary directory).
    pub writable: Vec<PathBuf>,
    /// Whether the job may use the network.
    pub network: bool,
    /// Apply namespaces and Landlock (false: process group and limits only).
    pub isolate: bool,
    /// `RLIMIT_CPU` in seconds.
    pub cpu_seconds: Option<u64>,
    /// `RLIMIT_AS` in bytes.
    pub memory_bytes: Option<u64>,
}

/// The trampoline's `main`; never returns.
pub fn trampoline_main() -> ! {
    let code = match run_trampoline() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dso sandbox: {message}");
            SETUP_FAILED
        }
    };
    std::process::exit(code)
}

fn run_trampoline() -> Result<i32, String> {
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, fork};

    // Die with the `dso` that started us (a SIGKILLed runner leaves no job
    // behind); if it is already gone, stop here.
    let parent = nix::unistd::getppid();
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|err| format!("prctl: {err}"))?;
    if nix::unistd::getppid() != parent {
        return Err("the runner that started this job is gone".into());
    }
    let spec_text = std::env::var(SPEC_VAR).map_err(|_| format!("{SPEC_VAR} is not set"))?;
    // SAFETY: single-threaded: the trampoline has started no thread.
    unsafe { std::env::remove_var(SPEC_VAR) };
    let spec: SandboxSpec =
        serde_json::from_str(&spec_text).map_err(|err| format!("bad {SPEC_VAR}: {err}"))?;
    if spec.argv.is_empty() {
        return Err("no program to run".into());
    }
    set_limits(&spec)?;
    if spec.isolate {
        unshare_namespaces(spec.network)?;
    }
    // SAFETY: the process is single-threaded, so the child may do anything.
    match unsafe { fork() }.map_err(|err| format!("fork: {err}"))? {
        ForkResult::Child => {
            let err = child(&spec);
            eprintln!("dso sandbox: {err}");
            std::process::exit(SETUP_FAILED);
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(err) => return Err(format!("waitpid: {err}")),
            }
        },
    }
}

fn set_limits(spec: &SandboxSpec) -> Result<(), String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    // A limit can only be lowered: inside another sandbox (dso running its
    // own tests in a job), stay within the limit already imposed.
    let lower = |resource: Resource, name: &str, wanted: u64| -> Result<(), String> {
        let (_, hard) = getrlimit(resource).map_err(|err| format!("{name}: {err}"))?;
        let value = wanted.min(hard);
        setrlimit(resource, value, value).map_err(|err| format!("{name}: {err}"))
    };
    if let Some(secs) = spec.cpu_seconds {
        lower(Resource::RLIMIT_CPU, "RLIMIT_CPU", secs)?;
    }
    if let Some(bytes) = spec.memory_bytes {
        lower(Resource::RLIMIT_AS, "RLIMIT_AS", bytes)?;
    }
    Ok(())
}

/// For a job run without isolation, from between fork and exec: die with
/// the runner, and lower the CPU and address-space limits.
///
/// Makes only async-signal-safe system calls and allocates nothing.
pub(crate) fn limit_self(
    cpu_seconds: Option<u64>,
    memory_bytes: Option<u64>,
) -> std::io::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let to_io = |err: nix::errno::Errno| std::io::Error::from_raw_os_error(err as i32);
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(to_io)?;
    for (resource, wanted) in [
        (Resource::RLIMIT_CPU, cpu_seconds),
        (Resource::RLIMIT_AS, memory_bytes),
    ] {
        if let Some(wanted) = wanted {
            let (_, hard) = getrlimit(resource).map_err(to_io)?;
            let value = wanted.min(hard);
            setrlimit(resource, value, value).map_err(to_io)?;
        }
    }
    Ok(())
}

fn unshare_namespaces(network: bool) -> Result<(), String> {
    use nix::sched::{CloneFlags, unshare};
    let uid = nix::unistd::geteuid();
    let gid = nix::unistd::getegid();
    let mut flags = CloneFlags::CLONE_NEWPID;
    if !network {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    if !uid.is_root() {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|err| {
        format!("cannot create namespaces ({err}); the kernel must allow unprivileged user namespaces, or run as root")
    })?;
    if !uid.is_root() {
        // Map ourselves to ourselves, so files keep their owner.
        std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))
            .map_err(|err| format!("uid_map: {err}"))?;
        std::fs::write("/proc/self/setgroups", "deny\n")
            .map_err(|err| format!("setgroups: {err}"))?;
        std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))
            .map_err(|err| format!("gid_map: {err}"))?;
    }
    Ok(())
}

/// The forked child: die with the trampoline, restrict, exec. Returns only on error.
fn child(spec: &SandboxSpec) -> String {
    if let Err(err) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        return format!("prctl(PR_SET_PDEATHSIG): {err}");
    }
    if spec.isolate
        && let Err(err) = restrict(spec)
    {
        return err;
    }
    if let Err(err) = std::env::set_current_dir(&spec.workdir) {
        return format!("cannot enter {}: {err}", spec.workdir.display());
    }
    let argv: Result<Vec<CString>, _> = spec
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect();
    let Ok(argv) = argv else {
        return "an argument contains a NUL byte".into();
    };
    match nix::unistd::execvp(&argv[0], &argv) {
        Err(err) => format!("cannot execute {}: {err}", spec.argv[0]),
        Ok(never) => match never {},
    }
}

/// Applies the Landlock ruleset to the calling process.
fn restrict(spec: &SandboxSpec) -> Result<(), String> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        Scope, path_beneath_rules,
    };
    let abi = ABI::V6;
    let err = |e: landlock::RulesetError| format!("landlock: {e}");
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(err)?;
    if !spec.network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(err)?;
    }
    ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
    let mut writable: Vec<PathBuf> = vec![spec.workdir.clone()];
    writable.extend(spec.writable.iter().cloned());
    for dev in [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/tty",
        "/dev/ptmx",
        "/dev/pts",
        "/dev/shm",
    ] {
        writable.push(PathBuf::from(dev));
    }
    writable.retain(|p| p.exists());
    let status = ruleset
        .create()
        .map_err(err)?
        .add_rules(path_beneath_rules(["/"], AccessFs::from_read(abi)))
        .map_err(err)?
        .add_rules(path_beneath_rules(&writable, AccessFs::from_all(abi)))
        .map_err(err)?
        .restrict_self()
        .map_err(err)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(
            "Landlock is not available in this kernel; refusing to run the job unsandboxed \
                    (set `[runner] sandbox = false` in dso.toml to run without it)"
                .into(),
        );
    }
    Ok(())
}
