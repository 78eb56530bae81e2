// A `.env` file as Spin's environment variables provider reads it (through the dotenvy crate):
// `NAME=value` lines, optional `export `, `#` comments, single quotes taken literally, double
// quotes with backslash escapes. A missing file is no error.
import { readFileSync } from 'node:fs';

export class DotenvError extends Error {}

/**
 * @param {string} file
 * @returns {Map<string, string>}
 * @throws {DotenvError} naming the file and line, never quoting a value
 */
export function readDotenv(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return new Map();
    throw new DotenvError(`${file}: cannot read (${error.code ?? 'unreadable'})`);
  }
  const values = new Map();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new DotenvError(`${file}: line ${i + 1}: expected NAME=value`);
    const [, name, raw] = match;
    const value = unquote(raw);
    if (value === null) throw new DotenvError(`${file}: line ${i + 1}: unterminated quote in the value of ${name}`);
    // Spin collects dotenvy's pairs into a HashMap: a later definition of a name wins.
    values.set(name, value);
  }
  return values;
}

/** @param {string} raw @returns {string | null} */
function unquote(raw) {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    return end < 0 ? null : raw.slice(1, end);
  }
  if (raw.startsWith('"')) {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '"') return out;
      if (c === '\\' && i + 1 < raw.length) {
        const next = raw[++i];
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
      } else out += c;
    }
    return null;
  }
  return raw.replace(/\s+#.*$/, '').trim();
}
