/**
 * `npm run zalo:login`: logs the hotline's Zalo account in by QR code and stores the
 * session (cookie + imei + user agent) where the assistant reads it at startup.
 *
 * The QR image is saved to `${DATA_DIR}/zalo-qr.png` and drawn in the terminal; scan it
 * with the Zalo app on the hotline phone within 100 seconds and confirm on the phone.
 * Credentials go to ZALO_CREDENTIALS_FILE (default `${DATA_DIR}/zalo-credentials.json`),
 * mode 0600 in a 0700 folder.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeZaloCredentials, zaloCredentialsPath, zaloQrPath } from '../bot/channels/zalo/credentials.ts';
import { qrPngToTerminal } from '../bot/channels/zalo/qr-terminal.ts';
import { ZcaTransport } from '../bot/channels/zalo/zca-transport.ts';
import { loadConfig } from '../bot/config.ts';
import { maskUserId } from '../bot/privacy.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const credentialsFile = zaloCredentialsPath(config);
  const qrFile = zaloQrPath(config);
  const transport = new ZcaTransport({ userAgent: config.ZALO_USER_AGENT });
  console.log('Logging the Zalo hotline account in by QR code…');
  const creds = await transport.loginQR({ userAgent: config.ZALO_USER_AGENT, maxRetries: 3 }, async (event) => {
    switch (event.type) {
      case 'generated': {
        const png = Buffer.from(event.imageBase64, 'base64');
        await mkdir(dirname(qrFile), { recursive: true, mode: 0o700 });
        await writeFile(qrFile, png, { mode: 0o600 });
        let drawing = '';
        try {
          drawing = qrPngToTerminal(png);
        } catch {
          // The image could not be read back: the operator opens the file instead.
        }
        if (drawing) console.log(`\n${drawing}\n`);
        console.log(
          drawing
            ? `Scan the code above (also saved to ${qrFile}) with the Zalo app on the hotline phone within 100 seconds, then confirm on the phone.`
            : `Open ${qrFile} (copy it to your computer if needed) and scan it with the Zalo app on the hotline phone within 100 seconds, then confirm on the phone.`,
        );
        break;
      }
      case 'expired':
        console.log(event.willRetry ? 'The QR code expired; here is a new one.' : 'The QR code expired again; giving up.');
        break;
      case 'scanned':
        console.log(`Scanned by "${event.displayName}". Confirm the login on the phone.`);
        break;
      case 'declined':
        console.log('The login was declined on the phone.');
        break;
    }
  });
  const { warnings } = await writeZaloCredentials(credentialsFile, creds);
  for (const w of warnings) console.warn(`warning: ${w}`);
  await rm(qrFile, { force: true });
  console.log(`Logged in as Zalo account ${maskUserId(transport.getOwnId())}. Credentials saved to ${credentialsFile} (readable only by this user).`);
  console.log('Restart the assistant to use them (one that is waiting for credentials picks them up within a minute).');
  console.log('Keep Zalo Web closed for this account: only one web session can listen at a time.');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`Zalo login failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
