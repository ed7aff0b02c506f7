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
