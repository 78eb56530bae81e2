export const JSON_CONTENT_TYPE = 'application/json';

const encoder = new TextEncoder();

/**
 * A response with an explicit Content-Length, so HEAD can report the size of the body it
 * omits and the runtime never has to fall back to chunked encoding for a known size.
 */
export function bytesResponse(status: number, body: Uint8Array, headers: Record<string, string>): Response {
  // The cast only narrows ArrayBufferLike to ArrayBuffer: store values and encoder output are
  // never backed by a SharedArrayBuffer, which is all the DOM typing guards against.
  return new Response(body as Uint8Array<ArrayBuffer>, {
    status,
    headers: { ...headers, 'content-length': String(body.byteLength) },
  });
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return bytesResponse(status, encoder.encode(JSON.stringify(value)), {
    'content-type': JSON_CONTENT_TYPE,
    ...headers,
  });
}

/** Every error this service answers has the same shape: `{"error": "..."}`. */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, { error: message }, headers);
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** HEAD answers carry GET's status and headers (including Content-Length) but no body. */
export function withoutBody(response: Response): Response {
  if (response.body === null) return response;
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}
