//! The PID-1 reaper: with a new PID namespace (and without `as_pid_1`) the first
//! process of the namespace forks the command as pid 2, forwards signals to it,
//! reaps every process that ends up as its child, and exits with the command's
//! status.
//!
//! Signals are forwarded to the command's process group first and to the command
//! itself when there is no such group (the command is a group leader only when it
//! called `setsid`, as `new_session` does). `SIGKILL` and `SIGSTOP` cannot be
//! caught and are never forwarded; the rest of the set mirrors what a terminal or
//! a service manager sends.
//!
//! The reaper exits as soon as the command has exited and a final non-blocking
//! reaping pass is done; the kernel then kills whatever else is left in the PID
//! namespace, so a sandbox never outlives its command.

use std::sync::atomic::{AtomicI32, Ordering};

use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};

/// The signals the reaper forwards to the command.
pub const FORWARDED_SIGNALS: [libc::c_int; 8] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGCONT,
    libc::SIGWINCH,
];

/// Whether the reaper forwards `signal`.
pub fn is_forwarded(signal: libc::c_int) -> bool {
    FORWARDED_SIGNALS.contains(&signal)
}

/// The command's pid, read by the signal handler. Each reaper is its own process,
/// so one static per process is enough.
static COMMAND_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = COMMAND_PID.load(Ordering::Relaxed);
    if pid <= 1 {
        return;
    }
    // SAFETY: errno is thread-local and restored below so the interrupted code
    // sees it unchanged; kill(2) is async-signal-safe.
    unsafe {
        let errno = *libc::__errno_location();
        if libc::kill(-pid, signal) != 0 {
            libc::kill(pid, signal);
        }
        *libc::__errno_location() = errno;
    }
}

/// The signal set of [`FORWARDED_SIGNALS`].
pub(crate) fn forwarded_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local set; the signal
    // numbers are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED_SIGNALS {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Installed forwarding handlers and the dispositions they replaced.
pub(crate) struct Handlers {
    previous: [libc::sigaction; FORWARDED_SIGNALS.len()],
    installed: usize,
}

impl Handlers {
    /// Install the forwarding handler for every forwarded signal. If one
    /// installation fails, the ones already installed are rolled back in reverse
    /// order and the error is returned.
    pub(crate) fn install() -> Result<Self, Errno> {
        Self::install_with(|sig, new, old| {
            // SAFETY: new and old point to valid sigaction structs.
            unsafe { libc::sigaction(sig, new, old) }
        })
    }

