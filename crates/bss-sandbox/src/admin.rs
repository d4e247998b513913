//! `GET /admin`: the sandbox's state on one small page (the same as `/admin/state`).

use std::fmt::Write;

use crate::server::AdminState;

pub(crate) fn page(state: &AdminState) -> String {
    let mut rows = String::new();
    for (kind, count) in &state.counts {
        let _ = write!(rows, "<tr><td>{kind}</td><td>{count}</td></tr>");
    }
    let faults = state.faults_injected;
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>bss-sandbox</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td{{padding:.2em 1em}}td+td{{text-align:right}}</style>\
         </head><body><h1>bss-sandbox</h1>\
         <p>Sandbox time {now} (time scale {scale}). <a href=\"/admin/state\">JSON</a></p>\
         <h2>Records</h2><table>{rows}</table>\
         <h2>Traffic</h2><table>\
         <tr><td>requests served</td><td>{requests}</td></tr>\
         <tr><td>tokens issued</td><td>{tokens}</td></tr>\
         <tr><td>rate limit refusals (403)</td><td>{refusals}</td></tr>\
         <tr><td>injected server errors (500/503)</td><td>{server_errors}</td></tr>\
         <tr><td>injected rate limits (403)</td><td>{rate_limited}</td></tr>\
         <tr><td>writes dropped after commit</td><td>{dropped}</td></tr>\
         </table></body></html>",
        now = state.now,
        scale = state.time_scale,
        requests = state.requests_served,
        tokens = state.tokens_issued,
        refusals = state.rate_limit_refusals,
        server_errors = faults.server_errors,
        rate_limited = faults.rate_limited,
        dropped = faults.dropped_after_commit,
    )
}
