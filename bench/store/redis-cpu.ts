// Redis's own CPU, for benches that divide it by the work they asked of it.
import type { Redis } from 'ioredis';

/** redis-server's user + system CPU seconds so far (INFO cpu); NaN when it does not say. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  return user + sys;
}
