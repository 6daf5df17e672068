//! Real-browser tests: runs the Node test suite in `web/tests` (playwright-core driving
//! Debian's Chromium, axe-core for accessibility) against this build of `beraad`.
//! Needs `node`, `npm` and `chromium`; `scripts/test` installs them. Nothing is skipped:
//! a missing tool fails the test with the command that installs it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole browser suite may take before it is stopped.
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);

const INSTALL_HINT: &str = "install the tools with `apt-get install chromium nodejs npm` \
     (or run `scripts/test`, which installs what is missing)";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// Fails unless `program --version` runs.
fn require_tool(program: &str) {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the browser tests need `{program}`, which was not found; {INSTALL_HINT}"
    );
}

fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// Runs `npm ci` in `web/tests` unless its `node_modules` is at least as new as the lock
/// file (npm writes `node_modules/.package-lock.json` on every install).
fn install_node_modules(dir: &Path) {
    let installed = modified(&dir.join("node_modules").join(".package-lock.json"));
    let locked = modified(&dir.join("package-lock.json"));
    if installed.is_some() && installed >= locked {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "`npm ci` in {} failed ({}):\n{}{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the command to its end or until `timeout`; returns whether it succeeded (false
/// when it was stopped) and its standard output and error together.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = out.join().unwrap_or_default();
    output.push_str(&err.join().unwrap_or_default());
    match status {
        Some(status) => (status.success(), output),
        None => (
            false,
            format!("{output}\nstopped after {} s", timeout.as_secs()),
        ),
    }
}

/// The number after `label` in the closing summary of node's spec reporter (`ℹ tests 3`).
fn summary_count(output: &str, label: &str) -> Option<u32> {
    output.lines().rev().find_map(|line| {
        line.trim_start_matches(|c: char| !c.is_ascii_alphabetic())
            .strip_prefix(label)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[test]
fn web_pages_work_and_are_accessible_in_a_real_browser() {
    let root = repo_root();
    let tests_dir = root.join("web").join("tests");
    require_tool("node");
    require_tool("npm");
    let chromium = chromium_path();
    assert!(
        chromium.exists(),
        "the browser tests need Chromium at {} (or set CHROMIUM); {INSTALL_HINT}",
        chromium.display()
    );
    install_node_modules(&tests_dir);

    let (ok, output) = run_with_timeout(
        Command::new("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "web/tests/",
            ])
            .current_dir(&root)
            .env("BERAAD_BIN", env!("CARGO_BIN_EXE_beraad"))
            .env("CHROMIUM", &chromium),
        SUITE_TIMEOUT,
    );
    assert!(ok, "the browser tests failed:\n{output}");
    let tests = summary_count(&output, "tests ").unwrap_or(0);
    let passed = summary_count(&output, "pass ").unwrap_or(0);
    assert!(
        tests > 0 && passed == tests,
        "the browser suite ran {tests} tests and passed {passed}:\n{output}"
    );
    println!("{output}");
}
