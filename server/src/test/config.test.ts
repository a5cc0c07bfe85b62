import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, safeConfig } from '../config.js';

describe('config', () => {
  it('has the documented defaults and units', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8000);
    expect(c.POLL_INTERVAL).toBe(1);
    expect(c.BATCH_MAX_LINES).toBe(2000);
    expect(c.DEVICE_CACHE_TTL).toBe(300);
    expect(c.LIBVIRT_TIMEOUT).toBe(30);
    expect(c.AUTH).toBe('on');
    expect(c.LIBVIRT_URI).toBeUndefined();
    expect(c.DATA_DIR).toMatch(/\/data$/);
  });

  it('splits LIBVIRT_URI into one URI per host', () => {
    expect(loadConfig({ LIBVIRT_URI: 'qemu+ssh://oneadmin@192.168.0.104/system, qemu:///system' }).LIBVIRT_URI).toEqual([
      'qemu+ssh://oneadmin@192.168.0.104/system',
      'qemu:///system',
    ]);
  });

  it('stops on a bad value with a message naming each variable', () => {
    const bad = () => loadConfig({ PORT: 'eighty', POLL_INTERVAL: '-1', AUTH: 'maybe', LIBVIRT_URI: 'not a uri', INFLUX_URL: 'localhost:8181', INFLUX_DB: 'vm stats' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      const msg = (err as Error).message;
      for (const name of ['PORT', 'POLL_INTERVAL', 'AUTH', 'LIBVIRT_URI', 'INFLUX_URL', 'INFLUX_DB']) expect(msg).toContain(name);
    }
  });

  it('shows secrets as *** in the safe view', () => {
    const c = loadConfig({
      INFLUX_TOKEN: 'apiv3_secret',
      VMPULSE_ADMIN_TOKEN: 'admin-secret-123',
      DATABASE_URL: 'postgresql://u:hunter2@db:5432/vmpulse',
      INFLUX_URL: 'http://127.0.0.1:8181',
    });
    const view = safeConfig(c);
    expect(view.INFLUX_TOKEN).toBe('***');
    expect(view.VMPULSE_ADMIN_TOKEN).toBe('***');
    expect(view.DATABASE_URL).toBe('postgresql://u:***@db:5432/vmpulse');
    expect(view.INFLUX_URL).toBe('http://127.0.0.1:8181');
    expect(JSON.stringify(view)).not.toMatch(/hunter2|apiv3_secret|admin-secret/);
  });
});
