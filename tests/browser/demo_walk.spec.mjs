// Browser walk of the whole demo (docs/getting-started.md), as people would do it, in Debian's chromium
// driven by playwright-core (no browser is downloaded):
//
//   node demo_walk.spec.mjs <wik binary> <wik-helpdesk binary> <screenshots folder>
//
// It starts `wik demo` on free loopback ports with a throw-away data folder, then: the vendor signs in
// to the helpdesk's admin page, presses "Add to Workplace", signs in to the emulator as Ada Admin and
// approves the install; Bruno (pt_BR) and Chloé (fr_CA) write to the Helpdesk bot in Work Chat and
// press quick replies; the vendor answers Bruno's ticket on the admin page and Bruno reads the answer;
// Ada uninstalls Helpdesk and the vendor's pages (and the helpdesk's SQLite file, when the sqlite3
// program is there) show the tickets gone. Every state change goes through the pages: links, buttons
// and forms, never a direct HTTP call. A screenshot of each step goes to the screenshots folder
// (01-….png, 02-….png, …); on a failure, one of the page at hand and the end of helpdesk.log.
// Exit 0: passed; 77: skipped (no /usr/bin/chromium); 1: failed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = 77;
const STEP_TIMEOUT_MS = 20000;   // one page action or one awaited text
const REPLY_TIMEOUT_MS = 30000;  // a bot reply: webhook → helpdesk → Send API → the page's poll
const START_TIMEOUT_MS = 60000;  // `wik demo` gives the helpdesk 30 s to become ready
const STOP_TIMEOUT_MS = 20000;   // `wik demo` gives the helpdesk 5 s, then stops the emulator
const VENDOR_EMAIL = 'admin@helpdesk.example';
const ADA = 'Ada Admin';
const BRUNO = 'Bruno Costa';
const CHLOE = 'Chloé Tremblay';
const BRUNO_PROBLEM = "my laptop won't start";
const CHLOE_PROBLEM = 'Mon écran reste noir au démarrage';
const ANSWER = 'Traga o notebook ao suporte no 2º andar, por favor.';

const [wikBinary, helpdeskBinary, shotsFolder] = process.argv.slice(2);
if (!wikBinary || !helpdeskBinary || !shotsFolder) {
  console.error('usage: node demo_walk.spec.mjs <wik binary> <wik-helpdesk binary> <screenshots folder>');
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

const started = Date.now();
function log(text) {
  console.log(`[demo walk ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A free TCP port on 127.0.0.1 (bound, read and released; `wik demo` binds it right after).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

// Starts `wik demo` and resolves with its URLs and the vendor admin's password once it prints
// "Press Ctrl-C to stop.".
function startDemo(data, ports) {
  const child = spawn(wikBinary, ['demo', '--data', data, '--port', String(ports.helpdesk),
    '--workplace-port', String(ports.workplace), '--graph-port', String(ports.graph), '--integration', helpdeskBinary],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (part) => { output.stdout += part; });
  child.stderr.on('data', (part) => { output.stderr += part; process.stderr.write(part); });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wik demo did not print "Press Ctrl-C to stop." within `
      + `${START_TIMEOUT_MS} ms:\n${output.stdout}${output.stderr}`)), START_TIMEOUT_MS);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`wik demo exited early with ${code ?? signal}:\n${output.stdout}${output.stderr}`));
    });
    child.stdout.on('data', () => {
      if (!output.stdout.includes('Press Ctrl-C to stop.')) return;
      clearTimeout(timer);
      const workplace = output.stdout.match(/Workplace \(the emulator\)\s+(http:\/\/\S+)/);
      const admin = output.stdout.match(/Helpdesk admin page\s+(http:\/\/\S+)\/admin/);
      const password = output.stdout.match(/admin@helpdesk\.example, password (\S+)/);
      resolve({
        workplace: workplace?.[1],
        helpdesk: admin?.[1],
        password: password?.[1] ?? fs.readFileSync(path.join(data, 'admin-password'), 'utf8').trim(),
      });
    });
  });
  return { child, output, exited, ready };
}

