// When each host's collection first ticks: the loop staggers hosts over one interval so their CPU
// spreads instead of landing all at once. Small hosts share a phase: each tick of a host wakes the
// process, its timers and the libvirt call's threads once more, so twelve 1-VM hosts ticking apart
// cost ~0.8 ms more CPU per host per tick than ticking together (bench/README.md, "Per-host fixed
// cost"), and spreading them buys nothing: a phase of small hosts holds no more VMs than a big
// host's tick handles between two yields to the event loop.
import { CHUNK } from '../../../lib/yield.js';

/**
 * Hosts that share a phase hold at most this many VMs between them; a bigger host has a phase of its own.
 * @internal exported for tests only: its unit test builds hosts around it
 */
export const PHASE_VMS = CHUNK;

/**
 * When each host first ticks, ms into the interval: hosts, in order, fill phases of at most
 * PHASE_VMS VMs, and the phases spread evenly over the interval (the first at once). Each phase keeps
 * its offset: the loop gives it one timer on a fixed grid, and its hosts start their ticks together.
 */
export function phaseOffsetsMs(vmCounts: readonly number[], intervalMs: number): number[] {
  const phaseOf: number[] = [];
  let phase = 0;
  let inPhase = 0;
  for (const vms of vmCounts) {
    if (inPhase > 0 && inPhase + vms > PHASE_VMS) {
      phase++;
      inPhase = 0;
    }
    phaseOf.push(phase);
    inPhase += vms;
  }
  const phases = phase + 1;
  return phaseOf.map((p) => Math.floor((p * intervalMs) / phases));
}
