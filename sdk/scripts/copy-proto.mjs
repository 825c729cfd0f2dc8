// Build step: ship the API contract inside the package (sdk/proto), where the gRPC transport loads it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../proto/gatehouse/v1/gatehouse.proto', import.meta.url));
const target = fileURLToPath(new URL('../proto/gatehouse/v1/gatehouse.proto', import.meta.url));
mkdirSync(fileURLToPath(new URL('../proto/gatehouse/v1/', import.meta.url)), { recursive: true });
copyFileSync(source, target);
