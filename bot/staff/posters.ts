/**
 * QR posters for the counters of a one-stop centre, as a service: list them and render
 * one to a buffer (SVG or PNG) for the staff console's download links, or write them all
 * to a folder (`npm run qr`). Each shows the procedure name, short instructions, a QR code
 * to the Telegram deep link that opens the assistant on that procedure, and how to reach
 * the Zalo hotline; the dossier-lookup poster opens dossier lookup.
 *
 * Deep link: https://t.me/<TELEGRAM_BOT_USERNAME>?start=<payload>, where the payload is
 * the procedure id with "." replaced by "__" (the Telegram adapter's own `deepLink`, which
 * its /start handler decodes), and `tra-cuu-ho-so` for dossier lookup. Poster wording
 * comes from knowledge/replies.yaml (poster* keys).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import QRCode from 'qrcode';
import { deepLink } from '../channels/telegram/render.ts';
import { fill } from '../../knowledge/replies.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import type { Procedure } from '../../knowledge/schema.ts';

/**
 * Start payload of the dossier-lookup poster. The Telegram adapter should answer
 * `/start tra-cuu-ho-so` with the dossier-code prompt (it greets as for a bare /start otherwise).
 */
export const LOOKUP_PAYLOAD = 'tra-cuu-ho-so';
/** Shown (and marked as a draft on the poster) when TELEGRAM_BOT_USERNAME is unset. */
export const PLACEHOLDER_BOT = 'TEN_BOT_CUA_BAN_bot';

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf',
];

/** Font files with Vietnamese glyphs found on this machine (DejaVu Sans). */
export function posterFonts(): string[] {
  return FONT_CANDIDATES.filter((f) => existsSync(f));
}

const W = 1240;
const H = 1754;
const MARGIN = 80;
const FONT = "'DejaVu Sans', 'Noto Sans', Arial, sans-serif";

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Greedy word wrap by an average glyph width (DejaVu Sans ≈ 0.55 em, bold ≈ 0.62 em). */
export function wrap(text: string, fontSize: number, maxWidth: number, bold = false): string[] {
  const perChar = fontSize * (bold ? 0.62 : 0.55);
  const max = Math.max(8, Math.floor(maxWidth / perChar));
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (!line) line = word;
      else if (line.length + 1 + word.length <= max) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

function textBlock(lines: string[], x: number, y: number, size: number, opts: { bold?: boolean; anchor?: 'start' | 'middle'; fill?: string; lineHeight?: number } = {}): { svg: string; bottom: number } {
  const lh = size * (opts.lineHeight ?? 1.3);
  const svg = lines
    .map(
      (l, i) =>
        `<text x="${x}" y="${Math.round(y + i * lh)}" font-family="${FONT}" font-size="${size}"${opts.bold ? ' font-weight="bold"' : ''} fill="${opts.fill ?? '#111'}"${opts.anchor === 'middle' ? ' text-anchor="middle"' : ''}>${esc(l)}</text>`,
    )
    .join('\n');
  return { svg, bottom: y + (lines.length - 1) * lh };
}

/** The QR code as one SVG path, `size` px square with its quiet zone, at (x, y). */
export function qrSvg(url: string, x: number, y: number, size: number): string {
  const qr = QRCode.create(url, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 4;
  const cell = size / (n + 2 * quiet);
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.modules.get(r, c)) d += `M${(c + quiet) * cell} ${(r + quiet) * cell}h${cell}v${cell}h${-cell}z`;
    }
  }
  return `<g transform="translate(${x} ${y})"><rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000" shape-rendering="crispEdges"/></g>`;
}

export interface PosterContent {
  title: string;
  subtitle?: string;
  howTo: string;
  url: string;
  draft: boolean;
}

