#!/usr/bin/env node
// The supervised app of the guard tests, the drill and the booted nodes: an HTTP server on
// $BIND:$PORT (default 127.0.0.1) answering every request with the node and the term (fencing
// token) its guard passed. DEMO_READY_DELAY_MS delays listening; DEMO_NEVER_READY=1 never listens.
// DEMO_STOP_MS: a slow graceful stop (vendor app servers take tens of seconds): after SIGTERM it
// keeps serving, with "stopping": true in the body, for that long before it exits.
'use strict';
const http = require('http');
const port = Number(process.env.PORT);
const answer = { node: process.env.FAILOVER_GUARD_NODE, term: Number(process.env.FAILOVER_GUARD_TERM), pid: process.pid };
let body = JSON.stringify(answer) + '\n';
if (process.env.DEMO_NEVER_READY === '1') {
  setInterval(() => undefined, 1 << 30);
} else {
  setTimeout(() => {
    http.createServer((_req, res) => res.end(body)).listen(port, process.env.BIND || '127.0.0.1');
  }, Number(process.env.DEMO_READY_DELAY_MS || 0));
}
const stopMs = Number(process.env.DEMO_STOP_MS || 0);
process.on('SIGTERM', () => {
  if (stopMs <= 0) process.exit(0);
  body = JSON.stringify({ ...answer, stopping: true }) + '\n';
  setTimeout(() => process.exit(0), stopMs);
});
