/**
 * Stored Zalo session credentials (cookie + imei + user agent from `npm run zalo:login`).
 * They are as good as the hotline's password for as long as the session lives, so the
 * file is written 0600 inside a 0700 folder, atomically, and never logged.
 */
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import type { ZaloCredentials } from './transport.ts';

const cookieList = z.array(z.record(z.string(), z.unknown())).min(1);

const fileSchema = z.object({
  imei: z.string().min(1),
  userAgent: z.string().min(1),
  cookie: z.union([cookieList, z.object({ url: z.string(), cookies: cookieList })]),
  language: z.string().optional(),
  savedAt: z.string().optional(),
});

/** Named error: the credentials file exists but cannot be used. */
export class ZaloCredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZaloCredentialsError';
  }
}

/** Where the credentials live: `ZALO_CREDENTIALS_FILE`, else `${DATA_DIR}/zalo-credentials.json`. */
export function zaloCredentialsPath(config: Pick<Config, 'DATA_DIR' | 'ZALO_CREDENTIALS_FILE'>): string {
  return config.ZALO_CREDENTIALS_FILE ?? join(config.DATA_DIR, 'zalo-credentials.json');
}

/** Where `zalo:login` saves the QR image. */
export function zaloQrPath(config: Pick<Config, 'DATA_DIR'>): string {
  return join(config.DATA_DIR, 'zalo-qr.png');
}

/** The hotline starts when credentials are stored and `ZALO_DISABLED` is not set. */
export function zaloHotlineEnabled(config: Pick<Config, 'DATA_DIR' | 'ZALO_CREDENTIALS_FILE' | 'ZALO_DISABLED'>): boolean {
  return !config.ZALO_DISABLED && existsSync(zaloCredentialsPath(config));
}

/** Reads the credentials; null when the file does not exist. Throws ZaloCredentialsError when it is unusable. */
export async function readZaloCredentials(file: string): Promise<ZaloCredentials | null> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ZaloCredentialsError(`cannot read ${file}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ZaloCredentialsError(`${file} is not JSON`, { cause: err });
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) throw new ZaloCredentialsError(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const { savedAt: _savedAt, ...creds } = r.data;
  return creds;
}

/** True when group or others can read the file (the operator should fix it). */
export async function credentialsTooOpen(file: string): Promise<boolean> {
  try {
    return ((await stat(file)).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/**
 * Saves credentials privately: the folder is created (or tightened) to 0700 and the
 * file is written 0600 under a temporary name, then renamed, so a reader never sees
 * half a file and the secret never exists with looser permissions.
 */
export async function writeZaloCredentials(file: string, creds: ZaloCredentials): Promise<{ warnings: string[] }> {
  const warnings: string[] = [];
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await chmod(dir, 0o700);
  } catch (err) {
    warnings.push(`could not restrict ${dir} to 0700 (${(err as Error).message}); make sure only the assistant's user can read it`);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  const body = JSON.stringify({ ...creds, savedAt: new Date().toISOString() }, null, 2);
  await writeFile(tmp, `${body}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return { warnings };
}