    /// [`install`](Self::install) over an injectable `sigaction`, for tests.
    fn install_with(
        mut sigaction: impl FnMut(
            libc::c_int,
            *const libc::sigaction,
            *mut libc::sigaction,
        ) -> libc::c_int,
    ) -> Result<Self, Errno> {
        // SAFETY: an all-zero sigaction array is a valid value (SIG_DFL, empty masks).
        let previous = unsafe { std::mem::zeroed() };
        let mut handlers = Self {
            previous,
            installed: 0,
        };
        // SAFETY: as above.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        // Block the other forwarded signals while one is being forwarded.
        action.sa_mask = forwarded_set();
        for (i, sig) in FORWARDED_SIGNALS.iter().enumerate() {
            let Some(slot) = handlers.previous.get_mut(i) else {
                break;
            };
            if sigaction(*sig, &action, slot) != 0 {
                let errno = Errno::from_raw_os_error(
                    std::io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EINVAL),
                );
                handlers.restore_with(&mut sigaction);
                return Err(errno);
            }
            handlers.installed = i + 1;
        }
        Ok(handlers)
    }

    /// Put back the dispositions that were replaced, last installed first.
    pub(crate) fn restore(mut self) {
        self.restore_with(&mut |sig, new, old| {
            // SAFETY: new points to a saved, valid sigaction; old may be null.
            unsafe { libc::sigaction(sig, new, old) }
        });
    }

    fn restore_with(
        &mut self,
        sigaction: &mut impl FnMut(
            libc::c_int,
            *const libc::sigaction,
            *mut libc::sigaction,
        ) -> libc::c_int,
    ) {
        while self.installed > 0 {
            self.installed -= 1;
            if let (Some(sig), Some(old)) = (
                FORWARDED_SIGNALS.get(self.installed),
                self.previous.get(self.installed),
            ) {
                sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}

/// Give SIGCHLD its default disposition, as a process that waits for its
/// children must have: inherited `SIG_IGN` or `SA_NOCLDWAIT` would let the
/// kernel reap them and lose their status. Async-signal-safe.
/// Returns the disposition it replaced, for [`restore_sigchld`].
pub(crate) fn default_sigchld() -> libc::sigaction {
    // SAFETY: an all-zero sigaction is SIG_DFL with an empty mask; the old
    // one is written into a zeroed (valid) struct.
    unsafe {
        let dfl: libc::sigaction = std::mem::zeroed();
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGCHLD, &dfl, &mut old);
        old
    }
}

/// Put back a SIGCHLD disposition [`default_sigchld`] replaced.
pub(crate) fn restore_sigchld(old: &libc::sigaction) {
    // SAFETY: `old` came from sigaction(2).
    unsafe { libc::sigaction(libc::SIGCHLD, old, std::ptr::null_mut()) };
}

/// The shell encoding of a wait status: the exit code, or 128 + signal.
pub fn shell_code(raw_status: i32) -> i32 {
    if libc::WIFSIGNALED(raw_status) {
        128 + libc::WTERMSIG(raw_status)
    } else {
        libc::WEXITSTATUS(raw_status)
    }
}

/// Supervise `command` as PID 1 and exit with its status; never returns.
///
/// The caller blocked [`FORWARDED_SIGNALS`] before forking so none is lost
/// between the fork and the installation of the handlers; they are unblocked
/// here once the command's pid is known. The raw wait status is written to
/// `status_fd` (4 bytes, little-endian) so the parent can tell an exit code from
/// a signal, which the reaper's own exit code cannot express.
pub(crate) fn supervise(command: Pid, status_fd: Option<libc::c_int>) -> ! {
    COMMAND_PID.store(command.as_raw_nonzero().get(), Ordering::Relaxed);
    let handlers = Handlers::install().ok();
    let set = forwarded_set();
    // SAFETY: set is a valid, initialised signal set.
    unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };

    let mut status = libc::W_EXITCODE(1, 0);
    loop {
        match rustix::process::wait(WaitOptions::empty()) {
            Ok(Some((pid, st))) if pid == command => {
                status = st.as_raw();
                break;
            }
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    // Collect whatever else has already exited before leaving; anything still
    // running is killed by the kernel when PID 1 exits.
    while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
    COMMAND_PID.store(0, Ordering::Relaxed);
    if let Some(handlers) = handlers {
        handlers.restore();
    }
    if let Some(fd) = status_fd {
        let bytes = status.to_le_bytes();
        // SAFETY: fd is the reaper's own status pipe; a short or failed write only
        // loses the detail, which the parent then takes from the exit code.
        unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    }
    // SAFETY: _exit ends the process without running Rust or libc teardown,
    // which a clone of a multi-threaded process must not run.
    unsafe { libc::_exit(shell_code(status)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_set_is_exactly_the_documented_signals() {
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGTERM,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGCONT,
            libc::SIGWINCH,
        ] {
            assert!(is_forwarded(sig), "{sig} must be forwarded");
        }
        for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD, libc::SIGPIPE] {
            assert!(!is_forwarded(sig), "{sig} must not be forwarded");
        }
    }

    #[test]
    fn failed_installation_rolls_back_in_reverse_order() {
        let mut log = [("", 0); 8];
        let mut logged = 0;
        let mut calls = 0;
        let result = Handlers::install_with(|sig, _new, old| {
            calls += 1;
            if old.is_null() {
                log[logged] = ("restore", sig);
                logged += 1;
                return 0;
            }
            if calls == 4 {
                // SAFETY: setting errno of this thread.
                unsafe { *libc::__errno_location() = libc::EINVAL };
                return -1;
            }
            log[logged] = ("install", sig);
            logged += 1;
            0
        });
        assert_eq!(result.err(), Some(Errno::INVAL));
        assert_eq!(
            log[..logged],
            [
                ("install", libc::SIGHUP),
                ("install", libc::SIGINT),
                ("install", libc::SIGQUIT),
                ("restore", libc::SIGQUIT),
                ("restore", libc::SIGINT),
                ("restore", libc::SIGHUP),
            ]
        );
    }

    #[test]
    fn shell_code_encodes_exits_and_signals() {
        assert_eq!(shell_code(libc::W_EXITCODE(7, 0)), 7);
        assert_eq!(shell_code(libc::SIGKILL), 137);
        assert_eq!(shell_code(libc::SIGTERM), 143);
    }
}
