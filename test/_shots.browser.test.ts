import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, citizenPage, PASSWORD, signIn, staffContext, startConsoleRig } from './helpers/console.ts';
it('shots', async () => {
  const rig = await startConsoleRig();
  await rig.staff.accounts.add('quantri', 'admin', PASSWORD, 't');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const c = await citizenPage(browser, rig.web.url);
  await c.ask('đăng ký khai sinh cần giấy tờ gì'); await c.botSays('Hồ sơ cần');
  await c.ask('cho tôi gặp cán bộ, tôi tên Nguyễn Văn Bình'); await c.botSays('HT-');
  await c.ask('con tôi sinh ở nước ngoài thì sao');
  const c2 = await citizenPage(browser, rig.web.url);
  await c2.ask('tôi muốn phản ánh cán bộ hướng dẫn sai'); await c2.page.waitForTimeout(500);
  await c2.ask('cán bộ ở quầy số 3 hướng dẫn sai giấy tờ làm tôi phải đi lại 2 lần'); await c2.page.waitForTimeout(800);
  writeFileSync(join(rig.config.DATA_DIR, 'review.jsonl'), ['hết bao nhiêu tiền vậy', 'hết bao nhiêu tiền vậy', 'làm giấy tờ cho bé mới đẻ'].map((t) => JSON.stringify({ at: new Date().toISOString(), channel: 'web', reason: 'unmatched', intent: 'out_of_scope', procedure: null, confidence: 0.2, text: t })).join('\n'));
  for (const vp of [{ width: 1280, height: 800 }, { width: 820, height: 1180 }]) {
    const ctx = await staffContext(browser, vp);
    const page = await ctx.newPage();
    await page.goto(rig.web.url + '/staff/login');
    await page.screenshot({ path: `/tmp/cons/login-${vp.width}.png` });
    await signIn(page, rig.web.url, 'quantri');
    await page.locator('#ticket-list a').first().click();
    await page.waitForURL(/inbox\/HT/);
    await page.screenshot({ path: `/tmp/cons/inbox-${vp.width}.png`, fullPage: true });
    for (const p of ['review', 'knowledge', 'knowledge/faq/faq.hotline', 'knowledge/procedure/ho-tich.khai-sinh', 'dossiers', 'dashboard', 'posters', 'accounts', 'audit']) {
      await page.goto(rig.web.url + '/staff/' + p);
      await page.screenshot({ path: `/tmp/cons/${p.replace(/\//g, '_')}-${vp.width}.png`, fullPage: true });
    }
    await page.goto(rig.web.url + '/staff/review');
    await page.locator('.group').first().locator('select[name="target"]').selectOption('procedure.fee');
    await page.locator('.group').first().locator('button', { hasText: 'Thêm câu mẫu' }).click();
    await page.waitForURL(/teach/);
    await page.screenshot({ path: `/tmp/cons/teach-${vp.width}.png`, fullPage: true });
    await ctx.close();
  }
  await browser.close(); await rig.close();
}, 120000);
