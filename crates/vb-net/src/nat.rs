//! NAT: masquerading a bridge's subnet out of the host's outgoing interface.
//!
//! One backend writes every rule: nftables through the `nft` command, or, where `nft` is
//! missing, iptables-nft (whose rules are nftables rules too). Legacy (x_tables) iptables
//! is never written to, and where legacy tables are already loaded in the host's
//! namespace nothing is added, so the two kinds never mix.
//!
//! Each bridge gets rules of its own, replaced as a whole: with nftables a table
//! `inet voidbox-<bridge>` created, replaced and deleted in single atomic `nft -f`
//! transactions; with iptables a chain `VB-<bridge>` in the `nat` table that
//! `iptables-restore --noflush` refills, with one jump from `POSTROUTING`. Replacing is
//! idempotent, so repeated launches cannot duplicate a rule; and the bridge's lock file
//! remembers what was installed (backend, bridge index, uplink, subnets), so that a launch
//! finding the same state installed runs no command at all.

use std::sync::Mutex;

use ipnetwork::{Ipv4Network, Ipv6Network};

use crate::command::{Runner, Termination, failed, run_ok};
use crate::error::Error;

/// Which program writes the NAT rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NatBackend {
    /// nftables when `nft` is installed, else iptables if it is the nf_tables variant.
    #[default]
    Auto,
    /// nftables, through the `nft` command (Debian package `nftables`).
    Nftables,
    /// iptables-nft, through `iptables`/`ip6tables` and their `-restore` commands
    /// (Debian package `iptables`, with the nf_tables alternative selected).
    IptablesNft,
}

/// A backend actually chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Nft,
    Iptables,
}

impl Backend {
    fn tag(self) -> &'static str {
        match self {
            Self::Nft => "nft",
            Self::Iptables => "iptables",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "nft" => Some(Self::Nft),
            "iptables" => Some(Self::Iptables),
            _ => None,
        }
    }
}

/// The rules of one bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NatRules {
    /// The bridge's name (`[A-Za-z0-9_.-]`, checked by the plan).
    pub(crate) bridge: String,
    /// The bridge's interface index, so that a recreated bridge is never taken for the
    /// one the rules were installed for.
    pub(crate) bridge_index: u32,
    /// The outgoing interface.
    pub(crate) uplink: String,
    pub(crate) v4: Ipv4Network,
    pub(crate) v6: Option<Ipv6Network>,
}

impl NatRules {
    /// What the lock file records for these rules installed by `backend`.
    pub(crate) fn key(&self, backend: Backend) -> String {
        let v6 = self.v6.map_or_else(|| "-".to_owned(), |n| n.to_string());
        format!(
            "{} {} {} {} {v6}",
            backend.tag(),
            self.bridge_index,
            self.uplink,
            self.v4
        )
    }

    /// What the lock file records after a failed installation: the backend (so that
    /// removal knows its tools) and a marker that matches no installed state.
    pub(crate) fn failed_key(&self, backend: Backend) -> String {
        format!("{} {} failed", backend.tag(), self.bridge_index)
    }

    fn table(&self) -> String {
        table_name(&self.bridge)
    }
}

fn table_name(bridge: &str) -> String {
    format!("voidbox-{bridge}")
}

fn chain_name(bridge: &str) -> String {
    format!("VB-{bridge}")
}

/// Whether an interface name can be written into a rule: nft quotes it, so quotes and
/// backslashes are out, and so is anything beyond the usual name alphabet.
pub(crate) fn is_rule_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@' | b'+'))
}

/// The `nft -f` script that installs `rules`, replacing any earlier version atomically.
pub(crate) fn nft_apply_script(rules: &NatRules) -> String {
    let table = rules.table();
    let mut s = format!(
        "table inet {table}\n\
         delete table inet {table}\n\
         table inet {table} {{\n\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority 100; policy accept;\n\
         \t\tip saddr {} oifname \"{}\" masquerade\n",
        rules.v4, rules.uplink
    );
    if let Some(v6) = rules.v6 {
        s.push_str(&format!(
            "\t\tip6 saddr {v6} oifname \"{}\" masquerade\n",
            rules.uplink
        ));
    }
    s.push_str("\t}\n}\n");
    s
}

