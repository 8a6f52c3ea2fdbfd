// Network for a sandbox that may reach an allow-list of hosts. The sandbox has its own, empty network namespace
// (only loopback), so nothing inside can reach anything by itself. The App runs a small HTTP proxy on a unix socket
// in a private dir that is bound into the sandbox; a forwarder inside (node, started by bwrap before the tool)
// listens on the sandbox's 127.0.0.1 and pipes each connection to that socket, and starts the tool with
// HTTPS_PROXY/HTTP_PROXY pointing at itself. The proxy answers CONNECT (HTTPS) and absolute-URL requests (plain
// HTTP) only for allowed host:port pairs; everything else gets 403. Names are resolved by the App, outside.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANDBOX_NET_DIR } from './bwrap.js';

const SOCKET = 'proxy.sock';
const FORWARDER = 'forward.cjs';

/** The forwarder, run by node inside the sandbox: `node forward.cjs <socket> <command> [args…]`. */
const FORWARDER_SOURCE = `'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');
const [sock, command, ...args] = process.argv.slice(2);
let child;
const server = net.createServer((c) => {
  const up = net.connect(sock);
  c.pipe(up); up.pipe(c);
  c.on('error', () => up.destroy()); up.on('error', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const url = 'http://127.0.0.1:' + server.address().port;
  const env = { ...process.env, HTTPS_PROXY: url, HTTP_PROXY: url, https_proxy: url, http_proxy: url, NO_PROXY: '', no_proxy: '' };
  child = spawn(command, args, { stdio: 'inherit', env });
  child.on('error', (e) => { process.stderr.write(command + ': ' + e.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => { server.close(); if (signal) process.kill(process.pid, signal); else process.exit(code === null ? 1 : code); });
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { if (child) child.kill(s); else process.exit(1); });
`;

/** `host`, `host:port` or `*.domain[:port]`; without a port, 443 and 80. */
export function hostAllowed(allow: readonly string[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allow.some((entry) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.trim().toLowerCase());
    const pattern = m?.[1] ?? '';
    const ports = m?.[2] ? [Number(m[2])] : [443, 80];
    if (!ports.includes(port) || !pattern) return false;
    if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
    return h === pattern;
  });
}

export interface SandboxProxy {
  /** Host dir to bind at SANDBOX_NET_DIR. */
  dir: string;
  /** argv prefix inside the sandbox: node + forwarder + socket. */
  prefix: string[];
  /** Connections refused, "host:port" (for error messages). */
  refused: string[];
  close(): Promise<void>;
}

export async function startSandboxProxy(allow: readonly string[]): Promise<SandboxProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'infra-agent-net-'));
  await writeFile(join(dir, FORWARDER), FORWARDER_SOURCE, { mode: 0o600 });
  const refused: string[] = [];
  const tunnels = new Set<{ destroy(): void }>();
  const server: Server = createServer((req, res) => {
    // Plain HTTP through a proxy: the request line carries an absolute URL.
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URL expected\n');
      return;
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (url.protocol !== 'http:' || !hostAllowed(allow, url.hostname, port)) {
      refused.push(`${url.hostname}:${port}`);
      res.writeHead(403).end(`infra-agent sandbox: ${url.hostname}:${port} is not an allowed host\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const up = request(
      { host: url.hostname, port, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(`${e.message}\n`);
    });
    req.pipe(up);
  });
  server.on('connect', (req, socket, head) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    const host = m?.[1] ?? '';
    const port = Number(m?.[2] ?? 0);
    socket.on('error', () => socket.destroy());
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    if (!m || !hostAllowed(allow, host, port)) {
      refused.push(`${host}:${port}`);
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const up = connect(port, host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => {
      if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    });
    socket.on('close', () => up.destroy());
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(join(dir, SOCKET), () => ok());
  });
  return {
    dir,
    prefix: [process.execPath, `${SANDBOX_NET_DIR}/${FORWARDER}`, `${SANDBOX_NET_DIR}/${SOCKET}`],
    refused,
    async close() {
      server.closeAllConnections();
      for (const t of tunnels) t.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
