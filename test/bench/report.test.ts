// The reports: ratios compare like with like, RESULTS.md keeps the engine bench's section
// verbatim while replacing its own, and the chart draws one bar pair per measured row.
import { describe, expect, it } from 'vitest';
import {
  COMPONENTS_SECTION,
  ENGINE_SECTION,
  type ResultsContext,
  renderResults,
} from '../../bench/report/results-md.js';
import { type ResultRow, ratioToGatehouse } from '../../bench/report/row.js';
import { renderChart } from '../../bench/report/svg-chart.js';
import { targetLines } from '../../bench/report/targets.js';

function row(
  system: string,
  transport: string,
  concurrency: number,
  throughput: number,
  p99Ms = 1,
): ResultRow {
  return {
    system,
    transport,
    scenario: 'check',
    concurrency,
    throughput,
    p50Ms: p99Ms / 2,
    p99Ms,
    p999Ms: p99Ms * 2,
    errors: 0,
  };
}

const ROWS: ResultRow[] = [
  row('Gatehouse', 'grpc', 16, 8_000, 3),
  row('grpc-js echo', 'grpc', 16, 10_000, 2),
  row('Cerbos 0.55.0', 'grpc', 16, 2_000, 9),
  row('Gatehouse', 'http', 16, 4_000),
  row('Gatehouse', 'grpc unix', 16, 12_000),
  row('grpc-js echo', 'grpc unix', 16, 15_000),
];

function context(rows: readonly ResultRow[]): ResultsContext {
  return {
    command: 'npm run bench:compare',
    dataset: 'group-visibility',
    datasetDetail: '1,000,000 relationships',
    rows,
    notes: ['casbin skipped: offline'],
    versions: new Map([['Cerbos', '0.55.0']]),
    durationMs: 5000,
    warmupMs: 1000,
    date: '2026-11-22T23:00:00Z',
    load: '1.00 / 1.00 / 1.00',
  };
}

describe('ratios to Gatehouse', () => {
  it('divide by Gatehouse on the same transport and concurrency', () => {
    expect(ratioToGatehouse(ROWS[1]!, ROWS)).toBeCloseTo(1.25);
    expect(ratioToGatehouse(ROWS[2]!, ROWS)).toBeCloseTo(0.25);
    // A Unix-socket floor is compared with Gatehouse on Unix sockets...
    expect(ratioToGatehouse(ROWS[5]!, ROWS)).toBeCloseTo(1.25);
    // ...and Gatehouse's own Unix row with its TCP row.
    expect(ratioToGatehouse(ROWS[4]!, ROWS)).toBeCloseTo(1.5);
    expect(ratioToGatehouse(row('hono echo', 'http', 64, 1), ROWS)).toBeUndefined();
  });

  it('state each target as met or not from rows of the same run', () => {
    const lines = targetLines(ROWS).join('\n');
    expect(lines).toMatch(
      /over grpc, c=16: Gatehouse does 0\.80× the grpc-js echo's throughput \(target ≥ 0\.9×\): \*\*not met\*\*/,
    );
    expect(lines).toMatch(
      /vs Cerbos over grpc, c=16: 4\.00× its throughput, p99 3\.000 vs 9\.000 ms .*: met/,
    );
  });
});

describe('targets from paired and steady rows', () => {
  const paired: ResultRow[] = [
    // The medians of the rows alone say 0.80×; the pairs, run seconds apart, say 0.95×.
    {
      ...row('Gatehouse', 'grpc', 16, 8_000, 3),
      vsFloor: { system: 'grpc-js echo', throughputRatio: 0.95, p50DeltaMs: 0.4, pairs: 3 },
    },
    row('grpc-js echo', 'grpc', 16, 10_000, 2),
    {
      ...row('Gatehouse', 'grpc', 16, 4_980, 1),
      scenario: 'steady',
      p50Ms: 0.45,
      vsFloor: { system: 'grpc-js echo', throughputRatio: 1, p50DeltaMs: 0.06, pairs: 3 },
    },
    { ...row('grpc-js echo', 'grpc', 16, 5_000, 1), scenario: 'steady', p50Ms: 0.39 },
  ];

  it('read throughput from the pairs and p50 at the steady load', () => {
    const lines = targetLines(paired).join('\n');
    expect(lines).toMatch(
      /over grpc, c=16: Gatehouse does 0\.95× the grpc-js echo's throughput \(median of 3 alternating runs\) \(target ≥ 0\.9×\): met\./,
    );
    expect(lines).toMatch(
      /At a steady 4\.98k checks\/s, p50 \+60\.0 µs vs the floor's \(target ≤ \+100 µs\): met\./,
    );
  });

  it('fall back to the closed-loop p50 when no steady rows ran, and mark it', () => {
    const lines = targetLines(paired.slice(0, 2)).join('\n');
    expect(lines).toMatch(
      /p50 \+400 µs vs the floor in a closed loop \(target ≤ \+100 µs\): \*\*not met\*\*/,
    );
  });

  it('get their own RESULTS.md section and stay out of the chart', () => {
    const text = renderResults(context(paired), undefined);
    expect(text).toMatch(/## Latency at a steady load\n\n[^\n]+\n\n\| system/);
    expect(text).toMatch(/\| Gatehouse +\| grpc +\| steady +\| +16 \|/);
    const svg = renderChart(paired, 'title', 'subtitle');
    expect(svg.match(/<rect x=/g)).toHaveLength(2 * 2);
  });
});

describe('RESULTS.md', () => {
  const existing = `# Benchmark results\n\nold header\n\n${ENGINE_SECTION}\n\nengine numbers | 2.1M/s\n\n${COMPONENTS_SECTION}\n\nstore: 104 B/rel\n\n## Service: single checks over gRPC and HTTP\n\nstale table\n`;

  it('keeps the engine and components sections verbatim and replaces everything else', () => {
    const text = renderResults(context(ROWS), existing);
    expect(text).toContain(`${ENGINE_SECTION}\n\nengine numbers | 2.1M/s\n`);
    expect(text).toContain(`${COMPONENTS_SECTION}\n\nstore: 104 B/rel\n`);
    expect(text).not.toContain('stale table');
    expect(text).not.toContain('old header');
    expect(text).toContain('Produced by `npm run bench:compare`');
    expect(text).toMatch(/\| Cerbos 0\.55\.0 +\| grpc +\| check +\| +16 \|/);
    expect(text).toContain('- casbin skipped: offline');
  });

  it('leaves a placeholder for the engine section when there is none yet, and no components section', () => {
    const text = renderResults(context(ROWS), undefined);
    expect(text).toContain(`${ENGINE_SECTION}\n\nWritten by the engine bench`);
    expect(text).not.toContain(COMPONENTS_SECTION);
  });
});

describe('chart', () => {
  it('draws a throughput bar and a p99 bar for every row without errors', () => {
    const svg = renderChart([...ROWS, { ...row('broken', 'grpc', 1, 5), errors: 3 }], 'title', 'subtitle');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(ROWS.length * 2);
    expect(svg).toContain('Cerbos 0.55.0 · grpc · c=16');
    expect(svg).not.toContain('broken');
  });
});