/// The `nft -f` script that removes a bridge's table, whether or not it exists (the
/// empty declaration makes the delete always find it).
pub(crate) fn nft_remove_script(bridge: &str) -> String {
    let table = table_name(bridge);
    format!("table inet {table}\ndelete table inet {table}\n")
}

/// The `iptables-restore --noflush` input that (re)fills a bridge's chain: declaring the
/// chain flushes it, so the result is the same however often it runs.
pub(crate) fn iptables_restore_input(bridge: &str, source: &str, uplink: &str) -> String {
    let chain = chain_name(bridge);
    format!("*nat\n:{chain} - [0:0]\n-A {chain} -s {source} -o {uplink} -j MASQUERADE\nCOMMIT\n")
}

/// The backend resolved for `Auto`, remembered per process (the installed programs do
/// not change under a running process often enough to probe at every launch).
static RESOLVED: Mutex<Option<Backend>> = Mutex::new(None);

/// The backend [`NatBackend::Auto`] chooses on this host ([`NatBackend::Nftables`] or
/// [`NatBackend::IptablesNft`]), or `None` when neither is installed (legacy iptables
/// counts as none). Runs `nft --version`, then `iptables -V`; the answer is cached.
pub fn available_nat_backend() -> Option<NatBackend> {
    match resolve(NatBackend::Auto, &mut crate::command::SystemRunner) {
        Ok(Backend::Nft) => Some(NatBackend::Nftables),
        Ok(Backend::Iptables) => Some(NatBackend::IptablesNft),
        Err(_) => None,
    }
}

/// Chooses the backend for `choice`.
pub(crate) fn resolve(choice: NatBackend, runner: &mut dyn Runner) -> Result<Backend, Error> {
    match choice {
        NatBackend::Nftables => Ok(Backend::Nft),
        NatBackend::IptablesNft => check_iptables_nft(runner).map(|()| Backend::Iptables),
        NatBackend::Auto => {
            let mut cached = RESOLVED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(b) = *cached {
                return Ok(b);
            }
            let backend = probe(runner)?;
            *cached = Some(backend);
            Ok(backend)
        }
    }
}

fn probe(runner: &mut dyn Runner) -> Result<Backend, Error> {
    match runner.run("nft", &["--version"], None) {
        Ok(out) if out.termination.success() => return Ok(Backend::Nft),
        Ok(_) | Err(Error::CommandSpawn { .. }) => {}
        Err(e) => return Err(e),
    }
    match check_iptables_nft(runner) {
        Err(Error::CommandSpawn { .. }) => Err(Error::NoNatBackend),
        other => other.map(|()| Backend::Iptables),
    }
}

fn check_iptables_nft(runner: &mut dyn Runner) -> Result<(), Error> {
    let version = run_ok(runner, "iptables", &["--version"], None)?;
    if version.contains("nf_tables") {
        Ok(())
    } else {
        Err(Error::LegacyIptablesOnly {
            version: version.trim().to_owned(),
        })
    }
}

/// Refuses to add rules next to legacy iptables tables loaded in the calling thread's
/// network namespace (`/proc/thread-self/net/ip_tables_names`, per namespace).
pub(crate) fn check_no_legacy_tables(v6: bool) -> Result<(), Error> {
    let mut files = vec!["/proc/thread-self/net/ip_tables_names"];
    if v6 {
        files.push("/proc/thread-self/net/ip6_tables_names");
    }
    let mut tables = Vec::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(text) => tables.extend(text.split_whitespace().map(str::to_owned)),
            // Without the legacy modules loaded the file does not exist: nothing to mix.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("reading", file)(e)),
        }
    }
    if tables.is_empty() {
        Ok(())
    } else {
        Err(Error::LegacyIptablesInUse {
            tables: tables.join(", "),
        })
    }
}

/// Turns on forwarding in the calling thread's network namespace (IPv4, and IPv6 when
/// `v6`). It is left on at teardown: other users of the host may rely on it.
pub(crate) fn enable_forwarding(v6: bool) -> Result<(), Error> {
    let mut files = vec!["/proc/sys/net/ipv4/ip_forward"];
    if v6 {
        files.push("/proc/sys/net/ipv6/conf/all/forwarding");
    }
    for file in files {
        let now = std::fs::read_to_string(file).map_err(Error::io("reading", file))?;
        if now.trim() != "1" {
            std::fs::write(file, "1\n").map_err(Error::io("enabling forwarding in", file))?;
        }
    }
    Ok(())
}

