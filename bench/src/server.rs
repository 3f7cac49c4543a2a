//! Starting a fresh server process per measurement, waiting for it, reading its resident
//! memory and CPU time from `/proc`, and stopping it (by its own pid only).

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start one server under test. `{port}` in an argument is replaced by the port.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(String, String)>,
}

impl Spec {
    /// Parses `"program arg arg"` (split on whitespace).
    pub fn parse(cmd: &str) -> Option<Self> {
        let mut words = cmd.split_whitespace().map(str::to_owned);
        let program = words.next()?;
        Some(Self {
            program,
            args: words.collect(),
            cwd: None,
            env: Vec::new(),
        })
    }
}

/// A running server; killed on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub pid: u32,
}

impl Server {
    /// Starts `spec` with `PORT=port` and waits until the port accepts connections.
    pub fn start(spec: &Spec, port: u16, log: &str) -> io::Result<Self> {
        let port_s = port.to_string();
        let mut cmd = Command::new(&spec.program);
        cmd.args(spec.args.iter().map(|a| a.replace("{port}", &port_s)))
            .env("PORT", &port_s)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(File::create(log)?)
            .stderr(File::create(format!("{log}.err"))?);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let child = cmd.spawn()?;
        let mut server = Self {
            pid: child.id(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} exited during start-up ({status}); see {log}.err",
                    spec.program
                )));
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "{} did not listen on {port} within 60 s",
                    spec.program
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let the runtime finish starting (thread pools, lazy statics).
        std::thread::sleep(Duration::from_millis(300));
        Ok(server)
    }

    /// Resident set size in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> io::Result<u64> {
        rss_kib(self.pid)
    }

    /// User + system CPU seconds used so far.
    pub fn cpu_secs(&self) -> io::Result<f64> {
        cpu_secs(&format!("/proc/{}/stat", self.pid))
    }

    /// Waits until RSS stops moving (two reads 500 ms apart within 64 KiB, at most 10 s);
    /// returns the last read.
    pub async fn settled_rss_kib(&self) -> io::Result<u64> {
        let mut last = self.rss_kib()?;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.rss_kib()?;
            if now.abs_diff(last) < 64 {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first (lets a profiler wrapper such as valgrind write its output), then
        // SIGKILL after 10 s. Only our own child, by pid.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of a process in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS"))
}

/// utime + stime of `/proc/<pid>/stat` (or `/proc/self/stat`) in seconds.
pub fn cpu_secs(stat_path: &str) -> io::Result<f64> {
    let stat = std::fs::read_to_string(stat_path)?;
    // Fields after the `(comm)`, which may contain spaces: state is field 3, utime 14, stime 15.
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| io::Error::other("bad stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> u64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0) };
    // `rest` starts at field 3, so utime (14) is index 11 and stime (15) index 12.
    // USER_HZ is 100 on Linux.
    Ok((ticks(11) + ticks(12)) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_rss_and_cpu() {
        assert!(rss_kib(std::process::id()).unwrap() > 100);
        assert!(cpu_secs("/proc/self/stat").unwrap() >= 0.0);
    }

    #[test]
    fn parses_a_command() {
        let spec = Spec::parse("bin/x --port {port}  -v").unwrap();
        assert_eq!(spec.program, "bin/x");
        assert_eq!(spec.args, ["--port", "{port}", "-v"]);
        assert!(Spec::parse("   ").is_none());
    }
}
