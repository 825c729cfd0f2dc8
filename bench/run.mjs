// Entry point of `npm run bench` / `npm run bench:compare`: runs the TypeScript bench through tsx
// so no build step is needed for the bench itself (the server it measures is server/dist).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./cli/main.ts', import.meta.url));
const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