// Stops `wik demo` with SIGINT (as Ctrl-C does) and returns its exit code, or a description of how
// it ended when that is not an exit code of 0 within STOP_TIMEOUT_MS (it is then killed).
async function stopDemo(demo) {
  const { child, exited } = demo;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  const timer = sleep(STOP_TIMEOUT_MS).then(() => null);
  const result = await Promise.race([exited, timer]);
  if (result === null) {
    child.kill('SIGKILL');
    await exited;
    return `did not exit within ${STOP_TIMEOUT_MS} ms of SIGINT (killed)`;
  }
  return result.code === 0 ? 0 : `exited with ${result.code ?? result.signal}`;
}

function tail(file, bytes = 4096) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.length > bytes ? '…' + text.slice(-bytes) : text;
  } catch (error) {
    return `(cannot read ${file}: ${error.message})`;
  }
}

// Reloads `page` until `locator` is visible (for pages without live updates, as the admin pages).
async function reloadUntilVisible(page, locator, what, timeoutMs = REPLY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await locator.first().isVisible()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on ${page.url()}`);
    await sleep(500);
    await page.reload();
  }
}

// Number of rows in the helpdesk's `tickets` table, or null when the sqlite3 program is missing.
function ticketRows(database) {
  const run = spawnSync('sqlite3', ['-readonly', database, 'SELECT COUNT(*) FROM tickets;'], { encoding: 'utf8' });
  if (run.error?.code === 'ENOENT') return null;
  assert.equal(run.status, 0, `sqlite3 failed: ${run.stderr}`);
  return Number(run.stdout.trim());
}

// ---- The walk

fs.mkdirSync(shotsFolder, { recursive: true });
for (const old of fs.readdirSync(shotsFolder)) {
  if (old.endsWith('.png')) fs.rmSync(path.join(shotsFolder, old));
}
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'wik-demo-walk-'));
let shots = 0;
let current = null;  // the page a person is looking at, for the failure screenshot
const pageErrors = [];

async function shot(page, name) {
  const file = path.join(shotsFolder, `${String(++shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log(`  screenshot ${path.basename(file)}`);
}

const steps = [];
function step(name, run) {
  steps.push({ name, run });
}

// A browser context for one person: its own cookies, so its own sign-ins.
async function person(browser, who) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${who}: ${error.message}`));
  // A refused script or style (Content-Security-Policy) or a failed request shows as a console
  // error; the favicon the browser asks for on its own (neither server has one) does not count.
  page.on('console', (message) => {
    const { url } = message.location();
    if (message.type() !== 'error' || new URL(url || 'about:blank').pathname === '/favicon.ico') return;
    pageErrors.push(`${who}: console: ${message.text()} (${url})`);
  });
  return page;
}

// Signs `page` in to the emulator as `name` from its sign-in page (no passwords: choose a person).
async function emulatorSignIn(page, name) {
  await page.getByText('There are no passwords').waitFor();
  await page.getByRole('button', { name: `Sign in as ${name}`, exact: true }).click();
  await page.getByText(`Signed in as ${name}`).waitFor();
}

// Opens `page`'s Work Chat conversation with the Helpdesk bot.
async function openHelpdeskChat(page, workplace, name) {
  await page.goto(`${workplace}/chat`);
  await emulatorSignIn(page, name);
  assert.equal(new URL(page.url()).pathname, '/chat', 'the emulator comes back to /chat after signing in');
  await page.getByRole('button', { name: 'Message Helpdesk', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message', exact: true }).waitFor();
}

// The conversation's message list (a live region the page refreshes every second).
function messages(page) {
  return page.getByRole('log', { name: 'Messages' });
}

async function say(page, text) {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await messages(page).getByText(text).first().waitFor();
}

// Waits for a message containing `text` in the conversation: bot replies arrive asynchronously
// (webhook → helpdesk → Send API) and the page shows them without a reload.
async function botSays(page, text, timeout = REPLY_TIMEOUT_MS) {
  await messages(page).getByText(text).first().waitFor({ timeout });
}

let demo;
let browser;
let urls;
let vendor;
let bruno;
let chloe;

step('the vendor signs in to the helpdesk admin page', async () => {
  current = vendor;
  await vendor.goto(`${urls.helpdesk}/admin`);
  assert.equal(new URL(vendor.url()).pathname, '/signin', 'a signed-out visitor of /admin is sent to sign in');
  await vendor.getByRole('textbox', { name: 'Email' }).fill(VENDOR_EMAIL);
  await vendor.getByLabel('Password').fill(urls.password);
  await shot(vendor, 'signin');
  await vendor.getByRole('button', { name: 'Sign in', exact: true }).click();
  await vendor.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  assert.equal(new URL(vendor.url()).pathname, '/admin', 'signing in comes back to /admin');
  await vendor.getByText('No community has installed the app yet.').waitFor();
});

step('the vendor presses "Add to Workplace"', async () => {
  await vendor.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Add to Workplace' }).click();
  await vendor.waitForURL(`${urls.helpdesk}/admin/install`);
  await vendor.getByRole('radio', { name: VENDOR_EMAIL }).check();
  await shot(vendor, 'add-to-workplace');
  await vendor.getByRole('button', { name: 'Add to Workplace', exact: true }).click();
});

step('the emulator asks who is signing in: Ada Admin, the system administrator', async () => {
  await vendor.getByText('There are no passwords').waitFor();
  assert.equal(new URL(vendor.url()).origin, urls.workplace, 'the browser is on the emulator');
  await shot(vendor, 'emulator-signin');
  await emulatorSignIn(vendor, ADA);
});

step("Ada approves the install in the emulator's dialog", async () => {
  await vendor.getByRole('heading', { name: 'Install Helpdesk?' }).waitFor();
  await vendor.getByText('Message any member').waitFor();
  await shot(vendor, 'install-dialog');
  await vendor.getByRole('button', { name: 'Install', exact: true }).click();
});

step('back on the helpdesk, Acme Corp is installed', async () => {
  await vendor.getByText('Installed into Acme Corp.').waitFor();
  assert.equal(new URL(vendor.url()).origin, urls.helpdesk, 'the browser is back on the helpdesk');
  await vendor.getByRole('listitem').filter({ hasText: 'Acme Corp' }).waitFor();
  await vendor.getByRole('link', { name: 'Back to the admin overview' }).click();
  await vendor.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await vendor.getByRole('row').filter({ hasText: 'Acme Corp' }).filter({ hasText: 'installed' }).waitFor();
  await shot(vendor, 'installed');
});

step('Bruno (pt_BR) writes to the Helpdesk bot and is answered in Portuguese', async () => {
  current = bruno;
  await openHelpdeskChat(bruno, urls.workplace, BRUNO);
  await say(bruno, BRUNO_PROBLEM);
  await botSays(bruno, 'Olá, Bruno! Eu sou Helpdesk.');
  await botSays(bruno, 'O chamado nº 1 foi aberto');
  await botSays(bruno, 'Que tipo de problema é?');
  for (const category of ['Hardware', 'Software', 'Acesso', 'Outro']) {
    await bruno.getByRole('button', { name: category, exact: true }).waitFor();
  }
  await shot(bruno, 'bruno-greeting');
});

step('Bruno presses the "Hardware" quick reply and the ticket is filed', async () => {
  await bruno.getByRole('button', { name: 'Hardware', exact: true }).click();
  await botSays(bruno, 'O chamado nº 1 foi registrado em Hardware.');
  await bruno.getByRole('link', { name: 'Abrir o chamado' }).waitFor();
  await bruno.getByRole('button', { name: 'Meus chamados', exact: true }).waitFor();
  await shot(bruno, 'bruno-filed');
});

step('Chloé (fr_CA) writes "aide" and gets the French help', async () => {
  current = chloe;
  await openHelpdeskChat(chloe, urls.workplace, CHLOE);
  await say(chloe, 'aide');
  await botSays(chloe, 'Voici ce que je sais faire');
  await chloe.getByRole('button', { name: 'Aide', exact: true }).waitFor();
  await chloe.getByRole('button', { name: 'Mes tickets', exact: true }).waitFor();
  await shot(chloe, 'chloe-help');
});

step('Chloé describes a problem and gets a French ticket', async () => {
  await say(chloe, CHLOE_PROBLEM);
  await botSays(chloe, 'Le ticket n° 2 est ouvert');
  await botSays(chloe, 'De quel type de problème s’agit-il ?');
  await chloe.getByRole('button', { name: 'Matériel', exact: true }).click();
  await botSays(chloe, 'Le ticket n° 2 est classé dans « Matériel ».');
  await shot(chloe, 'chloe-ticket');
});

step("the vendor sees both tickets and answers Bruno's", async () => {
  current = vendor;
  await vendor.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Tickets' }).click();
  await vendor.getByRole('heading', { name: 'Acme Corp' }).waitFor();
  const brunoRow = vendor.getByRole('row').filter({ hasText: BRUNO_PROBLEM });
  const chloeRow = vendor.getByRole('row').filter({ hasText: CHLOE_PROBLEM });
  await brunoRow.waitFor();
  await chloeRow.waitFor();
  assert.equal(await vendor.getByRole('row').count() - 1, 2, 'the tickets page lists two tickets (and a header row)');
  const rows = ticketRows(path.join(data, 'helpdesk.db'));
  if (rows !== null) assert.equal(rows, 2, 'helpdesk.db holds the two tickets');
  await brunoRow.getByRole('cell', { name: 'Hardware', exact: true }).waitFor();
  await chloeRow.getByRole('cell', { name: 'Hardware', exact: true }).waitFor();
  await brunoRow.getByRole('textbox', { name: 'Answer ticket #1', exact: true }).fill(ANSWER);
  await shot(vendor, 'vendor-tickets');
  await brunoRow.getByRole('button', { name: 'Send answer', exact: true }).click();
  await vendor.getByRole('status').filter({ hasText: 'Answer sent for ticket #1.' }).waitFor();
  await vendor.getByRole('row').filter({ hasText: BRUNO_PROBLEM }).getByRole('cell', { name: 'answered', exact: true })
    .waitFor();
  await shot(vendor, 'vendor-answered');
});

step("Bruno's chat shows the answer in Portuguese", async () => {
  current = bruno;
  await botSays(bruno, `O suporte respondeu ao chamado nº 1: ${ANSWER}`);
  await bruno.getByRole('button', { name: 'Fechar nº 1', exact: true }).waitFor();
  await shot(bruno, 'bruno-answer');
});

step("Ada uninstalls Helpdesk from the emulator's Integrations tab", async () => {
  current = vendor;  // the vendor's browser is signed in to the emulator as Ada
  await vendor.goto(`${urls.workplace}/`);
  await vendor.getByText(`Signed in as ${ADA}`).waitFor();
  await vendor.getByRole('banner').getByRole('link', { name: 'Integrations', exact: true }).click();
  await vendor.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  await shot(vendor, 'integrations');
  await vendor.getByRole('button', { name: 'Uninstall Helpdesk', exact: true }).click();
  await vendor.getByRole('link', { name: 'Install Helpdesk', exact: true }).waitFor();
  await shot(vendor, 'uninstalled');
});

step("the vendor's pages show Acme Corp uninstalled and its tickets gone", async () => {
  await vendor.goto(`${urls.helpdesk}/admin`);
  await vendor.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  const gone = vendor.getByText('No community has installed the app yet.')
    .or(vendor.getByRole('row').filter({ hasText: 'Acme Corp' }).filter({ hasText: 'uninstalled' }));
  await reloadUntilVisible(vendor, gone, 'Acme Corp uninstalled on the overview');
  await reloadUntilVisible(vendor, vendor.getByText('No purge is waiting'), 'the purge to finish');
  await shot(vendor, 'overview-after');
  await vendor.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Tickets' }).click();
  const none = vendor.getByText('No community has installed the helpdesk yet.').or(vendor.getByText('No tickets yet.'));
  await reloadUntilVisible(vendor, none, 'no tickets on the tickets page');
  assert.equal(await vendor.getByText(BRUNO_PROBLEM).count(), 0, "Bruno's ticket is gone");
  assert.equal(await vendor.getByText(CHLOE_PROBLEM).count(), 0, "Chloé's ticket is gone");
  await shot(vendor, 'tickets-after');
  const database = path.join(data, 'helpdesk.db');
  const rows = ticketRows(database);
  if (rows === null) {
    log('  sqlite3 is not installed: the check of helpdesk.db is skipped');
  } else {
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    let left = rows;
    while (left !== 0 && Date.now() < deadline) {
      await sleep(500);
      left = ticketRows(database);
    }
    assert.equal(left, 0, 'helpdesk.db has no rows left in tickets');
    log('  helpdesk.db: no rows left in tickets');
  }
});

step('no page had a script error', async () => {
  assert.deepEqual(pageErrors, [], 'no script or console errors on the pages');
});

// Told to stop (CTest's timeout, Ctrl-C): stop `wik demo` as the finally block would, then exit 1.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    log(`${signal}: stopping wik demo and giving up`);
    const done = () => {
      fs.rmSync(data, { recursive: true, force: true });
      process.exit(1);
    };
    if (!demo || demo.child.exitCode !== null || demo.child.signalCode !== null) return done();
    demo.child.kill('SIGINT');
    demo.exited.then(done);
    setTimeout(done, 10000).unref();
  });
}
process.once('exit', () => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGKILL');
});

let passed = 0;  // steps
let failed = 0;  // steps, the start and the stop
try {
  const [helpdeskPort, workplacePort, graphPort] = await distinctFreePorts(3);
  log(`starting wik demo in ${data} (helpdesk ${helpdeskPort}, workplace ${workplacePort}, graph ${graphPort})`);
  demo = startDemo(data, { helpdesk: helpdeskPort, workplace: workplacePort, graph: graphPort });
  urls = await demo.ready;
  assert.ok(urls.workplace && urls.helpdesk && urls.password, `wik demo printed its URLs and password:\n${demo.output.stdout}`);
  log(`wik demo is running: Workplace ${urls.workplace}, helpdesk ${urls.helpdesk}/admin`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  vendor = await person(browser, 'vendor');
  bruno = await person(browser, BRUNO);
  chloe = await person(browser, CHLOE);

  for (const [index, { name, run }] of steps.entries()) {
    log(`step ${index + 1}/${steps.length}: ${name}`);
    try {
      await run();
      passed += 1;
      log(`  ok`);
    } catch (error) {
      failed += 1;
      steps[index].failed = true;
      log(`  FAILED: ${error.stack ?? error}`);
      if (current) {
        log(`  the page at hand: ${current.url()}`);
        await shot(current, `FAILED-step-${index + 1}`).catch((e) => log(`  no screenshot: ${e.message}`));
      }
      log(`  the end of ${path.join(data, 'helpdesk.log')}:\n${tail(path.join(data, 'helpdesk.log'))}`);
      log(`  ${steps.length - index - 1} later step(s) not run: they build on this one`);
      break;
    }
  }
} catch (error) {
  failed += 1;
  log(`FAILED before the walk: ${error.stack ?? error}`);
  log(`the end of ${path.join(data, 'helpdesk.log')}:\n${tail(path.join(data, 'helpdesk.log'))}`);
} finally {
  if (browser) await browser.close().catch((error) => log(`closing chromium: ${error.message}`));
  if (demo) {
    log('stopping wik demo (SIGINT)');
    const stopped = await stopDemo(demo);
    if (stopped === 0) {
      log('wik demo stopped, exit 0');
    } else {
      failed += 1;
      log(`FAILED: wik demo ${stopped}; its output:\n${demo.output.stdout}${demo.output.stderr}`);
    }
  }
  fs.rmSync(data, { recursive: true, force: true });
}
const notRun = steps.length - passed - steps.filter((s) => s.failed).length;
log(`screenshots in ${shotsFolder}`);
console.log(`${passed} passed, ${failed} failed${notRun > 0 ? `, ${notRun} not run` : ''} `
  + `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 && passed === steps.length ? 0 : 1);
