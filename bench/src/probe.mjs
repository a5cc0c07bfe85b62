// Preloaded into the server under test (`node --import bench/src/probe.mjs server/dist/src/main.js`):
// measures the server's own event-loop delay, RSS and CPU without touching server code, and answers
// the bench over the IPC channel. Plain JS so the server process does not load tsx.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';

if (typeof process.send === 'function') {
  const RESOLUTION_MS = 5;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  let rssMax = 0;
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const sampleRss = () => (rssMax = Math.max(rssMax, process.memoryUsage.rss()));
  const rssTimer = setInterval(sampleRss, 250);
  rssTimer.unref();
  const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;

  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object' || !('probe' in msg)) return;
    sampleRss();
    if (msg.probe === 'reset') {
      h.reset();
      rssMax = process.memoryUsage.rss();
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      process.send({ probe: 'reset', id: msg.id });
      return;
    }
    if (msg.probe === 'snapshot') {
      // A V8 heap snapshot (stops the server for seconds: exploration only, --heap-snapshots)
      const file = v8.writeHeapSnapshot(msg.path);
      process.send({ probe: 'snapshot', id: msg.id, file });
      return;
    }
    const cpu = process.cpuUsage(cpu0);
    const mem = process.memoryUsage();
    const space = (name) => v8.getHeapSpaceStatistics().find((s) => s.space_name === name);
    const mib = (b) => Math.round(((b ?? 0) / 2 ** 20) * 10) / 10;
    process.send({
      probe: 'read',
      id: msg.id,
      // The histogram records how late each RESOLUTION_MS timer fired beyond RESOLUTION_MS.
      eventLoop: { resolutionMs: RESOLUTION_MS, maxMs: ms(h.max), p99Ms: ms(h.percentile(99)), p50Ms: ms(h.percentile(50)), meanMs: ms(h.mean), samples: h.count },
      rssMaxMiB: Math.round((rssMax / 2 ** 20) * 10) / 10,
      rssMiB: Math.round((mem.rss / 2 ** 20) * 10) / 10,
      heapUsedMiB: Math.round((mem.heapUsed / 2 ** 20) * 10) / 10,
      // where the RSS goes: V8's heap (committed), the young generation's share of it, and memory
      // outside it (Buffers/ArrayBuffers count in external); the rest is native (libvirt, glibc arenas, Node)
      memory: { heapTotalMiB: mib(mem.heapTotal), newSpaceMiB: mib(space('new_space')?.space_size), externalMiB: mib(mem.external), arrayBuffersMiB: mib(mem.arrayBuffers) },
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      wallMs: Math.round(performance.now() - t0),
    });
  });
  // The IPC channel must not keep the server alive on shutdown.
  process.channel?.unref();
}
