/**
 * Reply templates: every sentence a citizen sees that is not knowledge content.
 *
 * They live in `knowledge/replies.yaml` so staff can reword them without code; this
 * schema lists the keys the dialogue needs, so a missing or misspelt key is caught by
 * the validator instead of at run time. `{name}` placeholders are filled by `fill()`.
 */
import { z } from 'zod';

const t = z.string().trim().min(1);

export const REPLY_KEYS = [
  'greeting',
  'thanks',
  'outOfScope',
  'abuse',
  'fallback',
  'fallbackAgain',
  'clarify',
  'clarifyFooter',
  'pickNumber',
  'aspectMenu',
  'overviewIntro',
  'documentsTitle',
  'stepsTitle',
  'feeTitle',
  'feeByProvince',
  'feeByProvinceShort',
  'durationTitle',
  'locationTitle',
  'onlineYes',
  'onlinePartial',
  'onlineNo',
  'variantsLine',
  'postalYes',
  'postalNo',
  'sourcesLine',
  'sourcesLineNational',
  'sourcesTitle',
  'sourcesMore',
  'lastVerified',
  'nationalData',
  'specialCasesTitle',
  'caseTitle',
  'stepsMoreTitle',
  'overviewMoreTitle',
  'dossierAskCode',
  'dossierMalformed',
  'dossierNotFound',
  'dossierStatus',
  'dossierOverdue',
  'dossierRateLimited',
  'dossierVerifyPhone',
  'dossierVerifyFailed',
  'dossierUnavailable',
  'dossierFollowed',
  'dossierUnfollowed',
  'dossierFollowNeedsCode',
  'dossierChanged',
  'handoff',
  'handoffOutOfHours',
  'handoffAlready',
  'handoffReleased',
  'complaintAsk',
  'complaintReceived',
  'complaintAdded',
  'ratingAsk',
  'ratingThanks',
  'nonText',
  'empty',
  'tooLong',
  'error',
  'help',
  'askProcedure',
  'webTitle',
  'webPlaceholder',
  'webSend',
  'webCall',
  'webOffline',
  'webRetry',
  'webBusy',
  'webDelayed',
  'telegramButtonExpired',
  'staffTicket',
  'staffKindHandoff',
  'staffKindComplaint',
  'staffReleaseButton',
  'staffSent',
  'staffReleased',
  'staffUnknownTicket',
  'staffTextOnly',
  'staffToCitizen',
  'staffClosed',
  'staffTicketClosed',
  'staffTooLong',
  'staffFollowUp',
  'staffAnsweredElsewhere',
  'staffCloseUsage',
  'dossierFinishedLine',
  'dossierStepLine',
  'dossierNoteLine',
  'dossierFollowOption',
  'dossierNotFollowing',
  'posterTitle',
  'posterHowTo',
  'posterContact',
  'posterLookupTitle',
  'posterLookupHowTo',
  'posterDraft',
] as const;

export type ReplyKey = (typeof REPLY_KEYS)[number];

/** Short labels: buttons, channel names, list headings. */
export const LABEL_KEYS = [
  'truc-tiep',
  'truc-tuyen',
  'buu-chinh',
  'procedure.overview',
  'procedure.documents',
  'procedure.steps',
  'procedure.fee',
  'procedure.duration',
  'procedure.location',
  'procedure.online',
  'handoff',
  'sources',
  'portal',
  'specialCases',
  'caseOption',
  'stepsMore',
  'overviewMore',
  'ratingYes',
  'ratingNo',
  'summaryWhere',
  'summaryTime',
  'summaryFee',
  'summaryOnline',
  'summaryResult',
  'applicants',
  'conditions',
  'agency',
  'original',
  'copy',
  'showOnly',
  'form',
  'yes',
  'no',
] as const;
export type LabelKey = (typeof LABEL_KEYS)[number];

export const repliesSchema = z
  .object({
    version: z.literal(1),
    ...Object.fromEntries(REPLY_KEYS.map((k) => [k, t])),
    labels: z.object(Object.fromEntries(LABEL_KEYS.map((k) => [k, t]))).strict(),
    canned: z
      .array(z.object({ id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'mã câu trả lời mẫu chỉ gồm chữ thường không dấu, số và dấu "-"'), title: t, text: t }).strict())
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `mã "${c.id}" trùng` });
          seen.add(c.id);
        });
      }),
  })
  .strict() as unknown as z.ZodType<Replies>;

/** A reply staff pick instead of typing (the `canned` list in replies.yaml); `{hotline}`-style placeholders are filled from site.yaml. */
export interface CannedReply {
  id: string;
  title: string;
  text: string;
}

export type Replies = { version: 1; labels: Record<LabelKey, string>; canned: CannedReply[] } & Record<ReplyKey, string>;

/** Fills `{key}` placeholders; unknown placeholders are left visible so staff notice them. */
export function fill(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => {
    const v = values[k];
    return v === undefined ? m : String(v);
  });
}
