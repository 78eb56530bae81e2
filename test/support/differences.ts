/**
 * Every known way the runner's behaviour differs from Spin's that an end-to-end test can see.
 * The README's table "Differences between the runner and Spin" has exactly these rows, in this
 * order (test/e2e/differences.test.ts keeps the two in step), so a difference is either
 * documented and tested or fixed.
 */
import type { HostName } from './host';

export const DIFFERENCES = {
  Nagle: "Spin leaves Nagle on: after a SQLite store call or a variable read, a kept-alive client gets the body ~40 ms after the head",
  'connection headers': "the runner's Node server adds `connection: keep-alive` and `keep-alive: timeout=5`",
} as const satisfies Record<string, string>;

export type Difference = keyof typeof DIFFERENCES;

/** What `host` does where the hosts differ: the test states both outcomes and names the README row. */
export function differs<T>(host: HostName, _difference: Difference, outcomes: Record<HostName, T>): T {
  return outcomes[host];
}
