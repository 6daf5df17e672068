//! beraad-load: load generator for Beraad's real-time endpoint `/api/v1/ws` (see
//! `load-tests/README.md` and `docs/protocol.md`).

mod args;
mod backend;
mod conn;
mod dist;
mod peer;
mod report;
mod run;
mod stats;
mod util;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use serde::Serialize;
use serde_json::Value;

use crate::args::{Args, TargetKind};
use crate::backend::{Backend, Prepared};
use crate::report::Report;
use crate::run::Endpoints;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if args.connections > 15_000 {
        eprintln!(
            "warning: {} connections in one process; keep a process under ~15,000 and \
             split the load over several processes sharing --state",
            args.connections
        );
    }
    util::ensure_open_files(run::files_needed(&args));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(real_main(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reuses `--state` when it exists; prepares (and writes `--state`) otherwise.
async fn load_or_prepare(args: &Args, http: &reqwest::Client) -> anyhow::Result<Prepared> {
    if let Some(path) = &args.state
        && path.exists()
        && !args.prepare_only
    {
        let p = Prepared::load(path)?;
        eprintln!(
            "reusing {}: {} cases, {} panelists (prepared {} on {})",
            path.display(),
            p.cases.len(),
            p.panelists.len(),
            p.prepared_at,
            p.base_url
        );
        if p.cases.len() != args.cases {
            eprintln!(
                "note: the state holds {} cases; --cases {} is ignored",
                p.cases.len(),
                args.cases
            );
        }
        return Ok(p);
    }
    let p = backend::prepare(args, http).await?;
    if let Some(path) = &args.state {
        p.save(path)?;
        eprintln!("state written to {}", path.display());
    }
    Ok(p)
}

/// The JSON of `--compare-peer`.
#[derive(Serialize)]
struct Comparison {
    beraad: Report,
    peer: Report,
    /// beraad / peer.
    ratios: Value,
}

/// Writes the JSON report where `--json` says.
fn emit_json(args: &Args, value: &impl Serialize) -> anyhow::Result<()> {
    let Some(dest) = &args.json else {
        return Ok(());
    };
    let text = serde_json::to_string_pretty(value)?;
    if dest == "-" {
        println!("{text}");
    } else {
        std::fs::write(dest, text + "\n").with_context(|| format!("cannot write {dest}"))?;
        eprintln!("report written to {dest}");
    }
    Ok(())
}

fn print_report(title: &str, r: &Report) {
    eprintln!("\n== {title}\n{}", r.table());
}

async fn real_main(args: Args) -> anyhow::Result<()> {
    let http = backend::http_client(args.max_inflight)?;
    let urls = args.base_urls();
    let origin = args
        .origin
        .clone()
        .unwrap_or_else(|| run::origin_of(&urls[0]));

    if args.target == TargetKind::Peer {
        let backend = Arc::new(Backend::Peer {
            http,
            base: urls[0].clone(),
            cases: args.cases,
        });
        let ep = Endpoints {
            urls,
            origin,
            pids: args.server_pids.clone(),
        };
        let r = run::run(&args, backend, &ep).await?;
        print_report("peer", &r);
        return emit_json(&args, &r);
    }

    let prepared = load_or_prepare(&args, &http).await?;
    if args.prepare_only {
        eprintln!(
            "prepared {} cases and {} panelists",
            prepared.cases.len(),
            prepared.panelists.len()
        );
        return Ok(());
    }
    let cases = prepared.cases.len();
    let backend = Arc::new(Backend::Beraad {
        http: http.clone(),
        base: urls[0].clone(),
        prepared,
    });
    let ep = Endpoints {
        urls,
        origin,
        pids: args.server_pids.clone(),
    };
    let beraad = run::run(&args, backend, &ep).await?;
    print_report("beraad", &beraad);
    if !args.compare_peer {
        return emit_json(&args, &beraad);
    }

    let peer = peer::start(&args.peer_dir, &args.node_bin, args.peer_port, &http).await?;
    eprintln!("started the Node peer at {}", peer.url);
    let backend = Arc::new(Backend::Peer {
        http,
        base: peer.url.clone(),
        cases,
    });
    let ep = Endpoints {
        urls: vec![peer.url.clone()],
        origin: peer.url.clone(),
        pids: peer.pid().into_iter().collect(),
    };
    let result = run::run(&args, backend, &ep).await;
    peer.stop().await;
    let peer_report = result?;
    print_report("peer", &peer_report);
    eprintln!(
        "\n== beraad vs peer\n{}",
        report::comparison_table(&beraad, &peer_report)
    );
    let ratios = report::ratios(&beraad, &peer_report);
    emit_json(
        &args,
        &Comparison {
            beraad,
            peer: peer_report,
            ratios,
        },
    )
}
