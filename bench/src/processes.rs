//! The services as child processes of the benchmark, and what `/proc` says about them.
//!
//! Each service runs from its own release binary, as in production, so its CPU time and
//! resident memory can be read separately. Children get a parent-death signal: if the
//! benchmark is killed outright they die with it, and every normal path stops them
//! explicitly (SIGTERM, then SIGKILL), so no process is left behind.

use std::{
    fs::File,
    net::{SocketAddr, TcpListener},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};

/// A free port on loopback (the kernel picks it; the listener is closed straight away).
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?.local_addr()?)
}

/// One running service.
pub struct Service {
    pub name: &'static str,
    pub addr: SocketAddr,
    /// The internal listener serving `/metrics` (`<NAME>_METRICS_ADDR`).
    pub metrics_addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
}

impl Service {
    /// Starts `bin serve` with `env` added to a clean environment (only `PATH` and `HOME`
    /// are inherited, so a developer's shell settings cannot change what is measured).
    pub fn spawn(
        name: &'static str,
        bin: &Path,
        addr: SocketAddr,
        env: &[(&str, String)],
        log_dir: &Path,
    ) -> anyhow::Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .env_clear()
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command.env("RUST_LOG", "warn");
        let metrics_addr = free_addr()?;
        command.env(
            format!("{}_METRICS_ADDR", name.to_ascii_uppercase()),
            metrics_addr.to_string(),
        );
        for (key, value) in env {
            command.env(key, value);
        }
        #[allow(unsafe_code)]
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Self {
            name,
            addr,
            metrics_addr,
            child: Some(child),
            log,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where `/metrics` is served.
    pub fn metrics_base_url(&self) -> String {
        format!("http://{}", self.metrics_addr)
    }

    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Waits until `/ready` answers 200; fails early, with the end of the log, if the
    /// process exits.
    pub async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let url = format!("{}/ready", self.base_url());
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited ({status}) during start-up:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(resp) = http.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!(
                    "{} was not ready after {timeout:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// CPU time (user + system) the process has used so far, in microseconds.
    pub fn cpu_micros(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .with_context(|| format!("reading the CPU time of {}", self.name))?;
        // The command name may contain spaces; the numeric fields start after the last ')'.
        let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11).context("utime")?.parse()?;
        let stime: u64 = fields.get(12).context("stime")?.parse()?;
        #[allow(unsafe_code)]
        // SAFETY: sysconf only reads a constant of the running kernel.
        let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
            .unwrap_or(100)
            .max(1);
        Ok((utime + stime) * 1_000_000 / ticks)
    }

    /// Resident memory, in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .with_context(|| format!("reading the memory of {}", self.name))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .context("VmRSS")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib / 1024.0)
    }

    /// SIGTERM (in-flight work finishes, outboxes drain), then SIGKILL after `grace`.
    pub async fn stop(mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                #[allow(unsafe_code)]
                // SAFETY: signalling our own child, which has not been reaped yet.
                unsafe {
                    libc::kill(pid, libc::SIGTERM)
                };
            }
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
