//! `vb --check-host`: what this host offers a sandbox, as a table for a
//! reader or as JSON for a program, and whether the default sandbox works.

use std::fmt::Write as _;

use voidbox::{CgroupMode, HostReport, NatBackend};

fn yes(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

fn layout(mode: CgroupMode) -> &'static str {
    match mode {
        CgroupMode::V2 => "v2",
        CgroupMode::V1 => "v1",
        CgroupMode::Hybrid => "hybrid",
        CgroupMode::None => "none",
    }
}

fn nat(backend: Option<NatBackend>) -> Option<&'static str> {
    match backend? {
        NatBackend::Nftables => Some("nftables"),
        NatBackend::IptablesNft => Some("iptables-nft"),
        _ => None,
    }
}

/// The report as an aligned table, then the problems, then the verdict.
pub(crate) fn table(report: &HostReport) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("kernel".into(), report.kernel.clone()),
        ("running as root".into(), yes(report.root).into()),
    ];
    for (kind, on) in report.namespaces.kinds() {
        rows.push((format!("{kind} namespaces"), yes(on).into()));
    }
    rows.extend([
        (
            "new user namespaces allowed".into(),
            yes(report.user_namespaces).into(),
        ),
        ("overlayfs".into(), yes(report.overlayfs).into()),
        ("cgroup layout".into(), layout(report.cgroups).into()),
        (
            "cgroup controllers".into(),
            if report.cgroup_controllers.is_empty() {
                "none".into()
            } else {
                report.cgroup_controllers.join(" ")
            },
        ),
        (
            "landlock".into(),
            report
                .landlock_abi
                .map_or_else(|| "no".into(), |abi| format!("ABI {abi}")),
        ),
        ("seccomp filters".into(), yes(report.seccomp).into()),
        ("veth pairs".into(), yes(report.veth).into()),
        ("bridges".into(), yes(report.bridge).into()),
        (
            "NAT backend".into(),
            nat(report.nat_backend).unwrap_or("none").into(),
        ),
        (
            "pasta".into(),
            report
                .pasta
                .as_ref()
                .map_or_else(|| "not installed".into(), |p| p.display().to_string()),
        ),
        ("/dev/net/tun usable".into(), yes(report.tun).into()),
    ]);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in &rows {
        let _ = writeln!(out, "{key:width$}  {value}");
    }
    let problems = report.problems();
    for problem in &problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    let _ = writeln!(
        out,
        "{}",
        if problems.is_empty() {
            "the default sandbox works here"
        } else {
            "the default sandbox does not work here"
        }
    );
    out
}

/// A JSON string literal.
fn string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn or_null(value: Option<String>) -> String {
    value.unwrap_or_else(|| "null".into())
}

/// The report as one JSON object (readers ignore members they do not know).
pub(crate) fn json(report: &HostReport) -> String {
    let namespaces: Vec<String> = report
        .namespaces
        .kinds()
        .iter()
        .map(|(kind, on)| format!("{}:{on}", string(kind)))
        .collect();
    let controllers: Vec<String> = report
        .cgroup_controllers
        .iter()
        .map(|c| string(c))
        .collect();
    let problems = report.problems();
    let problem_list: Vec<String> = problems.iter().map(|p| string(p)).collect();
    format!(
        "{{\"kernel\":{},\"root\":{},\"namespaces\":{{{}}},\"user_namespaces\":{},\
         \"overlayfs\":{},\"cgroup\":{{\"layout\":{},\"controllers\":[{}]}},\
         \"landlock_abi\":{},\"seccomp\":{},\"veth\":{},\"bridge\":{},\"nat_backend\":{},\
         \"pasta\":{},\"tun\":{},\"problems\":[{}],\"ok\":{}}}\n",
        string(&report.kernel),
        report.root,
        namespaces.join(","),
        report.user_namespaces,
        report.overlayfs,
        string(layout(report.cgroups)),
        controllers.join(","),
        or_null(report.landlock_abi.map(|abi| abi.to_string())),
        report.seccomp,
        report.veth,
        report.bridge,
        or_null(nat(report.nat_backend).map(string)),
        or_null(
            report
                .pasta
                .as_ref()
                .map(|p| string(&p.display().to_string()))
        ),
        report.tun,
        problem_list.join(","),
        problems.is_empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> HostReport {
        let mut report = voidbox::check_host().unwrap();
        report.root = false;
        report.user_namespaces = false;
        report.pasta = Some("/usr/bin/pa\"sta".into());
        report
    }

    #[test]
    fn a_host_without_namespaces_for_the_caller_is_a_problem_in_both_forms() {
        let report = report();
        let table = table(&report);
        assert!(
            table.contains("\nproblem: user namespaces are disabled"),
            "{table}"
        );
        assert!(
            table.ends_with("the default sandbox does not work here\n"),
            "{table}"
        );
        let json = json(&report);
        assert!(json.contains("\"ok\":false"), "{json}");
        assert!(json.contains("\"pasta\":\"/usr/bin/pa\\\"sta\""), "{json}");
        assert!(
            json.contains("\"problems\":[\"user namespaces are disabled"),
            "{json}"
        );
        assert!(json.ends_with("}\n"), "{json}");
    }
}
