// The native hash + gzip engine of memory dumps (native/src/gzip_pipeline.cc): SHA-256 of the raw
// bytes in order, gzip members (ISA-L igzip) compressed on threads of its own (at a lower priority
// than the event loop) and written in order, SHA-256 of what was written. It reads a FIFO's
// descriptor itself (JS never sees the bytes) or takes chunks pushed from JS.
import type { NativeGzipEvent, NativeGzipOptions, NativeGzipPipeline } from '@vmpulse/libvirt-native';
import { native } from './native.js';

export type GzipEngineOptions = NativeGzipOptions;
export type GzipEngineEvent = NativeGzipEvent;
export type GzipEngine = NativeGzipPipeline;

/** Starts the engine; `onEvent` hears progress, the input's end, consumed chunks, then `done` or `error` (last, once). */
export const startGzipEngine = (opts: GzipEngineOptions, onEvent: (e: GzipEngineEvent) => void): GzipEngine => native.gzipPipeline(opts, onEvent);
