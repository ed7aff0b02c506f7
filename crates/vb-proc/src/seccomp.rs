//! seccomp: caller-supplied classic BPF programs (bubblewrap's `--seccomp` and
//! `--add-seccomp-fd`) and voidbox's own terminal-injection filter, loaded
//! with the raw `seccomp(2)` call in the child.
//!
//! Programs are installed in order; the kernel runs the most recently
//! installed first and the strictest verdict wins, so the order matters only
//! for which `SECCOMP_RET_ERRNO` value a call sees when several filters refuse
//! it. voidbox's own filters go last, after the caller's.

use std::fmt;

/// One `struct sock_filter` instruction: 8 bytes.
pub const INSTRUCTION_LEN: usize = 8;

/// A classic BPF program for `SECCOMP_SET_MODE_FILTER`: an array of
/// `struct sock_filter` in native byte order (what `seccomp_export_bpf`
/// writes), kept as 8-byte instructions.
#[derive(Clone)]
pub struct BpfProgram {
    insns: Vec<libc::sock_filter>,
}

impl PartialEq for BpfProgram {
    fn eq(&self, other: &Self) -> bool {
        self.insns.len() == other.insns.len()
            && self
                .insns
                .iter()
                .zip(&other.insns)
                .all(|(a, b)| a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k)
    }
}

impl Eq for BpfProgram {}

impl fmt::Debug for BpfProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BpfProgram({} instructions)", self.insns.len())
    }
}

/// Program bytes that are not whole instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid seccomp data, must be multiple of 8")]
pub struct BadProgramLength(pub usize);

impl BpfProgram {
    /// A program from its raw bytes. The length must be a multiple of 8; an
    /// empty or over-long program is left for the kernel to refuse (`EINVAL`)
    /// when it is loaded, as bubblewrap does.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadProgramLength> {
        if !bytes.len().is_multiple_of(INSTRUCTION_LEN) {
            return Err(BadProgramLength(bytes.len()));
        }
        let insns = bytes
            .chunks_exact(INSTRUCTION_LEN)
            .map(|c| libc::sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        Ok(Self { insns })
    }

    pub(crate) fn from_insns(insns: Vec<libc::sock_filter>) -> Self {
        Self { insns }
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The program's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.insns.len() * INSTRUCTION_LEN);
        for i in &self.insns {
            out.extend_from_slice(&i.code.to_ne_bytes());
            out.push(i.jt);
            out.push(i.jf);
            out.extend_from_slice(&i.k.to_ne_bytes());
        }
        out
    }

    /// The instructions, as the kernel reads them.
    pub(crate) fn instructions(&self) -> &[libc::sock_filter] {
        &self.insns
    }
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;

/// `offsetof(struct seccomp_data, ...)`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// The offset of the low 32 bits of `args[index]` (little-endian). The
/// programs compare only those: the kernel takes an ioctl's request, a
/// socket's protocol and a send's flags as 32-bit values, so a 64-bit
/// comparison could be slipped past by setting the high half; every
/// `CLONE_NEW*` flag lies in the low half too.
#[cfg(target_endian = "little")]
const fn arg_low(index: u32) -> u32 {
    16 + 8 * index
}

/// The native ABI's audit architecture and the numbers of the calls the
/// default profile looks at.
#[cfg(target_arch = "x86_64")]
const NATIVE_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const NATIVE_ARCH: u32 = 0xc000_00b7;
/// x32 call numbers carry this bit on x86-64.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const TIOCSTI: u32 = 0x5412;
const TIOCLINUX: u32 = 0x541c;

/// The native and compat ABIs of this architecture: (audit arch, ioctl numbers).
#[cfg(target_arch = "x86_64")]
const IOCTL_ABIS: [(u32, &[u32]); 2] = [
    // x86-64 and x32 (x32 numbers carry bit 30; its ioctl is 514).
    (0xc000_003e, &[16, 0x4000_0000 | 514]),
    // i386 compat.
    (0x4000_0003, &[54]),
];
#[cfg(target_arch = "aarch64")]
const IOCTL_ABIS: [(u32, &[u32]); 2] = [
    (0xc000_00b7, &[29]),
    // 32-bit ARM compat.
    (0x4000_0028, &[54]),
];

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: JEQ_K,
        jt,
        jf,
        k,
    }
}

