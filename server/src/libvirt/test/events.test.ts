import { describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import type { DomainLifecycleEvent } from '../types.js';
import { testDomainXml, uniqueName, waitFor } from './helpers.js';

describe('domain lifecycle events', () => {
  it('delivers defined, started, suspended, resumed, stopped, undefined', async () => {
    const conn = await LibvirtConnection.open('test:///default');
    expect(conn.eventsError).toBeUndefined();
    const events: DomainLifecycleEvent[] = [];
    const name = uniqueName('ev');
    conn.onDomainEvent((e) => {
      if (e.name === name) events.push(e);
    });

    const uuid = await conn.defineXML(testDomainXml(name));
    await conn.create(uuid);
    await conn.suspend(uuid);
    await conn.resume(uuid);
    await conn.destroy(uuid);
    await conn.undefine(uuid);

    const expected = ['defined', 'started', 'suspended', 'resumed', 'stopped', 'undefined'];
    await waitFor(() => events.length >= expected.length);
    expect(events.map((e) => e.event)).toEqual(expected);
    expect(events.every((e) => e.uuid === uuid)).toBe(true);
    expect(typeof events[0]!.detail).toBe('number');
    await conn.close();
  });

  it('a second connection sees the first one’s changes; unsubscribe stops delivery', async () => {
    const a = await LibvirtConnection.open('test:///default');
    const b = await LibvirtConnection.open('test:///default', { readOnly: true });
    const name = uniqueName('ev2');
    const seen: string[] = [];
    const off = b.onDomainEvent((e) => {
      if (e.name === name) seen.push(e.event);
    });
    const uuid = await a.defineXML(testDomainXml(name));
    await waitFor(() => seen.length === 1);
    off();
    await a.undefine(uuid);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['defined']);
    await b.close();
    await a.close();
  });

  it('closing a connection with listeners, then opening again, keeps events working', async () => {
    for (let i = 0; i < 5; i++) {
      const c = await LibvirtConnection.open('test:///default');
      c.onDomainEvent(() => undefined);
      await c.close();
    }
    const c = await LibvirtConnection.open('test:///default');
    const name = uniqueName('ev3');
    const seen: string[] = [];
    c.onDomainEvent((e) => {
      if (e.name === name) seen.push(e.event);
    });
    const uuid = await c.defineXML(testDomainXml(name));
    await c.undefine(uuid);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['defined', 'undefined']);
    await c.close();
  });

  it('connections opened without events do not register', async () => {
    const c = await LibvirtConnection.open('test:///default', { events: false });
    const seen: string[] = [];
    c.onDomainEvent((e) => seen.push(e.event));
    const uuid = await c.defineXML(testDomainXml(uniqueName('ev4')));
    await c.undefine(uuid);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    await c.close();
  });
});
