/**
 * QR posters: `npm run qr` writes SVG and PNG files whose QR code, read back from the
 * PNG with a real decoder, is the Telegram deep link for the procedure (or the dossier
 * lookup); without TELEGRAM_BOT_USERNAME the poster says it is a draft.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKnowledgeOrThrow } from '../knowledge/load.ts';
import { procedureIdFromPayload } from '../bot/channels/telegram/render.ts';
import { LOOKUP_PAYLOAD, PLACEHOLDER_BOT, lookupPoster, posterFonts, writePosters } from '../scripts/qr.ts';
import { runScript } from './helpers/staff.ts';

// jsqr is CommonJS with `exports.default`; Node and Vite disagree on where the default lands.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ?? jsqrModule) as typeof jsqrModule.default;

const out = mkdtempSync(join(tmpdir(), 'qr-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function decode(path: string): string | undefined {
  const png = PNG.sync.read(readFileSync(path));
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)?.data;
}

describe('QR posters', () => {
  it('renders a procedure poster whose QR decodes to the deep link', async () => {
    const run = await runScript('qr.ts', ['ho-tich.khai-sinh', '--out', out], { TELEGRAM_BOT_USERNAME: 'TroLyTTHC_test_bot' });
    expect(run.stdout).toMatch(/Đã tạo 1 áp phích \(2 tệp\)/);
    expect(run.code).toBe(0);
    const svg = readFileSync(join(out, 'ho-tich.khai-sinh.svg'), 'utf8');
    expect(svg).toContain('Đăng ký khai sinh');
    expect(svg).not.toContain('BẢN THỬ');
    const url = decode(join(out, 'ho-tich.khai-sinh.png'));
    expect(url).toBe('https://t.me/TroLyTTHC_test_bot?start=ho-tich__khai-sinh');
    // The Telegram adapter's /start handler reads the payload back as the procedure id.
    expect(procedureIdFromPayload(new URL(url as string).searchParams.get('start') ?? '')).toBe('ho-tich.khai-sinh');
  });

  it('without a bot username, marks the poster as a draft; the lookup poster links to the lookup', () => {
    const k = loadKnowledgeOrThrow();
    const files = writePosters(k, [lookupPoster(PLACEHOLDER_BOT, true, k)], out);
    expect(files.map((f) => f.split('/').pop())).toEqual([`${LOOKUP_PAYLOAD}.svg`, `${LOOKUP_PAYLOAD}.png`]);
    const svg = readFileSync(join(out, `${LOOKUP_PAYLOAD}.svg`), 'utf8');
    expect(svg).toContain(k.replies.posterLookupTitle);
    expect(svg).toContain('BẢN THỬ');
    expect(decode(join(out, `${LOOKUP_PAYLOAD}.png`))).toBe(`https://t.me/${PLACEHOLDER_BOT}?start=${LOOKUP_PAYLOAD}`);
  });

  it('has a font with Vietnamese glyphs for the PNG (install fonts-dejavu-core otherwise)', () => {
    expect(posterFonts().length, 'no DejaVu Sans font: apt-get install -y fonts-dejavu-core').toBeGreaterThan(0);
    expect(existsSync(join(out, 'ho-tich.khai-sinh.png'))).toBe(true);
  });
});