/// A filter that fails `ioctl(fd, TIOCSTI, ...)` and `ioctl(fd, TIOCLINUX,
/// ...)` with `EPERM` under every ABI of the machine and allows everything
/// else: a sandboxed command that shares the caller's terminal cannot push
/// input into it (CVE-2017-5226) or use the Linux console's selection ioctls.
///
/// Hand-assembled rather than built with seccompiler, whose programs kill a
/// process making a call under another ABI: a filter on by default must let
/// 32-bit programs run.
pub fn terminal_injection_filter() -> BpfProgram {
    // Layout: [ld arch] then per ABI [jeq arch] ... each matched ABI jumps to
    // its own block: [ld nr] [jeq nr -> check]... [ret allow]; then the shared
    // check: [ld arg1] [jeq TIOCSTI -> deny] [jeq TIOCLINUX -> deny]
    // [ret allow] [ret errno].
    let mut blocks: Vec<Vec<libc::sock_filter>> = Vec::new();
    for (_, numbers) in IOCTL_ABIS {
        let mut block = vec![stmt(LD_W_ABS, DATA_NR)];
        for nr in numbers {
            // Jump targets are patched below once the layout is known.
            block.push(jeq(*nr, 0, 0));
        }
        block.push(stmt(RET_K, RET_ALLOW));
        blocks.push(block);
    }
    let check = [
        #[cfg(target_endian = "little")]
        stmt(LD_W_ABS, arg_low(1)),
        jeq(TIOCSTI, 2, 0),
        jeq(TIOCLINUX, 1, 0),
        stmt(RET_K, RET_ALLOW),
        stmt(RET_K, RET_ERRNO | libc::EPERM.unsigned_abs()),
    ];

    let mut program = vec![stmt(LD_W_ABS, DATA_ARCH)];
    let dispatch_len = IOCTL_ABIS.len() + 1; // one jeq per ABI, then allow
    // Offset (from the start of the program) of each block.
    let mut block_start = Vec::new();
    let mut at = 1 + dispatch_len;
    for block in &blocks {
        block_start.push(at);
        at += block.len();
    }
    let check_start = at;
    for (i, (arch, _)) in IOCTL_ABIS.iter().enumerate() {
        let here = 1 + i; // index of this jeq
        let jt = u8::try_from(block_start[i] - here - 1).unwrap_or(u8::MAX);
        program.push(jeq(*arch, jt, 0));
    }
    program.push(stmt(RET_K, RET_ALLOW));
    for (b, block) in blocks.iter().enumerate() {
        for (j, insn) in block.iter().enumerate() {
            let mut insn = *insn;
            if insn.code == JEQ_K {
                let here = block_start[b] + j;
                insn.jt = u8::try_from(check_start - here - 1).unwrap_or(u8::MAX);
            }
            program.push(insn);
        }
    }
    program.extend_from_slice(&check);
    BpfProgram::from_insns(program)
}

/// The calls the default profile looks at besides its plain deny list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProfileCalls {
    /// `clone`: refused when its first argument carries any of
    /// `clone_flags` (its low byte is the exit signal, not a flag).
    pub clone: u32,
    pub clone_flags: u32,
    /// `unshare`: refused when its first argument carries any of
    /// `unshare_flags`.
    pub unshare: u32,
    pub unshare_flags: u32,
    /// `ioctl`: the requests in `ioctl_requests` refused.
    pub ioctl: u32,
    pub ioctl_requests: [u32; 3],
    /// `clone3`: fails with `ENOSYS` (its flags are out of a filter's reach).
    pub clone3: u32,
    /// The first number above every call the profile was written for: it
    /// and everything above fail with `ENOSYS` (a call newer than the
    /// profile is refused, not allowed).
    pub unknown_from: u32,
}

