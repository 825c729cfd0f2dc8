// `gatehouse serve --help` text, generated from the option table.
import { DEFAULT_CONFIG } from './config.js';
import { formatListenAddress } from './listen-address.js';
import { OPTIONS } from './options.js';

function defaultText(key: string): string {
  const value = key
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], DEFAULT_CONFIG);
  if (value === undefined) return '';
  if (typeof value === 'object' && value !== null && 'kind' in value) {
    return ` (default ${formatListenAddress(value as Parameters<typeof formatListenAddress>[0])})`;
  }
  return ` (default ${String(value)})`;
}

/** The help text: every flag with its env variable, default and meaning. */
export function serveUsage(): string {
  const lines = [
    'Usage: gatehouse serve [flags]',
    '',
    'Flags (each also settable by env; precedence flags > env > --config file > defaults):',
  ];
  lines.push('  --config FILE                      YAML config file (env GATEHOUSE_CONFIG)');
  for (const o of OPTIONS) {
    const flag = o.flag === undefined ? '(env only)' : `--${o.flag}${o.kind === 'boolean' ? '' : ' VALUE'}`;
    lines.push(`  ${flag.padEnd(34)} ${o.description}${defaultText(o.key)} [${o.env}]`);
  }
  return `${lines.join('\n')}\n`;
}
