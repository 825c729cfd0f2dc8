// Calls made inside an OpenTelemetry span carry its W3C trace context, as HTTP headers and gRPC metadata.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseClient } from './client.js';
import { createGrpcTransport } from './grpc/index.js';
import { createHttpTransport } from './http/index.js';
import type { FakeServer } from './test-support/fake-backend.js';
import { startFakeGrpcServer } from './test-support/fake-grpc-server.js';
import { startFakeHttpServer } from './test-support/fake-http-server.js';

/** The smallest synchronous context manager: a stack of the contexts `with` entered. */
class StackContextManager implements ContextManager {
  #stack: Context[] = [ROOT_CONTEXT];
  active(): Context {
    return this.#stack.at(-1) ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#stack = [ROOT_CONTEXT];
    return this;
  }
}

/** W3C Trace Context injection (https://www.w3.org/TR/trace-context/), the part a client needs. */
const w3cPropagator: TextMapPropagator = {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (span === undefined || !trace.isSpanContextValid(span)) return;
    const flags = `0${(span.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
    const state = span.traceState?.serialize();
    if (state) setter.set(carrier, 'tracestate', state);
  },
  extract: (ctx) => ctx,
  fields: () => ['traceparent', 'tracestate'],
};

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function inSpan<T>(fn: () => T): T {
  const span = trace.wrapSpanContext({
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
    traceState: {
      set: () => {
        throw new Error('unused');
      },
      unset: () => {
        throw new Error('unused');
      },
      get: () => undefined,
      serialize: () => 'vendor=opaque',
    },
  });
  return context.with(trace.setSpan(context.active(), span), fn);
}

const allowed = { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: 't' } };
const backend = {
  unary: {
    Check: () => allowed,
    CheckBatch: () => ({ results: [allowed, allowed], checkedAt: { token: 't' } }),
    ReadSchema: () => ({ schemaJson: '{}' }),
  },
  stream: {
    LookupResources: async function* () {
      yield { resourceObjectIds: ['a'] };
    },
  },
};

describe('trace context from @opentelemetry/api', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new StackContextManager());
    propagation.setGlobalPropagator(w3cPropagator);
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  describe.each([['grpc'], ['http']] as const)('over %s', (kind) => {
    let server: FakeServer;
    let client: GatehouseClient;
    beforeAll(async () => {
      server = kind === 'grpc' ? await startFakeGrpcServer(backend) : await startFakeHttpServer(backend);
      client = new GatehouseClient(
        kind === 'grpc'
          ? createGrpcTransport({ address: server.address })
          : createHttpTransport({ baseUrl: server.address }),
      );
    });
    afterAll(async () => {
      await client.close();
      await server.close();
    });

    it('sends traceparent and tracestate of the active span with every kind of call', async () => {
      server.calls.length = 0;
      await inSpan(() => client.check('doc:a#view@user:u'));
      await inSpan(() => Promise.all([client.check('doc:a#view@user:u'), client.check('doc:b#view@user:u')]));
      await inSpan(() => client.readSchema());
      await inSpan(() =>
        client.lookupResources({ resourceType: 'doc', permission: 'view', subject: 'user:u' }).toArray(),
      );
      expect(server.calls.map((c) => c.method)).toEqual([
        'Check',
        'CheckBatch',
        'ReadSchema',
        'LookupResources',
      ]);
      for (const call of server.calls) {
        expect([call.method, call.headers.traceparent, call.headers.tracestate]).toEqual([
          call.method,
          `00-${TRACE_ID}-${SPAN_ID}-01`,
          'vendor=opaque',
        ]);
      }
    });

    it('sends no trace context outside a span', async () => {
      server.calls.length = 0;
      await client.check('doc:a#view@user:u');
      expect(server.calls[0]?.headers.traceparent).toBeUndefined();
    });
  });
});

describe('without OpenTelemetry in the process', () => {
  it('loads no @opentelemetry module and sends no trace header', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import { GatehouseClient } from './sdk/src/client.ts';
      const seen = [];
      const transport = {
        async unary(method, request, options) { seen.push(options.traceContext); return { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' }; },
        async *serverStream() {},
        async close() {},
      };
      await new GatehouseClient(transport).check('doc:a#view@user:u');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@opentelemetry'));
      console.log(JSON.stringify({ seen, loaded }));
    `;
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: root },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(output)).toEqual({ seen: [null], loaded: [] });
  });
});
