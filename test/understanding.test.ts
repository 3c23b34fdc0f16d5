/**
 * The pieces of long-message and long-tail understanding, one behaviour each: clause
 * roles, accent-aware phrase lists, families of variants, record evidence, the decision
 * details a citizen feels (acknowledgements, close candidates, several aspects at once,
 * variants offered) and abuse detection that does not scold polite words.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnowledgeHolder } from '../bot/assistant.ts';
import { compilePhrase, contentMask, findPhrases } from '../intents/cues.ts';
import { EvidenceIndex, textTerms, termHash } from '../intents/evidence.ts';
import { Families } from '../intents/family.ts';
import { normalize } from '../intents/normalize.ts';
import { PhraseIndex } from '../intents/retrieval.ts';
import { asksPlace, toldLevel } from '../intents/understand.ts';
import { clauseWeights, splitClauses } from '../intents/story.ts';
import { nationalPriority } from '../knowledge/national-lazy.ts';
import { knowledgeHolder, testAssistant } from './helpers/assistant.ts';

const bundled = () => knowledgeHolder().version.understander;
let nationalHolder: KnowledgeHolder | undefined;
const withNational = () => {
  nationalHolder ??= new KnowledgeHolder({ nationalFile: join(import.meta.dirname, 'fixtures', 'national', 'sample.jsonl') });
  return nationalHolder.version.understander;
};

describe('clauses of a long message', () => {
  it('the clause that asks weighs most, the story least', () => {
    const clauses = splitClauses('Vợ em mới sinh bé ở bệnh viện. Giờ em muốn làm giấy khai sinh cho bé. Cần mang những gì ạ?', { abbreviations: new Map(), rules: [] });
    expect(clauses.map((c) => c.role)).toEqual(['background', 'request', 'question']);
    const w = clauseWeights(clauses);
    expect(w[0]).toBeLessThan(w[w.length - 1] as number);
  });
  it('role words are read with their accents: "căn nhà" is not "cần", "quyết định" is not "định"', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    expect(splitClauses('Tôi xây xong căn nhà cấp 4 trên thửa đất, nhưng trong sổ chưa ghi nhận căn nhà. Cần hồ sơ gì?', lex).map((c) => c.role)).toEqual(['background', 'background', 'question']);
    expect(splitClauses('Nay đã đổi tên theo quyết định cải chính. Tôi muốn làm lại thẻ. Làm ở đâu?', lex).map((c) => c.role)).toEqual(['background', 'request', 'question']);
    expect(splitClauses('Nhà ở trọ. Em can lam lai the. Lam o dau?', lex).map((c) => c.role)).toEqual(['background', 'request', 'question']);
    // Typed without accents, "can cuoc", "can ho", "can nha" are "căn…", not "cần".
    expect(splitClauses('Nam ngoai toi da doi sang the can cuoc gan chip. Nha toi mua can ho o quan 7. Lam o dau?', lex).map((c) => c.role)).toEqual(['background', 'background', 'question']);
  });
  it('"không có … gì" says none; "đi làm và …" says where one works; "tôi nghe nói" is hearsay', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    expect(splitClauses('Mẹ tôi không có lương hưu hay trợ cấp bảo hiểm gì. Làm hồ sơ thế nào?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    expect(splitClauses('Bà không có giấy tờ gì cả. Làm hồ sơ thế nào?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    // A question with "gì" is still one, and so is "không biết … gì".
    expect(splitClauses('Em không biết phải chuẩn bị giấy tờ gì.', lex).map((c) => c.role)).toEqual(['question']);
    expect(splitClauses('Không có sổ hộ khẩu thì cần giấy tờ gì ạ', lex).map((c) => c.role)).toEqual(['question']);
    expect(splitClauses('Chao can bo xa, to hop tac chua dang ky kinh doanh gi ca. Can nop giay to gi?', lex).map((c) => c.role)).toEqual(['background', 'background', 'question']);
    expect(splitClauses('Không có sổ hộ khẩu thì cần giấy tờ gì?', lex).map((c) => c.role)).toEqual(['question']);
    expect(splitClauses('Hiện em đi làm và đã đăng ký thường trú ở Đà Nẵng. Nộp ở đâu?', lex).map((c) => c.role)).toEqual(['held', 'question']);
    expect(splitClauses('Giờ em muốn đi làm giấy khai sinh cho bé. Cần gì?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    expect(splitClauses('Nay con cái đi làm có lương. Nộp đơn cho ai?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    expect(splitClauses('Xin chào, nhà tôi mới mua xe. Đăng ký ở đâu?', lex).map((c) => c.role)).toEqual(['background', 'background', 'question']);
    expect(splitClauses('Em đã làm xong hộ chiếu và đang chuẩn bị đi làm việc ở Đài Loan. Làm lý lịch tư pháp thế nào?', lex).map((c) => c.role)).toEqual(['held', 'question']);
    expect(splitClauses('Tôi nghe nói người cao tuổi được hỗ trợ tiền hằng tháng. Làm thế nào?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    // "chưa … lần nào" is never; a request word in a place name ("phường Tân Định") is a name; "tình trạng" is no "tính".
    expect(splitClauses('Tôi chưa đi nước ngoài lần nào. Làm hộ chiếu ở đâu?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    expect(splitClauses('Em làm ở một công ty tại phường Tân Định. Đăng ký kết hôn ở đâu?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    expect(splitClauses('EM ĐỊNH LÀM GIẤY KHAI SINH. CẦN GÌ?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    expect(splitClauses('Em đã xin xong giấy xác nhận tình trạng hôn nhân ở quê gửi lên rồi. Bao lâu có kết quả?', lex).map((c) => c.role)).toEqual(['held', 'question']);
  });
  it('"chưa bao giờ" is never, not when; "có căn cước" is not "có cần"', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    expect(splitClauses('Ông tôi chưa bao giờ có giấy tờ gốc, nhưng có căn cước. Muốn làm lại thì cần gì?', lex).map((c) => c.role)).toEqual(['background', 'background', 'question']);
    expect(splitClauses('Bao giờ thì có kết quả?', lex).map((c) => c.role)).toEqual(['question']);
    expect(splitClauses('Em muốn làm hộ chiếu. Có cần mang căn cước không?', lex).map((c) => c.role)).toEqual(['request', 'check']);
  });
  it('a paper the citizen already holds ("đã có giấy …", "đã được cấp sổ …") weighs less than the rest of the story', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    const clauses = splitClauses('Tôi bán bánh mì, đã có giấy đăng ký hộ kinh doanh. Phường bảo phải có giấy an toàn thực phẩm. Xin giấy đó ở đâu?', lex);
    expect(clauses.map((c) => c.role)).toEqual(['background', 'held', 'background', 'question']);
    expect(splitClauses('Nhà tôi đã được cấp sổ đỏ năm 2010. Giờ muốn tách thửa thì làm sao?', lex).map((c) => c.role)).toEqual(['held', 'question']);
    // A paper the question compares with ("khớp với căn cước") is a reference: its words weigh half.
    const ref = splitClauses('sửa giấy khai sinh cho khớp với căn cước', lex);
    const rw = clauseWeights(ref);
    const toks = (ref[0] as (typeof ref)[number]).norm.tokens;
    expect(rw[toks.indexOf('can')]).toBeLessThan(rw[toks.indexOf('giay')] as number);
    // What the citizen heard they may get is what they ask for.
    expect(splitClauses('Nghe nói người chuyển nghề được hỗ trợ tiền học. Hồ sơ gửi xã thế nào?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    expect(splitClauses('Cán bộ kiểm lâm bảo phải làm đề nghị giao rừng. Làm đơn ở đâu?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    // "được cấp sổ đỏ từ mấy năm trước" is a paper held, with or without "đã".
    expect(splitClauses('Nhà tôi được cấp sổ đỏ từ mấy năm trước. Giờ tách thửa ở đâu?', lex).map((c) => c.role)).toEqual(['held', 'question']);
    // What the citizen has just registered is a fact of the story too.
    expect(splitClauses('Em vừa đăng ký hộ kinh doanh để mở quán cơm. Giấy an toàn thực phẩm xin ở đâu?', lex).map((c) => c.role)).toEqual(['held', 'question']);
    // What is done already is the story: "làm lại thẻ rồi" is not a request, "muốn làm lại rồi" still is.
    expect(splitClauses('Năm ngoái tôi làm lại thẻ căn cước rồi. Con tôi cấp thẻ ở đâu?', lex).map((c) => c.role)).toEqual(['background', 'question']);
    expect(splitClauses('Tôi muốn làm lại thẻ rồi. Làm ở đâu?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    // Not a question or a request: "đã có … chưa?" asks.
    expect(splitClauses('Hồ sơ của tôi đã có kết quả chưa?', lex).map((c) => c.role)).toEqual(['question']);
    const w = clauseWeights(clauses);
    const heldAt = (clauses[0] as (typeof clauses)[number]).norm.tokens.length;
    expect(w[heldAt]).toBeLessThan(w[0] as number);
  });
  it('"tụi em tính…" says what the citizen wants; "có cần sổ đỏ … không?" checks a paper, it does not name the procedure', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    expect(splitClauses('Tụi em tính đăng ký kết hôn trước Tết. Làm ở đâu?', lex).map((c) => c.role)).toEqual(['request', 'question']);
    expect(splitClauses('Em quê Hà Tĩnh. Em muốn chuyển hộ khẩu qua nhà chồng. Cần giấy gì, có cần sổ đỏ nhà chồng không ạ?', lex).map((c) => c.role)).toEqual(['background', 'request', 'question', 'check']);
    expect(splitClauses('Có cần giấy khai sinh không?', lex).map((c) => c.role)).toEqual(['question']);
    const u = bundled().understand('Em mới cưới, giờ về ở nhà chồng. Em muốn chuyển hộ khẩu qua nhà chồng. Vậy em cần mang giấy gì, có cần sổ đỏ nhà chồng không ạ?');
    expect(u.procedure).toBe('cu-tru.thuong-tru');
  });
  it('a story that mentions a dossier ("hồ sơ") and "chưa" is not a status lookup when the question asks for documents', () => {
    const u = bundled().understand('Tôi xây xong căn nhà cấp 4 trên đất đã có sổ hồng từ năm 2019, nhưng trong sổ chưa ghi nhận căn nhà. Tôi muốn đăng ký bổ sung căn nhà vào giấy chứng nhận thì cần hồ sơ gì?');
    expect(u.intent).toBe('procedure.documents');
  });
  it('who the citizen already is ("tôi là hộ kinh doanh"), a paper held for years, a registration dated in the past are held; "định cư" is no wish', () => {
    const lex = { abbreviations: new Map(), rules: [] };
    const roles = (t: string) => splitClauses(t, lex).map((c) => c.role);
    expect(roles('Tôi là hộ kinh doanh bán tạp hóa ở chợ, bên mua đòi bảng kê có xác nhận. Làm thế nào?')).toEqual(['held', 'background', 'question']);
    expect(roles('Mình có bằng lái hạng C được 8 năm, đang kèm lái cho trung tâm. Xin giấy chứng nhận thì cần gì?')).toEqual(['held', 'background', 'question']);
    expect(roles('Vợ chồng em đăng ký kết hôn ở xã từ năm 2024, giờ em muốn làm giấy khai sinh cho con.')).toEqual(['held', 'request']);
    expect(roles('Anh tôi đã sang Mỹ định cư mấy năm, hộ khẩu vẫn để ở nhà. Cần giấy tờ gì?')).toEqual(['background', 'background', 'question']);
    // "… thì có cần lý lịch tư pháp không?" checks a paper of the procedure asked, it does not name it.
    expect(roles('Tôi muốn được bổ nhiệm giám định viên, tôi không phải công chức thì có cần lý lịch tư pháp không?')).toEqual(['request', 'check']);
  });
  it('a one-sentence question weighs every word the same', () => {
    const clauses = splitClauses('khai sinh cần gì', { abbreviations: new Map(), rules: [] });
    expect(new Set(clauseWeights(clauses))).toEqual(new Set([1]));
  });
  it('dossier codes and legal numbers are not cut', () => {
    const clauses = splitClauses('Luật Cư trú 68/2020/QH14, hồ sơ 000.00.19.H04-250312-0007 đến đâu rồi?', { abbreviations: new Map(), rules: [] });
    expect(clauses.map((c) => c.text).join(' ')).toContain('000.00.19.H04-250312-0007');
  });
});

describe('accent-aware phrase lists', () => {
  const typed = (t: string) => normalize(t);
  it('a word written with accents matches only itself or the same letters typed without accents', () => {
    const list = [compilePhrase('đéo'), compilePhrase('mỹ')];
    for (const [text, hits] of [
      ['đeo kính', 0],
      ['đéo', 1],
      ['deo', 1],
      ['ăn mì', 0],
      ['người mỹ', 1],
      ['nguoi my', 1],
    ] as const) {
      const n = typed(text);
      expect(findPhrases(n.tokens, n.accents, list).length, text).toBe(hits);
    }
  });
  it('with a gap list, one such word may stand inside a life-event phrase, never a word of the phrase itself', () => {
    const list = [compilePhrase('chưa bao giờ làm giấy khai sinh'), compilePhrase('mất giấy')];
    const gap = new Set(['duoc', 'di']);
    for (const [text, hits] of [
      ['từ nhỏ chưa bao giờ được làm giấy khai sinh', 1],
      ['chua bao gio duoc lam giay khai sinh', 1],
      ['chưa bao giờ được cho đi làm giấy khai sinh', 0],
      ['mất đi giấy', 1],
      ['mất hết giấy', 0],
    ] as const) {
      const n = typed(text);
      expect(findPhrases(n.tokens, n.accents, list, gap).length, text).toBe(hits);
    }
    const plain = typed('chưa bao giờ được làm giấy khai sinh');
    expect(findPhrases(plain.tokens, plain.accents, list).length).toBe(0);
  });
  it('a stopword counts only when typed with its accents ("dang" may be "đăng")', () => {
    const fillers = [compilePhrase('đang', true)];
    const accented = typed('đang làm');
    const bare = typed('dang ky');
    expect(contentMask(accented.tokens, accented.accents, fillers)[0]).toBe(false);
    expect(contentMask(bare.tokens, bare.accents, fillers)[0]).toBe(true);
  });
});

describe('polite words are not abuse', () => {
  const polite = [
    'em đi làm hộ chiếu cần gì',
    'chụp ảnh căn cước có được đeo kính không',
    'dì em nhờ nộp hồ sơ hộ',
    'lập di chúc ở xã được không',
    'con bị dị tật có được miễn học phí không',
    'bố em bị cụt tay thì lấy vân tay thế nào',
    'di nop ho so o dau',
    'deo khau trang chup anh duoc khong',
  ];
  it.each(polite)('%s', (text) => {
    expect(bundled().understand(text).abuse === 'strong').toBe(false);
  });
  it('abusive words are still told, typed with or without accents', () => {
    for (const text of ['đm trả lời kiểu gì vậy', 'bot này ngu thế', 'địt mẹ hỏi mãi', 'deo hieu gi ca']) {
      expect(bundled().understand(text).abuse, text).not.toBeNull();
    }
  });
  it('through the dialogue: polite questions get no scolding, abuse gets the note', async () => {
    const a = testAssistant();
    const politeTurn = await a.say('p1', 'chụp ảnh căn cước có được đeo bông tai không');
    expect(politeTurn.reply?.text ?? '').not.toMatch(/lịch sự|lời lẽ/iu);
    const rude = await a.say('p2', 'đéo hiểu gì cả');
    expect(rude.reply?.text ?? '').toMatch(/lịch sự|lời lẽ/iu);
  });
});

describe('families of procedures', () => {
  const f = new Families([
    { core: ['dang', 'ky', 'khai', 'sinh'], curated: true },
    { core: ['dang', 'ky', 'khai', 'sinh', 'luu', 'dong'], curated: false },
    { core: ['dang', 'ky', 'lai', 'khai', 'sinh'], curated: false },
    { core: ['dang', 'ky', 'khai', 'sinh'], curated: false },
    { core: ['cap', 'giay'], curated: false },
  ]);
  it('a head gathers every name holding its words in order', () => {
    expect(f.headsOf(1)).toContain(0);
    expect(f.headsOf(2)).toContain(0);
    expect(f.qualifier(1, 0)).toEqual([['luu', 'dong']]);
    expect(f.qualifier(2, 0)).toEqual([['lai']]);
  });
  it('a level copy of the curated entry is in its family but is not a variant', () => {
    expect(f.headsOf(3)).toEqual([0]);
    expect(f.variants(0)).not.toContain(3);
  });
  it('a two-word name is too generic to head a family', () => {
    expect(f.variants(4)).toEqual([]);
  });
});

describe('evidence from what a record says', () => {
  it('words and pairs of a description are found, stopwords are not specific', () => {
    const texts = ['Người nước ngoài kết hôn với công dân Việt Nam', 'Công dân Việt Nam đăng ký tạm trú', 'Công dân bị mất thẻ'];
    const e = new EvidenceIndex(texts.length, (i) => texts[i] as string, (i) => ({ i }));
    expect(e.has(0, 'ngoai')).toBe(true);
    expect(e.has(0, 'nuoc_ngoai')).toBe(true);
    expect(e.has(1, 'nuoc_ngoai')).toBe(false);
    expect(e.specificity('cong')).toBeLessThan(e.specificity('ngoai'));
  });
  it('glued words of flattened tables are cut at the case change', () => {
    const t = textTerms('Tờ khaiSố lượng');
    expect([...t]).toContain(termHash('khai'));
    expect([...t]).toContain(termHash('so'));
  });
});

describe('decisions a citizen feels', () => {
  it('"ok", "dạ", "hả" as a first message are a greeting; after an answer, thanks or the procedure again', () => {
    const u = bundled();
    for (const t of ['ok', 'dạ', 'hả', 'vâng']) expect(u.understand(t).intent, t).toBe('greeting');
    expect(u.understand('ok', { lastProcedure: 'ho-tich.khai-sinh' }).intent).toBe('thanks');
    const huh = u.understand('hả', { lastProcedure: 'ho-tich.khai-sinh' });
    expect([huh.intent, huh.procedure]).toEqual(['procedure.overview', 'ho-tich.khai-sinh']);
  });
  it('a bare generic word ("xe") is asked about, not answered with one procedure', () => {
    const r = bundled().understand('xe');
    expect(r.clarify).toBe(true);
    expect(r.alternatives.length).toBeGreaterThanOrEqual(2);
  });
  it('two aspects asked together are both reported', () => {
    const r = bundled().understand('đăng ký kết hôn cần giấy tờ gì và nộp ở đâu');
    expect(r.intent).toBe('procedure.documents');
    expect(r.aspects).toContain('procedure.location');
    const r2 = bundled().understand('làm căn cước mất bao lâu, lệ phí bao nhiêu');
    expect([r2.intent, ...r2.aspects].sort()).toEqual(['procedure.duration', 'procedure.fee']);
  });
  it('a single-aspect question reports no second aspect', () => {
    for (const t of ['lệ phí làm hộ chiếu bao nhiêu', 'thủ tục đăng ký kết hôn', 'khai sinh cần gì']) expect(bundled().understand(t).aspects, t).toEqual([]);
  });
  it('the common procedure is answered and the variants that differ are offered', () => {
    const r = withNational().understand('đăng ký khai sinh cần gì');
    expect(r.procedure).toBe('ho-tich.khai-sinh');
    expect(r.variants).toEqual(expect.arrayContaining(['2.000528']));
  });
  it('a variant the message names is not offered, it is chosen', () => {
    const r = withNational().understand('chồng tôi người Hàn, làm khai sinh cho con thế nào');
    expect(r.procedure).toBe('2.000528');
    expect(r.variants).toEqual([]);
  });
  it('an abroad variant is chosen only when the message says so', () => {
    expect(withNational().understand('muốn nhập quốc tịch Việt Nam').procedure).toBe('2.002039');
    expect(withNational().understand('tôi đang sống ở nước ngoài, muốn nhập quốc tịch Việt Nam qua đại sứ quán').procedure).toBe('2.002040');
  });
  it('kb explain shows the clauses, implied words and candidates behind a decision', () => {
    const e = withNational().explain('Hôm qua tôi bị móc túi mất ví. Giờ làm lại căn cước thế nào?') as { clauses: string[]; implied: string[]; procs: { id: string }[]; decision: { procedure: string } };
    expect(e.clauses.length).toBe(2);
    expect(e.implied).toContain('cap lai');
    expect(e.procs.length).toBeGreaterThan(1);
    expect(e.decision.procedure).toBe('can-cuoc.cap-lai');
  });
});

describe('postal questions', () => {
  it('"nộp qua bưu điện được không" after a procedure answers about post, not online', async () => {
    const a = testAssistant();
    await a.say('b1', 'đăng ký tạm trú cần gì');
    const t = await a.say('b1', 'nộp qua bưu điện được không');
    expect(t.procedure).toBe('cu-tru.tam-tru');
    expect(t.reply?.text ?? '').toMatch(/bưu chính/iu);
    expect(t.reply?.text ?? '').not.toMatch(/^Có, nộp trực tuyến/u);
  });
});

describe('where, and what a message typed with accents means', () => {
  const folded = (t: string) => normalize(t).tokens;
  it('naming an office is context; "ở đâu", "xã nào", "xã hay tỉnh" ask where; "thế nào" asks how', () => {
    for (const [text, place] of [
      ['xin gia hạn ở công an tỉnh', false],
      ['xin ở công an phường thế nào', false],
      ['có phải báo với công an xã không, làm thế nào', false],
      ['nộp ở đâu', true],
      ['làm ở phường nào', true],
      ['làm ở xã hay tỉnh', true],
      ['có làm ở xã được không', true],
      ['địa chỉ nộp', true],
      ['quyet dinh cung mat ko con', false],
      ['có phải khai báo với công an xã không', false],
      ['có phải về quê không', true],
      // "đâu" that means nowhere or not: a story, not a question about the place.
      ['tôi chưa nộp hồ sơ ở đâu cả', false],
      ['em ko di dau het', false],
      ['tôi đâu có biết thủ tục này', false],
      ['tôi đâu có biết phải nộp ở đâu', true],
      ['nộp ở đâu cả hai bộ hồ sơ', true],
      // "đầu" (first) typed plain is "dau" too; "ra" / "lên" an office is a place, "ra kết quả" is not.
      ['lam ho chieu lan dau', false],
      ['xác nhận chữ ký ra ủy ban xã được không', true],
      ['bao lâu thì ra kết quả không', false],
      ['kích hoạt vneid phải ra công an xã à', true],
      ['kich hoat vneid phai ra cong an xa ha', true],
      // "đất ở", "nhà ở" are kinds of land and housing, not places.
      ['chuyển đất lúa sang đất ở được không', false],
      ['mua nhà ở xã hội được không', false],
    ] as const) expect(asksPlace(folded(text)), text).toBe(place);
  });
  it('"do" in an accented sentence is the preposition, not a boat ("đò"); typed plain it is a boat only with a boat word ("con đò")', () => {
    const u = bundled();
    const implied = (t: string) => (u.explain(t) as { implied: string[] }).implied;
    expect(implied('Giấy này do Ủy ban xã cấp, giờ tôi muốn làm lại thì thế nào?')).not.toContain('phuong tien');
    expect(implied('Nhà tôi có chiếc đò chở khách qua sông, đăng ký thế nào?')).toContain('phuong tien');
    expect(implied('nha toi co con do cho khach, dang ky the nao')).toContain('phuong tien');
    // Typed plain, "mat bang do" is "mặt bằng đó" (no boat, no lost licence: "mất bằng").
    const plain = implied('minh khong thue mat bang do nua nen muon rut ho so lai');
    expect(plain).not.toContain('phuong tien');
    expect(plain).not.toContain('cap lai');
    // "xuong" typed plain is a workshop ("xưởng") or "down" ("xuống") far more often than a boat ("xuồng").
    expect(implied('minh co xuong san xuat nuoc da, can giay phep gi')).not.toContain('phuong tien');
    expect(implied('Nhà tôi có chiếc xuồng máy chở khách, đăng ký thế nào?')).toContain('phuong tien');
  });
  it('typed plain, "can" before a question word is "cần", not the "cận" of "hộ cận nghèo"; typed with accents it is left alone', () => {
    const u = withNational();
    expect(u.understand('ong ba noi muon lam giam ho can giay gi').procedure).toBe('1.004837');
    expect(u.understand('ho can ngheo can giay gi').procedure).toBe('xa-hoi.ho-ngheo');
    expect(u.understand('Hộ cận nghèo cần giấy gì?').procedure).toBe('xa-hoi.ho-ngheo');
  });
  it('a province\'s name is where the citizen lives, not a word of a procedure ("về Nam Định" is no "giám định")', () => {
    const procs = (withNational().explain('Xin bổ nhiệm công chứng viên thì nộp ở Hà Nội hay về Nam Định?') as { procs: { id: string; matched: string }[] }).procs;
    expect(procs[0]?.id).toBe('1.013803');
    expect(procs.some((p) => p.matched.split(' ').includes('dinh'))).toBe(false);
  });
  it('a bank\'s or credit institution\'s procedure ranks below the citizen\'s own unless the message names a bank', () => {
    const score = (t: string, id: string) => (withNational().explain(t) as { procs: { id: string; score: number }[] }).procs.find((p) => p.id === id)?.score ?? 0;
    const plain = 'hợp tác xã muốn tạm ngừng hoạt động thì thông báo ở đâu';
    expect(score(plain, '1.001651')).toBeLessThan(score(plain, '2.002641'));
    // Named, the bank's record is not held back.
    const bank = 'quỹ tín dụng nhân dân là tổ chức tín dụng hợp tác xã muốn tạm ngừng giao dịch thì xin chấp thuận ở đâu';
    expect(score(bank, '1.001651')).toBeGreaterThan(score(bank, '2.002641'));
  });
  it('a letter with a greeting that asks is never answered as a greeting', () => {
    const u = bundled().understand('Cháu chào cô chú, mẹ cháu năm nay đã già, hay ốm, nhà chỉ có hai mẹ con, cháu đi làm xa nên không chăm được mẹ. Cô chú cho cháu hỏi giờ cháu phải làm đơn gửi ai ạ?');
    expect(u.intent).not.toBe('greeting');
    expect(bundled().understand('Cháu chào cô chú ạ').intent).toBe('greeting');
  });
  it('abuse is read as typed: "con cho đối tác" in an accented message is "cho", not "chó"', () => {
    expect(bundled().understand('Tôi nuôi cá sấu, muốn bán cá sấu con cho đối tác bên Campuchia thì cần giấy gì?').abuse).toBeNull();
    expect(bundled().understand('đồ con chó').abuse).toBe('strong');
  });
  it('a name typed plain in an accented message is not "corrected" ("Đài Loan" stays Loan)', () => {
    expect(bundled().understand('Em sắp sang Đài Loan kết hôn, xin giấy xác nhận độc thân ở đâu ạ?').tokens).toContain('loan');
  });
  it('a case the leading entry does not name goes to the candidate that names it ("giải thể" → chấm dứt hoạt động)', () => {
    const u = withNational().understand('quán nhỏ của tôi nghỉ kinh doanh rồi, giải thể hộ kinh doanh làm sao');
    expect(u.procedure).toBe('1.001266');
    expect(withNational().understand('đăng ký hộ kinh doanh cần gì').procedure).toBe('kinh-doanh.ho-kinh-doanh');
  });
});

describe("a curated entry's procedure done at another level", () => {
  // White-box on purpose: the full national file makes the province-level copy the leader for
  // "Em bị mất căn cước, làm lại bao lâu?"; the small fixture does not, so the step is driven directly.
  type Step = { id: string }[];
  const run = (text: string, ids: string[]): string => {
    const u = withNational() as unknown as {
      prepare(t: string): unknown;
      query(p: unknown): { query: unknown };
      curatedOverLevelCopy(procs: unknown[], q: unknown): Step;
      procIndex: { indexOf(id: string): number };
    };
    const procs = ids.map((id, i) => ({ id, index: u.procIndex.indexOf(id), score: 0.8 - i * 0.05, rank: 0.8 - i * 0.05, faqScale: 0.5, matched: new Set(['cap', 'lai']), coverage: 0.8, explained: new Set(['cap', 'lai']), queryCoverage: 0.5 }));
    return (u.curatedOverLevelCopy(procs, u.query(u.prepare(text)).query)[0] as { id: string }).id;
  };
  it('answers the curated entry (what the commune does) when the level is not told', () => {
    expect(run('Em bị mất căn cước, làm lại bao lâu?', ['2.001194', '1.009506', 'can-cuoc.cap-lai'])).toBe('can-cuoc.cap-lai');
  });
  it('keeps the other level when the citizen names it, or when the entry is not a candidate', () => {
    expect(run('làm lại căn cước ở công an tỉnh bao lâu', ['2.001194', 'can-cuoc.cap-lai'])).toBe('2.001194');
    expect(run('Em bị mất căn cước, làm lại bao lâu?', ['2.001194', '1.009506'])).toBe('2.001194');
  });
});

describe('an action told in the asking clauses over a curated leader', () => {
  // White-box: with the full national file the curated "Cấp, cấp đổi thẻ căn cước" led this
  // story (its description mentions loss); the small fixture does not reproduce that ranking.
  const run = (text: string, ids: string[]): string => {
    const u = withNational() as unknown as {
      prepare(t: string): unknown;
      query(p: unknown): { query: { segments: unknown[] } };
      toldActionOverTop(procs: unknown[], q: Map<string, number>, query: unknown): { id: string }[];
      procIndex: { indexOf(id: string): number };
    };
    const { query } = u.query(u.prepare(text));
    const q = new Map<string, number>();
    for (const sg of query.segments as { tokens: string[]; weights: number[] }[]) sg.tokens.forEach((t, i) => q.set(t, Math.max(q.get(t) ?? 0, sg.weights[i] ?? 1)));
    const procs = ids.map((id, i) => ({ id, index: u.procIndex.indexOf(id), score: 0.75 - i * 0.05, rank: 0.75 - i * 0.05, faqScale: 0.5, matched: new Set(['can', 'cuoc']), coverage: 0.6, explained: new Set(['can', 'cuoc']), queryCoverage: 0.8 }));
    return (u.toldActionOverTop(procs, q, query)[0] as { id: string }).id;
  };
  it('a life event told in the question ("làm lại") picks the curated entry named by that action', () => {
    expect(run('hôm qua em bị móc túi mất ví, trong đó có cái cccd. Giờ làm lại trên vneid dc ko hay phải ra công an', ['can-cuoc.cap-doi', 'can-cuoc.cap-lai'])).toBe('can-cuoc.cap-lai');
  });
  it('an action only the story implies does not move a curated leader', () => {
    expect(run('Năm ngoái tôi làm lại thẻ căn cước rồi. Giờ con tôi 14 tuổi, cấp thẻ căn cước cho con ở đâu?', ['can-cuoc.cap-doi', 'can-cuoc.cap-lai'])).toBe('can-cuoc.cap-doi');
  });
});

describe('weak guesses never act', () => {
  it('a stray syllable ("că") is not understood, not a request for staff, a complaint or a dossier lookup', () => {
    for (const text of ['că', 'ca', 'cđ']) {
      const u = bundled().understand(text);
      expect(['handoff', 'feedback', 'dossier.status']).not.toContain(u.intent);
    }
  });
  it('a clear request for a person still hands off', () => {
    expect(bundled().understand('cho tôi nói chuyện với cán bộ').intent).toBe('handoff');
  });
});

describe('national records: which copy a provincial centre files first', () => {
  it('the commune or province copy before the ministry-only one, the domestic before the one abroad', () => {
    expect(nationalPriority('Gia hạn tạm trú … tại Phòng Quản lý xuất nhập cảnh Công an tỉnh', 'Cấp tỉnh')).toBeGreaterThan(nationalPriority('Gia hạn tạm trú … tại Cục Quản lý xuất nhập cảnh', 'Cấp bộ'));
    expect(nationalPriority('Thủ tục X', 'Cấp bộ, Cấp tỉnh')).toBe(nationalPriority('Thủ tục X', 'Cấp tỉnh'));
    expect(nationalPriority('Đăng ký khai sinh ở nước ngoài', 'Cấp xã')).toBeLessThan(nationalPriority('Đăng ký khai sinh', 'Cấp xã'));
  });
});

describe('the level of the office the citizen names', () => {
  type U = { prepare(t: string): Parameters<typeof toldLevel>[0]; toldLevelOverTop(procs: unknown[], prep: unknown): { id: string }[]; procIndex: { indexOf(id: string): number } };
  const u = () => withNational() as unknown as U;
  it('reads "công an xã", "gửi xã", "lên phường", "ubnd tỉnh" in the asking clauses; not "ở xa", nor where the story lives', () => {
    for (const [text, level] of [
      ['Làm ở công an xã hết bao nhiêu tiền?', 'xa'],
      ['làm đơn gửi xã gồm những gì', 'xa'],
      ['có phải lên phường nộp không', 'xa'],
      ['nộp ở ubnd tỉnh hay ở đâu', 'tinh'],
      ['nộp ở xã được không', 'xa'],
      ['nha toi o xa, nop ho so o dau', null],
      ['Nhà em ở xã giáp biên. Giấy thông hành làm thế nào?', null],
      ['tôi ở tỉnh khác, làm khai sinh cho con ở đâu', null],
      // The office the story names says the level when the question names none; two offices, none.
      ['bị công an xã phạt sai, muốn khiếu nại thì nộp đơn ở đâu', 'xa'],
      ['công an xã bảo lên công an tỉnh, vậy làm thế nào', null],
    ] as const) expect(toldLevel(u().prepare(text)), text).toBe(level);
  });
  // White-box: the fixture is too small to rank the province-level sibling first by itself.
  const run = (text: string, ids: string[]): string => {
    const procs = ids.map((id, i) => ({ id, index: u().procIndex.indexOf(id), score: 0.7 - i * 0.03, rank: 0.7 - i * 0.03, faqScale: 0.5, matched: new Set(['gia', 'han', 'giay', 'phep', 'xay', 'dung']), coverage: 0.5, explained: new Set(['gia', 'han']), queryCoverage: 0.8 }));
    return (u().toldLevelOverTop(procs, u().prepare(text))[0] as { id: string }).id;
  };
  it('a close sibling done at the named level beats a leader done at another', () => {
    expect(run('gia hạn giấy phép xây dựng nộp ở ubnd xã cần gì', ['1.013233', '1.013227'])).toBe('1.013227');
    expect(run('gia hạn giấy phép xây dựng, làm ở công an tỉnh được không', ['1.013227', '1.013233'])).toBe('1.013233');
  });
  it('keeps the leader when no level is named, or the sibling is not close', () => {
    expect(run('gia hạn giấy phép xây dựng cần gì', ['1.013233', '1.013227'])).toBe('1.013233');
    expect(run('gia hạn giấy phép xây dựng nộp ở ubnd xã cần gì', ['1.013233', '2.000829', '2.001680', '1.012784', '1.013227'])).toBe('1.013233');
  });
});

describe('candidates of a long message', () => {
  it('a long official name that explains most of the message is weighed, however many short names it shares words with', () => {
    // 60 two-word names, each typed in full ("bao ve", "an ninh"…), crowd the first pass (it
    // ranks by how much of a name the message holds); the long name listing cases holds little
    // of itself but explains nearly all of the message.
    const asked = 'to bao ve an ninh trat tu o co so bi tai nan khong co bao hiem y te'.split(' ');
    const entries: { id: string; priority: number; phrases: { tokens: string[]; weight: number }[] }[] = [];
    for (let n = 0; entries.length < 60; n++) {
      const i = n % (asked.length - 1);
      entries.push({ id: `s${entries.length}`, priority: 50, phrases: [{ tokens: [asked[i] as string, asked[i + 1] as string], weight: 1 }] });
    }
    const long = 'giai quyet che do chinh sach cho nguoi tham gia luc luong bao ve an ninh trat tu o co so chua tham gia bao hiem y te ma bi om dau bi tai nan bi thuong khi thuc hien nhiem vu'.split(' ');
    entries.push({ id: 'long', priority: 50, phrases: [{ tokens: long, weight: 1 }] });
    const found = new PhraseIndex(entries).search(asked, 100);
    expect(found.map((m) => m.id)).toContain('long');
  });
  it('an entry with many matching aliases takes one place among the candidates, not all of them', () => {
    const alias = 'the can cuoc cong dan gan chip'.split(' ');
    const entries = [
      { id: 'many', priority: 50, phrases: Array.from({ length: 45 }, () => ({ tokens: alias, weight: 1 })) },
      { id: 'other', priority: 50, phrases: [{ tokens: 'cai chinh giay khai sinh'.split(' '), weight: 1 }] },
    ];
    const found = new PhraseIndex(entries).search('the can cuoc cong dan gan chip giay khai sinh'.split(' '), 10);
    expect(found.map((m) => m.id)).toEqual(['many', 'other']);
  });
});

describe('words a name inserts into its sibling', () => {
  // White-box: in the small fixture the family ranking settles these before this step runs.
  const run = (text: string, ids: string[]): string => {
    const u = withNational() as unknown as {
      prepare(t: string): unknown;
      query(p: unknown): { query: unknown };
      untoldInsertion(procs: unknown[], q: unknown): { id: string }[];
      procIndex: { indexOf(id: string): number };
    };
    const procs = ids.map((id, i) => ({ id, index: u.procIndex.indexOf(id), score: 0.88 - i * 0.001, rank: 0.88 - i * 0.001, faqScale: 0.5, matched: new Set(['cham', 'dut', 'giam', 'ho']), coverage: 0.9, explained: new Set(['cham', 'dut', 'giam', 'ho']), queryCoverage: 0.8 }));
    return (u.untoldInsertion(procs, u.query(u.prepare(text)).query)[0] as { id: string }).id;
  };
  it('the inserted run typed from its start in the question tells the case ("giám sát" of "chấm dứt giám sát việc giám hộ")', () => {
    expect(run('người được giám hộ đủ 18 tuổi, đăng ký chấm dứt giám sát giám hộ ở đâu', ['3.000322', '1.004845'])).toBe('3.000322');
  });
  it('a later word of the run alone does not ("chấm dứt việc giám hộ" is ending the guardianship)', () => {
    expect(run('em tôi đã đủ 18 tuổi, tôi muốn chấm dứt việc giám hộ thì làm thế nào', ['3.000322', '1.004845'])).toBe('1.004845');
  });
});
