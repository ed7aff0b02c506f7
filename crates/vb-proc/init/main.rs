//! `vb-init`: the sandbox's pid 1 as a program of its own.
//!
//! vb-proc's reaper forks the command, locks itself down and then executes
//! this program (from a sealed memfd, see `src/init.rs`), so pid 1 maps none
//! of the launcher's memory: it is a few kilobytes of code, without a C
//! library, built by `build.rs` for the crate's target and carried inside the
//! library.
//!
//! `vb-init COMMAND-PID STATUS-FD READY-FD SECCOMP-FD` (a descriptor is `-1`
//! when absent). It makes itself not dumpable and drops every capability
//! (an `execve` as uid 0 grants them again), loads the seccomp programs
//! stored in SECCOMP-FD (each a little-endian `u32` instruction count, then
//! the instructions; a list it cannot read to its end, a malformed program
//! or one the kernel refuses makes it kill the command and exit with 127,
//! as bad arguments do), closes READY-FD (the command waits for that before
//! its own `execve`), then forwards the terminal and service-manager signals
//! to the command's process group (the command itself when it has none),
//! reaps every child, and once the command has ended writes its raw wait
//! status to STATUS-FD (4 bytes, little-endian) and exits with the shell's
//! encoding of it. Every other descriptor it holds (the sync descriptor, the
//! lock files) it keeps until it exits.

#![no_std]
#![no_main]

use core::arch::global_asm;

#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

#[cfg(target_arch = "aarch64")]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x0, sp",
    "bl {entry}",
    "brk #0",
    entry = sym entry,
);

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const PREAD64: usize = 17;
    pub const RT_SIGPROCMASK: usize = 14;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const CAPSET: usize = 126;
    pub const PRCTL: usize = 157;
    pub const EXIT_GROUP: usize = 231;
    pub const SIGNALFD4: usize = 289;
    pub const SECCOMP: usize = 317;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const PREAD64: usize = 67;
    pub const RT_SIGPROCMASK: usize = 135;
    pub const WAIT4: usize = 260;
    pub const KILL: usize = 129;
    pub const CAPSET: usize = 91;
    pub const PRCTL: usize = 167;
    pub const EXIT_GROUP: usize = 94;
    pub const SIGNALFD4: usize = 74;
    pub const SECCOMP: usize = 277;
}

/// A system call with up to four arguments; a negative result is `-errno`.
#[cfg(target_arch = "x86_64")]
unsafe fn sys(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A system call with up to four arguments; a negative result is `-errno`.
#[cfg(target_arch = "aarch64")]
unsafe fn sys(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a as isize => ret,
            in("x1") b,
            in("x2") c,
            in("x3") d,
            options(nostack),
        );
    }
    ret
}

const EINTR: isize = 4;
const PR_SET_DUMPABLE: usize = 4;
const PR_SET_NAME: usize = 15;
const SECCOMP_SET_MODE_FILTER: usize = 1;
const SIG_BLOCK: usize = 0;
const SFD_CLOEXEC: usize = 0o2_000_000;
const WNOHANG: usize = 1;
const WALL: usize = 0x4000_0000;
const SIGCHLD: u32 = 17;
/// What pid 1 forwards: SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
/// SIGTERM, SIGCONT, SIGWINCH (the numbers are the same on both
/// architectures).
const FORWARDED: [u32; 8] = [1, 2, 3, 10, 12, 15, 18, 28];
/// BPF_MAXINSNS: the longest program the kernel loads.
const MAX_INSNS: usize = 4096;

fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes an integer and does not return.
    unsafe { sys(nr::EXIT_GROUP, code as usize, 0, 0, 0) };
    loop {}
}

/// A decimal argument, possibly `-1`.
fn parse(arg: *const u8) -> Option<i64> {
    let mut p = arg;
    let mut negative = false;
    let mut value: i64 = 0;
    let mut digits = 0;
    // SAFETY: argv strings are NUL-terminated.
    unsafe {
        if *p == b'-' {
            negative = true;
            p = p.add(1);
        }
        while *p != 0 {
            let d = *p;
            if !d.is_ascii_digit() || digits == 10 {
                return None;
            }
            value = value * 10 + i64::from(d - b'0');
            digits += 1;
            p = p.add(1);
        }
    }
    (digits > 0).then_some(if negative { -value } else { value })
}

