// Small inline-SVG charts for the self-contained demo report: no script, no external resource, no
// inline style attribute (the page's CSP allows only its one hashed <style> block), colours by
// CSS class so that the page's light and dark schemes both apply. Every text is escaped.

export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const f = (x: number) => (Math.round(x * 10) / 10).toString();

export interface IntervalBar {
  label: string;
  value: number;
  low: number;
  high: number;
  /** a second marker (e.g. the stronger control's shift) */
  marker?: number;
  /** CSS class of the bar (e.g. risk-high) */
  cls: string;
}

/** Horizontal bars with interval whiskers around a zero line; values in the same unit as `unit`. */
export function intervalBars(rows: IntervalBar[], options: { title: string; unit: string; width?: number }): string {
  const width = options.width ?? 640;
  const labelW = 190;
  const rowH = 22;
  const top = 26;
  const height = top + rows.length * rowH + 26;
  const values = rows.flatMap((r) => [r.low, r.high, r.value, r.marker ?? 0, 0]).filter(Number.isFinite);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * (width - labelW - 10);
  const parts: string[] = [];
  parts.push(`<text class="title" x="0" y="16">${esc(options.title)}</text>`);
  parts.push(`<line class="axis" x1="${f(x(0))}" y1="${top - 4}" x2="${f(x(0))}" y2="${height - 22}"/>`);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const a = x(Math.min(0, r.value));
    const b = x(Math.max(0, r.value));
    parts.push(`<text class="label" x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(
      `<rect class="bar ${esc(r.cls)}" x="${f(a)}" y="${y + 4}" width="${f(Math.max(1, b - a))}" height="${rowH - 8}"><title>${esc(`${r.label}: ${f(r.value)} ${options.unit} [${f(r.low)}, ${f(r.high)}]`)}</title></rect>`,
    );
    if (Number.isFinite(r.low) && Number.isFinite(r.high))
      parts.push(`<line class="whisker" x1="${f(x(r.low))}" y1="${y + rowH / 2}" x2="${f(x(r.high))}" y2="${y + rowH / 2}"/>`);
    if (r.marker !== undefined && Number.isFinite(r.marker)) parts.push(`<path class="marker" d="M${f(x(r.marker))} ${y + 3} l4 6 l-4 6 l-4 -6 z"/>`);
  });
  const ticks = niceTicks(lo, hi, 5);
  for (const t of ticks) parts.push(`<text class="tick" x="${f(x(t))}" y="${height - 6}" text-anchor="middle">${esc(Number(t.toPrecision(3)))}</text>`);
  parts.push(`<text class="tick" x="${width - 4}" y="${height - 6}" text-anchor="end">${esc(options.unit)}</text>`);
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">${parts.join('')}</svg>`;
}

export interface Segment {
  label: string;
  value: number;
  cls: string;
}

/** One row of stacked horizontal bars per item (counts or shares), with a legend. */
export function stackedBars(rows: { label: string; segments: Segment[] }[], options: { title: string; width?: number; normalise?: boolean }): string {
  const width = options.width ?? 640;
  const labelW = 190;
  const rowH = 22;
  const top = 26;
  const legend = [...new Map(rows.flatMap((r) => r.segments).map((s) => [s.label, s.cls])).entries()];
  const height = top + rows.length * rowH + 30;
  const max = Math.max(1e-9, ...rows.map((r) => r.segments.reduce((s, g) => s + g.value, 0)));
  const parts: string[] = [`<text class="title" x="0" y="16">${esc(options.title)}</text>`];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const total = r.segments.reduce((s, g) => s + g.value, 0);
    const scale = (width - labelW - 60) / (options.normalise ? Math.max(1e-9, total) : max);
    let at = labelW;
    parts.push(`<text class="label" x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(r.label)}</text>`);
    for (const s of r.segments) {
      const w = s.value * scale;
      if (w > 0)
        parts.push(
          `<rect class="bar ${esc(s.cls)}" x="${f(at)}" y="${y + 4}" width="${f(w)}" height="${rowH - 8}"><title>${esc(`${r.label}: ${s.label} ${options.normalise ? `${f(100 * s.value)}%` : s.value}`)}</title></rect>`,
        );
      at += w;
    }
    parts.push(`<text class="tick" x="${f(at + 4)}" y="${y + 14}">${esc(options.normalise ? '' : String(total))}</text>`);
  });
  let lx = labelW;
  for (const [label, cls] of legend) {
    parts.push(
      `<rect class="bar ${esc(cls)}" x="${lx}" y="${height - 18}" width="10" height="10"/><text class="tick" x="${lx + 14}" y="${height - 9}">${esc(label)}</text>`,
    );
    lx += 22 + label.length * 7;
  }
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">${parts.join('')}</svg>`;
}

/** A line chart of y against x with points; `flags` marks points (e.g. the chosen alpha). */
export function lineChart(
  points: { x: number; y: number; flag?: boolean; bad?: boolean }[],
  options: { title: string; xLabel: string; yLabel: string; width?: number; height?: number },
): string {
  const width = options.width ?? 320;
  const height = options.height ?? 180;
  const left = 44;
  const bottom = height - 30;
  const top = 26;
  if (points.length === 0) return '';
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  let [y0, y1] = [Math.min(...ys, 0), Math.max(...ys, 0)];
  if (y1 - y0 < 1e-9) y1 = y0 + 1;
  const X = (v: number) => left + ((v - x0) / Math.max(1e-9, x1 - x0)) * (width - left - 10);
  const Y = (v: number) => bottom - ((v - y0) / (y1 - y0)) * (bottom - top);
  const parts: string[] = [`<text class="title" x="0" y="16">${esc(options.title)}</text>`];
  parts.push(`<line class="axis" x1="${left}" y1="${f(Y(0))}" x2="${width - 10}" y2="${f(Y(0))}"/>`);
  parts.push(`<polyline class="line" points="${points.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(' ')}"/>`);
  for (const p of points)
    parts.push(
      `<circle class="${p.flag ? 'point chosen' : p.bad ? 'point bad' : 'point'}" cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="${p.flag ? 5 : 3}"><title>${esc(`${options.xLabel} ${p.x}: ${options.yLabel} ${p.y.toFixed(3)}`)}</title></circle>`,
    );
  for (const p of points) parts.push(`<text class="tick" x="${f(X(p.x))}" y="${height - 14}" text-anchor="middle">${esc(p.x)}</text>`);
  for (const t of niceTicks(y0, y1, 3))
    parts.push(`<text class="tick" x="${left - 4}" y="${f(Y(t) + 4)}" text-anchor="end">${esc(Number(t.toPrecision(3)))}</text>`);
  parts.push(`<text class="tick" x="${width - 10}" y="${height - 2}" text-anchor="end">${esc(options.xLabel)}</text>`);
  parts.push(`<text class="tick" x="${left}" y="${top - 2}">${esc(options.yLabel)}</text>`);
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">${parts.join('')}</svg>`;
}

export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) out.push(Math.abs(t) < 1e-12 ? 0 : t);
  return out;
}
