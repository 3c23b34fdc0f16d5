/**
 * Schema of the knowledge base: procedures, FAQ entries and the site file.
 *
 * Modelled on the national TTHC record (Cổng Dịch vụ công quốc gia detail page):
 * name, code, level, field, applicants, steps, documents grouped by case, channels
 * with time and fee, legal basis, result. Field names are English; content is
 * Vietnamese for citizens. Staff edit the YAML; this schema is what the loader and
 * `npm run kb -- validate` hold it to.
 */
import { z } from 'zod';

/** National procedure code, e.g. 1.001193. Local variants (…000.00.00.H56) are kept as aliases, not ids. */
export const NATIONAL_CODE = /^\d\.\d{6}$/;
/** Curated ids look like `ho-tich.khai-sinh`; imported national records use their code as id. */
export const PROCEDURE_ID = /^(?:[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*|\d\.\d{6})$/;
export const FAQ_ID = /^faq\.[a-z0-9]+(?:-[a-z0-9]+)*$/;

const text = z.string().trim().min(1);
const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v))
  .pipe(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'ngày phải có dạng YYYY-MM-DD'));

/** The three ways to submit a dossier, as the national record names them. */
export const CHANNEL_METHODS = ['truc-tiep', 'truc-tuyen', 'buu-chinh'] as const;
export type ChannelMethod = (typeof CHANNEL_METHODS)[number];

/** Post-July-2025 levels: there is no district level any more. */
export const LEVELS = ['xa', 'tinh', 'bo', 'khac'] as const;

export const legalBasisSchema = z.object({
  /** Document number, e.g. `60/2014/QH13`, `123/2015/NĐ-CP`. */
  code: text,
  /** Short title, e.g. `Luật Hộ tịch`. */
  name: text.optional(),
});

export const documentItemSchema = z.object({
  name: text,
  /** Form or template name (mẫu đơn, tờ khai), e.g. `Tờ khai CT01`. */
  form: text.optional(),
  original: z.number().int().min(0).default(0),
  copy: z.number().int().min(0).default(0),
  /** `true` when the paper is only shown (xuất trình), not handed in. */
  showOnly: z.boolean().default(false),
  note: text.optional(),
});

export const documentGroupSchema = z.object({
  /** Case heading, e.g. `Giấy tờ phải nộp`, `Trường hợp ủy quyền`. */
  group: text,
  items: z.array(documentItemSchema).min(1),
});

export const channelSchema = z.object({
  method: z.enum(CHANNEL_METHODS),
  /** Processing time in words, as a citizen should read it. */
  time: text,
  /** Upper bound in working days, when it can be stated (used for summaries). */
  timeDays: z.number().min(0).optional(),
  /** Fee in words (`Miễn lệ phí`, `50.000 đồng`, `Do HĐND tỉnh quy định…`). */
  fee: text,
  /** Amount in đồng when one figure applies nationally; omit when it varies. */
  feeAmount: z.number().int().min(0).optional(),
  /** True when HĐND tỉnh sets the fee, so the reply says it varies by province. */
  feeByProvince: z.boolean().default(false),
  note: text.optional(),
});

export const onlineSchema = z.object({
  available: z.boolean(),
  /** toan-trinh: fully online; mot-phan: submit online, some steps in person. */
  level: z.enum(['toan-trinh', 'mot-phan', 'khong']).default('mot-phan'),
  /** Where to do it online (portal page, VNeID). */
  url: z.string().url().optional(),
  note: text.optional(),
});

