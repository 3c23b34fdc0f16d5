/**
 * `npm run qr -- <procedure-id|all|tra-cuu-ho-so> [--out DIR] [--dir KNOWLEDGE_DIR]`:
 * printable A4 posters (SVG and PNG) for the counters of a one-stop centre. Each shows
 * the procedure name, short instructions, a QR code to the Telegram deep link that
 * opens the assistant on that procedure, and how to reach the Zalo hotline; `all` also
 * makes the dossier-lookup poster.
 *
 * Deep link: https://t.me/<TELEGRAM_BOT_USERNAME>?start=<payload>, where the payload is
 * the procedure id with "." replaced by "__" (the Telegram adapter's own `deepLink`, which
 * its /start handler decodes), and `tra-cuu-ho-so` for dossier lookup. Poster wording comes from knowledge/replies.yaml (poster* keys).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../bot/config.ts';
import { LOOKUP_PAYLOAD, lookupPoster, PLACEHOLDER_BOT, posterFonts, posterJobs, procedurePoster, writePosters, type PosterJob } from '../bot/staff/posters.ts';
import { DEFAULT_KNOWLEDGE_DIR, formatIssues, loadKnowledge } from '../knowledge/load.ts';

export { LOOKUP_PAYLOAD, lookupPoster, PLACEHOLDER_BOT, posterFonts, posterSvg, procedurePoster, qrSvg, renderPng, wrap, writePosters, type PosterContent, type PosterJob } from '../bot/staff/posters.ts';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The command; returns the exit code. */
export function main(args: string[]): number {
  const target = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!target) {
    console.log('Cách dùng: npm run qr -- <mã-thủ-tục|all|tra-cuu-ho-so> [--out THƯ-MỤC] [--dir THƯ-MỤC-KIẾN-THỨC]');
    return 2;
  }
  const config = loadConfig();
  const dir = option(args, '--dir') ?? config.KNOWLEDGE_DIR ?? DEFAULT_KNOWLEDGE_DIR;
  const outDir = resolve(option(args, '--out') ?? 'qr');
  const { knowledge, issues } = loadKnowledge(dir, { maxAgeDays: config.KB_MAX_AGE_DAYS });
  if (!knowledge) {
    console.log(`${formatIssues(issues.filter((i) => i.severity === 'error'))}\nKho kiến thức có lỗi; sửa rồi chạy lại (npm run kb -- validate).`);
    return 1;
  }
  const username = config.TELEGRAM_BOT_USERNAME;
  const bot = username ?? PLACEHOLDER_BOT;
  if (!username) console.log(`Chưa đặt TELEGRAM_BOT_USERNAME: áp phích dùng tên tạm "${PLACEHOLDER_BOT}" và ghi rõ là BẢN THỬ. (TELEGRAM_BOT_USERNAME is unset: posters carry a placeholder and a draft banner.)`);
  const draft = !username;
  const fonts = posterFonts();
  if (!fonts.length) console.log('Không thấy phông DejaVu Sans: ảnh PNG có thể thiếu chữ tiếng Việt. Cài bằng: apt-get install -y fonts-dejavu-core');
  let jobs: PosterJob[];
  if (target === 'all') {
    const skipped = knowledge.procedures.filter((p) => p.status === 'needs-review').length;
    if (skipped) console.log(`Bỏ qua ${skipped} thủ tục đang chờ rà soát (status: needs-review).`);
    jobs = posterJobs(knowledge, username);
  } else if (target === LOOKUP_PAYLOAD) {
    jobs = [lookupPoster(bot, draft, knowledge)];
  } else {
    const p = knowledge.procedures.find((x) => x.id === target || x.nationalCodes.includes(target));
    if (!p) {
      console.log(`Không có thủ tục "${target}". Ví dụ mã: ${knowledge.procedures.slice(0, 3).map((x) => x.id).join(', ')}; hoặc "all", "${LOOKUP_PAYLOAD}".`);
      return 1;
    }
    const job = procedurePoster(p, bot, draft, knowledge);
    if (!job) {
      console.log(`Mã thủ tục "${p.id}" quá dài để đưa vào đường dẫn Telegram (tối đa 64 ký tự).`);
      return 1;
    }
    jobs = [job];
  }
  const written = writePosters(knowledge, jobs, outDir, fonts);
  console.log(`Đã tạo ${jobs.length} áp phích (${written.length} tệp) trong ${outDir}.`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
