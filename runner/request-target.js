// Where a request goes and who it says it is for, decided the way Spin's HTTP trigger decides it
// (spin crates/trigger-http/src/server.rs `set_req_uri`, with the `http` crate 1.3's URI parsing).

// The bytes the http crate allows in a URI (src/uri/mod.rs URI_CHARS), '%' aside.
const URI_CHAR = /^[!#$&'()*+,\-./0-9:;=?@A-Z[\]_a-z~]$/;

/**
 * Whether `text` parses as an `http::uri::Authority` (src/uri/authority.rs `Authority::parse`
 * plus `create_authority`): nothing but URI characters, at most one port colon outside
 * brackets, balanced brackets, no `%` outside the userinfo, not empty, not ending in `@`.
 * @param {string} text
 */
export function isValidAuthority(text) {
  if (text === '') return false;
  let colons = 0;
  let open = false;
  let closed = false;
  let percent = false;
  let atEnd = false;
  for (const char of text) {
    if (char === '%') {
      percent = true;
      continue;
    }
    if (!URI_CHAR.test(char) || char === '/' || char === '?' || char === '#') return false;
    atEnd = char === '@';
    if (char === ':') {
      if (colons >= 8) return false;
      colons += 1;
    } else if (char === '[') {
      if (percent || open) return false;
      open = true;
    } else if (char === ']') {
      if (!open || closed) return false;
      closed = true;
      colons = 0;
      percent = false;
    } else if (char === '@') {
      colons = 0;
      percent = false;
    }
  }
  return open === closed && colons <= 1 && !atEnd && !percent;
}

/**
 * Splits what Node gives as `req.url` into the path Spin routes on and the path-with-query the
 * guest sees; an absolute-form target (`GET http://host/path`) also names an authority.
 * @param {string} url
 * @returns {{ path: string, pathWithQuery: string, authority: string | null } | null} null when unusable
 */
export function requestTarget(url) {
  if (url.startsWith('/')) {
    const query = url.indexOf('?');
    return { path: query < 0 ? url : url.slice(0, query), pathWithQuery: url, authority: null };
  }
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)([^#]*)/.exec(url);
  if (!absolute) return null;
  const rest = absolute[2] || '/';
  const pathWithQuery = rest.startsWith('?') ? `/${rest}` : rest;
  const query = pathWithQuery.indexOf('?');
  return { path: query < 0 ? pathWithQuery : pathWithQuery.slice(0, query), pathWithQuery, authority: absolute[1] ?? '' };
}

/**
 * The authority Spin gives the guest: the Host header, or the target's; both must parse and,
 * when both are there, agree. Null where Spin gives up on the request without answering.
 * @param {string | undefined} hostHeader the first Host header, as Node decoded it (latin1)
 * @param {string | null} targetAuthority
 * @returns {string | null}
 */
export function requestAuthority(hostHeader, targetAuthority) {
  if (hostHeader !== undefined && !isValidAuthority(hostHeader)) return null;
  if (targetAuthority !== null && !isValidAuthority(targetAuthority)) return null;
  if (hostHeader !== undefined && targetAuthority !== null) return hostHeader.toLowerCase() === targetAuthority.toLowerCase() ? hostHeader : null; // Authority's == ignores case
  return hostHeader ?? targetAuthority;
}
