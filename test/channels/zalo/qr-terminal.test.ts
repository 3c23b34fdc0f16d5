/**
 * The login QR drawn in a terminal must be the same code as the PNG: real PNGs from
 * the `qrcode` package (RGBA, adaptive filters) and hand-built grayscale/palette PNGs
 * are read back module for module, and the drawing is read back from its characters.
 */
import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { decodePng, qrModules, qrPngToTerminal, renderQrForTerminal } from '../../../bot/channels/zalo/qr-terminal.ts';

function expected(text: string): boolean[][] {
  const m = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  return Array.from({ length: m.size }, (_, r) => Array.from({ length: m.size }, (_, c) => m.get(r, c) === 1));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A minimal PNG encoder: grayscale 1-bit (filter Up) or palette 8-bit (filter Sub). */
function encode(modules: boolean[][], scale: number, margin: number, format: 'gray1' | 'palette8'): Buffer {
  const size = (modules.length + 2 * margin) * scale;
  const darkAt = (x: number, y: number): boolean => modules[Math.floor(y / scale) - margin]?.[Math.floor(x / scale) - margin] ?? false;
  const stride = format === 'gray1' ? Math.ceil(size / 8) : size;
  const rows: Buffer[] = [];
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < size; y++) {
    const line = Buffer.alloc(stride);
    for (let x = 0; x < size; x++) {
      if (format === 'gray1') {
        if (!darkAt(x, y)) line[x >> 3] = (line[x >> 3] as number) | (0x80 >> (x & 7));
      } else line[x] = darkAt(x, y) ? 1 : 0;
    }
    const filtered = Buffer.alloc(stride + 1);
    if (format === 'gray1') {
      filtered[0] = 2;
      for (let i = 0; i < stride; i++) filtered[i + 1] = ((line[i] as number) - (prev[i] as number)) & 0xff;
    } else {
      filtered[0] = 1;
      for (let i = 0; i < stride; i++) filtered[i + 1] = ((line[i] as number) - (i > 0 ? (line[i - 1] as number) : 0)) & 0xff;
    }
    rows.push(filtered);
    prev = line;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = format === 'gray1' ? 1 : 8;
  ihdr[9] = format === 'gray1' ? 0 : 3;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (format === 'palette8') parts.push(chunk('PLTE', Buffer.from([250, 250, 250, 10, 10, 40])));
  parts.push(chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** Reads modules back from the half-block drawing. */
function readDrawing(drawing: string, margin: number): boolean[][] {
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  const lines = drawing.split('\n').map((l) => [...l.replace(ansi, '')]);
  const grid: boolean[][] = [];
  for (const line of lines) {
    grid.push(line.map((ch) => ch === '█' || ch === '▀'));
    grid.push(line.map((ch) => ch === '█' || ch === '▄'));
  }
  const n = (lines[0]?.length ?? 0) - 2 * margin;
  return grid.slice(margin, margin + n).map((row) => row.slice(margin, margin + n));
}

describe('QR code PNG → terminal', () => {
  it.each([
    ['https://id.zalo.me/account/authen/qr?code=abc123', 4, 4],
    ['zalo-login-0123456789abcdef0123456789abcdef', 7, 1],
    ['x'.repeat(120), 3, 2],
  ])('reads a qrcode-package PNG back module for module (%#)', async (text, scale, margin) => {
    const png = await QRCode.toBuffer(text, { errorCorrectionLevel: 'M', scale, margin });
    expect(qrModules(decodePng(png))).toEqual(expected(text));
  });

  it.each(['gray1', 'palette8'] as const)('reads a %s PNG too', (format) => {
    const modules = expected('https://chat.zalo.me/?code=xyz');
    expect(qrModules(decodePng(encode(modules, 5, 3, format)))).toEqual(modules);
  });

  it('draws the same code it read', async () => {
    const text = 'https://id.zalo.me/qr/login?code=7f3a';
    const drawing = qrPngToTerminal(await QRCode.toBuffer(text, { errorCorrectionLevel: 'M', scale: 4, margin: 4 }));
    expect(readDrawing(drawing, 2)).toEqual(expected(text));
    expect(drawing).toContain('\x1b[30;107m'); // forced black on white
  });

  it('refuses what it cannot read, so the caller falls back to the file', () => {
    expect(() => decodePng(Buffer.from('not a png'))).toThrow();
    const blank = encode([[false]], 40, 0, 'palette8');
    expect(() => qrModules(decodePng(blank))).toThrow(/no QR code/);
    expect(renderQrForTerminal([[true]], 0)).toContain('▀');
  });
});
