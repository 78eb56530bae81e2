// Calling host functions the way jco's bindings do: results are returned, and WIT errors are
// thrown as plain `{ tag, val }` objects, which tests catch with `thrown`.

export const bytes = (text: string) => new TextEncoder().encode(text);

/** What `fn` threw; fails the test when it returned instead. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
