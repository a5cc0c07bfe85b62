// Loads the N-API addon (@vmpulse/libvirt-native).
import { createRequire } from 'node:module';
import type { NativeModule } from '@vmpulse/libvirt-native';

// Blocking libvirt calls run on libuv's thread pool (4 threads by default).
// The size is read once, when the pool first starts, so this only helps if
// nothing has used the pool yet; the dependable way is to set
// UV_THREADPOOL_SIZE in the environment of the server process. Core dumps do
// not depend on it: they run on a thread of their own, so jobStats/abortJob
// and stats keep working during a long dump even with a small pool.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '16';

const requireCjs = createRequire(import.meta.url);

export const native: NativeModule = requireCjs('@vmpulse/libvirt-native') as NativeModule;
