// Bounding how long a caller waits for a libvirt call.
import { LibvirtError, VirFrom } from './errors.js';

/**
 * Rejects with a LibvirtError whose code is 'TIMEOUT' if `promise` has not
 * settled after `ms`. The native worker behind the promise can NOT be
 * cancelled: it keeps its thread (and a connection ref) until libvirt returns,
 * and its eventual result is dropped. Remote connections get libvirt
 * keepalive (5 s × 3), so a dead peer ends such calls within ~20 s.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new LibvirtError('TIMEOUT', VirFrom.NONE, `${what} timed out after ${ms} ms`));
    }, ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
