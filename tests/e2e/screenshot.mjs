// Opens the app (in demo mode, see scripts/app-screenshot.sh), waits for its first
// screen, saves a screenshot, and reports launch-to-first-screen time and idle memory.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from './webdriver.mjs';

/** Resident memory (KiB) of the app and the WebKit processes it started. */
function residentKib() {
  let total = 0;
  const names = ['qbconnector-app', 'WebKitWebProces', 'WebKitNetworkPr'];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1];
      if (!names.includes(name)) continue;
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

const launched = performance.now();
const session = await Session.start('http://127.0.0.1:4444', process.env.QBCONNECTOR_APP_BIN);
try {
  await session.find('nav-instances', 60_000);
  const firstScreen = performance.now() - launched;
  // Demo mode sets up its instance beside the window; the picture is of the app ready to use.
  await session.find('instance-row', 60_000);
  const ready = performance.now() - launched;
  writeFileSync('target/app-screenshot.png', await session.screenshot());
  console.log(`first screen ${Math.round(firstScreen)} ms after launch (through WebDriver)`);
  console.log(`demo instance listed ${Math.round(ready)} ms after launch`);
  console.log(`resident memory ${Math.round(residentKib() / 1024)} MiB (app + WebKit processes)`);
  console.log('screenshot: target/app-screenshot.png');
} finally {
  await session.end().catch(() => {});
}