export const procedureSchema = z
  .object({
    version: z.literal(1),
    id: z.string().regex(PROCEDURE_ID, 'id phải có dạng nhom.ten-thu-tuc (vd. ho-tich.khai-sinh) hoặc mã quốc gia'),
    nationalCodes: z.array(z.string().regex(NATIONAL_CODE, 'mã thủ tục quốc gia có dạng 1.001193')).default([]),
    /** Local catalogue codes (…000.00.00.H56) that stand for the same procedure. */
    localCodes: z.array(text).default([]),
    name: text,
    /** What citizens call it ("làm sổ đỏ", "giấy độc thân"): matched by the assistant. */
    aliases: z.array(text).default([]),
    /** Extra words that point to this procedure but are not names. */
    keywords: z.array(text).default([]),
    field: text,
    levels: z.array(z.enum(LEVELS)).min(1),
    /** Higher wins when a vague message fits several procedures (the common case first). */
    priority: z.number().int().min(0).max(100).default(50),
    summary: text,
    applicants: text,
    agency: text,
    steps: z.array(text).min(1),
    documents: z.array(documentGroupSchema).min(1),
    channels: z.array(channelSchema).min(1),
    where: z.array(text).min(1),
    result: text,
    conditions: text.optional(),
    legalBasis: z.array(legalBasisSchema).min(1),
    online: onlineSchema,
    portalUrl: z.string().url().optional(),
    /** Facts staff must know vary by province (fee, time…): shown as a caution. */
    provinceNote: text.optional(),
    related: z.array(z.string().regex(PROCEDURE_ID)).default([]),
    lastVerified: isoDate,
    /** Imported records start as needs-review until staff have read them. */
    status: z.enum(['curated', 'needs-review']).default('curated'),
    sources: z.array(text).default([]),
  })
  .strict();

export const faqSchema = z
  .object({
    version: z.literal(1),
    id: z.string().regex(FAQ_ID, 'id FAQ có dạng faq.ten-chu-de'),
    question: text,
    /** Ways citizens ask it; matched by the assistant. */
    aliases: z.array(text).min(1),
    keywords: z.array(text).default([]),
    answer: text,
    links: z.array(z.object({ title: text, url: z.string().url() })).default([]),
    /** `{site.x}` placeholders in the answer are filled from the site file. */
    legalBasis: z.array(legalBasisSchema).default([]),
    related: z.array(z.string().regex(PROCEDURE_ID)).default([]),
    lastVerified: isoDate,
    /** Where the answer was checked, and notes for staff; never shown to citizens. */
    sources: z.array(text).default([]),
  })
  .strict();

const officeSchema = z.object({
  name: text,
  address: text,
  phone: text.optional(),
  hours: text,
  /** Which procedures or fields it receives; free text for citizens. */
  receives: text.optional(),
  mapUrl: z.string().url().optional(),
});

const dayHoursSchema = z.object({
  /** 0 = Sunday … 6 = Saturday */
  day: z.number().int().min(0).max(6),
  open: z.string().regex(/^\d{2}:\d{2}$/),
  close: z.string().regex(/^\d{2}:\d{2}$/),
});

export const siteSchema = z
  .object({
    version: z.literal(1),
    /** True while the file still holds the shipped example locality. */
    sample: z.boolean().default(false),
    locality: text,
    province: text,
    centreName: text,
    hotline: text,
    email: z.string().email().optional(),
    zalo: text.optional(),
    timezone: text.default('Asia/Ho_Chi_Minh'),
    workingHours: z.array(dayHoursSchema).min(1),
    workingHoursText: text,
    holidaysNote: text,
    offices: z.array(officeSchema).min(1),
    portals: z.object({
      national: z.string().url(),
      provincial: z.string().url().optional(),
      vneid: text.optional(),
    }),
    lastVerified: isoDate,
  })
  .strict();

export type LegalBasis = z.infer<typeof legalBasisSchema>;
export type DocumentItem = z.infer<typeof documentItemSchema>;
export type DocumentGroup = z.infer<typeof documentGroupSchema>;
export type Channel = z.infer<typeof channelSchema>;
export type Procedure = z.infer<typeof procedureSchema>;
export type Faq = z.infer<typeof faqSchema>;
export type Site = z.infer<typeof siteSchema>;
