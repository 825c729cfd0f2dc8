// The bench's flags: defaults that match the documented one-command runs, and every problem
// reported at once with the usage.
import { describe, expect, it } from 'vitest';
import { OptionsError, parseBenchOptions } from '../../bench/cli/options.js';

describe('bench flags', () => {
  it('default to the documented run: size M, peers at S, 1/16/64, all scenarios, no peers without --compare', () => {
    const o = parseBenchOptions([]);
    expect(o.size).toBe(1_000_000);
    expect(o.peerSize).toBe(10_000);
    expect(o.concurrency).toEqual([1, 16, 64]);
    expect([...o.scenarios]).toEqual([
      'engine',
      'grpc',
      'http',
      'batch',
      'steady',
      'lookup',
      'unix',
      'floor',
    ]);
    expect(o.steadyLoad).toBe(0.5);
    expect(o.peers.size).toBe(0);
    expect(o.command).toBe('npm run bench');
  });

  it('turn on every peer with --compare and record the exact command', () => {
    const o = parseBenchOptions(['--compare', '--size', 'S', '--repeat', '3']);
    expect([...o.peers]).toEqual(['cerbos', 'spicedb', 'casbin', 'cedar', 'casl']);
    expect(o.size).toBe(10_000);
    expect(o.repeat).toBe(3);
    expect(o.command).toBe('npm run bench:compare -- --size S --repeat 3');
  });

  it('report every bad flag value together', () => {
    const parse = (): unknown =>
      parseBenchOptions([
        '--size',
        'XL',
        '--concurrency',
        '1,0',
        '--scenarios',
        'grpc,smoke',
        '--server',
        'docker',
        '--steady-load',
        '1.5',
      ]);
    expect(parse).toThrow(OptionsError);
    let message = '';
    try {
      parse();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/--size: size 'XL' is not S, M, L/);
    expect(message).toMatch(/--concurrency '0' must be a positive integer/);
    expect(message).toMatch(/--scenarios 'smoke' is not one of engine, grpc/);
    expect(message).toMatch(/--server 'docker' must be dist or src/);
    expect(message).toMatch(/--steady-load '1.5' must be a number above 0 and at most 1/);
    expect(message).toMatch(/Usage: npm run bench/);
  });
});
