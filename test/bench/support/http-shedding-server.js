// One server for test/bench/http-shedding.js, forked with an IPC channel; listens on 127.0.0.1
// only. Variants:
// - plain: a node:http listener that answers 200 "ok";
// - constant-503: a hand-written shed answer (memshed's headers and body, serialised once);
// - memshed-accepting: the plain listener wrapped in @memshed/http's withLoadShedding, four route
//   rules (the express example's), pressure state normal: every request is decided and accepted;
// - memshed-shedding: the same at critical: every request is decided and shed.
// Messages: the server sends { port } when listening; on 'mark' it answers { cpu, requests } (CPU
// time in µs and requests answered since the start), so the parent can take differences; it
// exits when the channel closes.
'use strict';

const http = require('node:http');

const variant = process.argv[2];
let requests = 0;

function plain(request, response) {
  requests++;
  response.end('ok');
}

function listenerFor(name) {
  if (name === 'plain') return plain;
  if (name === 'constant-503') {
    // memshed's answer, written by hand: its defaults so the two stay byte for byte the same.
    const { DEFAULT_RETRY_AFTER_SECONDS, DEFAULT_SHED_MESSAGE } = require('@memshed/http');
    const body = JSON.stringify({
      statusCode: 503,
      error: 'Service Unavailable',
      message: DEFAULT_SHED_MESSAGE,
      level: 'critical',
    });
    const headers = {
      'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS),
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(body)),
    };
    return (request, response) => {
      requests++;
      response.writeHead(503, headers).end(body);
    };
  }
  if (name === 'memshed-accepting' || name === 'memshed-shedding') {
    const { BehaviorSubject } = require('rxjs');
    const { withLoadShedding } = require('@memshed/http');
    const level$ = new BehaviorSubject(name === 'memshed-accepting' ? 'normal' : 'critical');
    const routes = [
      { path: '/healthz', priority: 'essential' },
      { path: '/metrics', priority: 'essential' },
      { path: '/api/reports/*', priority: 'background' },
      { path: '/api/jobs', method: 'POST', priority: 'low' },
    ];
    const wrapped = withLoadShedding({ level$ }, plain, { routes });
    return (request, response) => {
      if (name === 'memshed-shedding') requests++; // plain counts the accepted ones
      wrapped(request, response);
    };
  }
  throw new Error(`unknown variant ${name}`);
}

const server = http.createServer(listenerFor(variant));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message !== 'mark') return;
  const cpu = process.cpuUsage();
  process.send({ cpu: cpu.user + cpu.system, requests });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
