import { describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { Client, Provider, subscriptionExchange } from 'urql';
import { useDumpJobs } from '../useDumpJobs';
import type { DumpJob } from '../../lib/dumps';

/** A urql client whose subscriptions the test feeds by hand (what graphql-ws would deliver). */
function feedClient() {
  const sinks: { next(v: unknown): void }[] = [];
  const client = new Client({
    url: 'http://test/graphql',
    exchanges: [
      subscriptionExchange({
        forwardSubscription: () => ({
          subscribe(sink) {
            sinks.push(sink);
            return { unsubscribe() {} };
          },
        }),
      }),
    ],
  });
  const send = (job: Partial<DumpJob>) =>
    act(() => {
      for (const s of sinks) s.next({ data: { dumpJobUpdated: { __typename: 'DumpJob', createdAt: '2026-11-30T00:00:00Z', vmId: '1', ...job } } });
    });
  const wrapper = ({ children }: { children: ReactNode }) => <Provider value={client}>{children}</Provider>;
  return { send, wrapper, sinks: () => sinks.length };
}

describe('useDumpJobs', () => {
  it('calls onChange when a job appears and at each status change (so the records table shows it running), not on progress', async () => {
    const { send, wrapper, sinks } = feedClient();
    const onChange = vi.fn();
    const { result } = renderHook(() => useDumpJobs(onChange), { wrapper });
    await act(async () => {}); // urql starts the subscription after the render
    expect(sinks()).toBe(1);
    send({ id: '7', status: 'queued' });
    send({ id: '7', status: 'running' });
    send({ id: '7', status: 'running' });
    send({ id: '7', status: 'running' });
    send({ id: '7', status: 'completed' });
    expect(onChange.mock.calls.map(([j]) => (j as DumpJob).status)).toEqual(['queued', 'running', 'completed']);
    expect(result.current.jobs['7']?.status).toBe('completed');
  });
});
