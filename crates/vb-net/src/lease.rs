//! Leases: an address belongs to a sandbox exactly as long as the host-side veth named
//! after it exists.
//!
//! The host end of a sandbox's veth pair is named `vb` + six hex digits identifying the
//! bridge + the address's offset in hex (`vb3fa9c1` + `2` for the first sandbox). The
//! kernel is then the registry: listing links (under the bridge's lock) tells which
//! addresses are taken, and a lease cannot outlive its sandbox, because a veth pair is
//! destroyed with the namespace holding its other end, even when the process that set it
//! up was killed and never tore anything down. No file can go stale.

use vb_netlink::IfName;

/// The fixed part of every host-side name: `vb` + six hex digits.
const PREFIX_LEN: usize = 8;

/// The name prefix of the host-side veths of `bridge`'s sandboxes.
///
/// Six hex digits of a hash of the bridge's name: two bridges colliding would only make
/// a lease look taken (the allocator moves on) and keep a bridge alive longer, never
/// hand one address to two sandboxes, since leases are per bridge lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LeasePrefix([u8; PREFIX_LEN]);

impl LeasePrefix {
    pub(crate) fn of(bridge: &IfName) -> Self {
        // FNV-1a, 32 bits, folded to 24.
        let mut hash: u32 = 0x811c_9dc5;
        for b in bridge.as_bytes() {
            hash ^= u32::from(*b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        let folded = (hash >> 24) ^ (hash & 0x00ff_ffff);
        let mut out = *b"vb000000";
        for (i, slot) in out.iter_mut().skip(2).enumerate() {
            let shift = 20 - 4 * i;
            *slot = hex_digit((folded >> shift) & 0xf);
        }
        Self(out)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The host-side veth name for the sandbox at `offset`.
    ///
    /// # Errors
    /// Only for an offset of more than six hex digits, which no pool has (a /8 at most).
    pub(crate) fn name(&self, offset: u32) -> Result<IfName, vb_netlink::Error> {
        let mut name = self.0.to_vec();
        name.extend_from_slice(format!("{offset:x}").as_bytes());
        IfName::from_bytes(&name)
    }

    /// The offset a host-side name stands for, if it is one of this bridge's.
    pub(crate) fn offset(&self, name: &IfName) -> Option<u32> {
        let bytes = name.as_bytes();
        let rest = bytes.strip_prefix(self.as_bytes())?;
        if rest.is_empty() || rest.len() > 6 || (rest.len() > 1 && rest[0] == b'0') {
            return None;
        }
        rest.iter().try_fold(0u32, |acc, &b| {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => return None,
            };
            Some(acc << 4 | u32::from(d))
        })
    }
}

fn hex_digit(n: u32) -> u8 {
    b"0123456789abcdef"[(n & 0xf) as usize]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn prefix(bridge: &str) -> LeasePrefix {
        LeasePrefix::of(&IfName::new(bridge).unwrap())
    }

    #[test]
    fn names_encode_the_offset_and_parse_back() {
        let p = prefix("voidbox0");
        let two = p.name(2).unwrap();
        assert_eq!(two.as_bytes().len(), 9);
        assert!(two.as_str().unwrap().starts_with("vb"));
        assert_eq!(p.offset(&two), Some(2));
        let big = p.name(0xff_fffe).unwrap();
        assert_eq!(big.as_bytes().len(), 14);
        assert_eq!(p.offset(&big), Some(0xff_fffe));
        assert_ne!(prefix("voidbox0"), prefix("voidbox1"));
    }

    #[test]
    fn foreign_names_are_not_leases() {
        let p = prefix("br0");
        let base = std::str::from_utf8(p.as_bytes()).unwrap().to_owned();
        for other in [
            "eth0".to_owned(),
            base.clone(),
            format!("{base}02"),
            format!("{base}g"),
            format!("{base}A"),
            format!("{base}1234567"),
        ] {
            let name = IfName::new(&other).unwrap();
            assert_eq!(p.offset(&name), None, "{other}");
        }
        assert_eq!(prefix("br1").offset(&p.name(5).unwrap()), None);
        assert!(p.name(1 << 28).is_err(), "more than 15 bytes");
    }

    proptest! {
        #[test]
        fn every_offset_round_trips(bridge in "[a-z0-9]{1,15}", offset in 0u32..(1 << 24)) {
            let p = LeasePrefix::of(&IfName::new(&bridge).unwrap());
            let name = p.name(offset).unwrap();
            prop_assert!(name.as_bytes().len() <= 15);
            prop_assert_eq!(p.offset(&name), Some(offset));
        }
    }
}
