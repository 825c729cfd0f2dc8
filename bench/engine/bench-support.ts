// Helpers shared by the single-process benches (bench/engine, bench/store): size flags and
// forced collections for memory figures.

const SIZES: Record<string, number> = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000, '10m': 10_000_000 };

/** `--size` as a relationship count: 10k, 100k, 1m, 10m or a number (underscores allowed). */
export function parseSize(text: string): number {
  const n = SIZES[text.toLowerCase()] ?? Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 100)
    throw new Error(`--size '${text}' is not 10k, 100k, 1m, 10m or a count >= 100`);
  return n;
}

/** `passes` full collections; memory figures are meaningless without them. */
export function gc(passes = 2): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined)
    throw new Error('run with --expose-gc: memory figures need explicit collections');
  for (let i = 0; i < passes; i++) collect();
}