/// What a read of a whole buffer got.
#[derive(PartialEq, Eq)]
enum Filled {
    /// Every byte.
    Whole,
    /// End of file before the first byte.
    AtEnd,
    /// Some bytes, then end of file; or an error.
    Short,
}

/// Read exactly `buf.len()` bytes at `offset`.
fn pread_exact(fd: usize, buf: &mut [u8], offset: usize) -> Filled {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the range lies inside `buf`.
        let n = unsafe {
            sys(
                nr::PREAD64,
                fd,
                buf.as_mut_ptr().add(done) as usize,
                buf.len() - done,
                offset + done,
            )
        };
        if n == -EINTR {
            continue;
        }
        if n == 0 && done == 0 {
            return Filled::AtEnd;
        }
        if n <= 0 {
            return Filled::Short;
        }
        done += n as usize;
    }
    Filled::Whole
}

/// Load every program of the memfd, in order. False when one is malformed
/// or refused, or the memfd cannot be read: only its end where a program
/// would start ends the list (a descriptor that fails to read must not pass
/// for a list of no program).
fn load_seccomp(fd: usize) -> bool {
    let mut insns = [0u8; MAX_INSNS * 8];
    let mut offset = 0;
    loop {
        let mut count = [0u8; 4];
        match pread_exact(fd, &mut count, offset) {
            Filled::Whole => {}
            Filled::AtEnd => return true,
            Filled::Short => return false,
        }
        let count = u32::from_le_bytes(count) as usize;
        if count == 0 || count > MAX_INSNS {
            return false;
        }
        let Some(program) = insns.get_mut(..count * 8) else {
            return false;
        };
        if pread_exact(fd, program, offset + 4) != Filled::Whole {
            return false;
        }
        offset += 4 + count * 8;
        // struct sock_fprog: an unsigned short count, then the pointer.
        #[repr(C)]
        struct Fprog {
            len: u16,
            filter: *const u8,
        }
        let fprog = Fprog {
            len: count as u16,
            filter: program.as_ptr(),
        };
        // SAFETY: fprog points to `count` instructions.
        let r = unsafe {
            sys(
                nr::SECCOMP,
                SECCOMP_SET_MODE_FILTER,
                0,
                &raw const fprog as usize,
                0,
            )
        };
        if r != 0 {
            return false;
        }
    }
}

/// Drop every capability: permitted, effective and inheritable.
fn drop_capabilities() -> bool {
    // _LINUX_CAPABILITY_VERSION_3, this process.
    let header: [u32; 2] = [0x2008_0522, 0];
    let data = [0u32; 6];
    // SAFETY: a version-3 header and two zeroed data structs.
    unsafe {
        sys(
            nr::CAPSET,
            header.as_ptr() as usize,
            data.as_ptr() as usize,
            0,
            0,
        ) == 0
    }
}

fn signal_bit(sig: u32) -> u64 {
    1u64 << (sig - 1)
}

/// Reap every child that has ended; the command's raw status when it is
/// among them.
fn reap(command: i64) -> Option<i32> {
    let mut found = None;
    loop {
        let mut status: i32 = 0;
        // SAFETY: wait4 writes the status into a valid int.
        let pid = unsafe {
            sys(
                nr::WAIT4,
                usize::MAX, // -1: any child
                &raw mut status as usize,
                WNOHANG | WALL,
                0,
            )
        };
        if pid == -EINTR {
            continue;
        }
        if pid <= 0 {
            // No child left to wait for counts as the command's end (its
            // status then unknown, as a reaper whose wait fails reports).
            if pid < 0 && found.is_none() {
                return Some(1 << 8);
            }
            return found;
        }
        if pid as i64 == command {
            found = Some(status);
        }
    }
}

fn shell_code(status: i32) -> i32 {
    let signal = status & 0x7f;
    if signal != 0 && signal != 0x7f {
        128 + signal
    } else {
        (status >> 8) & 0xff
    }
}

