#!/usr/bin/env node
// The drill's supervised app: an HTTP server on $BIND:$PORT (default 127.0.0.1) that answers
// every request with the node and the term (fencing token) its guard passed.
'use strict';
const http = require('http');
const port = Number(process.env.PORT);
const body = JSON.stringify({ node: process.env.FAILOVER_GUARD_NODE, term: Number(process.env.FAILOVER_GUARD_TERM), pid: process.pid }) + '\n';
http
  .createServer((_req, res) => res.end(body))
  .listen(port, process.env.BIND || '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
