import { aptGetInstall, canAptGet } from './debian-package';
import { isExecutable, onPath } from './go-tool';

/**
 * The Chromium that the Temporal UI browser test (test/e2e/temporal-ui.test.ts) drives through puppeteer-core,
 * which downloads none. Order: CHROMIUM_PATH, then `chromium`, `chromium-browser`, `google-chrome` on PATH;
 * `npm run tools:ensure` installs Debian's `chromium` package when none is found and it runs as root on
 * Debian or Ubuntu.
 */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export const INSTALL_CHROMIUM =
  'No Chromium was found for the Temporal UI browser test: install one (Debian or Ubuntu: `sudo apt-get install chromium`; macOS: `brew install --cask chromium`), put it on PATH as chromium, chromium-browser or google-chrome, or set CHROMIUM_PATH to its binary.';

/** The browser to drive, or undefined when there is none. */
export async function findChromium(): Promise<string | undefined> {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new Error(`CHROMIUM_PATH=${explicit} is not an executable file`);
  }
  for (const name of NAMES) {
    const found = await onPath(name);
    if (found) return found;
  }
  return undefined;
}

/** findChromium, or (as root on Debian or Ubuntu) apt-get's `chromium`; otherwise it says how to get one. */
export async function ensureChromium(log: (line: string) => void = () => undefined): Promise<string> {
  const found = await findChromium();
  if (found) return found;
  if (await canAptGet()) {
    const started = Date.now();
    log("installing Debian's chromium package with apt-get (first run only, about a minute)…");
    await aptGetInstall(['chromium'], INSTALL_CHROMIUM);
    const installed = await findChromium();
    if (installed) {
      log(`installed chromium in ${((Date.now() - started) / 1000).toFixed(0)}s → ${installed}`);
      return installed;
    }
  }
  throw new Error(INSTALL_CHROMIUM);
}
