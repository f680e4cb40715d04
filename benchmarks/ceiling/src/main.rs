//! One benchmark run of plain reqwest, with the command line and the JSON line of the Python
//! clients in `benchmarks/clients/` (`_common.py`): every body is kept until the end, like theirs.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{self, StreamExt};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQWEST_VERSION: &str = "0.13.5";

struct Args {
    url: String,
    size: usize,
    n: usize,
    concurrency: usize,
    sequential: bool,
    warmup: usize,
    tag: String,
    /// PEM file of the certificate authority that signed an `https` server's certificate.
    ca: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        size: 0,
        n: 0,
        concurrency: 64,
        sequential: false,
        warmup: 64,
        tag: std::process::id().to_string(),
        ca: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--sequential" {
            args.sequential = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => args.url = value.clone(),
            "--size" => args.size = number()?,
            "--n" => args.n = number()?,
            "--concurrency" => args.concurrency = number()?.max(1),
            "--warmup" => args.warmup = number()?,
            "--tag" => args.tag = value.clone(),
            "--ca" => args.ca = Some(value.clone()),
            // --driver, --loop: Python-side choices, meaningless here
            _ => {}
        }
    }
    if args.url.is_empty() || args.n == 0 {
        return Err("--url and --n are required".into());
    }
    Ok(args)
}

/// User+system CPU seconds and peak RSS (MiB) of this process.
fn usage() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        secs(ru.ru_utime) + secs(ru.ru_stime),
        ru.ru_maxrss as f64 / 1024.0,
    )
}

/// The status and the whole body, which the caller keeps (as every client keeps its results).
async fn get(client: &reqwest::Client, url: String) -> Result<(u16, Bytes), String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

async fn run(args: Args) -> Result<String, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60));
    if let Some(path) = &args.ca {
        let pem = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        builder = builder.add_root_certificate(ca);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let urls = |kind: &str, count: usize| -> Vec<String> {
        (0..count)
            .map(|i| format!("{}?{kind}={}-{i}", args.url, args.tag))
            .collect()
    };
    let warm = urls("w", args.warmup);
    let timed = urls("r", args.n);
    let mut latencies: Vec<f64> = Vec::new();
    for url in warm {
        get(&client, url).await?;
    }
    let (cpu0, _) = usage();
    let started = Instant::now();
    let results: Vec<Result<(u16, Bytes), String>> = if args.sequential {
        let mut out = Vec::with_capacity(args.n);
        for url in timed {
            let one = Instant::now();
            out.push(get(&client, url).await);
            latencies.push(one.elapsed().as_secs_f64());
        }
        out
    } else {
        stream::iter(timed)
            .map(|url| get(&client, url))
            .buffer_unordered(args.concurrency)
            .collect()
            .await
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu1, maxrss) = usage();
    let mut total = 0usize;
    for result in &results {
        let (status, body) = result.as_ref().map_err(|e| e.clone())?;
        if *status != 200 || body.len() != args.size {
            return Err(format!(
                "bad response: status {status}, {} bytes (expected 200, {})",
                body.len(),
                args.size
            ));
        }
        total += body.len();
    }
    let cpu = cpu1 - cpu0;
    let n = results.len() as f64;
    let mut line = format!(
        "{{\"ok\": true, \"n\": {}, \"elapsed_s\": {elapsed}, \"cpu_s\": {cpu}, \"bytes\": {total}, \
         \"rps\": {}, \"mbps\": {}, \"cpu_us_per_req\": {}, \"maxrss_mib\": {maxrss}, \
         \"version\": \"{REQWEST_VERSION}\"",
        results.len(),
        n / elapsed,
        total as f64 / elapsed / 1e6,
        cpu / n * 1e6,
    );
    if args.sequential {
        latencies.sort_by(f64::total_cmp);
        line += &format!(
            ", \"p50_ms\": {}, \"p99_ms\": {}",
            percentile(&latencies, 0.50) * 1e3,
            percentile(&latencies, 0.99) * 1e3
        );
    }
    line.push('}');
    Ok(line)
}

fn main() {
    let outcome = parse_args().and_then(|args| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(run(args))
    });
    match outcome {
        Ok(line) => println!("{line}"),
        Err(error) => {
            let escaped = error.replace('\\', "\\\\").replace('"', "\\\"");
            println!("{{\"ok\": false, \"error\": \"{escaped}\"}}");
            std::process::exit(1);
        }
    }
}
