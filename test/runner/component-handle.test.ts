// How the runner turns what a guest did into a response, with stand-in guests shaped like jco's
// bindings (instantiate(getCoreModule, imports) → { incomingHandler: { handle(request, outparam) } }).
// Spin's rules: crates/trigger-http/src/wasi.rs (a trap before response-outparam.set is a 500, after
// it the response has started and only its unfinished body is cut off) and wasmtime
// crates/wasi-http/src/p2/body.rs (an unfinished body is aborted).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindComponent } from '../../runner/component.js';
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from '../../runner/wasi/http.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

type Guest = (out: unknown) => void;
const guests = new Map<string, Guest>();
(globalThis as Record<string, unknown>).__standInGuests = guests;

/** A directory holding a component.js whose handler runs `guest`. */
async function component(name: string, guest: Guest) {
  guests.set(name, guest);
  const dir = mkdtempSync(path.join(tmpdir(), 'stand-in-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'component.js'),
    `export const instantiate = () => ({ incomingHandler: { handle: (_req, out) => globalThis.__standInGuests.get(${JSON.stringify(name)})(out) } });\n`);
  return bindComponent({ dir, modules: new Map(), sizeBytes: 0 }, {});
}

const bytes = (text: string) => new TextEncoder().encode(text);
function respond(out: unknown, { finish = true, text = 'hello' } = {}) {
  const response = new OutgoingResponse(Fields.fromList([['content-type', bytes('text/plain')]]));
  const body = response.body();
  ResponseOutparam.set(out as ResponseOutparam, { tag: 'ok', val: response });
  body.write().write(bytes(text));
  if (finish) OutgoingBody.finish(body);
}

describe('turning the guest\'s work into a response', () => {
  it('a trap before the response is set is an error (the server answers 500)', async () => {
    const c = await component('early-trap', () => {
      throw new Error('unreachable');
    });
    expect(() => c.handle(c.instantiate(), {} as never)).toThrow('unreachable');
  });

  it('a trap after a finished response leaves the response complete', async () => {
    const c = await component('late-trap', (out) => {
      respond(out);
      throw new Error('unreachable');
    });
    const response = c.handle(c.instantiate(), {} as never);
    expect([response.status, Buffer.from(response.body).toString(), response.aborted]).toEqual([200, 'hello', null]);
  });

  it('a trap while the body is unfinished cuts the response off after what was written', async () => {
    const c = await component('mid-body-trap', (out) => {
      respond(out, { finish: false, text: 'hel' });
      throw new Error('unreachable');
    });
    const response = c.handle(c.instantiate(), {} as never);
    expect(Buffer.from(response.body).toString()).toBe('hel');
    expect(response.aborted).toMatch(/trapped after the response started: unreachable/);
  });

  it('a body never finished is cut off too', async () => {
    const c = await component('unfinished', (out) => respond(out, { finish: false }));
    expect(c.handle(c.instantiate(), {} as never).aborted).toBe('response body not finished');
  });
});
