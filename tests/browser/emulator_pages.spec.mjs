// Browser test of the emulator's pages: a person installs an app, chats with its bot, presses a quick
// reply and uninstalls it, in Debian's chromium driven by playwright-core (no browser is downloaded).
//
//   node emulator_pages.spec.mjs <path to the wik binary> <screenshot.png>
//
// It starts `wik emulator` on free loopback ports with a throw-away state file and one app, plus a
// tiny app server of its own (the app's Redirect URL, webhook callback and Deauthorize URL) that
// records what the platform sends it. Exit 0: passed; 77: skipped (no /usr/bin/chromium); else failed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = 77;
const STEP_TIMEOUT_MS = 15000;
const APP = {
  id: '1111222233334444',
  secret: crypto.randomBytes(16).toString('hex'),
  name: 'Browser Test Bot',
  publisher: 'wik tests',
  tagline: 'Answers in the browser test',
};

const [wikBinary, screenshotPath] = process.argv.slice(2);
if (!wikBinary || !screenshotPath) {
  console.error('usage: node emulator_pages.spec.mjs <wik binary> <screenshot.png>');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is missing (scripts/setup.sh installs the chromium package)`);
  process.exit(SKIP);
}
const { chromium } = await import('playwright-core').catch((error) => {
  console.error(`cannot load playwright-core (run: npm ci --prefix tests/browser): ${error.message}`);
  process.exit(1);
});

function log(step) {
  console.log(`[browser test] ${step}`);
}

// Resolves with the value `probe` returns once it is truthy; rejects after `timeoutMs`.
async function waitFor(what, probe, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The app's icon: a 64×64 PNG of one colour.
const ICON_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAYAAACqaXHeAAAAZUlEQVR42u3QQREAAAQAMD3UFFkPcjh7rMAiq+ezECBAgAABAgQIECBAgA'
  + 'BAgQIECBAgAABAgQIECBAgAABAgQIECBAgAABAgQIECBAgAABAgQIECBAgAABAgQIECBAgAABAu5bCHsiSoqXnjAAAAAASUVORK5CYII=', 'base64');

// The app's own server: records codes, webhooks and deauthorizations, answers 200.
function startAppServer() {
  const received = { codes: [], webhooks: [], deauthorizations: [] };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (part) => { body += part; });
    request.on('end', () => {
      if (request.method === 'GET' && url.pathname === '/install') {
        received.codes.push(Object.fromEntries(url.searchParams));
        response.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>Installed: back at the app</h1>');
      } else if (request.method === 'GET' && url.pathname === '/webhook') {
        const ok = url.searchParams.get('hub.verify_token') === 'verify-me';
        response.writeHead(ok ? 200 : 403).end(ok ? url.searchParams.get('hub.challenge') : '');
      } else if (request.method === 'POST' && url.pathname === '/webhook') {
        const expected = 'sha256=' + crypto.createHmac('sha256', APP.secret).update(body).digest('hex');
        received.webhooks.push({ signed: request.headers['x-hub-signature-256'] === expected, body: JSON.parse(body) });
        response.writeHead(200).end();
      } else if (request.method === 'POST' && url.pathname === '/deauthorize') {
        received.deauthorizations.push(new URLSearchParams(body).get('signed_request'));
        response.writeHead(200).end();
      } else {
        response.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, received })));
}

// Starts `wik emulator` and resolves with its Graph and web URLs once it prints them.
function startEmulator(directory, manifest, secretFile) {
  const child = spawn(wikBinary, ['emulator', '--address', '127.0.0.1', '--graph-port', '0', '--web-port', '0',
    '--control-api', '--state-file', path.join(directory, 'state.json'), '--app', manifest,
    '--app-secret-file', secretFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (part) => process.stderr.write(part));
  const urls = new Promise((resolve, reject) => {
    child.stdout.on('data', (part) => {
      output += part;
      const graph = output.match(/wik emulator: graph (http:\/\/\S+)/);
      const web = output.match(/wik emulator: web (http:\/\/\S+)/);
      if (graph && web) resolve({ graph: graph[1], web: web[1] });
    });
    child.on('exit', (code) => reject(new Error(`wik emulator exited early with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`wik emulator printed no URLs within ${STEP_TIMEOUT_MS} ms: ${output}`)),
      STEP_TIMEOUT_MS).unref();
  });
  return { child, urls };
}

function appsecretProof(token) {
  const time = Math.floor(Date.now() / 1000) - 5;
  const proof = crypto.createHmac('sha256', APP.secret).update(`${token}|${time}`).digest('hex');
  return { appsecret_proof: proof, appsecret_time: String(time) };
}

