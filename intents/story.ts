/**
 * Long messages: citizens tell a story and ask at the end ("Vợ em mới sinh bé ở bệnh
 * viện…, giờ em muốn làm giấy khai sinh thì cần mang gì ạ?"). The story's words (bệnh
 * viện, ngân hàng, ở trọ) must not outvote the question, so a message is cut into
 * clauses and each clause gets a role: the one that asks, the one that says what the
 * citizen wants to do, or background. Retrieval and the aspect classifier then weigh
 * tokens by the role of their clause. Short, single-clause messages are unaffected.
 * Pure and cheap (a few regular expressions per clause).
 */
import { normalize, type Lexicon, type Normalized } from './normalize.ts';

/** What a clause does in the message. */
export type ClauseRole = 'question' | 'request' | 'check' | 'background' | 'held';

/**
 * Token weight per role; a message without any question or request clause weighs all 1.
 * `check` asks whether a paper is needed ("có cần sổ đỏ nhà chồng không?"): the paper it
 * names is one of the documents, not the procedure asked about.
 */
export const ROLE_WEIGHTS: Readonly<Record<ClauseRole, number>> = Object.freeze({ question: 1, request: 0.85, check: 0.6, background: 0.5, held: 0.35 });

export interface Clause {
  /** The clause as typed (punctuation kept). */
  text: string;
  role: ClauseRole;
  /** Normalized tokens of the clause. */
  norm: Normalized;
}

// Sentence ends and commas, when followed by a space: "68/2020/QH14", "2.000528", codes stay whole.
const BOUNDARY = /(?<=[.!?…;,:])\s+|\n+|(?<=\?)/u;
/** Folded question words and phrases that make a clause a question ("chưa bao giờ" is never, not when; "có căn cước" is not "có cần"). */
const QUESTION = / (the nao|ra sao|nhu nao|lam sao|cach nao|o dau|cho nao|noi nao|co quan nao|bao lau|bao nhieu|may ngay|may tien|het bao|khi nao|(?<!(?:chua|khong|ko|chang) )bao gio|gi|nao|co phai|phai khong|hay khong|hay chi|hay la|hay phai|duoc khong|co duoc|co can(?! cuoc| ho | nha )|xin hoi|cho (?:con |em |chau |toi |minh )?hoi|muon hoi|hoi ve|huong dan|tu van) /;
/** "Có cần (mang, nộp) X không?": whether a paper is needed. */
const CHECK = / co can (?:mang |nop |phai |them |lam )?(?:giay|so|ban|the|bang|hop dong|van ban|xac nhan|chung|can|ly lich|phieu|to khai|don|trich luc|hoc ba|ho chieu|anh) .*(?:khong|hong|ko|k|khg|hok|khum) (?:a |nhi |nhe |vay |ha )?$/;
/**
 * Background that says which paper the citizen already holds ("đã có giấy đăng ký hộ kinh
 * doanh", "đã được cấp sổ đỏ", "có bằng lái hạng C được 8 năm"), what they have just registered
 * ("em vừa đăng ký hộ kinh doanh để mở quán") or what they already are ("tôi là hộ kinh
 * doanh", "mình đang làm chủ một công ty"): a fact of the story, not the one asked for.
 */
