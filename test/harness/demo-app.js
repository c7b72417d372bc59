#!/usr/bin/env node
// The supervised app of the guard tests, the drill and the booted nodes: an HTTP server on
// $BIND:$PORT (default 127.0.0.1) answering every request with the node and the term (fencing
// token) its guard passed. DEMO_READY_DELAY_MS delays listening; DEMO_NEVER_READY=1 never listens.
'use strict';
const http = require('http');
const port = Number(process.env.PORT);
const body = JSON.stringify({ node: process.env.FAILOVER_GUARD_NODE, term: Number(process.env.FAILOVER_GUARD_TERM), pid: process.pid }) + '\n';
if (process.env.DEMO_NEVER_READY === '1') {
  setInterval(() => undefined, 1 << 30);
} else {
  setTimeout(() => {
    http.createServer((_req, res) => res.end(body)).listen(port, process.env.BIND || '127.0.0.1');
  }, Number(process.env.DEMO_READY_DELAY_MS || 0));
}
process.on('SIGTERM', () => process.exit(0));
