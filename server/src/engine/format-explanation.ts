// Renders an Explanation as indented text for people (`gatehouse check` prints it): one line per
// step, ✓ for steps that held, ✗ for steps that did not, ? for conditional ones.
import type { ExplainNode, Explanation } from './types.js';

const INDENT = '  ';

function describe(node: ExplainNode): string {
  switch (node.kind) {
    case 'permission':
    case 'relation':
      return `${node.object}#${node.label} (${node.kind})`;
    case 'arrow':
      return `${node.object} ${node.label}`;
    case 'union':
      return 'any of (or)';
    case 'intersection':
      return 'all of (and)';
    case 'exclusion':
      return node.children.length > 1
        ? 'first but not second (but not)'
        : 'first but not second (but not): first is false';
    case 'direct':
      return node.label;
    case 'cycle':
      return `${node.object}#${node.label} (cycle: already being evaluated, counts as false here)`;
  }
}

/**
 * Example:
 * ```
 * allowed: contact:prospect1#view@user:mike
 * ✓ contact:prospect1#view (permission)
 *   ✓ any of (or)
 *     ✗ contact:prospect1#owner (relation)
 *     ✓ contact:prospect1#viewer (relation)
 *       ✓ contact:prospect1#viewer@group:marketing#member
 *         ✓ group:marketing#member (relation)
 *           ✓ group:marketing#member@user:mike
 * ```
 * `heading` (such as the check tuple) is printed after the verdict on the first line.
 */
export function formatExplanation(explanation: Explanation, heading?: string): string {
  const verdict =
    explanation.permissionship === 'conditional'
      ? `conditional (missing ${(explanation.missingContext ?? []).join(', ')})`
      : explanation.allowed
        ? 'allowed'
        : 'denied';
  const lines = [`${verdict}${heading === undefined ? '' : `: ${heading}`}`];
  // Explicit stack: explanation trees of deep group chains must not overflow the call stack.
  const stack: [ExplainNode, number][] = [[explanation.root, 0]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    const mark = node.conditional === true ? '?' : node.result ? '✓' : '✗';
    const detail = node.detail === undefined ? '' : ` — ${node.detail}`;
    lines.push(`${INDENT.repeat(level)}${mark} ${describe(node)}${detail}`);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push([node.children[i]!, level + 1]);
  }
  return lines.join('\n');
}
