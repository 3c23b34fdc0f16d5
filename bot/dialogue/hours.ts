/**
 * Working hours from the site file: is the centre open now, and when does it open next.
 * Vietnam has one time zone without daylight saving, so a fixed UTC+7 offset is exact.
 */
import type { Site } from '../../knowledge/schema.ts';

const OFFSET_MS = 7 * 3600_000;
const DAY_NAMES = ['Chủ nhật', 'thứ Hai', 'thứ Ba', 'thứ Tư', 'thứ Năm', 'thứ Sáu', 'thứ Bảy'];

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** True when `now` falls inside one of the site's opening windows (holidays are not modelled). */
export function isOpen(site: Site, now: number): boolean {
  const local = new Date(now + OFFSET_MS);
  const day = local.getUTCDay();
  const mins = local.getUTCHours() * 60 + local.getUTCMinutes();
  return site.workingHours.some((w) => w.day === day && mins >= minutes(w.open) && mins < minutes(w.close));
}

/** "7:30 thứ Hai, 30/11" — the next opening time after `now`. */
export function nextOpening(site: Site, now: number): string {
  const local = new Date(now + OFFSET_MS);
  for (let add = 0; add < 8; add++) {
    const d = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + add));
    const day = d.getUTCDay();
    const nowMins = add === 0 ? local.getUTCHours() * 60 + local.getUTCMinutes() : -1;
    const windows = site.workingHours.filter((w) => w.day === day && minutes(w.open) > nowMins).sort((a, b) => minutes(a.open) - minutes(b.open));
    const w = windows[0];
    if (w) {
      const [h, m] = w.open.split(':');
      const when = add === 0 ? 'hôm nay' : add === 1 ? `ngày mai (${DAY_NAMES[day]})` : `${DAY_NAMES[day]}, ${d.getUTCDate()}/${d.getUTCMonth() + 1}`;
      return `${Number(h)}:${m} ${when}`;
    }
  }
  return 'giờ làm việc tiếp theo';
}
