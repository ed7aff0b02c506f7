//! The two address families this crate handles.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::error::Error;
use crate::uapi::{AF_INET, AF_INET6};

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `AF_INET`.
    V4,
    /// `AF_INET6`.
    V6,
}

impl Family {
    /// The `AF_*` number.
    #[must_use]
    pub fn raw(self) -> u8 {
        match self {
            Self::V4 => AF_INET,
            Self::V6 => AF_INET6,
        }
    }

    /// The family of an `AF_*` number this crate supports.
    pub(crate) fn from_raw(raw: u8, context: &'static str) -> Result<Self, Error> {
        match raw {
            AF_INET => Ok(Self::V4),
            AF_INET6 => Ok(Self::V6),
            family => Err(Error::UnsupportedFamily { family, context }),
        }
    }

    /// The family of an address.
    #[must_use]
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// The family of a network.
    #[must_use]
    pub fn of_network(net: IpNetwork) -> Self {
        Self::of(net.ip())
    }

    /// The address width in bits: the longest valid prefix.
    #[must_use]
    pub fn max_prefix(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }
}

/// The address's bytes as the kernel carries them (network order, 4 or 16 bytes).
pub(crate) fn ip_bytes(addr: &IpAddr) -> IpBytes {
    match addr {
        IpAddr::V4(a) => IpBytes::V4(a.octets()),
        IpAddr::V6(a) => IpBytes::V6(a.octets()),
    }
}

/// Owned address bytes, to borrow as a slice.
pub(crate) enum IpBytes {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl IpBytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::V4(b) => b,
            Self::V6(b) => b,
        }
    }
}

/// Builds a network from a parsed address and prefix length.
pub(crate) fn network(ip: IpAddr, prefix: u8, what: &'static str) -> Result<IpNetwork, Error> {
    IpNetwork::new(ip, prefix).map_err(|_| Error::InvalidPrefix { what, prefix })
}
