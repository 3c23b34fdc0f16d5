/**
 * Server-side SVG charts for the staff dashboard: plain SVG text, Vietnamese labels, no
 * script, no external font or stylesheet (the console's strict CSP allows it inline or as
 * an image), readable without colour (values are written on the bars) and described for
 * screen readers (`<title>`, `<desc>` with the numbers).
 */
import type { DashboardData } from './analytics.ts';

/** Words the charts show (staff read them). */
export const CHART_LABELS = Object.freeze({
  messagesPerDay: 'Tin nhắn mỗi ngày theo kênh',
  handoffsPerDay: 'Chuyển cán bộ mỗi ngày',
  topProcedures: 'Thủ tục được hỏi nhiều nhất',
  outcomes: 'Kết quả trả lời',
  answered: 'Trả lời được',
  clarified: 'Phải hỏi lại',
  unanswered: 'Chưa hiểu',
  quiet: 'Cán bộ đang phụ trách',
  ratings: 'Đánh giá của người dân',
  helpful: 'Hữu ích',
  unhelpful: 'Chưa hữu ích',
  noData: 'Chưa có dữ liệu trong khoảng thời gian này.',
  medianReply: (text: string) => `Thời gian chờ cán bộ trả lời lần đầu (trung vị): ${text}`,
  channels: Object.freeze({ web: 'Trang web', telegram: 'Telegram', zalo: 'Zalo', cli: 'Dòng lệnh' }) as Readonly<Record<string, string>>,
});

/** Colours distinguishable with common colour blindness (Okabe–Ito). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const FONT = "font-family=\"'DejaVu Sans', Arial, sans-serif\"";

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

let ids = 0;

function frame(width: number, height: number, title: string, desc: string, body: string[]): string {
  const id = `c${++ids}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}t ${id}d"><title id="${id}t">${esc(title)}</title><desc id="${id}d">${esc(desc)}</desc><rect width="${width}" height="${height}" fill="#fff"/><text x="12" y="22" ${FONT} font-size="15" font-weight="bold" fill="#111">${esc(title)}</text>${body.join('')}</svg>`;
}

function empty(width: number, height: number, title: string): string {
  return frame(width, height, title, CHART_LABELS.noData, [`<text x="${width / 2}" y="${height / 2}" ${FONT} font-size="13" fill="#555" text-anchor="middle">${esc(CHART_LABELS.noData)}</text>`]);
}

/** A round number at or above `max` for the axis (1, 2, 5 × 10ⁿ). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p);
}

export interface Series {
  name: string;
  values: number[];
  color?: string;
}

export interface ChartOptions {
  title: string;
  /** One label per column (days as `dd/mm`…). */
  labels: string[];
  series: Series[];
  width?: number;
  height?: number;
}

function legend(series: readonly Series[], x: number, y: number): string[] {
  let cx = x;
  return series.map((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const part = `<rect x="${cx}" y="${y - 10}" width="12" height="12" fill="${color}"/><text x="${cx + 16}" y="${y}" ${FONT} font-size="12" fill="#222">${esc(s.name)}</text>`;
    cx += 28 + s.name.length * 7;
    return part;
  });
}

function axis(x0: number, y0: number, w: number, h: number, max: number): string[] {
  const out: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const y = y0 + h - (h * k) / 4;
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#ddd" stroke-width="1"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" ${FONT} font-size="11" fill="#444" text-anchor="end">${Math.round((max * k) / 4)}</text>`);
  }
  return out;
}

function describe(o: ChartOptions): string {
  return o.series.map((s) => `${s.name}: ${o.labels.map((l, i) => `${l} ${s.values[i] ?? 0}`).join(', ')}`).join('; ');
}

/** Stacked columns (messages per day by channel). */
export function barChart(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 300;
  const totals = o.labels.map((_, i) => o.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  if (!totals.some((t) => t > 0)) return empty(width, height, o.title);
  const x0 = 48;
  const y0 = 52;
  const w = width - x0 - 16;
  const h = height - y0 - 40;
  const max = niceMax(Math.max(...totals));
  const slot = w / o.labels.length;
  const bw = Math.max(2, Math.min(40, slot * 0.7));
  const body = [...legend(o.series, x0, 42), ...axis(x0, y0, w, h, max)];
  o.labels.forEach((label, i) => {
    let y = y0 + h;
    const cx = x0 + slot * i + (slot - bw) / 2;
    o.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const bh = (h * v) / max;
      y -= bh;
      body.push(`<rect x="${cx.toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="${s.color ?? PALETTE[j % PALETTE.length]}"><title>${esc(`${label} — ${s.name}: ${v}`)}</title></rect>`);
    });
    if (totals[i]) body.push(`<text x="${(cx + bw / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" ${FONT} font-size="10" fill="#111" text-anchor="middle">${totals[i]}</text>`);
    if (o.labels.length <= 16 || i % Math.ceil(o.labels.length / 15) === 0) body.push(`<text x="${(cx + bw / 2).toFixed(1)}" y="${y0 + h + 16}" ${FONT} font-size="11" fill="#444" text-anchor="middle">${esc(label)}</text>`);
  });
  return frame(width, height, o.title, describe(o), body);
}

