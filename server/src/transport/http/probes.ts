// /healthz, /readyz and /metrics: on the API listener by default, or alone on the health
// listener (--health), so probes and scrapes need no route to the API.
import { Hono } from 'hono';
import type { GatehouseMetrics } from '../../observability/metrics.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export interface ProbeDeps {
  readonly service: Pick<GatehouseService, 'readiness'>;
  readonly metrics: Pick<GatehouseMetrics, 'render'>;
}

/** Add the three probe routes to `app`. */
export function mountProbes(app: Hono, deps: ProbeDeps): void {
  const { service, metrics } = deps;
  app.get('/healthz', () => new Response('{"status":"ok"}', { headers: JSON_HEADERS }));
  app.get('/readyz', () => {
    // 200 while serving, degraded included (the detail says so and by how much); 503 otherwise.
    const readiness = service.readiness();
    return new Response(JSON.stringify(readiness), {
      status: readiness.ready ? 200 : 503,
      headers: JSON_HEADERS,
    });
  });
  app.get('/metrics', async () => {
    const { contentType, body } = await metrics.render();
    return new Response(body, { headers: { 'content-type': contentType } });
  });
}

/** The health listener's app: the probes and nothing else (every other path is 404). */
export function createHealthApp(deps: ProbeDeps): Hono {
  const app = new Hono();
  mountProbes(app, deps);
  app.notFound(
    () =>
      new Response(
        '{"error":{"code":"NOT_FOUND","message":"the health listener serves only /healthz, /readyz and /metrics"}}',
        {
          status: 404,
          headers: JSON_HEADERS,
        },
      ),
  );
  return app;
}
