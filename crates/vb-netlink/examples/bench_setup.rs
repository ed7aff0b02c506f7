//! Network bring-up in a fresh network namespace — `lo` up with 127.0.0.1/8, a veth pair
//! up, an address and a default route — done with vb-netlink and with `ip` commands.
//!
//! `cargo run --release -p vb-netlink --example bench_setup` (as root) prints
//! `bench netlink_setup_vb <ms> ms`, `bench netlink_setup_ip <ms> ms` and
//! `bench netlink_setup_ratio <vb/ip> ratio` (medians). Namespace creation is outside both
//! timings; every run gets a namespace of its own, on a thread of its own, so the host's
//! network is never touched. Without root it prints `SKIP bench_setup: <reason>`.

use std::process::Command;
use std::time::{Duration, Instant};

use std::net::Ipv4Addr;

use vb_netlink::{AckSocket, AddressOptions, FixedRequest, IfName, Netlink, RouteSpec};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const RUNS: usize = 21;

fn with_vb_netlink() -> Res<Duration> {
    let start = Instant::now();
    // `lo` as vb-net's child-side loopback setup brings it up: two fixed requests.
    let lo = AckSocket::open()?;
    lo.exchange(&FixedRequest::add_ipv4_address(
        1,
        1,
        Ipv4Addr::LOCALHOST,
        8,
    )?)?;
    lo.exchange(&FixedRequest::set_link_up(2, 1, true)?)?;
    drop(lo);
    let mut nl = Netlink::open()?;
    let (v0, v1) = (IfName::new("vb0")?, IfName::new("vb1")?);
    nl.add_veth(&v0, &v1, None)?;
    let i0 = nl.link_by_name(&v0)?.index;
    let i1 = nl.link_by_name(&v1)?.index;
    nl.set_link_up(i0, true)?;
    nl.set_link_up(i1, true)?;
    nl.add_address(i0, "10.0.0.1/24".parse()?, AddressOptions::default())?;
    nl.add_route(&RouteSpec::new("0.0.0.0/0".parse()?).gateway("10.0.0.254".parse()?))?;
    Ok(start.elapsed())
}

fn with_ip() -> Res<Duration> {
    let steps: [&[&str]; 7] = [
        &["addr", "add", "127.0.0.1/8", "dev", "lo"],
        &["link", "set", "lo", "up"],
        &["link", "add", "vb0", "type", "veth", "peer", "name", "vb1"],
        &["link", "set", "vb0", "up"],
        &["link", "set", "vb1", "up"],
        &["addr", "add", "10.0.0.1/24", "dev", "vb0"],
        &["route", "add", "default", "via", "10.0.0.254"],
    ];
    let start = Instant::now();
    for args in steps {
        let status = Command::new("ip").args(args).status()?;
        if !status.success() {
            return Err(format!("ip {args:?} failed: {status}").into());
        }
    }
    Ok(start.elapsed())
}

/// Runs `f` on a new thread that first moves into a new network namespace.
fn in_fresh_netns(f: fn() -> Res<Duration>) -> Res<Duration> {
    std::thread::spawn(move || {
        // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }?;
        f()
    })
    .join()
    .map_err(|_| "benchmark thread panicked")?
}

fn median_ms(f: fn() -> Res<Duration>) -> Res<f64> {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        times.push(in_fresh_netns(f)?.as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times.get(RUNS / 2).copied().unwrap_or(0.0))
}

fn main() -> Res<()> {
    if !rustix::process::geteuid().is_root() {
        println!("SKIP bench_setup: needs root to create network namespaces");
        return Ok(());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        println!("SKIP bench_setup: the `ip` command (iproute2) is not installed");
        return Ok(());
    }
    let vb = median_ms(with_vb_netlink)?;
    let ip = median_ms(with_ip)?;
    println!("bench netlink_setup_vb {vb:.3} ms");
    println!("bench netlink_setup_ip {ip:.3} ms");
    println!("bench netlink_setup_ratio {:.3} ratio", vb / ip);
    Ok(())
}
