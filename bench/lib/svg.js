// bench/latency.svg: p50 and p99 of the sequential latency runs, one pair of bars per scenario.
// Hand-written SVG, no dependencies.

const esc = (s) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

function niceMax(v) {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

export function latencySvg(results) {
  const rows = results.sequential;
  const labelW = 230;
  const plotW = 470;
  const valueW = 70;
  const top = 58;
  const rowH = 34;
  const barH = 11;
  const width = labelW + plotW + valueW + 10;
  const height = top + rows.length * rowH + 44;
  const max = niceMax(Math.max(...rows.map((r) => r.latency.p99)));
  const x = (v) => labelW + (v / max) * plotW;
  const ticks = 5;
  const m = results.machine;
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>Latency by scenario, p50 and p99 (sequential requests, one keep-alive connection)</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Latency by scenario (ms): p50 and p99</text>`,
    `<text x="10" y="38" fill="#555">${esc(`${rows[0]?.latency.n ?? 0} sequential requests per scenario, one keep-alive connection; ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 10)}`)}</text>`,
  );
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const tx = x(v);
    parts.push(
      `<line x1="${tx.toFixed(1)}" y1="${top - 6}" x2="${tx.toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#e3e3e3"/>`,
      `<text x="${tx.toFixed(1)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${esc(+v.toFixed(2))}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const bar = (v, dy, color) => `<rect x="${labelW}" y="${(y + dy).toFixed(1)}" width="${Math.max(1, x(v) - labelW).toFixed(1)}" height="${barH}" fill="${color}"/>`
      + `<text x="${(x(v) + 4).toFixed(1)}" y="${(y + dy + barH - 1.5).toFixed(1)}" fill="#333" font-size="11">${esc(v.toFixed(2))}</text>`;
    parts.push(
      `<text x="${labelW - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`,
      bar(r.latency.p50, 5, '#2f6db5'),
      bar(r.latency.p99, 5 + barH + 2, '#9cc0e8'),
    );
  });
  const ly = height - 14;
  parts.push(
    `<rect x="${labelW}" y="${ly - 9}" width="12" height="10" fill="#2f6db5"/><text x="${labelW + 16}" y="${ly}">p50</text>`,
    `<rect x="${labelW + 60}" y="${ly - 9}" width="12" height="10" fill="#9cc0e8"/><text x="${labelW + 76}" y="${ly}">p99</text>`,
    `<text x="${labelW + plotW}" y="${ly}" text-anchor="end" fill="#555">ms</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
