/**
 * A one-line, human-readable description of anything that was thrown.
 *
 * Host calls made through the component model do not throw `Error`s: a WIT `result` error
 * arrives as a variant value such as `{ tag: 'other', val: 'connection refused' }` or
 * `{ tag: 'no-such-store' }`, or wrapped in an object (an `Error` with jco-style bindings) whose
 * `payload` holds that variant and whose message, if any, is just "[object Object] (see error.payload)".
 * Plain `String(e)` would turn both into noise in the logs.
 */
export function describeError(error: unknown): string {
  return oneLine(describe(error));
}

function describe(error: unknown): string {
  const payload = typeof error === 'object' && error !== null ? (error as { payload?: unknown }).payload : undefined;
  if (payload !== undefined) return describe(payload);
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error || 'empty error';
  if (isVariant(error)) {
    return error.val === undefined ? error.tag : `${error.tag}: ${describe(error.val)}`;
  }
  if (typeof error === 'object' && error !== null) {
    try {
      return JSON.stringify(error);
    } catch {
      // Cyclic or otherwise unserializable: fall through to the generic form.
    }
  }
  return String(error);
}

function isVariant(value: unknown): value is { tag: string; val?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { tag?: unknown }).tag === 'string';
}

// Each failure must stay a single log line, whatever the host put in its message.
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
