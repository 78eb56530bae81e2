const encoder = new TextEncoder();

/**
 * Byte comparison whose running time depends only on `expected`'s length, not on where
 * (or whether) the inputs differ. A length mismatch still walks `expected` in full,
 * compared against itself, so it takes the same path as a same-length mismatch.
 */
export function constantTimeEqual(expected: Uint8Array, actual: Uint8Array): boolean {
  const sameLength = expected.length === actual.length;
  const other = sameLength ? actual : expected;
  let difference = sameLength ? 0 : 1;
  for (let i = 0; i < expected.length; i++) {
    difference |= expected[i]! ^ other[i]!;
  }
  return difference === 0;
}

/** The credentials of an `Authorization: Bearer <token>` header (scheme is case-insensitive per RFC 9110), else null. */
export function bearerToken(authorization: string | null): string | null {
  if (authorization === null) return null;
  const match = /^bearer +(\S.*)$/i.exec(authorization.trim());
  return match ? match[1]! : null;
}

/**
 * Whether a request may use an admin endpoint. An empty `expectedToken` means protection
 * is switched off (the default for local development), so everything is allowed.
 */
export function isAuthorized(authorization: string | null, expectedToken: string): boolean {
  if (expectedToken === '') return true;
  const presented = bearerToken(authorization);
  if (presented === null) return false;
  return constantTimeEqual(encoder.encode(expectedToken), encoder.encode(presented));
}