/** One A4 poster as SVG text. */
export function posterSvg(k: Knowledge, content: PosterContent): string {
  const r = k.replies;
  const site = k.site;
  const values = { zalo: site.zalo ?? site.hotline, hotline: site.hotline, workingHoursText: site.workingHoursText, centreName: site.centreName, locality: site.locality };
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<rect width="${W}" height="210" fill="#0b5394"/>`);
  parts.push(textBlock(wrap(site.centreName, 30, W - 2 * MARGIN), W / 2, 70, 30, { anchor: 'middle', fill: '#ffffff' }).svg);
  parts.push(textBlock(wrap(fill(r.posterTitle, values), 44, W - 2 * MARGIN, true).slice(0, 2), W / 2, 150, 44, { anchor: 'middle', bold: true, fill: '#ffffff' }).svg);
  let y = 300;
  const title = textBlock(wrap(content.title, 58, W - 2 * MARGIN, true).slice(0, 3), W / 2, y, 58, { anchor: 'middle', bold: true, fill: '#0b5394', lineHeight: 1.2 });
  parts.push(title.svg);
  y = title.bottom + 60;
  if (content.subtitle) {
    parts.push(textBlock([content.subtitle], W / 2, y, 28, { anchor: 'middle', fill: '#555' }).svg);
    y += 40;
  }
  const qrSize = 640;
  parts.push(qrSvg(content.url, (W - qrSize) / 2, y, qrSize));
  y += qrSize + 36;
  parts.push(textBlock([content.url], W / 2, y, 24, { anchor: 'middle', fill: '#333' }).svg);
  y += 70;
  const how = textBlock(wrap(fill(content.howTo, values), 32, W - 2 * MARGIN), MARGIN, y, 32, { lineHeight: 1.35 });
  parts.push(how.svg);
  y = how.bottom + 90;
  const contactLines = wrap(fill(r.posterContact, values), 30, W - 2 * MARGIN - 40, true);
  const boxH = contactLines.length * 40 + 40;
  parts.push(`<rect x="${MARGIN - 10}" y="${y - 45}" width="${W - 2 * MARGIN + 20}" height="${boxH}" rx="16" fill="#fff4e5" stroke="#e69138" stroke-width="3"/>`);
  parts.push(textBlock(contactLines, MARGIN + 10, y, 30, { bold: true, fill: '#783f04' }).svg);
  if (content.draft) {
    const draftLines = wrap(r.posterDraft, 30, W - 2 * MARGIN - 40, true);
    parts.push(`<rect x="0" y="${H - 60 - draftLines.length * 40}" width="${W}" height="${draftLines.length * 40 + 60}" fill="#cc0000"/>`);
    parts.push(textBlock(draftLines, W / 2, H - 30 - (draftLines.length - 1) * 40 - 10, 30, { bold: true, fill: '#ffffff', anchor: 'middle' }).svg);
  } else {
    parts.push(textBlock([`${site.locality}, ${site.province}`], W / 2, H - 40, 24, { anchor: 'middle', fill: '#777' }).svg);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 ${W} ${H}">\n${parts.join('\n')}\n</svg>\n`;
}

/** Rasterizes a poster at 150 dpi (1240×1754) with the fonts found on this machine. */
export function renderPng(svg: string, fonts: string[] = posterFonts()): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'width', value: W },
    font: { fontFiles: fonts, loadSystemFonts: fonts.length === 0, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

export interface PosterJob {
  /** Output base name (without extension). */
  name: string;
  content: PosterContent;
}

/** Poster for one procedure; null when its id cannot travel in a Telegram start payload. */
export function procedurePoster(p: Procedure, bot: string, draft: boolean, k: Knowledge): PosterJob | null {
  const url = deepLink(bot, p.id);
  if (!url) return null;
  const codes = p.nationalCodes.length ? ` · ${p.nationalCodes.join(', ')}` : '';
  return { name: p.id, content: { title: p.name, subtitle: `${p.field}${codes}`, howTo: k.replies.posterHowTo, url, draft } };
}

/** The dossier-lookup poster. */
export function lookupPoster(bot: string, draft: boolean, k: Knowledge): PosterJob {
  return { name: LOOKUP_PAYLOAD, content: { title: k.replies.posterLookupTitle, howTo: k.replies.posterLookupHowTo, url: `https://t.me/${bot.replace(/^@/, '')}?start=${LOOKUP_PAYLOAD}`, draft } };
}

/** Writes `<name>.svg` and `<name>.png` for each job; returns the written paths. */
export function writePosters(k: Knowledge, jobs: PosterJob[], outDir: string, fonts: string[] = posterFonts()): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const job of jobs) {
    const svg = posterSvg(k, job.content);
    const svgPath = join(outDir, `${job.name}.svg`);
    const pngPath = join(outDir, `${job.name}.png`);
    writeFileSync(svgPath, svg, 'utf8');
    writeFileSync(pngPath, renderPng(svg, fonts));
    written.push(svgPath, pngPath);
  }
  return written;
}


/** One poster the console lists. */
export interface PosterListing {
  name: string;
  title: string;
  url: string;
  draft: boolean;
}

/** Every poster: curated procedures (imported ones still under review are left out) and dossier lookup. */
export function posterJobs(k: Knowledge, botUsername: string | undefined): PosterJob[] {
  const bot = botUsername ?? PLACEHOLDER_BOT;
  const draft = !botUsername;
  const curated = k.procedures.filter((p) => p.status !== 'needs-review');
  return [...curated.map((p) => procedurePoster(p, bot, draft, k)).filter((j): j is PosterJob => j !== null), lookupPoster(bot, draft, k)];
}

/** The posters, for a list with download links. */
export function listPosters(k: Knowledge, botUsername: string | undefined): PosterListing[] {
  return posterJobs(k, botUsername).map((j) => ({ name: j.name, title: j.content.title, url: j.content.url, draft: j.content.draft }));
}

/** One poster rendered to a buffer; undefined for an unknown name. */
export function renderPoster(k: Knowledge, name: string, format: 'svg' | 'png', botUsername: string | undefined, fonts: string[] = posterFonts()): Buffer | undefined {
  const job = posterJobs(k, botUsername).find((j) => j.name === name);
  if (!job) return undefined;
  const svg = posterSvg(k, job.content);
  return format === 'svg' ? Buffer.from(svg, 'utf8') : renderPng(svg, fonts);
}
