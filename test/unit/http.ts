import { createRouter, type RouterDeps } from '../../src/routes';

export interface Answer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
  bodyIsNull: boolean;
}

/** Sends one real `Request` through a fresh router and reads back everything the client would see. */
export async function send(
  deps: RouterDeps,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await createRouter(deps).fetch(new Request(`http://localhost${path}`, { method, headers }));
  const bodyIsNull = response.body === null;
  return {
    status: response.status,
    headers: [...response.headers].sort(([a], [b]) => a.localeCompare(b)),
    body: await response.text(),
    bodyIsNull,
  };
}

/** Header list as `send` reports it: lower-case names, sorted. */
export function headerList(headers: Record<string, string>): Array<[string, string]> {
  return Object.entries(headers).sort(([a], [b]) => a.localeCompare(b));
}

export function jsonError(status: number, message: string, extra: Record<string, string> = {}) {
  const body = JSON.stringify({ error: message });
  return {
    status,
    headers: headerList({
      'content-type': 'application/json',
      'content-length': String(new TextEncoder().encode(body).byteLength),
      ...extra,
    }),
    body,
  };
}