unsafe extern "C" fn entry(stack: *const usize) -> ! {
    // SAFETY: the kernel's initial stack: argc, then argv pointers.
    let (argc, argv) = unsafe { (*stack, stack.add(1).cast::<*const u8>()) };
    if argc != 5 {
        exit(127);
    }
    // SAFETY: argc says argv has 5 entries.
    let arg = |i: usize| parse(unsafe { *argv.add(i) });
    let (Some(command), Some(status_fd), Some(ready_fd), Some(seccomp_fd)) =
        (arg(1), arg(2), arg(3), arg(4))
    else {
        exit(127);
    };
    if command <= 1 {
        exit(127);
    }
    // The name the reaper had (an execve of a memfd names this process
    // `memfd:vb-init`).
    // SAFETY: argv[0] is a NUL-terminated string; the kernel copies 15
    // bytes at most.
    unsafe { sys(nr::PRCTL, PR_SET_NAME, *argv as usize, 0, 0) };
    // The lockdown, before the command may execute (it waits for READY-FD):
    // an `execve` made this process dumpable again, and as uid 0 gave it
    // every capability of the bounding set.
    // SAFETY: prctl with integer arguments.
    let dumpable = unsafe { sys(nr::PRCTL, PR_SET_DUMPABLE, 0, 0, 0) } == 0;
    if !dumpable || !drop_capabilities() {
        // SAFETY: kill with integer arguments.
        unsafe { sys(nr::KILL, command as usize, 9, 0, 0) };
        exit(127);
    }
    if seccomp_fd >= 0 {
        let loaded = load_seccomp(seccomp_fd as usize);
        // SAFETY: close of a descriptor number.
        unsafe { sys(nr::CLOSE, seccomp_fd as usize, 0, 0, 0) };
        if !loaded {
            // SAFETY: kill with integer arguments.
            unsafe { sys(nr::KILL, command as usize, 9, 0, 0) };
            exit(127);
        }
    }
    if ready_fd >= 0 {
        // SAFETY: close of a descriptor number.
        unsafe { sys(nr::CLOSE, ready_fd as usize, 0, 0, 0) };
    }

    let mut mask = signal_bit(SIGCHLD);
    for sig in FORWARDED {
        mask |= signal_bit(sig);
    }
    // SAFETY: an 8-byte signal set for the kernel.
    unsafe {
        sys(nr::RT_SIGPROCMASK, SIG_BLOCK, &raw const mask as usize, 0, 8);
    }
    // SAFETY: a new signalfd for the blocked set.
    let sfd = unsafe { sys(nr::SIGNALFD4, usize::MAX, &raw const mask as usize, 8, SFD_CLOEXEC) };
    let mut status = reap(command);
    while status.is_none() {
        if sfd < 0 {
            // Without a signalfd, poll for the command's end.
            status = reap(command);
            continue;
        }
        let mut info = [0u8; 128];
        // SAFETY: a signalfd_siginfo is 128 bytes.
        let n = unsafe { sys(nr::READ, sfd as usize, info.as_mut_ptr() as usize, 128, 0) };
        if n == -EINTR {
            continue;
        }
        if n != 128 {
            status = Some(1 << 8);
            break;
        }
        let signo = u32::from_le_bytes([info[0], info[1], info[2], info[3]]);
        if signo == SIGCHLD {
            status = reap(command);
        } else {
            // The process group first; the command alone when it leads none.
            // SAFETY: kill with integer arguments.
            let group = unsafe { sys(nr::KILL, (-command) as usize, signo as usize, 0, 0) };
            if group != 0 {
                // SAFETY: as above.
                unsafe { sys(nr::KILL, command as usize, signo as usize, 0, 0) };
            }
        }
    }
    let status = status.unwrap_or(1 << 8);
    // Collect whatever else has ended; the kernel kills the rest when pid 1
    // exits.
    let _ = reap(0);
    if status_fd >= 0 {
        let bytes = status.to_le_bytes();
        // SAFETY: 4 bytes from a local array.
        unsafe { sys(nr::WRITE, status_fd as usize, bytes.as_ptr() as usize, 4, 0) };
    }
    exit(shell_code(status))
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(127)
}

// The compiler may call these for copies and zeroing; there is no C library
// to provide them. Volatile accesses keep it from turning the loops back into
// calls to themselves.

/// `memset`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes n writable bytes.
        unsafe { dest.add(i).write_volatile(c as u8) };
    }
    dest
}

/// `memcpy`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes n readable and n writable bytes.
        unsafe { dest.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dest
}

/// `memmove`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) {
        // SAFETY: as memcpy; copying forwards is safe when dest is below src.
        unsafe { memcpy(dest, src, n) }
    } else {
        for i in (0..n).rev() {
            // SAFETY: the caller passes n readable and n writable bytes.
            unsafe { dest.add(i).write_volatile(src.add(i).read_volatile()) };
        }
        dest
    }
}

/// `memcmp`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller passes n readable bytes on each side.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// `bcmp`.
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: as memcmp.
    unsafe { memcmp(a, b, n) }
}
