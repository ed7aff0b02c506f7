//! The state of one request/reply exchange, kept apart from the socket so that every
//! reply sequence — including hostile ones such as a dump that never ends — can be fed to
//! it in tests without a kernel.

use crate::ack::{read_errno, refusal};
use crate::error::Error;
use crate::frame::{Frame, Frames};
use crate::limits::MAX_PACKETS_PER_DUMP;
use crate::uapi::{NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN};

/// What the request asks the kernel to send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// An `NLMSG_ERROR` acknowledgement and nothing else.
    Ack,
    /// One message of this type (a `get`), or a NACK.
    One(u16),
    /// Messages of this type until `NLMSG_DONE` (a dump).
    Dump(u16),
}

/// Whether the exchange needs more packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Read another packet.
    More,
    /// The reply is complete.
    Finished,
}

/// One exchange in progress.
#[derive(Debug)]
pub(crate) struct Exchange {
    op: &'static str,
    seq: u32,
    expect: Expect,
    packets: usize,
    delivered: bool,
}

impl Exchange {
    pub(crate) fn new(op: &'static str, seq: u32, expect: Expect) -> Self {
        Self {
            op,
            seq,
            expect,
            packets: 0,
            delivered: false,
        }
    }

    /// Consumes one received packet, handing each expected message to `visit`.
    pub(crate) fn feed(
        &mut self,
        packet: &[u8],
        visit: &mut dyn FnMut(&Frame<'_>) -> Result<(), Error>,
    ) -> Result<Progress, Error> {
        self.packets = self.packets.saturating_add(1);
        if self.packets > MAX_PACKETS_PER_DUMP {
            return Err(Error::TooManyPackets {
                cap: MAX_PACKETS_PER_DUMP,
            });
        }
        for frame in Frames::new(packet) {
            let frame = frame?;
            if frame.header.seq != self.seq {
                return Err(Error::SequenceMismatch {
                    expected: self.seq,
                    got: frame.header.seq,
                });
            }
            if frame.header.flags & NLM_F_DUMP_INTR != 0 {
                return Err(Error::DumpInterrupted { op: self.op });
            }
            match (frame.header.kind, self.expect) {
                (NLMSG_NOOP, _) => {}
                (NLMSG_OVERRUN, _) => return Err(Error::Overrun { op: self.op }),
                (NLMSG_ERROR, expect) => {
                    return match read_errno(frame.payload, "NLMSG_ERROR")? {
                        // A zero-errno NLMSG_ERROR ends any exchange (HC-062); a `get`
                        // that ends without its object has failed.
                        0 if matches!(expect, Expect::One(_)) && !self.delivered => {
                            Err(Error::MissingReply {
                                op: self.op,
                                what: "the requested object",
                            })
                        }
                        0 => Ok(Progress::Finished),
                        errno => Err(refusal(self.op, errno)),
                    };
                }
                (NLMSG_DONE, Expect::Dump(_)) => {
                    return match read_errno(frame.payload, "NLMSG_DONE")? {
                        0 => Ok(Progress::Finished),
                        errno => Err(refusal(self.op, errno)),
                    };
                }
                (kind, Expect::One(want)) if kind == want && !self.delivered => {
                    visit(&frame)?;
                    self.delivered = true;
                    return Ok(Progress::Finished);
                }
                (kind, Expect::Dump(want)) if kind == want => visit(&frame)?,
                (kind, _) => {
                    return Err(Error::UnexpectedMessageType {
                        kind,
                        context: self.op,
                    });
                }
            }
        }
        Ok(Progress::More)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Header;
    use crate::limits::MAX_PACKETS_PER_DUMP;
    use crate::uapi::{RTM_NEWADDR, RTM_NEWLINK};
    use rustix::io::Errno;

    fn frame(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(16 + payload.len()).unwrap();
        let mut v = Header {
            len,
            kind,
            flags,
            seq,
            port: 0,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn errno_frame(kind: u16, seq: u32, errno: i32) -> Vec<u8> {
        frame(kind, 0, seq, &errno.to_ne_bytes())
    }

    fn count_visits(ex: &mut Exchange, packet: &[u8]) -> (Result<Progress, Error>, usize) {
        let mut n = 0;
        let r = ex.feed(packet, &mut |_| {
            n += 1;
            Ok(())
        });
        (r, n)
    }

    #[test]
    fn dump_collects_across_packets_until_done() {
        let mut ex = Exchange::new("dump", 5, Expect::Dump(RTM_NEWLINK));
        let mut first = frame(RTM_NEWLINK, 2, 5, &[0; 16]);
        first.extend(frame(RTM_NEWLINK, 2, 5, &[0; 16]));
        assert_eq!(count_visits(&mut ex, &first), (Ok(Progress::More), 2));
        let mut last = frame(RTM_NEWLINK, 2, 5, &[0; 16]);
        last.extend(errno_frame(NLMSG_DONE, 5, 0));
        assert_eq!(count_visits(&mut ex, &last), (Ok(Progress::Finished), 1));
    }

    #[test]
    fn dump_that_never_ends_is_cut_off_with_too_many_packets() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let packet = frame(RTM_NEWLINK, 2, 1, &[0; 16]);
        for _ in 0..MAX_PACKETS_PER_DUMP {
            assert_eq!(count_visits(&mut ex, &packet).0, Ok(Progress::More));
        }
        assert_eq!(
            count_visits(&mut ex, &packet),
            (
                Err(Error::TooManyPackets {
                    cap: MAX_PACKETS_PER_DUMP
                }),
                0
            )
        );
    }

    #[test]
    fn foreign_sequence_number_is_sequence_mismatch() {
        let mut ex = Exchange::new("dump", 9, Expect::Dump(RTM_NEWLINK));
        let (r, n) = count_visits(&mut ex, &frame(RTM_NEWLINK, 2, 8, &[0; 16]));
        assert_eq!(
            (r, n),
            (
                Err(Error::SequenceMismatch {
                    expected: 9,
                    got: 8
                }),
                0
            )
        );
    }

    #[test]
    fn interrupted_dump_is_reported() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let r = count_visits(
            &mut ex,
            &frame(RTM_NEWLINK, 2 | NLM_F_DUMP_INTR, 1, &[0; 16]),
        )
        .0;
        assert_eq!(r, Err(Error::DumpInterrupted { op: "dump" }));
    }

    #[test]
    fn nack_ends_a_dump_with_the_mapped_error() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let r = count_visits(&mut ex, &errno_frame(NLMSG_ERROR, 1, -1)).0;
        assert_eq!(
            r,
            Err(Error::Kernel {
                op: "dump",
                errno: Errno::PERM
            })
        );
    }

    #[test]
    fn done_carrying_an_errno_is_a_kernel_error() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let r = count_visits(&mut ex, &errno_frame(NLMSG_DONE, 1, -95)).0;
        assert_eq!(
            r,
            Err(Error::Kernel {
                op: "dump",
                errno: Errno::OPNOTSUPP
            })
        );
    }

