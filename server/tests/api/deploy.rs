//! The deployment files are valid where they are read: `deploy/compose.yaml` against the
//! compose specification's schema (vendored in check-jsonschema), `deploy/k8s/` against
//! the Kubernetes API's schemas (kubernetes-validate, strict), `publiccode.yml` against
//! `scripts/publiccode.schema.json`; the grace periods agree with the drain; the nginx
//! site passes `nginx -t`. The tools come from PyPI like the contract tools
//! (`scripts/contract-tools.txt`, installed by `scripts/test`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The top of the repository.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository")
        .to_path_buf()
}

/// `python3 -m module args…` with the PyPI tools on its path; whether it passed, and
/// what it printed.
fn python_module(module: &str, args: &[&str]) -> (bool, String) {
    let dir = std::env::var_os("BERAAD_CONTRACT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../contract-tools"));
    let python = std::env::var("BERAAD_PYTHON").unwrap_or_else(|_| "python3".into());
    let installed = Command::new(&python)
        .env("PYTHONPATH", &dir)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "{module} is not installed in {}: run scripts/test, or \
         {python} -m pip install --target {0} -r scripts/contract-tools.txt",
        dir.display()
    );
    let out = Command::new(&python)
        .env("PYTHONPATH", &dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("-m")
        .arg(module)
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A YAML file of the repository as JSON, read by PyYAML (installed with the tools).
fn yaml(path: &str) -> Value {
    let dir = std::env::var_os("BERAAD_CONTRACT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../contract-tools"));
    let out = Command::new(std::env::var("BERAAD_PYTHON").unwrap_or_else(|_| "python3".into()))
        .env("PYTHONPATH", &dir)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            path,
        ])
        .current_dir(repo())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let (ok, text) = python_module(
        "check_jsonschema",
        &[
            "--builtin-schema",
            "vendor.compose-spec",
            "deploy/compose.yaml",
        ],
    );
    assert!(ok, "{text}");
    // The nodes are stopped no sooner than their drain allows.
    let compose = yaml("deploy/compose.yaml");
    for node in ["beraad-1", "beraad-2"] {
        let service = &compose["services"][node];
        let env = &service["environment"];
        let secs = |key: &str| env[key].as_str().and_then(|v| v.parse::<u64>().ok());
        let drain = secs("BERAAD_DRAIN_DELAY_SECS").expect("drain delay")
            + secs("BERAAD_SHUTDOWN_TIMEOUT_SECS").expect("shutdown time-out");
        let grace: u64 = service["stop_grace_period"]
            .as_str()
            .and_then(|g| g.strip_suffix('s'))
            .and_then(|g| g.parse().ok())
            .expect("stop_grace_period in seconds");
        assert!(
            grace > drain,
            "{node}: stop_grace_period {grace}s ≤ drain {drain}s"
        );
        assert_eq!(
            env["BERAAD_TRUSTED_PROXIES"],
            compose["services"]["proxy"]["networks"]["backend"]["ipv4_address"],
            "the nodes believe exactly the proxy"
        );
    }
}

#[test]
fn the_kubernetes_manifests_follow_the_kubernetes_schemas() {
    let dir = repo().join("deploy/k8s");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("deploy/k8s")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let mut args = vec!["--strict"];
    args.extend(files.iter().map(String::as_str));
    let (ok, text) = python_module("kubernetes_validate", &args);
    assert!(ok, "{text}");
    for kind in [
        "deployment/beraad",
        "job/beraad-migrate",
        "poddisruptionbudget/beraad",
        "service/beraad",
        "configmap/beraad",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind}")),
            "{kind}: {text}"
        );
    }

    // The pods get the drain delay and the shutdown time-out, with time to spare.
    let config = yaml("deploy/k8s/configmap.yaml");
    let secs = |key: &str| {
        config["data"][key]
            .as_str()
            .and_then(|v| v.parse::<i64>().ok())
            .expect(key)
    };
    let drain = secs("BERAAD_DRAIN_DELAY_SECS") + secs("BERAAD_SHUTDOWN_TIMEOUT_SECS");
    let deployment = yaml("deploy/k8s/deployment.yaml");
    let pod = &deployment["spec"]["template"]["spec"];
    let grace = pod["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("grace");
    assert!(
        grace > drain,
        "terminationGracePeriodSeconds {grace} ≤ drain {drain}"
    );
    // Readiness notices the drain within the drain delay.
    let probe = &pod["containers"][0]["readinessProbe"];
    assert_eq!(probe["httpGet"]["path"], "/readyz");
    let notices = probe["periodSeconds"].as_i64().unwrap_or(10)
        * probe["failureThreshold"].as_i64().unwrap_or(3);
    assert!(
        notices < secs("BERAAD_DRAIN_DELAY_SECS"),
        "readiness too slow: {notices}s"
    );
    assert_eq!(
        pod["containers"][0]["livenessProbe"]["httpGet"]["path"],
        "/healthz"
    );
}

#[test]
fn publiccode_yml_is_valid() {
    let (ok, text) = python_module(
        "check_jsonschema",
        &[
            "--schemafile",
            "scripts/publiccode.schema.json",
            "publiccode.yml",
        ],
    );
    assert!(ok, "{text}");
    // The schema is not a blank cheque: a file without its licence fails it.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("publiccode.yml");
    let src = std::fs::read_to_string(repo().join("publiccode.yml")).expect("publiccode.yml");
    std::fs::write(&broken, src.replace("license: EUPL-1.2", "license: MIT")).expect("write");
    let (ok, _) = python_module(
        "check_jsonschema",
        &[
            "--schemafile",
            "scripts/publiccode.schema.json",
            &broken.display().to_string(),
        ],
    );
    assert!(!ok, "a wrong licence must fail the check");
}

#[test]
fn the_nginx_site_passes_nginx_t() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().display();
    let site = crate::proxy::render_site([8081, 8082], crate::multinode::free_port());
    std::fs::write(dir.path().join("beraad.conf"), site).expect("write");
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n  \
             access_log off;\n  client_body_temp_path {p}/b;\n  proxy_temp_path {p}/p;\n  \
             fastcgi_temp_path {p}/f;\n  uwsgi_temp_path {p}/u;\n  scgi_temp_path {p}/s;\n  \
             include {p}/beraad.conf;\n}}\n"
        ),
    )
    .expect("write");
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|b| Path::new(b).exists())
        .unwrap_or("nginx");
    let out = Command::new(nginx)
        .args([
            "-t",
            "-p",
            &format!("{p}/"),
            "-c",
            &format!("{p}/nginx.conf"),
        ])
        .args(["-e", &format!("{p}/error.log")])
        .output()
        .expect("nginx must be installed (scripts/test installs Debian's nginx)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
