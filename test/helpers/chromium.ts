/**
 * Debian's Chromium for browser tests, driven by playwright-core. Without
 * /usr/bin/chromium a browser suite is skipped with a loud notice saying how
 * to enable it; under CI=true (.ci/run installs Chromium) a missing browser
 * is a failing test instead.
 */
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why the browser suites of `what` cannot run here, or false when they can.
 * When they cannot, prints the notice, and under CI=true registers a failing test.
 */
export function browserSkipReason(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `browser tests SKIPPED (${what}): ${CHROMIUM} is missing; install it with \`apt-get install -y chromium\` to run them`;
  console.warn(`\n${'!'.repeat(reason.length)}\n${reason}\n${'!'.repeat(reason.length)}\n`);
  if (process.env.CI === 'true') {
    it(`runs the ${what} browser tests in CI`, () => {
      throw new Error(`${reason}; CI=true does not allow skipping them`);
    });
  }
  return reason;
}

/** Launches Debian's Chromium headless (no sandbox: tests run as root in CI). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: browser tests need Debian's Chromium. Install it with \`apt-get install -y chromium\` (.ci/run does this in CI).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