/// Why a hand-assembled program could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the seccomp program needs a jump longer than 255 instructions")]
pub struct JumpTooLong;

/// voidbox's default profile as one compact program (see
/// [`crate::filter::default_profile`] for what it refuses and why).
///
/// Hand-assembled rather than built with seccompiler: when a filter is
/// installed the kernel runs it for every system-call number (to cache the
/// calls it always allows), so the cost of installing it — twice per launch,
/// in pid 1 and in the command — grows with the path each number takes
/// through it. seccompiler's program for these rules is a linear chain six
/// times longer (150 µs to install on the development machine); this one
/// finds a number by binary search, in a handful of comparisons.
///
/// Layout: the architecture check (another ABI kills the process, as
/// seccompiler's programs do), the x32 check, the check for numbers newer
/// than the profile, the search over the sorted call numbers (each leaf ends
/// in `allow`), then the argument checks of `clone`, `unshare` and `ioctl`,
/// and the two refusals.
pub(crate) fn default_profile_program(
    denied: &[u32],
    calls: ProfileCalls,
) -> Result<BpfProgram, JumpTooLong> {
    let mut asm = Assembler::default();
    let [eperm, enosys, clone_check, unshare_check, ioctl_check] = [(); 5].map(|()| asm.label());
    asm.native_calls_only(eperm);
    asm.jump(JGE_K, calls.unknown_from, enosys);
    let mut table: Vec<(u32, usize)> = denied.iter().map(|nr| (*nr, eperm)).collect();
    table.extend([
        (calls.clone, clone_check),
        (calls.unshare, unshare_check),
        (calls.ioctl, ioctl_check),
        (calls.clone3, enosys),
    ]);
    table.sort_unstable();
    table.dedup_by_key(|(nr, _)| *nr);
    asm.search(&table);
    // clone and unshare with a namespace flag.
    for (label, flags) in [
        (clone_check, calls.clone_flags),
        (unshare_check, calls.unshare_flags),
    ] {
        asm.bind(label);
        asm.stmt(LD_W_ABS, arg_low(0));
        asm.jump(JSET_K, flags, eperm);
        asm.stmt(RET_K, RET_ALLOW);
    }
    // The refused ioctl requests, low 32 bits (the kernel ignores the rest).
    asm.bind(ioctl_check);
    asm.stmt(LD_W_ABS, arg_low(1));
    for request in calls.ioctl_requests {
        asm.jump(JEQ_K, request, eperm);
    }
    asm.stmt(RET_K, RET_ALLOW);
    asm.bind(enosys);
    asm.stmt(RET_K, RET_ERRNO | libc::ENOSYS.unsigned_abs());
    asm.bind(eperm);
    asm.stmt(RET_K, RET_ERRNO | libc::EPERM.unsigned_abs());
    asm.finish()
}

/// The calls the TCP companion filter looks at (native numbers).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpCompanionCalls {
    pub socket: u32,
    pub sendto: u32,
    pub sendmsg: u32,
    pub sendmmsg: u32,
    /// Refused outright: a ring performs `sendmsg` (and `connect`) without
    /// the system calls a filter sees.
    pub io_uring: [u32; 3],
}

/// `IPPROTO_MPTCP`: a multipath TCP socket, which Landlock's TCP rules do not
/// cover.
const IPPROTO_MPTCP: u32 = 262;
/// `MSG_FASTOPEN`: `sendto`/`sendmsg` that connect on the way (TCP Fast
/// Open), without the `connect` Landlock checks.
const MSG_FASTOPEN: u32 = 0x2000_0000;

