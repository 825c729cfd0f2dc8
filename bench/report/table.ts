// The results as one text table (stdout) and as Markdown tables (RESULTS.md), in a fixed order:
// scenario, transport, concurrency, then Gatehouse first.
import { formatLatency, formatRate, formatRatio } from './format.js';
import { type ResultRow, ratioToGatehouse, type Scenario } from './row.js';

const SCENARIO_ORDER: Record<Scenario, number> = { check: 0, steady: 1, batch: 2, lookup: 3 };
const TRANSPORT_ORDER = ['in-process', 'grpc', 'http', 'grpc unix', 'http unix'];

export function sortRows(rows: readonly ResultRow[]): ResultRow[] {
  const rank = (r: ResultRow): number => (r.system === 'Gatehouse' ? 0 : r.system.includes('echo') ? 1 : 2);
  return [...rows].sort(
    (a, b) =>
      SCENARIO_ORDER[a.scenario] - SCENARIO_ORDER[b.scenario] ||
      TRANSPORT_ORDER.indexOf(a.transport) - TRANSPORT_ORDER.indexOf(b.transport) ||
      a.concurrency - b.concurrency ||
      rank(a) - rank(b) ||
      a.system.localeCompare(b.system),
  );
}

const HEADERS = [
  'system',
  'transport',
  'scenario',
  'conc.',
  'per second',
  'p50',
  'p99',
  'p99.9',
  '× Gatehouse',
  'errors',
];

function cells(row: ResultRow, all: readonly ResultRow[]): string[] {
  return [
    row.system,
    row.transport,
    row.scenario,
    String(row.concurrency),
    `${formatRate(row.throughput)}${row.scenario === 'lookup' ? ' lookups' : ' checks'}`,
    formatLatency(row.p50Ms),
    formatLatency(row.p99Ms),
    formatLatency(row.p999Ms),
    formatRatio(ratioToGatehouse(row, all)),
    String(row.errors),
  ];
}

export function textTable(rows: readonly ResultRow[]): string {
  const sorted = sortRows(rows);
  const body = sorted.map((r) => cells(r, rows));
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    c.map((v, i) => (i >= 3 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A Markdown table, cells padded the way the repository's formatter (biome) lays them out. */
export function markdownTable(rows: readonly ResultRow[], all: readonly ResultRow[] = rows): string {
  const head = [...HEADERS, 'note'];
  const right = (i: number): boolean => i >= 3 && i < HEADERS.length;
  const body = sortRows(rows).map((r) => [...cells(r, all), r.note ?? '']);
  const widths = head.map((h, i) => Math.max(3, h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    `| ${c.map((v, i) => (right(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...body.map(line)].join('\n');
}
