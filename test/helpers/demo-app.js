#!/usr/bin/env node
// The supervised app in guard tests: an HTTP server on $PORT that answers with the node and term
// the guard passed. DEMO_READY_DELAY_MS delays listening; DEMO_NEVER_READY=1 never listens.
'use strict';
const http = require('http');
const port = Number(process.env.PORT);
const body = JSON.stringify({ node: process.env.FAILOVER_GUARD_NODE, term: process.env.FAILOVER_GUARD_TERM, pid: process.pid });
if (process.env.DEMO_NEVER_READY === '1') {
  setInterval(() => undefined, 1 << 30);
} else {
  setTimeout(() => {
    http.createServer((_req, res) => res.end(body)).listen(port, '127.0.0.1');
  }, Number(process.env.DEMO_READY_DELAY_MS || 0));
}
process.on('SIGTERM', () => process.exit(0));