const HELD =
  / (?:(?:da|van) (?:co|lam)|dang co|duoc cap) (?:giay|so|the|bang|ho chieu|can cuoc|cccd|gplx|chung chi|chung nhan) | (?:da|vua|moi) (?:xin|lam|lay) (?:xong|duoc) (?:giay|so|the|ban|phieu|trich luc|ho chieu|can cuoc|cccd|bang|gplx|visa) | (?:da|vua|moi) (?:dang ky|lam xong|dang ky xong) (?:ho kinh doanh|kinh doanh|doanh nghiep|ket hon|khai sinh|tam tru|thuong tru|xe) |^ (?:toi|em|minh|chung toi|nha toi|gia dinh toi|ben em|ben minh|ben toi) (?:hien |dang |cung )?(?:la|lam) (?:chu )?(?:mot |1 )?(?:ho kinh doanh|hkd|doanh nghiep|cong ty|hop tac xa|htx|giam doc|chu doanh nghiep|chu cong ty|chu ho) | co (?:giay|bang|so|the|chung chi|gplx|bang lai) (?:\S+ ){0,6}(?:duoc|tu) (?:\d+|may|nhieu|hai|ba|muoi|chuc) nam | (?:dang ky|lam) (?:ket hon|khai sinh|ho kinh doanh|thuong tru|tam tru) (?:\S+ ){0,4}(?:tu|vao|hoi|nam) (?:nam )?(?:19|20)\d\d /;
/**
 * "Nghe nói … được hỗ trợ", "cán bộ xã bảo có chương trình …": what the citizen heard they
 * may get is what they ask for, not background.
 */
const HEARSAY = /^ (?:(?:toi|em|minh|chau|con|vo chong toi|gia dinh toi|nha toi) )?(?:cung )?(?:nghe noi|nghe bao|nghe dau|duoc biet|thay bao|thay noi|nghe nguoi ta (?:noi|bao)|can bo (?:\S+ ){0,2}(?:bao|noi|huong dan)) .*(?:duoc|co|phai) /;
/**
 * "không có … gì (cả)", "chưa đi nước ngoài lần nào": a negation that says none, not a question
 * ("gì", "nào" are emphatic). "Không biết phải chuẩn bị giấy tờ gì", "không có sổ thì cần
 * giấy tờ gì ạ" still ask.
 */
const NONE = / (?:khong|chua|chang|ko) (?:(?:co|duoc|huong|dang ky|lam|xin|nhan) (?:(?!thi |can |phai |nen |muon |hoi |lam |biet )\S+ ){1,10}gi|(?:(?!thi |can |phai |nen |muon |hoi |biet )\S+ ){1,8}lan nao) (?:ca |het |a )?$/;
/** A clause that ends by saying it is done ("… rồi", "… xong rồi"), and the words that still make it a wish. */
const DONE_END = / (?:roi|xong) (?:a |nhe |nha )?$/;
const WANT = / (?:muon|dinh|tinh|mong) /;
/** A clause ending in "không", "chưa", "ạ" after a verb is a yes/no question. */
const YES_NO_END = / (khong|chua|k|ko|khg|hok|khum) (a |nhi |nhe |vay |ha |the )?$/;
/**
 * The clause says what the citizen wants to do ("quyết định", "quy định", "định cư" are not "định"; "căn cước", "căn hộ", "căn nhà" typed without accents are not "cần").
 * "Đi làm giấy khai sinh" asks for a paper; "hiện em đi làm và …", "đi làm ở công ty", "đi làm thuê" say where one works.
 */
const REQUEST = / (muon|can(?! thiet| cuoc| ho | nha | bo )|(?<!(?:quyet|quy|qui|xac|on|co) )dinh(?! cu )|tinh|phai lam|xin(?! chao)|lam lai|di lam(?= (?!va |o |tai |cho |xa |an |thue |roi |ca |nuoi |cong |co |duoc |viec |nha may|$))|nho|giup|mong) /;
/** The request words as written: typed with other accents they are other words ("căn nhà" is not "cần", "tỉnh" is not "tính"). */
const REQUEST_FORMS: Readonly<Record<string, string>> = { muon: 'muốn', can: 'cần', dinh: 'định', tinh: 'tính', nho: 'nhờ', giup: 'giúp', mong: 'mong', xin: 'xin' };