/// The companion of Landlock's TCP port rules: `EPERM` for the ways to a
/// TCP connection (or a bound port) that Landlock does not check — a
/// multipath TCP socket (`socket(..., IPPROTO_MPTCP)`), a send that connects
/// by TCP Fast Open (`MSG_FASTOPEN` in `sendto`, `sendmsg`, `sendmmsg`), and
/// io_uring. x32 calls fail with `EPERM`, and a call under another ABI kills
/// the process, as in the other programs vb builds.
pub(crate) fn tcp_companion_program(calls: TcpCompanionCalls) -> Result<BpfProgram, JumpTooLong> {
    let mut asm = Assembler::default();
    let [eperm, socket, flags2, flags3] = [(); 4].map(|()| asm.label());
    asm.native_calls_only(eperm);
    asm.jump(JEQ_K, calls.socket, socket);
    asm.jump(JEQ_K, calls.sendto, flags3);
    asm.jump(JEQ_K, calls.sendmsg, flags2);
    asm.jump(JEQ_K, calls.sendmmsg, flags3);
    for nr in calls.io_uring {
        asm.jump(JEQ_K, nr, eperm);
    }
    asm.stmt(RET_K, RET_ALLOW);
    asm.bind(socket);
    asm.stmt(LD_W_ABS, arg_low(2));
    asm.jump(JEQ_K, IPPROTO_MPTCP, eperm);
    asm.stmt(RET_K, RET_ALLOW);
    for (label, at) in [(flags2, arg_low(2)), (flags3, arg_low(3))] {
        asm.bind(label);
        asm.stmt(LD_W_ABS, at);
        asm.jump(JSET_K, MSG_FASTOPEN, eperm);
        asm.stmt(RET_K, RET_ALLOW);
    }
    asm.bind(eperm);
    asm.stmt(RET_K, RET_ERRNO | libc::EPERM.unsigned_abs());
    asm.finish()
}

