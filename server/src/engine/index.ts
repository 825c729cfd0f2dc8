// Public surface of the decision engine.
export { createEngine } from './create-engine.js';
export { formatExplanation } from './format-explanation.js';
export type { ReferenceModel } from './reference.js';
export { evaluateReference } from './reference.js';
export * from './types.js';
