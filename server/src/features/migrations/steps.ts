// The ordered steps of each kind of job, and how reports move them along. A step is pending,
// running, completed, failed or skipped; exactly the steps before the running one are done.

const JOB_TYPES = ['initial', 'incremental', 'live_migration', 'block_copy', 'save'] as const;
export type JobType = (typeof JOB_TYPES)[number];

const STEP_STATES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
type StepState = (typeof STEP_STATES)[number];

/** The step whose per-disk progress is the job's disks. */
export const DISK_STEP = 'Disk transfer';

export const DEFAULT_STEPS: Record<JobType, readonly string[]> = {
  initial: ['Initialize', DISK_STEP, 'Finalize'],
  incremental: ['Initialize', 'CBT sync', DISK_STEP, 'Finalize'],
  live_migration: ['Initialize', DISK_STEP, 'Memory pre-copy', 'Cutover', 'Finalize'],
  block_copy: ['Initialize', DISK_STEP, 'Finalize'],
  save: ['Initialize', 'Memory transfer', 'Finalize'],
};

export interface Step {
  ordinal: number;
  name: string;
  state: StepState;
  started_at: Date | null;
  finished_at: Date | null;
}

export function initialSteps(names: readonly string[], now: Date): Step[] {
  return names.map((name, ordinal) => ({
    ordinal,
    name,
    state: ordinal === 0 ? 'running' : 'pending',
    started_at: ordinal === 0 ? now : null,
    finished_at: null,
  }));
}

/** Make `name` (matched case-insensitively) the running step; earlier unfinished steps complete. Unknown name: no change. */
export function enterStep(steps: readonly Step[], name: string, now: Date): Step[] {
  const idx = steps.findIndex((s) => s.name.toLowerCase() === name.trim().toLowerCase());
  if (idx < 0) return [...steps];
  const current = steps.findIndex((s) => s.state === 'running');
  if (current > idx) return [...steps]; // never move backwards
  return steps.map((s, i) => {
    if (i < idx && (s.state === 'running' || s.state === 'pending')) return { ...s, state: 'completed', started_at: s.started_at ?? now, finished_at: now };
    if (i === idx && s.state !== 'running') return { ...s, state: 'running', started_at: s.started_at ?? now };
    return s;
  });
}

/** The first step after Initialize: where progress without a phase belongs. */
export const firstWorkStep = (steps: readonly Step[]) => steps[Math.min(1, steps.length - 1)]?.name ?? '';

export function finishSteps(steps: readonly Step[], ok: boolean, now: Date): Step[] {
  const running = steps.findIndex((s) => s.state === 'running');
  return steps.map((s, i) => {
    if (s.state === 'completed' || s.state === 'skipped' || s.state === 'failed') return s;
    if (ok) return { ...s, state: 'completed', started_at: s.started_at ?? now, finished_at: now };
    if (i === running) return { ...s, state: 'failed', finished_at: now };
    return { ...s, state: 'skipped' };
  });
}
