/**
 * Zalo message mapping and credential storage: zca-js's own message classes in,
 * `IncomingMessage` out; credentials on disk with private permissions.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsTooOpen, readZaloCredentials, writeZaloCredentials, zaloCredentialsPath, zaloHotlineEnabled, ZaloCredentialsError } from '../../../bot/channels/zalo/credentials.ts';
import { BoundedSet, isZaloRecall, parseZaloConversationId, recalledMessageId, toIncomingMessage, zaloConversationId } from '../../../bot/channels/zalo/inbound.ts';
import { classifyLoginError, ZaloClose, ZaloThread, zaloErrorCode } from '../../../bot/channels/zalo/transport.ts';
import { loadConfig } from '../../../bot/config.ts';
import { FakeClock } from './fake-clock.ts';
import { CloseReason, FakeZaloApi, ThreadType, ZaloApiError } from './fake-zalo.ts';

const fake = new FakeZaloApi(new FakeClock());
const own = fake.ownId;
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'zalo-creds-'));
  dirs.push(d);
  return d;
};

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('our constants match zca-js', () => {
  it('close codes and thread types', () => {
    expect(ZaloClose).toEqual({ Manual: CloseReason.ManualClosure, Abnormal: CloseReason.AbnormalClosure, Duplicate: CloseReason.DuplicateConnection, Kicked: CloseReason.KickConnection });
    expect(ZaloThread).toEqual({ User: ThreadType.User, Group: ThreadType.Group });
  });

  it('classifies zca-js errors', () => {
    expect(classifyLoginError(new ZaloApiError('Đăng nhập thất bại'))).toBe('auth');
    expect(classifyLoginError(new ZaloApiError('Missing required params'))).toBe('auth');
    expect(classifyLoginError(new ZaloApiError('Failed to fetch login info: Bad Gateway'))).toBe('transient');
    // The same prefix, but the session cookie is dead: a person must scan a QR again.
    expect(classifyLoginError(new ZaloApiError('Failed to fetch server info: zpw_sek bị thiếu hoặc không đúng'))).toBe('auth');
    expect(classifyLoginError(new ZaloApiError('Failed to fetch server info: Service Unavailable'))).toBe('transient');
    expect(classifyLoginError(new ZaloApiError('Request failed with status code 502'))).toBe('transient');
    expect(classifyLoginError(new ZaloApiError('something Zalo said', 600))).toBe('auth');
    // Zalo's own refusal after the prefix (not an HTTP status text) is a refusal too.
    expect(classifyLoginError(new ZaloApiError('Failed to fetch server info: Phiên đăng nhập không hợp lệ'))).toBe('auth');
    expect(classifyLoginError(new ZaloApiError('Failed to fetch server info: '))).toBe('transient');
    expect(classifyLoginError(new TypeError('fetch failed'))).toBe('transient');
    expect(zaloErrorCode(new ZaloApiError('Vượt quá số request cho phép', 221))).toBe(221);
    expect(zaloErrorCode(new ZaloApiError('no code'))).toBeNull();
    expect(zaloErrorCode(new Error('x'))).toBeNull();
  });
});

describe('Zalo message → IncomingMessage', () => {
  it('a 1:1 text keeps thread, sender, ids, name and time', () => {
    const m = fake.userText('123456789', 'làm căn cước cần gì', { ts: '1764122400000' });
    expect(toIncomingMessage(m, own)).toEqual({
      channel: 'zalo',
      conversationId: 'u:123456789',
      userId: '123456789',
      messageId: m.data.msgId,
      text: 'làm căn cước cần gì',
      kind: 'text',
      userName: 'Nguyễn Văn An',
      sentAt: 1764122400000,
    });
  });

  it('falls back to the client message id when the server id is missing', () => {
    const m = fake.userText('1', 'x', { msgId: '' });
    expect(toIncomingMessage(m, own).messageId).toBe(m.data.cliMsgId);
  });

  it.each([
    ['chat.photo', { title: '', description: '', href: 'https://f.example/a.jpg', thumb: '', childnumber: 0, action: '', params: '', type: '' }, 'image'],
    ['chat.sticker', { id: 1, catId: 2, type: 7 }, 'sticker'],
    ['chat.voice', { href: 'https://f.example/a.aac', params: '{"duration":3}' }, 'voice'],
    ['chat.video.msg', { href: 'https://f.example/a.mp4' }, 'video'],
    ['share.file', { title: 'don.pdf', href: 'https://f.example/don.pdf' }, 'file'],
    ['chat.location.new', { lat: 21.0, lon: 105.8 }, 'location'],
    ['chat.recommended', { action: 'recommened.user', params: '{}' }, 'other'],
  ])('%s → %s', (msgType, content, kind) => {
    const m = fake.userAttachment('1', msgType, content as never);
    expect(toIncomingMessage(m, own)).toMatchObject({ kind, text: '' });
  });

  it('a shared link is text (its title is what was typed)', () => {
    const m = fake.userAttachment('1', 'chat.link', { title: 'xem giúp https://dichvucong.gov.vn', description: '', href: 'https://dichvucong.gov.vn', thumb: '', childnumber: 0, action: '', params: '', type: '' });
    expect(toIncomingMessage(m, own)).toMatchObject({ kind: 'text', text: 'xem giúp https://dichvucong.gov.vn' });
    const bare = fake.userAttachment('1', 'chat.link', { title: '', description: '', href: 'https://dichvucong.gov.vn', thumb: '', childnumber: 0, action: '', params: '', type: '' });
    expect(toIncomingMessage(bare, own)).toMatchObject({ kind: 'text', text: 'https://dichvucong.gov.vn' });
  });

  it('a question with a URL arrives as chat.recommended (recommened.link): its typed text is the message', () => {
    const typed = 'đăng ký tạm trú trên https://dichvucong.gov.vn được không';
    const m = fake.userAttachment('1', 'chat.recommended', { action: 'recommened.link', title: typed, href: 'https://dichvucong.gov.vn', description: '', thumb: '', childnumber: 0, params: '{}', type: '' });
    expect(toIncomingMessage(m, own)).toMatchObject({ kind: 'text', text: typed });
  });

  it('recalls are recognised by their deleteMsg content and name the recalled message', () => {
    const r = fake.userAttachment('1', 'chat.undo', { globalMsgId: 7600000000001, cliMsgId: 2, deleteMsg: 1, srcId: 1, destId: 2 } as never);
    expect(isZaloRecall(r)).toBe(true);
    expect(recalledMessageId(r)).toBe('7600000000001');
    expect(isZaloRecall(fake.userText('1', 'xin chào'))).toBe(false);
  });

  it('group messages: conversation is the group, the mention of the hotline is removed', () => {
    const label = '@Một cửa';
    const m = fake.group('999', '42', `${label} cho hỏi lệ phí hộ chiếu`, fake.mentionAtStart(label));
    expect(m.threadId).toBe('999');
    expect(toIncomingMessage(m, own)).toMatchObject({ conversationId: 'g:999', userId: '42', text: 'cho hỏi lệ phí hộ chiếu' });
  });

  it('staff messages from the hotline phone are self messages in the citizen thread (zca-js rewrites uid "0")', () => {
    const m = fake.staffText('123', 'Dạ em chào anh');
    expect(m.isSelf).toBe(true);
    expect(m.threadId).toBe('123');
    expect(m.data.uidFrom).toBe(own);
  });

  it('conversation ids round-trip and reject anything else', () => {
    expect(parseZaloConversationId(zaloConversationId({ threadId: '5', type: ZaloThread.Group }))).toEqual({ threadId: '5', type: ZaloThread.Group });
    expect(parseZaloConversationId('u:77')).toEqual({ threadId: '77', type: ZaloThread.User });
    for (const bad of ['77', 'x:1', 'u:', 'u: 1', '']) expect(parseZaloConversationId(bad)).toBeNull();
  });

  it('the dedupe set forgets its oldest ids past its bound', () => {
    const s = new BoundedSet(3);
    for (const k of ['a', 'b', 'c', 'd']) s.add(k);
    expect([s.has('a'), s.has('b'), s.has('d'), s.size]).toEqual([false, true, true, 3]);
  });
});

describe('Zalo credentials file', () => {
  const creds = { imei: 'imei-1', userAgent: 'UA/1', cookie: [{ key: 'zpw_sek', value: 'secret', domain: 'chat.zalo.me' }] };

  it('is written 0600 in a 0700 folder and read back', async () => {
    const file = join(tmp(), 'nested', 'zalo-credentials.json');
    await writeZaloCredentials(file, creds);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(await readZaloCredentials(file)).toEqual(creds);
    expect(await credentialsTooOpen(file)).toBe(false);
  });

  it('tightens an existing folder and replaces an old file', async () => {
    const dir = tmp();
    const file = join(dir, 'zalo-credentials.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    expect(await credentialsTooOpen(file)).toBe(true);
    await writeZaloCredentials(file, creds);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('missing → null; broken → a named error', async () => {
    const dir = tmp();
    expect(await readZaloCredentials(join(dir, 'none.json'))).toBeNull();
    writeFileSync(join(dir, 'bad.json'), '{"imei": ""}');
    await expect(readZaloCredentials(join(dir, 'bad.json'))).rejects.toBeInstanceOf(ZaloCredentialsError);
    writeFileSync(join(dir, 'junk.json'), 'not json');
    await expect(readZaloCredentials(join(dir, 'junk.json'))).rejects.toBeInstanceOf(ZaloCredentialsError);
  });

  it('the hotline is enabled when the file exists, unless ZALO_DISABLED', async () => {
    const dir = tmp();
    const cfg = loadConfig({ DATA_DIR: dir });
    expect(zaloCredentialsPath(cfg)).toBe(join(dir, 'zalo-credentials.json'));
    expect(zaloHotlineEnabled(cfg)).toBe(false);
    await writeZaloCredentials(zaloCredentialsPath(cfg), creds);
    expect(zaloHotlineEnabled(cfg)).toBe(true);
    expect(zaloHotlineEnabled(loadConfig({ DATA_DIR: dir, ZALO_DISABLED: 'true' }))).toBe(false);
    expect(zaloCredentialsPath(loadConfig({ DATA_DIR: dir, ZALO_CREDENTIALS_FILE: '/srv/z.json' }))).toBe('/srv/z.json');
  });
});
