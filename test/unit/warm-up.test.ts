import { describe, expect, it } from 'vitest';
import { type App, type RouterDeps, createRouter } from '../../src/routes';
import { warmUp } from '../../src/warm-up';

describe('warmUp', () => {
  it('takes every route of the app down its usual path, with stand-ins only', async () => {
    const answers: Array<Promise<Response>> = [];
    const lines: string[] = [];
    warmUp((deps: RouterDeps): App => {
      const app = createRouter({ ...deps, log: (line) => lines.push(line) });
      return { fetch: (request) => (answers.push(app.fetch(request)), answers.at(-1)!) };
    });
    const responses = await Promise.all(answers);
    expect(responses.map((r) => [r.status, r.headers.get('x-served-from-cache')])).toEqual([
      [200, 'false'], // miss
      [200, 'true'], // hit
      [200, 'true'], // If-None-Match that does not match
      [200, 'true'], // HEAD
      [200, null], // /healthz
      [200, null], // /readyz
      [204, null], // DELETE /cache with the token
      [405, null],
      [404, null],
    ]);
    expect(lines).toEqual([]);
  });
});
