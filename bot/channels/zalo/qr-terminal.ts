/**
 * Shows the Zalo login QR code in a terminal. zca-js hands us only the PNG (not the
 * text inside the code), and the operator is often on SSH with no image viewer, so we
 * read the PNG's modules back and draw them with half-block characters in forced
 * black-on-white, which phones scan from any terminal theme. Anything unexpected
 * throws, and the caller falls back to "open the PNG file".
 */
import { inflateSync } from 'node:zlib';

/** A decoded image reduced to dark/light pixels. */
export interface BitImage {
  width: number;
  height: number;
  dark(x: number, y: number): boolean;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Decodes a non-interlaced PNG (any colour type, bit depth 1–16) into dark/light pixels. */
export function decodePng(png: Buffer): BitImage {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let palette: Buffer | null = null;
  let paletteAlpha: Buffer | null = null;
  const idat: Buffer[] = [];
  for (let off = 8; off + 8 <= png.length; ) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8] ?? 0;
      colorType = data[9] ?? -1;
      if (data[12] !== 0) throw new Error('interlaced PNG not supported');
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') paletteAlpha = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = CHANNELS[colorType];
  if (!channels || !width || !height || ![1, 2, 4, 8, 16].includes(depth)) throw new Error('unsupported PNG format');
  if (colorType === 3 && !palette) throw new Error('palette PNG without palette');
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length < height * (stride + 1)) throw new Error('truncated PNG data');
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i] as number;
      const a = i >= bpp ? (pixels[row + i - bpp] as number) : 0;
      const b = y > 0 ? (pixels[row - stride + i] as number) : 0;
      const c = y > 0 && i >= bpp ? (pixels[row - stride + i - bpp] as number) : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter}`);
      }
      pixels[row + i] = v & 0xff;
    }
  }
  const max = (1 << Math.min(depth, 8)) - 1;
  /** Sample `k` of pixel (x, y), scaled to 0–255 (palette indexes are returned as is). */
  const sample = (x: number, y: number, k: number): number => {
    const row = y * stride;
    if (depth >= 8) return pixels[row + (x * channels + k) * (depth >> 3)] as number;
    const bit = (x * channels + k) * depth;
    const v = ((pixels[row + (bit >> 3)] as number) >> (8 - depth - (bit & 7))) & max;
    return colorType === 3 ? v : Math.round((v * 255) / max);
  };
  const luminance = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;
  const dark = (x: number, y: number): boolean => {
    switch (colorType) {
      case 0: return sample(x, y, 0) < 128;
      case 2: return luminance(sample(x, y, 0), sample(x, y, 1), sample(x, y, 2)) < 128;
      case 3: {
        const i = sample(x, y, 0);
        const p = palette as Buffer;
        if (paletteAlpha && i < paletteAlpha.length && (paletteAlpha[i] as number) < 128) return false;
        return luminance(p[i * 3] ?? 255, p[i * 3 + 1] ?? 255, p[i * 3 + 2] ?? 255) < 128;
      }
      case 4: return sample(x, y, 1) >= 128 && sample(x, y, 0) < 128;
      default: return sample(x, y, 3) >= 128 && luminance(sample(x, y, 0), sample(x, y, 1), sample(x, y, 2)) < 128;
    }
  };
  return { width, height, dark };
}

/**
 * Reads the module grid of a QR code image: the dark bounding box spans the code, and
 * the top-left finder pattern (7 modules wide) gives the module size.
 */
export function qrModules(img: BitImage): boolean[][] {
  let minX = img.width;
  let minY = img.height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (!img.dark(x, y)) continue;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (maxX < 0 || !img.dark(minX, minY)) throw new Error('no QR code found');
  let run = 0;
  while (minX + run <= maxX && img.dark(minX + run, minY)) run++;
  const count = Math.round(((maxX - minX + 1) * 7) / run);
  const countY = Math.round(((maxY - minY + 1) * 7) / run);
  if (count !== countY || count < 21 || count > 177 || (count - 17) % 4 !== 0) throw new Error('image does not look like a QR code');
  const cellX = (maxX - minX + 1) / count;
  const cellY = (maxY - minY + 1) / count;
  const grid: boolean[][] = [];
  for (let r = 0; r < count; r++) {
    const row: boolean[] = [];
    for (let c = 0; c < count; c++) row.push(img.dark(Math.floor(minX + (c + 0.5) * cellX), Math.floor(minY + (r + 0.5) * cellY)));
    grid.push(row);
  }
  return grid;
}

/** Draws modules two rows per line, black on white (ANSI colours), with a quiet zone. */
export function renderQrForTerminal(modules: boolean[][], margin = 2): string {
  const n = modules.length + 2 * margin;
  const at = (r: number, c: number): boolean => modules[r - margin]?.[c - margin] ?? false;
  const lines: string[] = [];
  for (let r = 0; r < n; r += 2) {
    let line = '\x1b[30;107m';
    for (let c = 0; c < n; c++) {
      const top = at(r, c);
      const bottom = r + 1 < n && at(r + 1, c);
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
    }
    lines.push(`${line}\x1b[0m`);
  }
  return lines.join('\n');
}

/** PNG bytes of a QR code → terminal drawing. Throws when the image cannot be read. */
export function qrPngToTerminal(png: Buffer): string {
  return renderQrForTerminal(qrModules(decodePng(png)));
}
