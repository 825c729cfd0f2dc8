// The chart: for every measured row of single checks, throughput and p99 as horizontal bars on
// log scales, side by side, one colour per system, so each gap reads at a glance.
import { formatLatency, formatRate } from './format.js';
import type { ResultRow } from './row.js';
import { sortRows } from './table.js';

const ROW_HEIGHT = 18;
const LABEL_WIDTH = 370;
const PANEL_WIDTH = 330;
const GAP = 40;
const TOP = 56;

const PALETTE = ['#1f6feb', '#8b949e', '#d29922', '#a371f7', '#db6d28', '#3fb950', '#f85149', '#bf4b8a'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function logScale(min: number, max: number, width: number): (v: number) => number {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  return (v) => (hi === lo ? width : ((Math.log10(Math.max(v, min)) - lo) / (hi - lo)) * width);
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

export function renderChart(rows: readonly ResultRow[], title: string, subtitle: string): string {
  // Steady rows run at a rate the bench chose: their throughput says nothing about the system.
  const shown = sortRows(
    rows.filter(
      (r) => r.scenario !== 'lookup' && r.scenario !== 'steady' && r.throughput > 0 && r.errors === 0,
    ),
  );
  const systems = [...new Set(shown.map((r) => r.system.replace(/ \d.*$/, '')))];
  const colour = (r: ResultRow): string =>
    PALETTE[systems.indexOf(r.system.replace(/ \d.*$/, '')) % PALETTE.length]!;
  const tMin = 10 ** Math.floor(Math.log10(Math.min(...shown.map((r) => r.throughput))));
  const tMax = 10 ** Math.ceil(Math.log10(Math.max(...shown.map((r) => r.throughput))));
  const lMin = 10 ** Math.floor(Math.log10(Math.min(...shown.map((r) => Math.max(r.p99Ms, 1e-4)))));
  const lMax = 10 ** Math.ceil(Math.log10(Math.max(...shown.map((r) => r.p99Ms))));
  const tx = logScale(tMin, tMax, PANEL_WIDTH);
  const lx = logScale(lMin, lMax, PANEL_WIDTH);
  const height = TOP + shown.length * ROW_HEIGHT + 40;
  const width = LABEL_WIDTH + 2 * PANEL_WIDTH + GAP + 120;
  const x1 = LABEL_WIDTH;
  const x2 = LABEL_WIDTH + PANEL_WIDTH + GAP + 60;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="34" fill="#57606a">${escapeXml(subtitle)}</text>`,
    `<text x="${x1}" y="${TOP - 6}" font-weight="bold">decisions per second (log scale, longer is better)</text>`,
    `<text x="${x2}" y="${TOP - 6}" font-weight="bold">p99 latency (log scale, shorter is better)</text>`,
  ];
  const bottom = TOP + shown.length * ROW_HEIGHT;
  for (const t of decades(tMin, tMax)) {
    const x = x1 + tx(t);
    out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="#eaeef2"/>`);
    out.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#57606a">${formatRate(t)}</text>`);
  }
  for (const l of decades(lMin, lMax)) {
    const x = x2 + lx(l);
    out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="#eaeef2"/>`);
    out.push(
      `<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#57606a">${escapeXml(formatLatency(l))}</text>`,
    );
  }
  shown.forEach((r, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const label = `${r.system} · ${r.transport}${r.scenario === 'batch' ? ' · batch' : ''} · c=${r.concurrency}`;
    out.push(`<text x="${LABEL_WIDTH - 6}" y="${y + 12}" text-anchor="end">${escapeXml(label)}</text>`);
    const tw = Math.max(1, tx(r.throughput));
    out.push(
      `<rect x="${x1}" y="${y + 3}" width="${tw.toFixed(1)}" height="${ROW_HEIGHT - 6}" fill="${colour(r)}"/>`,
    );
    out.push(`<text x="${x1 + tw + 4}" y="${y + 12}">${formatRate(r.throughput)}</text>`);
    const lw = Math.max(1, lx(r.p99Ms));
    out.push(
      `<rect x="${x2}" y="${y + 3}" width="${lw.toFixed(1)}" height="${ROW_HEIGHT - 6}" fill="${colour(r)}" opacity="0.75"/>`,
    );
    out.push(`<text x="${x2 + lw + 4}" y="${y + 12}">${escapeXml(formatLatency(r.p99Ms))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
