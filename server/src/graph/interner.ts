// The graph's id numbering is the shared one from model/ (the memory store numbers ids with it too).
export { IdInterner, NOT_INTERNED } from '../model/id-interner.js';
