// Run by postgres-crash.test.ts as a child process, to be killed with SIGKILL: writes ticks of
// VMS VMs through the store as the collector would, with simulated timestamps (a simulated
// second every few ms), and prints each tick's number once write() has returned for it.
import { createPostgresStore } from '../postgres.js';
import { log, snap } from './postgres-fixtures.js';

const [url, start, vms] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const store = createPostgresStore({ db: { url }, log, rollupEveryMs: 0 });
for (let k = 0; ; k++) {
  await store.write(Array.from({ length: vms }, (_, v) => snap(v + 1, start + k * 1000, k)));
  process.stdout.write(`${k}\n`);
  await new Promise((r) => setTimeout(r, 3));
}
