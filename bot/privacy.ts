/**
 * Personal-data masking. Logs, tickets (reasons, excerpts, the posts staff see) and the
 * review inbox never hold full phone numbers, ID numbers or people's names, and nothing
 * stored or printed carries control characters (a terminal escape sequence in a
 * citizen's message must not reach an operator's terminal).
 */

/** "Nguyễn Văn An" → "Nguyễn V** A*": family name kept, other names to initials. */
export function maskName(name: string): string {
  const parts = name.trim().split(/\s+/u).filter(Boolean);
  if (!parts.length) return '';
  return parts
    .map((p, i) => {
      if (i === 0) return p;
      const chars = [...p];
      return `${chars[0]}${'*'.repeat(Math.max(1, chars.length - 1))}`;
    })
    .join(' ');
}

/** "0912345678" → "091****678". */
export function maskPhone(phone: string): string {
  const d = phone.replace(/\D/g, '');
  if (d.length < 7) return '***';
  return `${d.slice(0, 3)}${'*'.repeat(d.length - 6)}${d.slice(-3)}`;
}

/** Platform user ids are not secret but long-lived: keep enough to correlate logs. */
export function maskUserId(id: string): string {
  return id.length <= 4 ? '***' : `${id.slice(0, 2)}***${id.slice(-2)}`;
}

// C0 controls but tab and newline, DEL, C1 controls (CSI 0x9b among them), and the
// bidirectional overrides and isolates that can make text read differently than it is.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** Text fit to store or print: controls removed (CRLF and CR become newlines), broken surrogates repaired. */
export function stripControl(text: string): string {
  return String(text ?? '')
    .toWellFormed()
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '');
}

// Precomposed Latin letters → their lower-case base letter ("ễ" → "e"), built once, to
// compare words however they were typed. Folding is on the hot path: every logged or
// stored message goes through `redact`.
const BASE = new Map<string, string>();
for (const [from, to] of [[0xc0, 0x24f], [0x1e00, 0x1eff]] as const) {
  for (let c = from; c <= to; c++) {
    const ch = String.fromCodePoint(c);
    const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    if (base !== ch.toLowerCase()) BASE.set(ch, base);
  }
}
BASE.set('đ', 'd').set('Đ', 'd');

/** Common Vietnamese family names (with and without diacritics, compared as typed). */
const SURNAMES = new Set(
  'Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Vương Trịnh Trương Lâm Phùng Mai Tô Hà Đinh Lương Châu Cao Quách Tạ Thái Kiều Lưu Tăng Hứa Triệu Lại Khúc Tống Diệp Nguyen Tran Pham Hoang Huynh Dang Bui Ngo Duong Dao Doan Vuong Trinh Truong Phung Dinh Luong Chau Quach Kieu Luu Tang'.split(' '),
);
/** Places and public names that start like a person's name. */
const NOT_PERSONS = new Set(['ha noi', 'ha tinh', 'ha giang', 'ha nam', 'cao bang', 'lam dong', 'thai nguyen', 'thai binh', 'ho chi minh', 'ho guom', 'ly son', 'mai chau', 'dinh lap']);
/** Words before a capitalised run that make it a place (a street named after a person), as typed. */
const PLACE_WORDS = new Set(['đường', 'phố', 'phường', 'xã', 'quận', 'huyện', 'tỉnh', 'tp', 'trường', 'chợ', 'cầu', 'ngõ', 'hẻm', 'khu', 'ấp', 'thôn', 'bản', 'tổ', 'số', 'đền', 'chùa', 'viện', 'ty']);
/** Word sequences (folded) after which a name follows: "tên tôi là …", "họ và tên: …". */
const NAME_CUES = [
  'ho va ten', 'ho ten', 'ten toi', 'ten em', 'ten minh', 'ten con', 'ten chau', 'ten be', 'ten cua toi', 'ten cua em', 'ten cua con',
  'toi ten', 'em ten', 'minh ten', 'con ten', 'chau ten', 'be ten', 'con toi ten', 'con em ten', 'ten khai sinh', 'ten la',
  'nguoi nop', 'nguoi nop ho so', 'nguoi dung ten', 'nguoi yeu cau',
]
  .map((c) => c.split(' '))
  .sort((a, b) => b.length - a.length);