/** Lines with points (hand-offs per day). */
export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 260;
  const all = o.series.flatMap((s) => s.values);
  if (!all.some((v) => v > 0)) return empty(width, height, o.title);
  const x0 = 48;
  const y0 = 52;
  const w = width - x0 - 24;
  const h = height - y0 - 40;
  const max = niceMax(Math.max(...all));
  const step = o.labels.length > 1 ? w / (o.labels.length - 1) : 0;
  const body = [...legend(o.series, x0, 42), ...axis(x0, y0, w, h, max)];
  o.series.forEach((s, j) => {
    const color = s.color ?? PALETTE[j % PALETTE.length];
    const pts = o.labels.map((_, i) => [x0 + step * i, y0 + h - (h * (s.values[i] ?? 0)) / max] as const);
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    pts.forEach(([x, y], i) => body.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"><title>${esc(`${o.labels[i]} — ${s.name}: ${s.values[i] ?? 0}`)}</title></circle>`));
  });
  o.labels.forEach((label, i) => {
    if (o.labels.length <= 16 || i % Math.ceil(o.labels.length / 15) === 0) body.push(`<text x="${(x0 + step * i).toFixed(1)}" y="${y0 + h + 16}" ${FONT} font-size="11" fill="#444" text-anchor="middle">${esc(label)}</text>`);
  });
  return frame(width, height, o.title, describe(o), body);
}

/** Horizontal bars with the value written at the end (top procedures, outcome shares). */
export function horizontalBarChart(o: { title: string; items: { label: string; value: number; text?: string }[]; width?: number }): string {
  const width = o.width ?? 720;
  const rowH = 26;
  const height = 44 + Math.max(1, o.items.length) * rowH + 10;
  if (!o.items.some((i) => i.value > 0)) return empty(width, Math.max(height, 120), o.title);
  const labelW = Math.min(360, Math.round(width * 0.45));
  const w = width - labelW - 70;
  const max = Math.max(...o.items.map((i) => i.value));
  const body: string[] = [];
  o.items.forEach((it, i) => {
    const y = 40 + i * rowH;
    const bw = max ? (w * it.value) / max : 0;
    const label = it.label.length > 48 ? `${it.label.slice(0, 47)}…` : it.label;
    body.push(`<text x="${labelW - 8}" y="${y + 16}" ${FONT} font-size="12" fill="#222" text-anchor="end">${esc(label)}</text>`);
    body.push(`<rect x="${labelW}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="${PALETTE[0]}"><title>${esc(`${it.label}: ${it.text ?? it.value}`)}</title></rect>`);
    body.push(`<text x="${(labelW + bw + 6).toFixed(1)}" y="${y + 16}" ${FONT} font-size="12" fill="#111">${esc(it.text ?? String(it.value))}</text>`);
  });
  return frame(width, height, o.title, o.items.map((i) => `${i.label}: ${i.text ?? i.value}`).join('; '), body);
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10}%`.replace('.', ',');
}

/** "12 phút", "1 giờ 5 phút", "40 giây". */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} giây`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} phút` : `${Math.floor(m / 60)} giờ${m % 60 ? ` ${m % 60} phút` : ''}`;
}

/** Every dashboard chart as SVG text, plus the sentences shown beside them. */
export function dashboardCharts(d: DashboardData, names: (procedureId: string) => string = (id) => id): { svg: Record<'messages' | 'handoffs' | 'procedures' | 'outcomes' | 'ratings', string>; notes: string[] } {
  const labels = d.days.map((day) => `${day.slice(8, 10)}/${day.slice(5, 7)}`);
  const channels = Object.keys(d.messagesByChannel).sort();
  const own = d.totals.messages - d.totals.quiet;
  const median = d.handoffs.medianFirstReplyMs;
  return {
    svg: {
      messages: barChart({ title: CHART_LABELS.messagesPerDay, labels, series: channels.map((c) => ({ name: CHART_LABELS.channels[c] ?? c, values: d.messagesByChannel[c] ?? [] })) }),
      handoffs: lineChart({ title: CHART_LABELS.handoffsPerDay, labels, series: [{ name: CHART_LABELS.handoffsPerDay, values: d.handoffs.byDay }] }),
      procedures: horizontalBarChart({ title: CHART_LABELS.topProcedures, items: d.topProcedures.map((p) => ({ label: names(p.procedure), value: p.count })) }),
      outcomes: horizontalBarChart({
        title: CHART_LABELS.outcomes,
        items: (['answered', 'clarified', 'unanswered'] as const).map((k) => ({ label: CHART_LABELS[k], value: d.totals[k], text: `${d.totals[k]} (${percent(own ? d.totals[k] / own : 0)})` })),
      }),
      ratings: horizontalBarChart({ title: CHART_LABELS.ratings, items: [{ label: CHART_LABELS.helpful, value: d.ratings.helpful }, { label: CHART_LABELS.unhelpful, value: d.ratings.unhelpful }] }),
    },
    notes: [
      `Tổng: ${d.totals.messages} tin nhắn; chưa hiểu ${percent(d.shares.unanswered)}, phải hỏi lại ${percent(d.shares.clarified)}.`,
      `Chuyển cán bộ: ${d.handoffs.total} lần, cán bộ đã trả lời ${d.handoffs.answered}.`,
      CHART_LABELS.medianReply(median === null ? 'chưa có' : durationText(median)),
      d.ratings.share === null ? 'Chưa có đánh giá.' : `Đánh giá hữu ích: ${percent(d.ratings.share)} (${d.ratings.helpful}/${d.ratings.helpful + d.ratings.unhelpful}).`,
    ],
  };
}
