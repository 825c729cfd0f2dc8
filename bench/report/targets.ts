// Where the run stands against the issues' targets, each computed from rows of the same run.
import { formatLatency, formatRate, formatRatio } from './format.js';
import type { ResultRow } from './row.js';

function find(rows: readonly ResultRow[], p: (r: ResultRow) => boolean): ResultRow | undefined {
  return rows.find(p);
}

export function targetLines(rows: readonly ResultRow[]): string[] {
  const out: string[] = [];
  const gh = (transport: string, scenario: string, c: number): ResultRow | undefined =>
    find(
      rows,
      (r) =>
        r.system === 'Gatehouse' &&
        r.transport === transport &&
        r.scenario === scenario &&
        r.concurrency === c,
    );
  const mark = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const levels = [
    ...new Set(
      rows.filter((r) => r.transport === 'grpc' && r.scenario === 'check').map((r) => r.concurrency),
    ),
  ].sort((a, b) => a - b);

  const floorRow = (system: string, transport: string, scenario: string, c: number): ResultRow | undefined =>
    find(
      rows,
      (r) =>
        r.system === system && r.transport === transport && r.scenario === scenario && r.concurrency === c,
    );
  /** Gatehouse minus the floor: the median of paired runs when measured in pairs. */
  const p50Delta = (g: ResultRow, floor: ResultRow): number => g.vsFloor?.p50DeltaMs ?? g.p50Ms - floor.p50Ms;
  const signed = (ms: number): string => `${ms >= 0 ? '+' : '−'}${formatLatency(Math.abs(ms))}`;

  for (const [transport, floorName, share] of [
    ['grpc', 'grpc-js echo', 0.9],
    ['http', 'hono echo', 0.8],
  ] as const) {
    for (const c of levels) {
      const g = gh(transport, 'check', c);
      const floor = floorRow(floorName, transport, 'check', c);
      if (g === undefined || floor === undefined) continue;
      const ratio = g.vsFloor?.throughputRatio ?? g.throughput / floor.throughput;
      const pairs = g.vsFloor === undefined ? '' : ` (median of ${g.vsFloor.pairs} alternating runs)`;
      let p50 = '';
      if (transport === 'grpc') {
        // In a closed loop above one call in flight, p50 is about c ÷ throughput: it restates
        // capacity. Latency is read at a steady load, where both servers have headroom.
        const steady = gh(transport, 'steady', c);
        const steadyFloor = floorRow(floorName, transport, 'steady', c);
        if (c === 1) {
          const d = p50Delta(g, floor);
          p50 = ` p50 ${signed(d)} vs the floor, one call at a time (target ≤ +100 µs): ${mark(d <= 0.1)}.`;
        } else if (steady !== undefined && steadyFloor !== undefined) {
          const d = p50Delta(steady, steadyFloor);
          p50 = ` At a steady ${formatRate(steady.throughput)} checks/s, p50 ${signed(d)} vs the floor's (target ≤ +100 µs): ${mark(d <= 0.1)}.`;
        } else {
          const d = p50Delta(g, floor);
          p50 = ` p50 ${signed(d)} vs the floor in a closed loop (target ≤ +100 µs): ${mark(d <= 0.1)}.`;
        }
      }
      out.push(
        `- Single checks over ${transport}, c=${c}: Gatehouse does ${formatRatio(ratio)} the ${floorName}'s throughput${pairs} (target ≥ ${share}×): ${mark(ratio >= share)}.${p50}`,
      );
    }
  }
  for (const c of levels) {
    for (const transport of ['grpc', 'http']) {
      const g = gh(transport, 'check', c);
      const cerbos = find(
        rows,
        (r) => r.system.startsWith('Cerbos') && r.transport === transport && r.concurrency === c,
      );
      if (g === undefined || cerbos === undefined) continue;
      const ahead = g.throughput > cerbos.throughput && g.p99Ms < cerbos.p99Ms;
      out.push(
        `- vs Cerbos over ${transport}, c=${c}: ${formatRatio(g.throughput / cerbos.throughput)} its throughput, p99 ${g.p99Ms.toFixed(3)} vs ${cerbos.p99Ms.toFixed(3)} ms (target: ahead on both): ${mark(ahead)}.`,
      );
    }
  }
  const batches = rows.filter(
    (r) => r.system === 'Gatehouse' && r.transport === 'grpc' && r.scenario === 'batch',
  );
  if (batches.length > 0) {
    const best = batches.reduce((a, b) => (b.throughput > a.throughput ? b : a));
    out.push(
      `- CheckBatch over gRPC: best ${Math.round(best.throughput).toLocaleString('en-US')} checks/s at c=${best.concurrency} (target ≥ 300,000): ${mark(best.throughput >= 300_000)}.`,
    );
  }
  const engine = find(
    rows,
    (r) => r.system === 'Gatehouse' && r.transport === 'in-process' && r.scenario === 'check',
  );
  if (engine !== undefined) {
    for (const peer of rows.filter(
      (r) => r.transport === 'in-process' && r.scenario === 'check' && r.system !== 'Gatehouse',
    )) {
      out.push(
        `- In-process vs ${peer.system}: Gatehouse engine does ${formatRatio(engine.throughput / peer.throughput)} its checks/s (target: ahead): ${mark(engine.throughput > peer.throughput)}.`,
      );
    }
  }
  for (const scenario of ['lookup', 'batch'] as const) {
    const g = find(
      rows,
      (r) => r.system === 'Gatehouse' && r.transport === 'in-process' && r.scenario === scenario,
    );
    const s = find(rows, (r) => r.system.startsWith('SpiceDB') && r.scenario === scenario);
    if (g === undefined || s === undefined) continue;
    out.push(
      `- ${scenario === 'lookup' ? 'LookupResources' : 'Bulk check'} vs SpiceDB (embedded dev memdb, same data, in-process both): ${formatRatio(g.throughput / s.throughput)} its rate (target: ahead): ${mark(g.throughput > s.throughput)}.`,
    );
  }
  return out;
}
