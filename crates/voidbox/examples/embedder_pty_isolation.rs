//! An embedder that owns the terminal: it opens a pseudo-terminal, forks,
//! gives the child the pty's slave as its standard streams, applies
//! voidbox's isolation in the child with `apply_isolation_in_child`, makes
//! the slave the controlling terminal of a new session there, executes a
//! shell, and relays its own terminal to the pty until the shell ends.
//!
//! ```text
//! cargo run -p voidbox --example embedder_pty_isolation            # an interactive sh
//! cargo run -p voidbox --example embedder_pty_isolation -- ls -l / # a command
//! ```
//!
//! The sandbox has its own PID, UTS, IPC and mount namespaces (and a user
//! namespace when run unprivileged), the hostname `pty-box`, and the host's
//! `/` as its root. The example exits with the shell's status.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::pty::OpenptFlags;
use voidbox::{JailConfig, Namespaces, PreparedIsolation, RootSource};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The pty: the master the embedder keeps and the slave the child gets.
fn open_pty() -> Result<(OwnedFd, OwnedFd)> {
    let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
        rustix::fs::Mode::empty(),
    )?;
    // The window size of the embedder's terminal, when it has one.
    if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdin()) {
        let _ = rustix::termios::tcsetwinsize(&slave, size);
    }
    Ok((master, slave))
}

/// The embedder's terminal in raw mode while the shell runs; restored on drop.
struct RawMode(Option<rustix::termios::Termios>);

impl RawMode {
    fn enter() -> Self {
        let stdin = std::io::stdin();
        let Ok(saved) = rustix::termios::tcgetattr(&stdin) else {
            return Self(None); // not a terminal: nothing to change
        };
        let mut raw = saved.clone();
        raw.make_raw();
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &raw);
        Self(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

/// Write all of `data` to `fd`.
fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> rustix::io::Result<()> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copy the embedder's stdin to the pty and the pty to its stdout until the
/// pty's other side is gone (the read fails with `EIO`).
fn relay(master: &OwnedFd) -> Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut stdin_open = true;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = vec![PollFd::new(master, PollFlags::IN)];
        if stdin_open {
            fds.push(PollFd::new(&stdin, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let master_ready = !fds[0].revents().is_empty();
        let stdin_ready = fds.get(1).is_some_and(|fd| !fd.revents().is_empty());
        drop(fds);
        if master_ready {
            match rustix::io::read(master, &mut buf) {
                // The last holder of the slave closed it: the shell is done.
                Ok(0) | Err(Errno::IO) => return Ok(()),
                Ok(n) => write_all(stdout.as_fd(), &buf[..n])?,
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if stdin_ready {
            match rustix::io::read(&stdin, &mut buf) {
                Ok(0) => stdin_open = false,
                Ok(n) => write_all(master.as_fd(), &buf[..n])?,
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn main() -> Result<()> {
    let mut command: Vec<String> = std::env::args().skip(1).collect();
    if command.is_empty() {
        command = vec!["/bin/sh".into(), "-i".into()];
    }
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        isolation: Namespaces {
            pid: true,
            uts: true,
            ipc: true,
            mount: true,
            ..Namespaces::default()
        },
        runtime: voidbox::RuntimeOptions {
            hostname: Some("pty-box".into()),
            ..voidbox::RuntimeOptions::default()
        },
        ..JailConfig::default()
    };
    // Everything that allocates happens before the fork.
    let prepared = PreparedIsolation::new(&config)?;
    for warning in prepared.warnings() {
        eprintln!("warning: {warning}");
    }
    let program = if command[0].contains('/') {
        command[0].clone()
    } else {
        format!("/usr/bin/{}", command[0])
    };
    let program = CString::new(program)?;
    let args: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<std::result::Result<_, _>>()?;
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let env = [
        c"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        c"TERM=xterm",
        c"PS1=pty-box$ ",
    ];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let (master, slave) = open_pty()?;
    let slave_fd = slave.as_raw_fd();
    let master_fd = master.as_raw_fd();

    // SAFETY: this program has one thread; the child below only makes
    // system calls on data prepared above, then executes or exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    if pid == 0 {
        // SAFETY: the child of fork: the slave becomes the standard streams,
        // voidbox's isolation is applied (with a PID namespace this process
        // stays outside as a waiter and the code below runs in the
        // namespace), then the process that executes the shell makes a new
        // session whose controlling terminal is the slave — inside the
        // sandbox, so the shell's job control sees its own process group.
        unsafe {
            for target in 0..3 {
                libc::dup2(slave_fd, target);
            }
            libc::close(slave_fd);
            libc::close(master_fd);
            if voidbox::apply_isolation_in_child(&prepared).is_err() {
                libc::_exit(126);
            }
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    // Only the child holds the slave now, so its end is the shell's end.
    drop(slave);
    let relayed = {
        let _raw = RawMode::enter();
        relay(&master)
    };
    let mut status = 0;
    // SAFETY: waiting for the child forked above.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        if Errno::from_io_error(&std::io::Error::last_os_error()) != Some(Errno::INTR) {
            return Err(std::io::Error::last_os_error().into());
        }
    }
    relayed?;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    std::process::exit(code)
}