/// Installs `rules` with `backend`, replacing the bridge's earlier rules.
pub(crate) fn apply(
    runner: &mut dyn Runner,
    backend: Backend,
    rules: &NatRules,
) -> Result<(), Error> {
    match backend {
        Backend::Nft => {
            run_ok(runner, "nft", &["-f", "-"], Some(&nft_apply_script(rules))).map(drop)
        }
        Backend::Iptables => {
            let mut families = vec![("iptables", rules.v4.to_string())];
            if let Some(v6) = rules.v6 {
                families.push(("ip6tables", v6.to_string()));
            }
            for (program, source) in families {
                let input = iptables_restore_input(&rules.bridge, &source, &rules.uplink);
                let restore = format!("{program}-restore");
                run_ok(runner, &restore, &["-w", "--noflush"], Some(&input))?;
                let jump = chain_name(&rules.bridge);
                let check = ["-w", "-t", "nat", "-C", "POSTROUTING", "-j", jump.as_str()];
                let out = runner.run(program, &check, None)?;
                match out.termination {
                    Termination::Exited(0) => {}
                    // 1: no such rule yet.
                    Termination::Exited(1) => {
                        let add = ["-w", "-t", "nat", "-A", "POSTROUTING", "-j", jump.as_str()];
                        run_ok(runner, program, &add, None)?;
                    }
                    _ => return Err(failed(program, &check, &out)),
                }
            }
            Ok(())
        }
    }
}

/// Removes what `key` (as recorded by [`NatRules::key`]) says was installed for `bridge`.
/// Rules already gone are not an error.
pub(crate) fn remove(runner: &mut dyn Runner, bridge: &str, key: &str) -> Result<(), Error> {
    let mut fields = key.split_whitespace();
    let backend = fields.next().and_then(Backend::from_tag);
    let v6 = fields.last().is_some_and(|f| f != "-");
    match backend {
        // A key this version cannot read: remove what either backend could have made.
        None => {
            remove_nft(runner, bridge)?;
            remove_iptables(runner, bridge, true)
        }
        Some(Backend::Nft) => remove_nft(runner, bridge),
        Some(Backend::Iptables) => remove_iptables(runner, bridge, v6),
    }
}

