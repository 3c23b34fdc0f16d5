/**
 * Starting up with a bad setting fails at once with one clear line (no hang, no stack
 * trace), and the web settings (TRUST_PROXY, FRAME_ANCESTORS) are read and refused as
 * an operator would expect.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDataDir, ConfigError, loadConfig } from '../bot/config.ts';

const ROOT = join(import.meta.dirname, '..');

describe('DATA_DIR', () => {
  it('npm start with a DATA_DIR that cannot be a folder exits 2 with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tthc-datadir-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bot', 'main.ts')], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: join(file, 'var'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', KNOWLEDGE_WATCH: 'false' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.signal).toBeNull(); // it did not hang until the timeout
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^DATA_DIR=.*a-file\/var cannot be used \(a file is in the way/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a missing folder and accepts a usable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tthc-datadir-'));
    try {
      expect(() => checkDataDir({ DATA_DIR: join(dir, 'new', 'var') })).not.toThrow();
      expect(() => checkDataDir({ DATA_DIR: dir })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('web settings', () => {
  it('reads TRUST_PROXY as off, on, a hop count or a list of proxies', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).TRUST_PROXY).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(() => loadConfig({ TRUST_PROXY: 'my proxy' })).toThrow(ConfigError);
  });

  it("reads FRAME_ANCESTORS as CSP sources, 'self' by default, and refuses what is not one", () => {
    expect(loadConfig({}).FRAME_ANCESTORS).toEqual(["'self'"]);
    expect(loadConfig({ FRAME_ANCESTORS: "'self' https://dichvucong.example.gov.vn" }).FRAME_ANCESTORS).toEqual(["'self'", 'https://dichvucong.example.gov.vn']);
    expect(loadConfig({ FRAME_ANCESTORS: 'self,https://*.example.gov.vn:8443' }).FRAME_ANCESTORS).toEqual(["'self'", 'https://*.example.gov.vn:8443']);
    expect(loadConfig({ FRAME_ANCESTORS: 'none' }).FRAME_ANCESTORS).toEqual(["'none'"]);
    expect(() => loadConfig({ FRAME_ANCESTORS: "https://a.vn; script-src 'unsafe-inline'" })).toThrow(/FRAME_ANCESTORS/);
    expect(() => loadConfig({ FRAME_ANCESTORS: "'none' https://a.vn" })).toThrow(/FRAME_ANCESTORS/);
  });
});
