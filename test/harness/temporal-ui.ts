import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core';
import { loadTemporalDevConfig } from '../../config/temporal-dev';
import { findChromium, INSTALL_CHROMIUM } from '../../scripts/lib/browser';
import { freePort, type RunningDevServer, startDevServer } from '../../scripts/lib/dev-server';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';

/**
 * Temporal UI for a browser test: the suite's shared dev server is headless, so a test that looks at Temporal
 * UI starts one of its own the way `npm start` does (same CLI, same temporal-dev.yaml, UI on), in memory and
 * on free ports, and points its stack at it (`startStack({ env: { TEMPORAL_ADDRESS: server.address } })`).
 */
export async function startTemporalWithUi(): Promise<RunningDevServer & { uiUrl: string }> {
  const server = await startDevServer({
    cliPath: await ensureTemporalCli(),
    config: loadTemporalDevConfig(),
    overrides: { port: await freePort(), uiPort: await freePort(), dbFilename: null },
  });
  return { ...server, uiUrl: server.uiUrl! };
}

/** A headless Chromium (found as `npm run tools:ensure` finds it), driven by puppeteer-core. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = await findChromium();
  if (!executablePath)
    throw new Error(`${INSTALL_CHROMIUM} (\`npm run tools:ensure\` does it as root on Debian)`);
  return puppeteer.launch({
    executablePath,
    headless: true,
    // As root (CI containers) Chromium refuses its sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1600,1000'],
    defaultViewport: { width: 1600, height: 1000 },
    timeout: 30_000,
  });
}

/** What a frame shows as text (Temporal UI renders Markdown, e.g. current details, in iframes of its own). */
export async function frameText(frame: Frame | Page): Promise<string> {
  return (await frame.evaluate('document.body ? document.body.innerText : ""')) as string;
}

/** Polls until some frame of the page shows `text`; fails naming what the frames showed last. */
export async function waitForTextInFrames(page: Page, text: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = [];
    for (const frame of page.frames()) {
      const shown = await frameText(frame).catch(() => '');
      if (shown.includes(text)) return shown;
      seen.push(shown);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no frame showed "${text}" within ${timeoutMs} ms; they showed:\n${seen.map((s) => s.slice(0, 500)).join('\n---\n')}`,
  );
}
