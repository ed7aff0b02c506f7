//! Hand-assembled classic BPF seccomp programs for the suites: what bubblewrap's
//! `--seccomp FD` and `--add-seccomp-fd FD` load (an array of
//! `struct sock_filter`, 8 bytes each, native byte order).
//!
//! Every program starts with an architecture check: a call made under another
//! ABI (x32 numbers share the x86-64 audit architecture, so they are checked by
//! number too) is allowed untouched, which is what a test filter wants — it
//! only pins the errno of the calls it names.

/// `struct sock_filter` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// `offsetof(struct seccomp_data, nr)` and `arch`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;

const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

#[cfg(target_arch = "x86_64")]
const NATIVE_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const NATIVE_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64

fn encode(program: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() * 8);
    for insn in program {
        out.extend_from_slice(&insn.code.to_ne_bytes());
        out.push(insn.jt);
        out.push(insn.jf);
        out.extend_from_slice(&insn.k.to_ne_bytes());
    }
    out
}

fn prologue() -> Vec<Insn> {
    vec![
        Insn {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: ARCH_OFFSET,
        },
        // Native architecture: go on; otherwise allow.
        Insn {
            code: BPF_JEQ_K,
            jt: 1,
            jf: 0,
            k: NATIVE_ARCH,
        },
        Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
        Insn {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: NR_OFFSET,
        },
    ]
}

/// A filter that fails each listed system call number with its errno and
/// allows everything else.
pub fn deny(rules: &[(i64, i32)]) -> Vec<u8> {
    let mut program = prologue();
    for (nr, errno) in rules {
        program.push(Insn {
            code: BPF_JEQ_K,
            jt: 0,
            jf: 1,
            k: u32::try_from(*nr).expect("syscall number"),
        });
        program.push(Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | (u32::try_from(*errno).expect("errno") & 0xffff),
        });
    }
    program.push(Insn {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: SECCOMP_RET_ALLOW,
    });
    encode(&program)
}

/// A filter that allows only the listed system call numbers and fails every
/// other one with `errno`.
pub fn allow_only(allowed: &[i64], errno: i32) -> Vec<u8> {
    let mut program = prologue();
    for nr in allowed {
        program.push(Insn {
            code: BPF_JEQ_K,
            jt: 0,
            jf: 1,
            k: u32::try_from(*nr).expect("syscall number"),
        });
        program.push(Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        });
    }
    program.push(Insn {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: SECCOMP_RET_ERRNO | (u32::try_from(errno).expect("errno") & 0xffff),
    });
    encode(&program)
}

/// An anonymous file holding `bytes`, positioned at the start, without
/// close-on-exec so a child can receive it by number.
pub fn data_fd(bytes: &[u8]) -> std::os::fd::OwnedFd {
    use std::io::{Seek, Write};
    let fd = rustix::fs::memfd_create(c"vb-test-data", rustix::fs::MemfdFlags::empty())
        .expect("memfd_create");
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes).expect("write data");
    file.rewind().expect("rewind");
    file.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_whole_instructions() {
        assert_eq!(deny(&[(83, 13)]).len() % 8, 0);
        assert_eq!(deny(&[]).len(), 5 * 8);
        assert_eq!(allow_only(&[0, 1], 1).len(), (4 + 4 + 1) * 8);
    }
}
