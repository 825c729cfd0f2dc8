// The gRPC echo server variants e2e-bench.ts can start (echo-variants.ts implements them).
export const VARIANTS = [
  'grpc-js/reflection',
  'grpc-js/no-channelz',
  'grpc-js/static',
  'grpc-js/hand',
  'connect-node',
  'node-http2/reflection',
] as const;

export type Variant = (typeof VARIANTS)[number];
