//! Parse throughput of a synthetic 10,000-route IPv4 dump, split into kernel-sized
//! packets (at most 32 KiB each, as the kernel sends them).
//!
//! `cargo run --release -p vb-netlink --example bench_parse` prints
//! `bench netlink_parse_10k_routes <MB/s> MB/s` (median of several runs).

use std::time::Instant;

use vb_netlink::limits::RECV_BUFFER_LEN;
use vb_netlink::{Message, parse_packet};

const ROUTES: u32 = 10_000;
const RUNS: usize = 9;
const ROUNDS_PER_RUN: usize = 20;

fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    out.extend_from_slice(&u16::try_from(4 + payload.len())?.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// One `RTM_NEWROUTE` frame: 10.x.y.0/24 via 10.0.0.1 dev 2 metric i, main table.
fn route_frame(i: u32) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut body = vec![2u8, 24, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
    attr(&mut body, 15, &254u32.to_ne_bytes())?;
    let [_, _, b, c] = (i << 8).to_be_bytes();
    attr(&mut body, 1, &[10, b, c, 0])?;
    attr(&mut body, 5, &[10, 0, 0, 1])?;
    attr(&mut body, 4, &2u32.to_ne_bytes())?;
    attr(&mut body, 6, &i.to_ne_bytes())?;
    let mut frame = Vec::new();
    frame.extend_from_slice(&u32::try_from(16 + body.len())?.to_ne_bytes());
    frame.extend_from_slice(&24u16.to_ne_bytes());
    frame.extend_from_slice(&2u16.to_ne_bytes());
    frame.extend_from_slice(&1u32.to_ne_bytes());
    frame.extend_from_slice(&0u32.to_ne_bytes());
    frame.extend(body);
    Ok(frame)
}

fn dump() -> Result<Vec<Vec<u8>>, Box<dyn std::error::Error>> {
    let mut packets = vec![Vec::new()];
    for i in 0..ROUTES {
        let frame = route_frame(i)?;
        let full = packets
            .last()
            .is_some_and(|p| p.len() + frame.len() > RECV_BUFFER_LEN);
        if full {
            packets.push(Vec::new());
        }
        if let Some(p) = packets.last_mut() {
            p.extend(frame);
        }
    }
    let mut done = Vec::new();
    for field in [
        20u32.to_ne_bytes(),
        [3, 0, 2, 0],
        1u32.to_ne_bytes(),
        [0; 4],
        [0; 4],
    ] {
        done.extend_from_slice(&field);
    }
    packets.push(done);
    Ok(packets)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let packets = dump()?;
    let bytes: usize = packets.iter().map(Vec::len).sum();
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        for _ in 0..ROUNDS_PER_RUN {
            let mut routes = 0u32;
            for p in &packets {
                for m in parse_packet(p)? {
                    if matches!(m, Message::Route(_)) {
                        routes += 1;
                    }
                }
            }
            if routes != ROUTES {
                return Err(format!("parsed {routes} routes, expected {ROUTES}").into());
            }
        }
        let secs = start.elapsed().as_secs_f64();
        rates.push((bytes * ROUNDS_PER_RUN) as f64 / secs / 1e6);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(RUNS / 2).copied().unwrap_or(0.0);
    eprintln!(
        "{ROUTES} routes, {bytes} bytes in {} packets, {RUNS} runs",
        packets.len()
    );
    println!("bench netlink_parse_10k_routes {median:.1} MB/s");
    Ok(())
}
