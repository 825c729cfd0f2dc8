// Public surface of the policy layer: load, parse and compile policy files into a PolicySet.

export { compileSchema } from '../schema/compile.js';
export { formatExpression } from '../schema/format-expression.js';
export {
  findOrphanedRelationships,
  schemaToJson,
  validateCheckTarget,
  validateRelationship,
  validateSubjectType,
} from '../schema/validate.js';
export { compilePolicySet, loadPolicySet } from './compile-policy-set.js';
export { loadPolicyDirectory } from './load-directory.js';
export type {
  CheckAssertion,
  LookupAssertion,
  PolicyFileSource,
  PolicySet,
  PolicyTestFile,
  PositionedRelationship,
  RelationshipFileRef,
  ResourcesLookupAssertion,
  SubjectsLookupAssertion,
  TestStep,
} from './policy-set.js';
export { policyRelationshipChunks, withRelationshipFiles } from './relationship-file.js';
