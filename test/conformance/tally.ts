// Counts conformance outcomes by feature and renders the table docs/conformance.md keeps.

export type Outcome = 'passed' | 'failed' | 'not importable';

export interface AssertionResult {
  readonly suite: string;
  /** Test or file name. */
  readonly test: string;
  readonly what: string;
  readonly outcome: Outcome;
  readonly features: readonly string[];
  /** Why it failed or could not be imported. */
  readonly detail?: string;
}

export function tallyByFeature(results: readonly AssertionResult[]): Map<string, Record<Outcome, number>> {
  const rows = new Map<string, Record<Outcome, number>>();
  const bump = (feature: string, outcome: Outcome): void => {
    let row = rows.get(feature);
    if (row === undefined) {
      row = { passed: 0, failed: 0, 'not importable': 0 };
      rows.set(feature, row);
    }
    row[outcome]++;
  };
  for (const r of results) {
    bump('(all)', r.outcome);
    for (const f of r.features) bump(f, r.outcome);
  }
  return new Map([...rows].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function renderTable(title: string, results: readonly AssertionResult[]): string {
  const lines = [`${title}`, '', '| feature | passed | failed | not importable |', '|---|---:|---:|---:|'];
  for (const [feature, row] of tallyByFeature(results)) {
    lines.push(`| ${feature} | ${row.passed} | ${row.failed} | ${row['not importable']} |`);
  }
  return lines.join('\n');
}