/** Cues that also start ordinary sentences ("tôi là sinh viên"): only a capitalised word after them is a name. */
const WEAK_CUES = ['toi la', 'em la', 'minh la', 'chau la', 'con la'].map((c) => c.split(' '));
/** First words of cues, to skip the cue lists for the many words that start none. */
const CUE_STARTS = new Set([...NAME_CUES, ...WEAK_CUES].map((c) => c[0] as string));
/** Words that end a name after a cue (folded). */
const NOT_NAME = new Set(
  ('la gi cua thi nhe a ah oi vay the nao muon can hoi o sinh nam dang lam xin va nhung co khong ko k duoc se da vua bi de cho toi em minh ' +
    'anh chi ban sdt so dien thoai cccd cmnd dia chi nha sai dung moi cu trong tren ghi khac bang tieng viet day du hay roi nua voi ma nen vi khi luc ngay thang ' +
    'ho so giay to khai ket hon dang ky can cuoc nguoi dan').split(' '),
);

interface Word {
  text: string;
  folded: string;
  start: number;
  end: number;
}

const letterCache = new Map<string, boolean>();
const isLetter = (ch: string): boolean => {
  let v = letterCache.get(ch);
  if (v === undefined) {
    v = /[\p{L}\p{M}]/u.test(ch);
    if (letterCache.size < 10_000) letterCache.set(ch, v);
  }
  return v;
};

/** The words of a text with their folded forms, in one pass (this runs on every redacted text). */
function words(text: string): Word[] {
  const out: Word[] = [];
  let start = -1;
  let folded = '';
  for (let i = 0; i <= text.length; i++) {
    let f: string | undefined;
    if (i < text.length) {
      const c = text.charCodeAt(i);
      if (c >= 97 && c <= 122) f = text[i];
      else if (c >= 65 && c <= 90) f = String.fromCharCode(c + 32);
      else if (c >= 0x300 && c <= 0x36f) f = ''; // a combining mark: part of the word, not of its folded form
      else if (c >= 0xc0) {
        const ch = text[i] as string;
        f = BASE.get(ch) ?? (isLetter(ch) ? ch.toLowerCase() : undefined);
      }
    }
    if (f !== undefined) {
      if (start < 0) {
        start = i;
        folded = '';
      }
      folded += f;
    } else if (start >= 0) {
      out.push({ text: text.slice(start, i), folded, start, end: i });
      start = -1;
    }
  }
  return out;
}

/** Only spaces (and an optional colon) between two words: still one phrase. */
function joined(text: string, a: Word, b: Word): boolean {
  let colon = false;
  for (let i = a.end; i < b.start; i++) {
    const c = text[i];
    if (c === ':' && !colon) colon = true;
    else if (c !== ' ' && c !== '\t') return false;
  }
  return true;
}

const capitalised = (w: string): boolean => /^\p{Lu}/u.test(w);