async function graph(graphUrl, method, pathname, params, jsonBody) {
  const url = new URL(pathname, graphUrl);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await fetch(url, {
    method,
    headers: jsonBody ? { 'Content-Type': 'application/json' } : {},
    body: jsonBody ? JSON.stringify(jsonBody) : undefined,
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${method} ${pathname}: ${text}`);
  return JSON.parse(text);
}

// Verifies a signed_request (PROTOCOL.md §5.2: either signature encoding) and returns its payload.
function verifySignedRequest(signedRequest) {
  const [signature, payload] = signedRequest.split('.');
  const digest = crypto.createHmac('sha256', APP.secret).update(payload).digest();
  const decoded = Buffer.from(signature, 'base64url');
  const valid = decoded.length === 32 ? crypto.timingSafeEqual(decoded, digest)
    : decoded.toString('ascii') === digest.toString('hex');
  assert.ok(valid, 'the deauthorization signed_request verifies with the app secret');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'wik-browser-'));
const { server: appServer, received } = await startAppServer();
const appUrl = `http://127.0.0.1:${appServer.address().port}`;
fs.writeFileSync(path.join(directory, 'icon.png'), ICON_PNG);
fs.writeFileSync(path.join(directory, 'app.toml'), [
  `id = "${APP.id}"`, `name = "${APP.name}"`, `publisher = "${APP.publisher}"`, `tagline = "${APP.tagline}"`,
  'icon = "icon.png"', `redirect_url = "${appUrl}/install"`, `deauthorize_url = "${appUrl}/deauthorize"`,
  'permissions = ["message", "read_user_email", "bot_mention"]', ''].join('\n'));
fs.writeFileSync(path.join(directory, 'app.secret'), `${APP.secret}\n`, { mode: 0o600 });

const emulator = startEmulator(directory, path.join(directory, 'app.toml'), path.join(directory, 'app.secret'));
let browser;  // the persistent BrowserContext
let failed = false;
try {
  const { graph: graphUrl, web: webUrl } = await emulator.urls;
  log(`emulator: graph ${graphUrl}, web ${webUrl}; app ${appUrl}`);

  // A fresh profile directory (Playwright passes it to chromium as --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(directory, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  log('sign in as the seeded system administrator');
  await page.goto(webUrl + '/');
  await page.getByText('no passwords').waitFor();
  await page.locator('li', { hasText: 'System administrator' }).first().getByRole('button').click();
  await page.getByText('Signed in as').waitFor();

  log('install the app from the Integrations tab');
  await page.getByRole('banner').getByRole('link', { name: 'Integrations', exact: true }).click();
  await page.getByRole('link', { name: `Install ${APP.name}` }).click();
  await page.getByText('Message any member').waitFor();
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await page.getByText('Installed: back at the app').waitFor();
  const redirect = await waitFor('the code at the Redirect URL', () => received.codes[0]);
  assert.ok(redirect.code, 'the app received a code');
  assert.equal(redirect.state, undefined, 'a Workplace-initiated install carries no state');
  assert.ok(redirect.redirect_uri.startsWith(webUrl), 'redirect_uri points back at the emulator');

  log('exchange the code at the Graph host');
  const { access_token: token } = await graph(graphUrl, 'GET', '/v3.2/oauth/access_token', {
    client_id: APP.id, client_secret: APP.secret, redirect_uri: `${appUrl}/install`, code: redirect.code,
  });
  assert.ok(token, 'the exchange returned an access token');
  const me = await graph(graphUrl, 'GET', '/me', { access_token: token, ...appsecretProof(token) });
  await graph(graphUrl, 'POST', `/${APP.id}/subscriptions`, {
    access_token: `${APP.id}|${APP.secret}`, object: 'page', callback_url: `${appUrl}/webhook`,
    fields: 'messages,messaging_postbacks', verify_token: 'verify-me',
  });

  log('open a chat with the bot and send a message');
  await page.goto(webUrl + '/chat');
  await page.getByRole('button', { name: `Message ${APP.name}` }).click();
  await page.getByLabel('Message', { exact: true }).fill('Hello from the browser');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Hello from the browser').waitFor();
  const textEvent = await waitFor('the message webhook', () => received.webhooks
    .flatMap((w) => w.body.entry.flatMap((e) => e.messaging ?? []))
    .find((m) => m.message?.text === 'Hello from the browser'));
  assert.ok(received.webhooks.every((w) => w.signed), 'every webhook is signed with the app secret');
  assert.equal(textEvent.recipient.id, me.id, 'the message went to the bot page');

  log('the bot replies with quick replies; the page shows them without a reload');
  await graph(graphUrl, 'POST', '/me/messages', { access_token: token, ...appsecretProof(token) }, {
    recipient: { id: textEvent.sender.id },
    message: { text: 'Did that help?', quick_replies: [
      { content_type: 'text', title: 'Yes', payload: 'HELPED_YES' },
      { content_type: 'text', title: 'No', payload: 'HELPED_NO' }] },
  });
  await page.getByText('Did that help?').waitFor();
  await page.getByRole('button', { name: 'Yes', exact: true }).waitFor();
  await page.screenshot({ path: screenshotPath, fullPage: true });
  log(`screenshot: ${screenshotPath}`);
  await page.getByRole('button', { name: 'Yes', exact: true }).click();
  const quickReply = await waitFor('the quick reply webhook', () => received.webhooks
    .flatMap((w) => w.body.entry.flatMap((e) => e.messaging ?? []))
    .find((m) => m.message?.quick_reply?.payload === 'HELPED_YES'));
  assert.equal(quickReply.message.text, 'Yes');

  log('uninstall from the Integrations tab');
  await page.getByRole('banner').getByRole('link', { name: 'Integrations', exact: true }).click();
  await page.getByRole('button', { name: `Uninstall ${APP.name}` }).click();
  await page.getByRole('link', { name: `Install ${APP.name}` }).waitFor();
  const signedRequest = await waitFor('the deauthorization POST', () => received.deauthorizations[0]);
  const payload = verifySignedRequest(signedRequest);
  assert.ok(payload.community_id, 'the deauthorization names the community');
  const revoked = await fetch(new URL('/me?' + new URLSearchParams({ access_token: token, ...appsecretProof(token) }), graphUrl));
  assert.notEqual(revoked.status, 200, 'the install token stops working at once');

  assert.deepEqual(pageErrors, [], 'no script errors on the pages');
  log('passed');
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  if (browser) await browser.close();
  const child = emulator.child;
  child.removeAllListeners('exit');
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  if (code !== 0) {
    failed = true;
    console.error(`wik emulator exited with ${code ?? signal} on SIGTERM (expected 0)`);
  }
  appServer.close();
  fs.rmSync(directory, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
