// The README's table of differences between the runner and Spin lists exactly the differences
// the end-to-end tests name (test/support/differences.ts), in the same order: neither can drift.
// The differences that no other test meets are observed here.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDir } from '../support/app-dir';
import { DIFFERENCES, differs } from '../support/differences';
import { serveApp } from '../support/served-app';
import { APP_DIR, HOSTS, type RunningApp } from '../support/host';

const HEADING = '## Differences between the runner and Spin';

function readmeTableRows(): string[] {
  const readme = readFileSync(path.join(APP_DIR, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${HEADING}\n`);
  expect(start, `README.md has a "${HEADING}" section`).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + HEADING.length + 2).split(/\n## /)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // header and separator
    .map((line) => line.split('|')[1]!.trim());
}

describe('the README table of runner/Spin differences', () => {
  it('has one row per difference the tests name, in the same order', () => {
    expect(readmeTableRows()).toEqual(Object.keys(DIFFERENCES));
  });
});

describe.each(HOSTS)('the differences themselves, on %s', (host) => {
  let app: AppDir;
  let server: RunningApp;
  let stop: () => Promise<void>;

  beforeAll(async () => ({ app, server, stop } = await serveApp(host)));
  afterAll(() => stop?.());

  /** Sends `count` requests back to back on one kept-alive connection; per response, whether its
   *  head arrived in a packet of its own, ahead of the body. */
  async function headArrivedAlone(path: string, count: number): Promise<boolean[]> {
    const { port } = new URL(server.baseUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const results: boolean[] = [];
    try {
      for (let i = 0; i < count; i++) {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        let received = '';
        let alone = false;
        for (;;) {
          const [chunk] = (await once(socket, 'data')) as [Buffer];
          received += chunk.toString('latin1');
          const headEnd = received.indexOf('\r\n\r\n');
          if (headEnd === -1) continue;
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received)![1]);
          if (received.length === headEnd + 4 && length > 0) alone = true;
          if (received.length >= headEnd + 4 + length) break;
        }
        results.push(alone);
      }
    } finally {
      socket.destroy();
    }
    return results;
  }

  // Spin's HTTP server never sets TCP_NODELAY (crates/trigger-http/src/server.rs); after a SQLite
  // store call the component's body is written after the head, and Nagle holds it until the
  // client ACKs the head (docs/spin-nagle.md). Node's server sets TCP_NODELAY and writes head and
  // body together.
  it('sends the head of GET /items on its own on a kept-alive connection (Nagle)', async () => {
    // Whether the client's ACK is delayed depends on the kernel's heuristics (docs/spin-nagle.md:
    // most responses, fewer on a loaded machine), so Spin only has to show it once in ten.
    const split = (await headArrivedAlone('/items', 10)).filter(Boolean).length;
    if (differs(host, 'Nagle', { spin: true, runner: false })) expect(split).toBeGreaterThanOrEqual(1);
    else expect(split).toBe(0);
  });

  // hyper adds only `date` and the length; Node's http server adds its keep-alive headers.
  it('adds connection headers to the response', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`${server.baseUrl}/healthz`, resolve).once('error', reject),
    );
    response.resume();
    expect(response.headers['keep-alive'] ?? null).toBe(
      differs(host, 'connection headers', { spin: null, runner: 'timeout=5' }),
    );
  });
});
