// Writes relationship strings with a namespace prefix on every type, the form the API takes.

/** `(type, id)` → `ns/type:id`; `ns` '' leaves types un-prefixed. */
export function namespaced(ns: string): {
  obj(type: string, id: string): string;
  rel(resource: string, relation: string, subject: string): string;
} {
  const prefix = ns === '' ? '' : `${ns}/`;
  return {
    obj: (type, id) => `${prefix}${type}:${id}`,
    rel: (resource, relation, subject) => `${resource}#${relation}@${subject}`,
  };
}
