// W3C trace context (traceparent, tracestate) of the caller's active OpenTelemetry span, for the transports to send.

/** The two members of `@opentelemetry/api` the SDK uses; typed here so the API stays optional. */
interface OpenTelemetryApi {
  readonly context: { active(): unknown };
  readonly propagation: { inject(context: unknown, carrier: Record<string, string>): void };
}

// The API keeps whatever an application registers (context manager, propagator, tracer
// provider) under this global, shared by every copy of the package. While it is absent no
// one uses OpenTelemetry in this process: nothing to propagate, and nothing is loaded.
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

// undefined: not looked for yet; null: not installed where the SDK can resolve it.
let api: OpenTelemetryApi | null | undefined;

function loadApi(): OpenTelemetryApi | null {
  try {
    // Synchronous, so the context is read in the caller's turn (the package ships CommonJS);
    // node:module is reached through the process, so the core keeps no import of its own.
    const nodeModule = globalThis.process?.getBuiltinModule?.('node:module');
    if (nodeModule === undefined) return null;
    return nodeModule.createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
  } catch {
    return null;
  }
}

/**
 * The headers the registered propagator writes for the active context (with the W3C
 * propagator: `traceparent` and, when set, `tracestate`), or undefined when there are none.
 * Call it synchronously in the caller's turn: the active context is the caller's.
 */
export function traceContextHeaders(): Readonly<Record<string, string>> | undefined {
  if ((globalThis as { [GLOBAL_KEY]?: unknown })[GLOBAL_KEY] === undefined) return undefined;
  api ??= loadApi();
  if (api === null) return undefined;
  const carrier: Record<string, string> = {};
  try {
    api.propagation.inject(api.context.active(), carrier);
  } catch {
    return undefined; // a broken propagator must not fail the call it would have annotated
  }
  return Object.keys(carrier).length === 0 ? undefined : carrier;
}
