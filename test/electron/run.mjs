// Extension-host tests in desktop VS Code through @vscode/test-electron. They run wherever VS Code
// can be downloaded from Microsoft's update server, or where VSCODE_EXECUTABLE_PATH points at an
// installed VS Code; elsewhere (as on machines that reach only the npm registry) they skip at
// once with a message and exit 0. The browser-based end-to-end tests (test/e2e) cover the same
// ground on such machines.
//
//   npm run test:electron                          # download VS Code (cached in .vscode-test/)
//   VSCODE_EXECUTABLE_PATH=/usr/bin/code npm run test:electron
import { runTests, downloadAndUnzipVSCode } from '@vscode/test-electron';
import { existsSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import https from 'node:https';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Resolves true when the update server answers within the time limit (any HTTP status). */
function reachable(url, ms) {
  return new Promise((done) => {
    const request = https.get(url, { timeout: ms }, (response) => {
      response.resume();
      done(true);
    });
    request.on('timeout', () => {
      request.destroy();
      done(false);
    });
    request.on('error', () => done(false));
  });
}

async function vscodeExecutable() {
  const given = process.env.VSCODE_EXECUTABLE_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`VSCODE_EXECUTABLE_PATH does not exist: ${given}`);
    return given;
  }
  if (!(await reachable('https://update.code.visualstudio.com/api/releases/stable', 5000))) return undefined;
  return downloadAndUnzipVSCode({ version: 'stable', timeout: 60000 });
}

async function main() {
  const executable = await vscodeExecutable().catch((error) => {
    console.log(`test:electron: could not get VS Code (${String(error?.message ?? error).split('\n')[0]})`);
    return undefined;
  });
  if (!executable) {
    console.log(
      'test:electron: skipped: VS Code cannot be downloaded from this machine (update.code.visualstudio.com is unreachable) and VSCODE_EXECUTABLE_PATH is not set.',
    );
    return 0;
  }
  if (!existsSync(join(root, 'dist/extension.js'))) {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) return 1;
  }
  // a throwaway copy of the e2e fixtures as the workspace
  const workspace = mkdtempSync(join(tmpdir(), 'preflight-electron-'));
  cpSync(join(root, 'test/e2e/workspace'), workspace, { recursive: true });
  try {
    await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'test/electron/suite/index.cjs'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
    return 0;
  } catch (error) {
    console.error(`test:electron: failed: ${error?.message ?? error}`);
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

process.exitCode = await main();
