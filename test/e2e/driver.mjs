// Drives code-server in headless Chromium (playwright-core) through every scenario in
// test/e2e/scenarios/*.mjs, in file-name order, one browser session for all. Each scenario gets
// the small API below (see test/e2e/README.md). Prints one line per check and a final line
// `N passed, N failed`; exits 1 when anything failed.
//
// Env (set by run.sh): CS_URL, E2E_WORKSPACE, E2E_RUN, E2E_STATE_FILE, E2E_SHOTS,
// CHROMIUM (default /usr/bin/chromium).
// Arguments: scenario names to run (default: all).
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run test/e2e/run.sh)`);
  return value;
};
const CS_URL = env('CS_URL');
const WORKSPACE = env('E2E_WORKSPACE');
const STATE_FILE = env('E2E_STATE_FILE');
const SHOTS = env('E2E_SHOTS');
const RUN = env('E2E_RUN');
const PASS = process.env.E2E_PASS || 'main';
const SCENARIOS = process.env.E2E_SCENARIOS || join(HERE, 'scenarios');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
if (!LOOPBACK.has(new URL(CS_URL).hostname)) throw new Error(`refusing a non-loopback CS_URL: ${CS_URL}`);

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (...args) => console.error(`[e2e ${secs()}s]`, ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Themes of the screenshots, by their names in the Color Theme picker. */
export const THEMES = { light: 'Light Modern', dark: 'Dark Modern' };

/** The API every scenario receives. */
function makeApi(page, scenario, results) {
  const api = {
    page,
    workspace: WORKSPACE,
    log: (...args) => log(`[${scenario}]`, ...args),

    /** Records a check; never throws. Returns cond. */
    check(name, cond, detail) {
      results.push({ scenario, name, ok: Boolean(cond), detail: cond ? undefined : detail });
      console.log(
        `${cond ? 'ok  ' : 'FAIL'} ${scenario}: ${name}${!cond && detail !== undefined ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`,
      );
      return Boolean(cond);
    },

    /** Polls fn until it returns a truthy value (returned) or the timeout passes (returns undefined). */
    async waitFor(fn, { timeout = 30000, interval = 250 } = {}) {
      const end = Date.now() + timeout;
      for (;;) {
        try {
          const value = await fn();
          if (value) return value;
        } catch {
          // not there yet
        }
        if (Date.now() > end) return undefined;
        await sleep(interval);
      }
    },

    /**
     * Opens a workspace file through Quick Open and waits for its editor. `name` is a path
     * relative to the workspace or a bare file name (found anywhere in it). Quick Open gets the
     * absolute path: its name index misses files written after the workbench started.
     */
    async openFile(name) {
      const path = resolveWorkspaceFile(name);
      const file = basename(path);
      const input = await openPalette(page);
      await input.fill(path);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor({ timeout: 20000 });
      await page.keyboard.press('Enter');
      await page
        .locator(`.tabs-container .tab.active[aria-label^="${file}"], .tabs-container .tab.active:has-text("${file}")`)
        .first()
        .waitFor({ timeout: 20000 });
      await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 20000 });
    },

    /** Runs a command by its palette title (e.g. "Preflight: Validate File"). */
    async runCommand(title) {
      // a webview that takes the focus while it loads (a panel restored after a reload) closes the
      // palette before the row shows: open it again, at most three times
      for (let attempt = 1; ; attempt++) {
        const input = await openPalette(page);
        await input.fill('>' + title);
        const listed = await page
          .locator('.quick-input-list .monaco-list-row', { hasText: title })
          .first()
          .waitFor({ timeout: attempt === 3 ? 15000 : 7000 })
          .then(
            () => true,
            () => false,
          );
        if (listed || attempt === 3) {
          await pickRow(page, title);
          await input.waitFor({ state: 'hidden', timeout: 3000 }).catch(() => undefined);
          return;
        }
        await page.keyboard.press('Escape');
        await sleep(500);
      }
    },

    /**
     * Opens the Problems panel and returns its markers as shown:
     * [{ file, message, source, code, line, column, severity, text }].
     */
    async problems() {
      await api.runCommand('Problems: Focus on Problems View');
      const panel = page.locator('.markers-panel');
      await panel.waitFor({ timeout: 15000 });
      await sleep(300);
      // the list is virtual (only rows in view exist): scroll it from the top, collecting rows by index
      const read = () =>
        panel.evaluate((root) => {
          const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
          return [...root.querySelectorAll('.monaco-list-row')].map((row) => {
            const icon = row.querySelector('.marker-icon')?.className ?? '';
            return {
              index: Number(row.getAttribute('data-index')),
              position: text(row.querySelector('.marker-line')),
              file: text(row.querySelector('.label-name')) || text(row),
              message: text(row.querySelector('.marker-message')),
              source: text(row.querySelector('.marker-source')) || null,
              code: text(row.querySelector('.marker-code')) || null,
              severity: /error/.test(icon) ? 'error' : /warning/.test(icon) ? 'warning' : 'info',
              text: row.getAttribute('aria-label') ?? text(row),
            };
          });
        });
      const rows = new Map();
      const box = await panel.locator('.monaco-list').first().boundingBox();
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -5000);
        await sleep(150);
      }
      for (let stale = 0; stale < 2;) {
        const before = rows.size;
        for (const row of await read()) rows.set(row.index, row);
        stale = rows.size === before ? stale + 1 : 0;
        if (!box) break;
        await page.mouse.wheel(0, Math.max(100, box.height * 0.8));
        await sleep(150);
      }
      let file = '';
      const out = [];
      for (const row of [...rows.values()].sort((a, b) => a.index - b.index)) {
        const position = /\[Ln (\d+), Col (\d+)\]/.exec(row.position);
        if (!position) {
          file = row.file;
          continue;
        }
        const { index, position: _, ...marker } = row;
        out.push({ ...marker, file, line: Number(position[1]), column: Number(position[2]) });
      }
      return out;
    },

    /** The content frame of the active webview panel (a playwright FrameLocator). */
    webviewFrame() {
      return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
    },

    /** Saves <scenario>-<name>-light.png and <scenario>-<name>-dark.png. */
    async screenshot(name, { themes = ['light', 'dark'] } = {}) {
      const files = [];
      for (const theme of themes) {
        await setTheme(api, theme);
        const file = join(SHOTS, `${scenario}-${name}-${theme}.png`);
        await page.screenshot({ path: file });
        files.push(file);
      }
      await setTheme(api, 'light');
      log(`[${scenario}] screenshots`, files.map((f) => basename(f)).join(', '));
      return files;
    },

    /** What the extension wrote in test mode (PREFLIGHT_TEST_STATE_FILE), or {} before its first write. */
    extensionState() {
      try {
        return JSON.parse(readFileSync(STATE_FILE, 'utf8'));
      } catch {
        return {};
      }
    },

    /** Polls the extension's state until pred(state) is truthy; returns the state or undefined. */
    waitForState(pred, options) {
      return api.waitFor(() => {
        const state = api.extensionState();
        return pred(state) ? state : undefined;
      }, options);
    },

    /** Closes editors, notifications and panels so that the next scenario starts clean. */
    async reset() {
      await page.keyboard.press('Escape');
      await api.runCommand('View: Close All Editors').catch(() => undefined);
      await api.runCommand('Notifications: Clear All Notifications').catch(() => undefined);
    },
  };
  return api;
}

/** The absolute path of a workspace file given by relative path or by bare name. */
function resolveWorkspaceFile(name) {
  const direct = join(WORKSPACE, name);
  if (existsSync(direct)) return direct;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if (entry.name === name) {
        return path;
      }
    }
    return undefined;
  };
  const found = walk(WORKSPACE);
  if (!found) throw new Error(`no file ${name} in the workspace ${WORKSPACE}`);
  return found;
}

/**
 * Opens the command palette. Keys typed while a webview (an iframe) has the focus may not reach
 * the workbench, so the focus leaves any iframe first.
 */
async function openPalette(page) {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; attempt < 3; attempt++) {
    const inWebview = await page.evaluate(() => document.activeElement?.tagName === 'IFRAME');
    if (inWebview || attempt > 0) {
      // a click on the window title (inert) takes the focus back to the workbench
      await page
        .locator('.part.titlebar .window-title')
        .first()
        .click({ timeout: 5000 })
        .catch(() => undefined);
    }
    await page.keyboard.press('F1');
    if (
      await input.waitFor({ state: 'visible', timeout: 5000 }).then(
        () => true,
        () => false,
      )
    )
      return input;
    await page.keyboard.press('Escape');
  }
  throw new Error('the command palette does not open');
}

/**
 * Runs the quick-input row whose text starts with `title`: moves the keyboard focus down to it
 * and presses Enter (the best fuzzy match is not always first, and a click can land on an overlay).
 */
async function pickRow(page, title) {
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
  for (let i = 0; i < 20; i++) {
    const focused = await page
      .locator('.quick-input-list .monaco-list-row.focused')
      .first()
      .textContent({ timeout: 5000 })
      .catch(() => '');
    if (focused?.trim().startsWith(title)) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('ArrowDown');
    await sleep(60);
  }
  throw new Error(`"${title}" is not in the quick-input list`);
}

let currentTheme = 'light';
async function setTheme(api, theme) {
  if (theme === currentTheme) return;
  const page = api.page;
  // a webview that takes the focus while it loads closes the picker: try again
  for (let attempt = 1; ; attempt++) {
    const input = await openPalette(page);
    await input.fill('>Preferences: Color Theme');
    await pickRow(page, 'Preferences: Color Theme');
    const listed = await page
      .locator('.quick-input-list .monaco-list-row', { hasText: THEMES[theme] })
      .first()
      .waitFor({ timeout: 5000 })
      .then(
        () => true,
        () => false,
      );
    if (listed) {
      await input.fill(THEMES[theme]);
      await pickRow(page, THEMES[theme]);
      break;
    }
    if (attempt === 3) throw new Error(`the Color Theme picker did not list ${THEMES[theme]}`);
    await page.keyboard.press('Escape');
    await sleep(500);
  }
  const cls = theme === 'dark' ? 'vs-dark' : 'vs';
  await page.waitForFunction((c) => document.querySelector('.monaco-workbench')?.classList.contains(c), cls, { timeout: 20000 });
  await sleep(600); // let the editors repaint
  currentTheme = theme;
}

async function main() {
  const wanted = process.argv.slice(2);
  const scenarioDir = SCENARIOS;
  const scenarios = readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.replace(/\.mjs$/, '').includes(w)));
  if (scenarios.length === 0) {
    // run.sh judges the passes together: an empty pass is not a failure by itself
    writeFileSync(join(RUN, 'results.json'), JSON.stringify({ results: [], pageErrors: [], blocked: [], seconds: 0 }, null, 2));
    console.log(`pass ${PASS}: no scenario matches ${wanted.join(' ')}`);
    return 0;
  }

  const profile = mkdtempSync(join(tmpdir(), 'preflight-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    env: { ...process.env, XDG_CONFIG_HOME: join(profile, 'xdg-config') },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const results = [];
  const pageErrors = [];
  const blocked = [];
  try {
    // nothing leaves the machine: only loopback, data: and blob: URLs load
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || url.startsWith('blob:') || LOOPBACK.has(new URL(url).hostname)) return route.continue();
      if (blocked.length < 20) blocked.push(url.slice(0, 120));
      return route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(String(error).slice(0, 300)));
    await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded', timeout: 60000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 90000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 90000 });
    log('workbench ready');

    for (const file of scenarios) {
      const name = (PASS === 'main' ? '' : `${PASS}-`) + file.replace(/\.mjs$/, '');
      const api = makeApi(page, name, results);
      const started = Date.now();
      log(`scenario ${name}`);
      try {
        const module = await import(pathToFileURL(join(scenarioDir, file)).href);
        await module.default(api);
      } catch (error) {
        api.check(
          'runs to the end',
          false,
          String(error?.stack ?? error)
            .split('\n')
            .slice(0, 4)
            .join(' | '),
        );
        await page.screenshot({ path: join(SHOTS, `${name}-failure.png`) }).catch(() => undefined);
      }
      log(`scenario ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await api.reset().catch(() => undefined);
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  writeFileSync(join(RUN, 'results.json'), JSON.stringify({ results, pageErrors, blocked, seconds: Number(secs()) }, null, 2));
  if (pageErrors.length) log('page errors:', pageErrors.slice(0, 5).join(' | '));
  if (!existsSync(STATE_FILE)) log('the extension wrote no state file');
  console.log(`pass ${PASS}: ${passed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? error);
    console.log(`pass ${PASS}: 0 passed, 1 failed`);
    process.exit(1);
  },
);
