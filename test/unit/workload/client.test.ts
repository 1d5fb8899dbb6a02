import { describe, expect, it } from 'vitest';
import { parseClientArgs, ResponseTracker } from '../../../src/workload/client.js';

describe('ResponseTracker', () => {
  it('is complete exactly when Content-Length bytes of body arrived, across chunks', () => {
    const t = new ResponseTracker();
    expect(t.add(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'))).toBe(false);
    expect(t.add(Buffer.from('ngth: 5\r\n\r\nab'))).toBe(false);
    expect(t.add(Buffer.from('cd'))).toBe(false);
    expect(t.add(Buffer.from('e'))).toBe(true);
  });
  it('waits for the server to close when there is no Content-Length', () => {
    const t = new ResponseTracker();
    expect(t.add(Buffer.from('HTTP/1.0 200 OK\r\n\r\nhello'))).toBe(false);
    expect(t.add(Buffer.from('more'))).toBe(false);
  });
});

describe('parseClientArgs', () => {
  it('reads the workload knobs (SERVICES, CLIENTS, ...) from the environment', () => {
    const o = parseClientArgs(['--target', '[fd00::1]:80'], { CONN_PER_CLIENT: '50', CLIENT_CONCURRENCY: '5' });
    expect(o).toMatchObject({ host: 'fd00::1', port: 80, connections: 50, concurrency: 5 });
  });
  it('names the bad knob', () => {
    expect(() => parseClientArgs(['--target', '10.0.0.1:80'], { CONN_PER_CLIENT: 'many' })).toThrow(/CONN_PER_CLIENT "many"/);
    expect(() => parseClientArgs(['--target', 'nowhere'])).toThrow(/--target "nowhere"/);
  });
});