fn remove_nft(runner: &mut dyn Runner, bridge: &str) -> Result<(), Error> {
    match run_ok(
        runner,
        "nft",
        &["-f", "-"],
        Some(&nft_remove_script(bridge)),
    ) {
        Ok(_) => Ok(()),
        // Without nft no table could have been made by it.
        Err(Error::CommandSpawn { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn remove_iptables(runner: &mut dyn Runner, bridge: &str, v6: bool) -> Result<(), Error> {
    let chain = chain_name(bridge);
    let mut programs = vec!["iptables"];
    if v6 {
        programs.push("ip6tables");
    }
    for program in programs {
        let check = ["-w", "-t", "nat", "-C", "POSTROUTING", "-j", chain.as_str()];
        let out = match runner.run(program, &check, None) {
            Err(Error::CommandSpawn { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue;
            }
            other => other?,
        };
        match out.termination {
            Termination::Exited(0) => {
                let del = ["-w", "-t", "nat", "-D", "POSTROUTING", "-j", chain.as_str()];
                run_ok(runner, program, &del, None)?;
            }
            // 1: no such rule; 2: no such chain either.
            Termination::Exited(1 | 2) => {}
            _ => return Err(failed(program, &check, &out)),
        }
        let list = ["-w", "-t", "nat", "-S", chain.as_str()];
        let out = runner.run(program, &list, None)?;
        match out.termination {
            Termination::Exited(0) => {
                run_ok(
                    runner,
                    program,
                    &["-w", "-t", "nat", "-F", chain.as_str()],
                    None,
                )?;
                run_ok(
                    runner,
                    program,
                    &["-w", "-t", "nat", "-X", chain.as_str()],
                    None,
                )?;
            }
            Termination::Exited(1) => {}
            _ => return Err(failed(program, &list, &out)),
        }
    }
    Ok(())
}

/// Whether `address` lies in one of the rules' subnets (used by tests and messages).
#[cfg(test)]
fn covers(rules: &NatRules, address: std::net::IpAddr) -> bool {
    match address {
        std::net::IpAddr::V4(a) => rules.v4.contains(a),
        std::net::IpAddr::V6(a) => rules.v6.is_some_and(|n| n.contains(a)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::command::Output;

    /// A runner that records every call and answers from a script (exit 0 by default).
    #[derive(Default)]
    pub(crate) struct FakeRunner {
        pub(crate) calls: Vec<(String, Vec<String>, Option<String>)>,
        pub(crate) replies: VecDeque<Result<Output, Error>>,
    }

    pub(crate) fn exited(code: i32, stdout: &str) -> Result<Output, Error> {
        Ok(Output {
            termination: Termination::Exited(code),
            stdout: stdout.into(),
            stderr: String::new(),
        })
    }

    pub(crate) fn missing(program: &str) -> Result<Output, Error> {
        Err(Error::CommandSpawn {
            program: program.into(),
            hint: String::new(),
            source: std::io::ErrorKind::NotFound.into(),
        })
    }

    impl Runner for FakeRunner {
        fn run(
            &mut self,
            program: &str,
            args: &[&str],
            stdin: Option<&str>,
        ) -> Result<Output, Error> {
            self.calls.push((
                program.into(),
                args.iter().map(|a| (*a).to_owned()).collect(),
                stdin.map(str::to_owned),
            ));
            self.replies.pop_front().unwrap_or_else(|| exited(0, ""))
        }
    }

    impl FakeRunner {
        /// A runner answering with `replies` in order, then with exit 0.
        pub(crate) fn answering(replies: impl IntoIterator<Item = Result<Output, Error>>) -> Self {
            Self {
                calls: Vec::new(),
                replies: replies.into_iter().collect(),
            }
        }

        fn lines(&self) -> Vec<String> {
            self.calls
                .iter()
                .map(|(p, a, _)| format!("{p} {}", a.join(" ")))
                .collect()
        }
    }

    fn rules(v6: bool) -> NatRules {
        NatRules {
            bridge: "vbtest0".into(),
            bridge_index: 7,
            uplink: "eth0".into(),
            v4: "10.88.0.0/16".parse().unwrap(),
            v6: v6.then(|| "fd00:88::/64".parse().unwrap()),
        }
    }

    #[test]
    fn nft_script_replaces_the_bridge_table_atomically() {
        assert_eq!(
            nft_apply_script(&rules(true)),
            "table inet voidbox-vbtest0\n\
             delete table inet voidbox-vbtest0\n\
             table inet voidbox-vbtest0 {\n\
             \tchain postrouting {\n\
             \t\ttype nat hook postrouting priority 100; policy accept;\n\
             \t\tip saddr 10.88.0.0/16 oifname \"eth0\" masquerade\n\
             \t\tip6 saddr fd00:88::/64 oifname \"eth0\" masquerade\n\
             \t}\n\
             }\n"
        );
        assert!(!nft_apply_script(&rules(false)).contains("ip6"));
        assert_eq!(
            nft_remove_script("br0"),
            "table inet voidbox-br0\ndelete table inet voidbox-br0\n"
        );
        assert!(covers(&rules(true), "10.88.3.4".parse().unwrap()));
        assert!(!covers(&rules(false), "fd00:88::2".parse().unwrap()));
    }

    #[test]
    fn iptables_input_refills_one_chain() {
        assert_eq!(
            iptables_restore_input("br0", "10.88.0.0/16", "eth0"),
            "*nat\n:VB-br0 - [0:0]\n-A VB-br0 -s 10.88.0.0/16 -o eth0 -j MASQUERADE\nCOMMIT\n"
        );
    }

    #[test]
    fn keys_record_backend_bridge_uplink_and_subnets() {
        assert_eq!(
            rules(true).key(Backend::Nft),
            "nft 7 eth0 10.88.0.0/16 fd00:88::/64"
        );
        assert_eq!(
            rules(false).key(Backend::Iptables),
            "iptables 7 eth0 10.88.0.0/16 -"
        );
    }

    #[test]
    fn iptables_apply_adds_the_jump_only_when_missing() {
        let mut r = FakeRunner::answering([exited(0, ""), exited(1, ""), exited(0, "")]);
        apply(&mut r, Backend::Iptables, &rules(false)).unwrap();
        assert_eq!(
            r.lines(),
            [
                "iptables-restore -w --noflush",
                "iptables -w -t nat -C POSTROUTING -j VB-vbtest0",
                "iptables -w -t nat -A POSTROUTING -j VB-vbtest0",
            ]
        );
        let mut r = FakeRunner::default();
        apply(&mut r, Backend::Iptables, &rules(true)).unwrap();
        assert_eq!(
            r.lines(),
            [
                "iptables-restore -w --noflush",
                "iptables -w -t nat -C POSTROUTING -j VB-vbtest0",
                "ip6tables-restore -w --noflush",
                "ip6tables -w -t nat -C POSTROUTING -j VB-vbtest0",
            ],
            "present jumps are not added twice"
        );
        assert!(
            r.calls[2]
                .2
                .as_deref()
                .unwrap()
                .contains("-s fd00:88::/64 -o eth0")
        );
    }

    #[test]
    fn a_killed_or_failing_tool_is_an_error_naming_it() {
        let mut r = FakeRunner::answering([Ok(Output {
            termination: Termination::Signaled(9),
            stdout: String::new(),
            stderr: String::new(),
        })]);
        let err = apply(&mut r, Backend::Nft, &rules(false)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`nft -f -` was killed by signal 9 (SIGKILL)"
        );
        let mut r = FakeRunner::answering([exited(0, ""), exited(4, "")]);
        let err = apply(&mut r, Backend::Iptables, &rules(false)).unwrap_err();
        assert!(
            err.to_string()
                .contains("-C POSTROUTING -j VB-vbtest0` exited with status 4"),
            "{err}"
        );
    }

    #[test]
    fn removal_follows_the_recorded_backend_and_tolerates_absence() {
        let mut r = FakeRunner::default();
        remove(&mut r, "vbtest0", &rules(false).key(Backend::Nft)).unwrap();
        assert_eq!(r.lines(), ["nft -f -"]);
        assert_eq!(
            r.calls[0].2.as_deref(),
            Some(nft_remove_script("vbtest0").as_str())
        );

        let mut r = FakeRunner::default();
        // Jump present, chain present.
        remove(&mut r, "vbtest0", &rules(false).key(Backend::Iptables)).unwrap();
        assert_eq!(
            r.lines(),
            [
                "iptables -w -t nat -C POSTROUTING -j VB-vbtest0",
                "iptables -w -t nat -D POSTROUTING -j VB-vbtest0",
                "iptables -w -t nat -S VB-vbtest0",
                "iptables -w -t nat -F VB-vbtest0",
                "iptables -w -t nat -X VB-vbtest0",
            ]
        );
        let mut r = FakeRunner::answering([exited(2, ""), exited(1, "")]);
        remove(&mut r, "vbtest0", &rules(false).key(Backend::Iptables)).unwrap();
        assert_eq!(r.calls.len(), 2, "nothing to delete");
    }

    #[test]
    fn probing_prefers_nft_then_iptables_nft_and_refuses_legacy() {
        let mut r = FakeRunner::default();
        assert_eq!(probe(&mut r).unwrap(), Backend::Nft);
        let mut r =
            FakeRunner::answering([missing("nft"), exited(0, "iptables v1.8.9 (nf_tables)\n")]);
        assert_eq!(probe(&mut r).unwrap(), Backend::Iptables);
        let mut r =
            FakeRunner::answering([missing("nft"), exited(0, "iptables v1.8.9 (legacy)\n")]);
        assert!(matches!(
            probe(&mut r),
            Err(Error::LegacyIptablesOnly { .. })
        ));
        let mut r = FakeRunner::answering([missing("nft"), missing("iptables")]);
        assert!(matches!(probe(&mut r), Err(Error::NoNatBackend)));
    }

    #[test]
    fn rule_safe_names() {
        assert!(is_rule_safe_name("eth0"));
        assert!(is_rule_safe_name("enp0s31f6"));
        assert!(is_rule_safe_name("wg-vpn.1"));
        assert!(!is_rule_safe_name("a\"b"));
        assert!(!is_rule_safe_name("a\\b"));
        assert!(!is_rule_safe_name(""));
    }
}