    #[test]
    fn zero_errno_ack_terminates_a_dump() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        assert_eq!(
            count_visits(&mut ex, &errno_frame(NLMSG_ERROR, 1, 0)).0,
            Ok(Progress::Finished)
        );
    }

    #[test]
    fn ack_with_positive_errno_is_invalid_errno() {
        let mut ex = Exchange::new("add", 1, Expect::Ack);
        let r = count_visits(&mut ex, &errno_frame(NLMSG_ERROR, 1, 17)).0;
        assert_eq!(r, Err(Error::InvalidErrno { errno: 17 }));
    }

    #[test]
    fn ack_exchange_maps_eexist_to_exists() {
        let mut ex = Exchange::new("add", 1, Expect::Ack);
        let r = count_visits(&mut ex, &errno_frame(NLMSG_ERROR, 1, -17)).0;
        assert_eq!(r, Err(Error::Exists { op: "add" }));
    }

    #[test]
    fn get_ended_by_ack_without_its_object_is_missing_reply() {
        let mut ex = Exchange::new("get", 1, Expect::One(RTM_NEWLINK));
        let r = count_visits(&mut ex, &errno_frame(NLMSG_ERROR, 1, 0)).0;
        assert_eq!(
            r,
            Err(Error::MissingReply {
                op: "get",
                what: "the requested object"
            })
        );
    }

    #[test]
    fn get_finishes_on_its_object() {
        let mut ex = Exchange::new("get", 1, Expect::One(RTM_NEWLINK));
        let (r, n) = count_visits(&mut ex, &frame(RTM_NEWLINK, 0, 1, &[0; 16]));
        assert_eq!((r, n), (Ok(Progress::Finished), 1));
    }

    #[test]
    fn message_of_another_kind_is_unexpected() {
        let mut ex = Exchange::new("dump links", 1, Expect::Dump(RTM_NEWLINK));
        let r = count_visits(&mut ex, &frame(RTM_NEWADDR, 2, 1, &[0; 8])).0;
        assert_eq!(
            r,
            Err(Error::UnexpectedMessageType {
                kind: RTM_NEWADDR,
                context: "dump links"
            })
        );
        let mut ack = Exchange::new("add", 1, Expect::Ack);
        let r = count_visits(&mut ack, &errno_frame(NLMSG_DONE, 1, 0)).0;
        assert_eq!(
            r,
            Err(Error::UnexpectedMessageType {
                kind: NLMSG_DONE,
                context: "add"
            })
        );
    }

    #[test]
    fn overrun_is_reported() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let r = count_visits(&mut ex, &frame(NLMSG_OVERRUN, 0, 1, &[])).0;
        assert_eq!(r, Err(Error::Overrun { op: "dump" }));
    }

    #[test]
    fn truncated_frame_in_a_reply_is_frame_overrun() {
        let mut ex = Exchange::new("dump", 1, Expect::Dump(RTM_NEWLINK));
        let mut packet = frame(RTM_NEWLINK, 2, 1, &[0; 16]);
        packet.truncate(24);
        let r = count_visits(&mut ex, &packet).0;
        assert_eq!(
            r,
            Err(Error::FrameOverrun {
                offset: 0,
                len: 32,
                available: 24
            })
        );
    }

    #[test]
    fn noop_frames_are_skipped() {
        let mut ex = Exchange::new("add", 1, Expect::Ack);
        let mut packet = frame(NLMSG_NOOP, 0, 1, &[]);
        packet.extend(errno_frame(NLMSG_ERROR, 1, 0));
        assert_eq!(count_visits(&mut ex, &packet).0, Ok(Progress::Finished));
    }
}