const initial = (w: string): string => {
  const chars = [...w];
  return `${chars[0] ?? ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
};

/** A name as staff may see it: a leading family name kept, every other word an initial ("Nguyễn V** A*", "V** A*"). */
function maskPersonName(name: string): string {
  const parts = name.split(/(\s+)/u);
  return parts.map((p, i) => (/^\s*$/u.test(p) || (i === 0 && SURNAMES.has(p[0]?.toUpperCase() + p.slice(1)) && parts.length > 1) ? p : initial(p))).join('');
}

/**
 * Masks people's names in free text: the citizen's own display name (`known`), a name
 * after "tên tôi là", "họ và tên", "tôi là" and the like (typed with or without
 * diacritics), and capitalised runs that begin with a common family name ("Trần Thị
 * Bình"), but not places that look like names ("Hà Nội", "đường Lê Lợi").
 */
export function maskNames(text: string, known: readonly (string | undefined)[] = []): string {
  const ws = words(text);
  const spans: [number, number][] = [];
  const take = (from: number, count: number): void => {
    const a = ws[from] as Word;
    const b = ws[from + count - 1] as Word;
    spans.push([a.start, b.end]);
  };
  // The display name the platform gave us: two or more of its words in a row, anywhere.
  for (const name of known) {
    const parts = new Set(name ? words(name).map((w) => w.folded) : []);
    if (parts.size < 2) continue;
    for (let i = 0; i < ws.length; i++) {
      let n = 0;
      while (i + n < ws.length && parts.has((ws[i + n] as Word).folded) && (n === 0 || joined(text, ws[i + n - 1] as Word, ws[i + n] as Word))) n++;
      if (n >= 2) take(i, n);
      i += Math.max(0, n - 1);
    }
  }
  const matchCue = (i: number, cues: string[][]): number => {
    if (!CUE_STARTS.has((ws[i] as Word).folded)) return 0;
    for (const cue of cues) if (cue.every((c, j) => ws[i + j]?.folded === c && (j === 0 || joined(text, ws[i + j - 1] as Word, ws[i + j] as Word)))) return cue.length;
    return 0;
  };
  for (let i = 0; i < ws.length; i++) {
    const strong = matchCue(i, NAME_CUES);
    const weak = strong ? 0 : matchCue(i, WEAK_CUES);
    let at = i + (strong || weak);
    if (at === i) continue;
    if (strong && ws[at]?.folded === 'la' && joined(text, ws[at - 1] as Word, ws[at] as Word)) at++;
    let n = 0;
    while (n < 4 && at + n < ws.length && !NOT_NAME.has((ws[at + n] as Word).folded) && joined(text, ws[at + n - 1] as Word, ws[at + n] as Word)) {
      if (weak && !capitalised((ws[at + n] as Word).text)) break;
      n++;
    }
    if (n > 0) {
      take(at, n);
      i = at + n - 1;
    }
  }
  // "Trần Thị Bình": a family name and one to three more capitalised words.
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] as Word;
    if (!SURNAMES.has(w.text)) continue;
    let n = 1;
    while (n < 4 && i + n < ws.length && capitalised((ws[i + n] as Word).text) && joined(text, ws[i + n - 1] as Word, ws[i + n] as Word)) n++;
    if (n < 2) continue;
    const run = ws.slice(i, i + n).map((x) => x.folded).join(' ');
    const before = ws[i - 1];
    const place = [...NOT_PERSONS].some((p) => run === p || run.startsWith(`${p} `)) || (before !== undefined && PLACE_WORDS.has(before.text.toLowerCase()) && joined(text, before, w));
    if (!place) take(i, n);
    i += n - 1;
  }
  if (!spans.length) return text;
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let pos = 0;
  for (const [a, b] of spans) {
    if (a < pos) continue; // inside a span already masked
    out += text.slice(pos, a) + maskPersonName(text.slice(a, b));
    pos = b;
  }
  return out + text.slice(pos);
}

/**
 * Makes free text fit to log or store for staff: control characters removed, then phone
 * numbers, ID numbers (CCCD 12 digits, CMND 9), e-mail addresses, long digit runs and
 * people's names (`maskNames`, with the citizen's own display names in `names`) masked.
 */
export function redact(text: string, opts: { names?: readonly (string | undefined)[] } = {}): string {
  const masked = stripControl(text)
    .replace(/[\w.+-]+@[\w-]+\.[\w.]+/g, '[email]')
    .replace(/(?:\+?84|0)(?:[\s.-]?\d){8,10}\b/g, '[sđt]')
    .replace(/\b\d{9,12}\b/g, '[số định danh]')
    .replace(/\d{7,}/g, '[số]');
  return maskNames(masked, opts.names);
}
