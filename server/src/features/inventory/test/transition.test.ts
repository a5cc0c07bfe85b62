import { describe, expect, it } from 'vitest';
import { transitionEvent } from '../vms.js';

describe('transitionEvent', () => {
  it('names a crossing between inactive and active for what it was', () => {
    expect(transitionEvent('shutoff', 'running', 'resumed')).toBe('started'); // QEMU's first event on start
    expect(transitionEvent('running', 'shutoff', 'shutdown')).toBe('stopped'); // QEMU's first event on destroy
    expect(transitionEvent('running', 'crashed', 'stopped')).toBe('crashed');
  });
  it("keeps libvirt's name otherwise", () => {
    expect(transitionEvent('running', 'paused', 'suspended')).toBe('suspended');
    expect(transitionEvent('paused', 'running', 'resumed')).toBe('resumed');
    expect(transitionEvent(null, 'shutoff', 'defined')).toBe('defined');
  });
});