/// `program` (a seccompiler program, which checks only the architecture)
/// behind `ld [nr]; jset X32, +0, +1; ret ERRNO|EPERM`: x32 calls, which
/// share x86-64's audit architecture, are refused before it runs.
pub(crate) fn with_x32_refusal(program: impl IntoIterator<Item = libc::sock_filter>) -> BpfProgram {
    let mut insns = Vec::new();
    #[cfg(target_arch = "x86_64")]
    insns.extend([
        stmt(LD_W_ABS, DATA_NR),
        libc::sock_filter {
            code: JSET_K,
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        stmt(RET_K, RET_ERRNO | libc::EPERM.unsigned_abs()),
    ]);
    insns.extend(program);
    BpfProgram::from_insns(insns)
}

/// A classic-BPF assembler with forward labels (all jumps in a seccomp
/// program go forward, at most 255 instructions).
#[derive(Default)]
struct Assembler {
    insns: Vec<libc::sock_filter>,
    /// For each jump: its index and the label it takes when its test holds
    /// (otherwise it falls through).
    fixups: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

impl Assembler {
    /// The start both of voidbox's named-call programs share: a call under
    /// another ABI kills the process (the rules are written for the native
    /// numbers), an x32 call jumps to `eperm`, and the call number is left
    /// loaded.
    fn native_calls_only(&mut self, eperm: usize) {
        self.stmt(LD_W_ABS, DATA_ARCH);
        let native = self.label();
        self.jump(JEQ_K, NATIVE_ARCH, native);
        self.stmt(RET_K, RET_KILL_PROCESS);
        self.bind(native);
        self.stmt(LD_W_ABS, DATA_NR);
        #[cfg(target_arch = "x86_64")]
        self.jump(JSET_K, X32_SYSCALL_BIT, eperm);
        // No x32 ABI elsewhere: nothing jumps there from here.
        #[cfg(not(target_arch = "x86_64"))]
        let _ = eperm;
    }

    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.insns.len());
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.insns.push(stmt(code, k));
    }

    fn jump(&mut self, code: u16, k: u32, if_true: usize) {
        self.fixups.push((self.insns.len(), if_true));
        self.insns.push(libc::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        });
    }

    /// Jump to each number's label; numbers not in `table` are allowed.
    fn search(&mut self, table: &[(u32, usize)]) {
        if table.len() <= 3 {
            for (nr, to) in table {
                self.jump(JEQ_K, *nr, *to);
            }
            self.stmt(RET_K, RET_ALLOW);
            return;
        }
        let (low, high) = table.split_at(table.len() / 2);
        let upper = self.label();
        self.jump(JGE_K, high[0].0, upper);
        self.search(low);
        self.bind(upper);
        self.search(high);
    }

    fn finish(mut self) -> Result<BpfProgram, JumpTooLong> {
        for (at, if_true) in &self.fixups {
            // Every label is bound after the jumps to it.
            let to = self.labels[*if_true].ok_or(JumpTooLong)?;
            let skip = to.checked_sub(at + 1).ok_or(JumpTooLong)?;
            self.insns[*at].jt = u8::try_from(skip).map_err(|_| JumpTooLong)?;
        }
        Ok(BpfProgram::from_insns(self.insns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic BPF interpreter for the subset these programs use, to check
    /// what a program returns for a system call.
    fn run(program: &BpfProgram, arch: u32, nr: u32, arg1: u64) -> u32 {
        run_args(program, arch, nr, 0, arg1)
    }

    fn run_args(program: &BpfProgram, arch: u32, nr: u32, arg0: u64, arg1: u64) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        data[16..24].copy_from_slice(&arg0.to_ne_bytes());
        data[24..32].copy_from_slice(&arg1.to_ne_bytes());
        run_data(program, &data)
    }

    fn run_data(program: &BpfProgram, data: &[u8; 64]) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let insn = program.insns[pc];
            match insn.code {
                LD_W_ABS => {
                    let at = insn.k as usize;
                    acc = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap());
                    pc += 1;
                }
                JEQ_K => {
                    pc += 1 + usize::from(if acc == insn.k { insn.jt } else { insn.jf });
                }
                JGE_K => {
                    pc += 1 + usize::from(if acc >= insn.k { insn.jt } else { insn.jf });
                }
                JSET_K => {
                    pc += 1 + usize::from(if acc & insn.k != 0 { insn.jt } else { insn.jf });
                }
                RET_K => return insn.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn program_bytes_must_be_whole_instructions() {
        assert_eq!(BpfProgram::from_bytes(&[0; 7]), Err(BadProgramLength(7)));
        assert_eq!(
            BadProgramLength(7).to_string(),
            "Invalid seccomp data, must be multiple of 8"
        );
        assert!(BpfProgram::from_bytes(&[]).unwrap().is_empty());
        let p = BpfProgram::from_bytes(&[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(run(&p, 0, 0, 0), RET_ALLOW);
        assert_eq!(p.to_bytes(), vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    }

    #[test]
    fn terminal_injection_is_refused_under_every_abi() {
        let p = terminal_injection_filter();
        let deny = RET_ERRNO | libc::EPERM.unsigned_abs();
        for (arch, numbers) in IOCTL_ABIS {
            for nr in numbers {
                assert_eq!(run(&p, arch, *nr, u64::from(TIOCSTI)), deny);
                assert_eq!(run(&p, arch, *nr, u64::from(TIOCLINUX)), deny);
                // The kernel ignores the high half of the request.
                assert_eq!(run(&p, arch, *nr, (1 << 32) | u64::from(TIOCSTI)), deny);
                // Other ioctls pass (TCGETS).
                assert_eq!(run(&p, arch, *nr, 0x5401), RET_ALLOW);
            }
            // Other calls with the same argument pass.
            assert_eq!(run(&p, arch, 1, u64::from(TIOCSTI)), RET_ALLOW);
        }
        // An unknown ABI is allowed through, not killed.
        assert_eq!(run(&p, 0x1234, 16, u64::from(TIOCSTI)), RET_ALLOW);
    }

    #[test]
    fn the_default_profile_program_refuses_what_it_lists_and_only_that() {
        let calls = ProfileCalls {
            clone: 56,
            clone_flags: 0x7e02_0000,
            unshare: 272,
            unshare_flags: 0x7e02_0080,
            ioctl: 16,
            ioctl_requests: [TIOCSTI, TIOCLINUX, 0xaa00],
            clone3: 435,
            unknown_from: 470,
        };
        let denied = [101, 165, 166, 246];
        let p = default_profile_program(&denied, calls).unwrap();
        let eperm = RET_ERRNO | libc::EPERM.unsigned_abs();
        let enosys = RET_ERRNO | libc::ENOSYS.unsigned_abs();
        for nr in denied {
            assert_eq!(run(&p, NATIVE_ARCH, nr, 0), eperm, "{nr}");
        }
        for nr in [0, 1, 2, 59, 60, 231, 334, 469] {
            assert_eq!(
                run(&p, NATIVE_ARCH, nr, u64::from(TIOCSTI)),
                RET_ALLOW,
                "{nr}"
            );
        }
        // Newer than the profile: refused, whatever the number.
        for nr in [470, 471, 1000, 0x3fff_ffff, u32::MAX] {
            let want = if cfg!(target_arch = "x86_64") && nr & 0x4000_0000 != 0 {
                eperm
            } else {
                enosys
            };
            assert_eq!(run(&p, NATIVE_ARCH, nr, 0), want, "{nr:#x}");
        }
        // clone and unshare: any namespace flag refuses, others pass.
        for nr in [calls.clone, calls.unshare] {
            assert_eq!(
                run_args(&p, NATIVE_ARCH, nr, 0x1_0000_0000 | 0x1000_0000, 0),
                eperm
            );
            assert_eq!(run_args(&p, NATIVE_ARCH, nr, 0x0002_0000, 0), eperm);
            assert_eq!(run_args(&p, NATIVE_ARCH, nr, 0x0100_0011, 0), RET_ALLOW);
        }
        // CLONE_NEWTIME is a flag for unshare, the exit signal's bit for clone.
        assert_eq!(run_args(&p, NATIVE_ARCH, calls.unshare, 0x80, 0), eperm);
        assert_eq!(run_args(&p, NATIVE_ARCH, calls.clone, 0x80, 0), RET_ALLOW);
        for request in calls.ioctl_requests {
            let request = u64::from(request);
            assert_eq!(run(&p, NATIVE_ARCH, calls.ioctl, request), eperm);
            assert_eq!(
                run(&p, NATIVE_ARCH, calls.ioctl, (7 << 32) | request),
                eperm
            );
        }
        assert_eq!(run(&p, NATIVE_ARCH, calls.ioctl, 0x5401), RET_ALLOW);
        assert_eq!(run(&p, NATIVE_ARCH, calls.clone3, 0), enosys);
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(run(&p, NATIVE_ARCH, X32_SYSCALL_BIT | 1, 0), eperm);
            assert_eq!(run(&p, NATIVE_ARCH, X32_SYSCALL_BIT | 514, 0), eperm);
        }
        assert_eq!(run(&p, 0x4000_0003, 1, 0), RET_KILL_PROCESS);
        assert!(p.len() < 64, "{} instructions", p.len());
    }

    #[test]
    fn a_jump_beyond_255_instructions_is_an_error_not_a_wrong_program() {
        let calls = ProfileCalls {
            clone: 56,
            clone_flags: 0x7e02_0000,
            unshare: 272,
            unshare_flags: 0x7e02_0080,
            ioctl: 16,
            ioctl_requests: [TIOCSTI, TIOCLINUX, 0xaa00],
            clone3: 435,
            unknown_from: 100_000,
        };
        // Every jump of the search to the shared refusal at the end: with
        // this many numbers the first ones are too far from it.
        let denied: Vec<u32> = (1000..1400).collect();
        assert_eq!(default_profile_program(&denied, calls), Err(JumpTooLong));
        let fits: Vec<u32> = (1000..1040).collect();
        let p = default_profile_program(&fits, calls).unwrap();
        for nr in fits {
            assert_eq!(
                run(&p, NATIVE_ARCH, nr, 0),
                RET_ERRNO | libc::EPERM.unsigned_abs()
            );
        }
    }

    #[test]
    fn the_search_finds_every_number_of_the_real_list() {
        let denied: Vec<u32> = crate::filter::DEFAULT_DENIED
            .iter()
            .map(|(name, _)| {
                u32::try_from(crate::Syscall::by_name(name).unwrap().number()).unwrap()
            })
            .collect();
        let p = crate::filter::default_profile().unwrap();
        let clone = u32::try_from(libc::SYS_clone).unwrap();
        let clone3 = u32::try_from(libc::SYS_clone3).unwrap();
        let eperm = RET_ERRNO | libc::EPERM.unsigned_abs();
        for nr in 0..1024 {
            let unknown = i64::from(nr) > crate::syscalls::highest_number();
            let want = if denied.contains(&nr) {
                eperm
            } else if nr == clone3 || unknown {
                RET_ERRNO | libc::ENOSYS.unsigned_abs()
            } else {
                RET_ALLOW
            };
            assert_eq!(run(&p, NATIVE_ARCH, nr, 0), want, "{nr}");
        }
        assert_eq!(
            run_args(
                &p,
                NATIVE_ARCH,
                clone,
                libc::CLONE_NEWUSER.unsigned_abs().into(),
                0
            ),
            eperm
        );
    }

    #[test]
    fn the_tcp_companion_refuses_mptcp_fast_open_and_io_uring_only() {
        let calls = TcpCompanionCalls {
            socket: 41,
            sendto: 44,
            sendmsg: 46,
            sendmmsg: 307,
            io_uring: [425, 426, 427],
        };
        let p = tcp_companion_program(calls).unwrap();
        let eperm = RET_ERRNO | libc::EPERM.unsigned_abs();
        let args = |nr, a2: u64, a3: u64| {
            let mut data = [0u8; 64];
            data[0..4].copy_from_slice(&u32::to_ne_bytes(nr));
            data[4..8].copy_from_slice(&NATIVE_ARCH.to_ne_bytes());
            data[32..40].copy_from_slice(&a2.to_ne_bytes());
            data[40..48].copy_from_slice(&a3.to_ne_bytes());
            run_data(&p, &data)
        };
        assert_eq!(args(calls.socket, 262, 0), eperm);
        assert_eq!(args(calls.socket, 6, 0), RET_ALLOW);
        assert_eq!(args(calls.socket, 0, 0), RET_ALLOW);
        assert_eq!(args(calls.sendto, 0, 0x2000_0000), eperm);
        assert_eq!(args(calls.sendto, 0, 0x4000), RET_ALLOW);
        assert_eq!(args(calls.sendmmsg, 0, 0x2000_0040), eperm);
        assert_eq!(args(calls.sendmsg, 0x2000_0000, 0), eperm);
        assert_eq!(args(calls.sendmsg, 0x40, 0x2000_0000), RET_ALLOW);
        for nr in calls.io_uring {
            assert_eq!(args(nr, 0, 0), eperm);
        }
        assert_eq!(args(42, 0, 0x2000_0000), RET_ALLOW); // connect
        assert_eq!(run(&p, 0x4000_0003, 102, 0), RET_KILL_PROCESS);
    }

    #[test]
    fn the_x32_refusal_runs_before_the_program_behind_it() {
        let p = with_x32_refusal([stmt(RET_K, RET_ALLOW)]);
        assert_eq!(run(&p, NATIVE_ARCH, 39, 0), RET_ALLOW);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            run(&p, NATIVE_ARCH, X32_SYSCALL_BIT | 39, 0),
            RET_ERRNO | libc::EPERM.unsigned_abs()
        );
    }
}