/** Folded tokens joined for the role patterns, request words typed with other accents hidden. */
function requestView(norm: Normalized, text = ''): string {
  // A request word written with a capital inside the clause is part of a name ("phường Tân Định", "Bình Định").
  // (Not in a message typed in capitals or Title Case, where every word starts with one.)
  const named = new Set<string>();
  const words = text.match(/\p{L}[\p{L}\p{M}]*/gu) ?? [];
  const capitals = words.filter((w) => /^\p{Lu}/u.test(w)).length;
  if (capitals * 3 < words.length) for (const m of text.matchAll(/(?<=\p{L}[\p{L}\p{M}]*\s+)(\p{Lu}[\p{L}\p{M}]*)/gu)) named.add((m[1] as string).toLowerCase().normalize('NFC'));
  return ` ${norm.tokens.map((t, i) => (REQUEST_FORMS[t] && norm.accents[i] && (norm.accents[i] !== REQUEST_FORMS[t] || named.has(norm.accents[i] as string)) ? '§' : t)).join(' ')} `;
}

/**
 * Cuts a message into clauses with their roles. A clause that ends with "?" or holds a
 * question word asks; one that says "muốn/cần/định…" requests; the rest is background.
 */
export function splitClauses(raw: string, lexicon: Lexicon): Clause[] {
  const parts = raw.split(BOUNDARY).filter((p) => p && p.trim());
  const out: Clause[] = [];
  for (const text of parts.length ? parts : [raw]) {
    const norm = normalize(text, lexicon);
    if (!norm.tokens.length) continue;
    const joined = ` ${norm.tokens.join(' ')} `;
    // "Bà không có lương hưu hay trợ cấp gì": "không có … gì" says none, it asks nothing.
    const saysNone = NONE.test(joined) && !/\?\s*$/.test(text) && !QUESTION.test(joined.replace(NONE, ' '));
    const asks = !saysNone && (/\?\s*$/.test(text) || QUESTION.test(joined) || YES_NO_END.test(joined));
    // "Năm ngoái tôi làm lại thẻ rồi": what is done already ("… rồi") is the story, not a request.
    // (Wishes read with their accents: the "tình" of "tình trạng" is no "tính".)
    const view = requestView(norm, text);
    const done = DONE_END.test(joined) && !WANT.test(view);
    const role: ClauseRole = asks
      ? CHECK.test(joined)
        ? 'check'
        : 'question'
      : !done && (REQUEST.test(view) || HEARSAY.test(joined))
        ? 'request'
        : HELD.test(joined)
          ? 'held'
          : 'background';
    out.push({ text, role, norm });
  }
  // A message that only checks a paper asks about it.
  if (!out.some((c) => c.role === 'question' || c.role === 'request')) for (const c of out) if (c.role === 'check') c.role = 'question';
  return out;
}

/** Per-token weights for clauses laid end to end; all 1 when no clause asks or requests. */
export function clauseWeights(clauses: readonly Clause[]): number[] {
  const focused = clauses.length > 1 && clauses.some((c) => c.role === 'question' || c.role === 'request') && clauses.some((c) => c.role === 'background' || c.role === 'check' || c.role === 'held');
  const out: number[] = [];
  for (const c of clauses) {
    const w = focused ? ROLE_WEIGHTS[c.role] : 1;
    const t = c.norm.tokens;
    // "… cho khớp với căn cước", "khác với giấy khai sinh": the paper compared with is a
    // reference, not the one asked about; its words weigh half.
    let reference = 0;
    for (let i = 0; i < t.length; i++) {
      if (reference > 0) reference--;
      if (i > 0 && t[i] === 'voi' && REFERENCE_BEFORE.has(t[i - 1] as string)) {
        out.push(w);
        reference = REFERENCE_SPAN + 1;
        continue;
      }
      out.push(reference > 0 ? w * REFERENCE_WEIGHT : w);
    }
  }
  return out;
}

/** "khớp với", "so với", "khác với", "giống với", "trùng với": what follows is compared with. */
const REFERENCE_BEFORE = new Set(['khop', 'so', 'khac', 'giong', 'trung']);
/** Words after the marker that are the reference, and their weight against the clause's. */
const REFERENCE_SPAN = 4;
const REFERENCE_WEIGHT = 0.5;
